"""Evaluation and fine-tuning rows from people's decisions on drafts. Plain Python, no ORM.

One `Decision` in (the customer's message and its labels, the draft the AI proposed, the reply
as sent, what became of the draft), one JSON-ready dict out. Every text that leaves goes through
the language-model path's redactor, asked for order numbers too; one redactor per decision, so
the same person or number keeps one placeholder across the subject, the message, the draft and
the reply.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from replies.engine.tone import ToneProfile, profile_for
from supportdesk.language import language_name
from supportdesk.llm.redact import KINDS, OPTIONAL_KINDS, Redactor

# accepted: sent as proposed; edited: changed, then sent; manual: a person wrote the reply (any
# draft was set aside); auto: sent by the auto-send rules; escalated: handed to a supervisor.
OUTCOMES = ("accepted", "edited", "manual", "auto", "escalated")
# Replies a person stood behind: the only ones a model should learn to write.
FINETUNE_OUTCOMES = ("accepted", "edited", "manual")
REDACT_KINDS = (*KINDS, *OPTIONAL_KINDS)


@dataclass(frozen=True)
class Decision:
    key: str  # "draft-12" or "reply-34": the row's stable id
    ticket_id: int
    decided_at: datetime
    outcome: str  # one of OUTCOMES
    subject: str
    message: str  # the customer's new text (no quoted part)
    language: str
    category: str
    emotion: str
    urgency: str
    customer_type: str  # vip, enterprise, paying, free
    customer_name: str
    customer_email: str
    draft: str | None  # the AI's proposal; None when there was none
    sent: str | None  # the reply as sent; None when nothing was sent
    agent_name: str = ""  # who decided, when a person did: their name may sign the reply
    note: str = ""  # the reason given for an escalation
    draft_engine: str = ""
    draft_confidence: float | None = None
    grounded: bool | None = None
    # What came after: why the person changed the draft (an edit reason, "" when not given),
    # the customer's rating of the reply sent ("" when none) and their comment, how often the
    # customer wrote again after the ticket was solved with it, and whether a person took over
    # after it went out automatically.
    edit_reason: str = ""
    rating: str = ""
    rating_comment: str = ""
    follow_ups: int = 0
    taken_over: bool = False


@dataclass(frozen=True)
class DeskVoice:
    """How the desk writes: the brand, the register, and admins' tone profile overrides."""

    brand: str
    formal: bool = False
    profiles: Mapping[str, ToneProfile] | None = None


def redactor_for(decision: Decision) -> Redactor:
    return Redactor.for_customer(
        name=decision.customer_name,
        email=decision.customer_email,
        kinds=REDACT_KINDS,
        other_names=[decision.agent_name] if decision.agent_name else [],
    )


def eval_row(decision: Decision) -> dict:
    """One line of the evaluation set: the redacted input, the labels, the draft, the sent
    reply, the outcome and how far the reply moved from the draft, and what followed: the
    edit's reason, the customer's rating, follow-ups and a takeover."""
    redactor = redactor_for(decision)
    subject = redactor.redact(decision.subject)
    message = redactor.redact(decision.message)
    draft = redactor.redact(decision.draft) if decision.draft is not None else None
    sent = redactor.redact(decision.sent) if decision.sent is not None else None
    both = draft is not None and sent is not None
    return {
        "id": decision.key,
        "ticket_id": decision.ticket_id,
        "decided_at": decision.decided_at.isoformat(),
        "outcome": decision.outcome,
        "input": {
            "subject": subject,
            "message": message,
            "language": decision.language,
            "customer_type": decision.customer_type,
        },
        "labels": {
            "category": decision.category,
            "emotion": decision.emotion,
            "urgency": decision.urgency,
            "language": decision.language,
        },
        "draft": draft,
        "draft_engine": decision.draft_engine,
        "draft_confidence": decision.draft_confidence,
        "grounded": decision.grounded,
        "sent": sent,
        "diff": _diff(draft, sent) if both and draft.strip() != sent.strip() else "",
        # Measured on the texts as written: placeholders would hide a changed name or number.
        "edit_distance": edit_distance(decision.draft, decision.sent) if both else None,
        "note": redactor.redact(decision.note),
        "edit_reason": decision.edit_reason,
        "rating": (
            {"score": decision.rating, "comment": redactor.redact(decision.rating_comment)}
            if decision.rating
            else None
        ),
        "follow_ups": decision.follow_ups,
        "taken_over": decision.taken_over,
    }


def finetune_row(decision: Decision, voice: DeskVoice) -> dict | None:
    """One OpenAI chat fine-tuning example: the desk's instruction, the customer's message
    with its context, and the reply as sent. None for a reply no person stood behind."""
    if decision.outcome not in FINETUNE_OUTCOMES or not (decision.sent or "").strip():
        return None
    redactor = redactor_for(decision)
    subject = redactor.redact(decision.subject).strip()
    message = redactor.redact(decision.message).strip()
    context = [
        f"Subject: {subject}" if subject else "",
        f"Category: {decision.category}" if decision.category else "",
        f"Language: {decision.language}" if decision.language else "",
        f"Customer: {decision.customer_type}" if decision.customer_type else "",
    ]
    user = "\n".join(line for line in context if line)
    user = f"{user}\n\n{message}".strip()
    if not user:
        return None
    return {
        "messages": [
            {"role": "system", "content": system_prompt(decision.language, voice)},
            {"role": "user", "content": user},
            {"role": "assistant", "content": redactor.redact(decision.sent).strip()},
        ]
    }


def system_prompt(language: str, voice: DeskVoice) -> str:
    """A short instruction in the locale and register the desk wrote in."""
    tone = profile_for(language, voice.profiles)
    if voice.formal:
        tone = tone.formal_variant()
    code = language or tone.locale
    register = "formal" if voice.formal else "everyday"
    brand = voice.brand or "our company"
    return (
        f"You are a customer-support agent for {brand}. Reply to the customer's message in "
        f"{language_name(code)} ({code}), in the desk's {register} register: open like "
        f"“{tone.greeting_anonymous}” and close with “{tone.closing}”. State only what the "
        "desk's help articles and policies say; when unsure, say a specialist will follow up."
    )


_CJK = r"\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff"
_TOKEN_RE = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+|[^\w\s]")


def edit_distance(before: str | None, after: str | None) -> int:
    """Levenshtein distance in tokens: words, punctuation marks, and each Han, kana or Hangul
    character on its own (Chinese and Japanese put no spaces between words)."""
    a = _TOKEN_RE.findall(before or "")
    b = _TOKEN_RE.findall(after or "")
    # Edits are mostly local: only the middle that differs needs the quadratic table.
    while a and b and a[-1] == b[-1]:
        a.pop()
        b.pop()
    start = 0
    while start < len(a) and start < len(b) and a[start] == b[start]:
        start += 1
    a, b = a[start:], b[start:]
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, token in enumerate(a, start=1):
        current = [i]
        for j, other in enumerate(b, start=1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (token != other))
            )
        previous = current
    return previous[-1]


def _diff(before: str, after: str) -> str:
    """A unified diff by line, as the feedback records keep it."""
    return "\n".join(
        difflib.unified_diff(
            before.splitlines(), after.splitlines(), "draft", "sent", lineterm="", n=1
        )
    )
