"""Auto-send guardrails as plain Python: may this draft go to the customer without a person?

Every guard must pass; the verdict lists each guard that did not, in words an agent reads on
the ticket. Auto-send is off by default at two levels: each category must be enabled by an
admin, and a global kill switch (database setting or environment) stops all of it at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from triage.routing import AUTO_SEND, CALM_EMOTIONS

AUTO_REPLY_WINDOW_HOURS = 24
MAX_AUTO_REPLIES_IN_WINDOW = 1


@dataclass(frozen=True)
class AutoSendFacts:
    route_action: str  # what the routing rules decided
    paused: bool  # the global kill switch is on
    category_enabled: bool  # an admin enabled auto-send for the ticket's category
    category_confidence: float
    min_category_confidence: float
    draft_confidence: float
    min_draft_confidence: float
    emotion: str
    draft_grounded: bool  # the draft cites the knowledge base
    draft_citations: int
    draft_needs_translation: bool
    promise_flags: tuple[str, ...]  # unsupported promises found in the draft
    repeat_contact: bool
    auto_replies_in_window: int  # automatic replies on this ticket in the last 24 h
    escalated: bool
    customer_unreachable: bool  # bounces or refusals stopped automatic sends to the customer
    mail_loop_block: str  # why no automatic mail may go out (answering a machine, the limit)
    draft_needs_human: str = ""  # why the draft waits for a person (instructions to the AI)


@dataclass(frozen=True)
class AutoSendVerdict:
    allowed: bool
    blocked_by: tuple[str, ...]

    def as_json(self) -> dict:
        return {"allowed": self.allowed, "blocked_by": list(self.blocked_by)}


def autosend_check(f: AutoSendFacts) -> AutoSendVerdict:
    blocked: list[str] = []
    if f.route_action != AUTO_SEND:
        blocked.append("The routing rules did not choose auto-send")
    if f.paused:
        blocked.append("Auto-send is paused for the whole desk")
    if not f.category_enabled:
        blocked.append("Auto-send is not enabled for this category")
    if not f.category_confidence >= f.min_category_confidence:  # NaN blocks too
        blocked.append(
            f"Category confidence {f.category_confidence:.0%} is below "
            f"{f.min_category_confidence:.0%}"
        )
    if not f.draft_confidence >= f.min_draft_confidence:
        blocked.append(
            f"Draft confidence {f.draft_confidence:.0%} is below {f.min_draft_confidence:.0%}"
        )
    if f.emotion not in CALM_EMOTIONS:
        blocked.append(f"Customer is not calm ({f.emotion or 'unknown'})")
    if not f.draft_grounded or f.draft_citations < 1:
        blocked.append("The draft is not grounded in the knowledge base")
    if f.draft_needs_translation:
        blocked.append("The draft is not in the customer's language")
    if f.promise_flags:
        blocked.append("The draft makes a promise the knowledge base does not support")
    if f.draft_needs_human:
        blocked.append(f.draft_needs_human)
    if f.repeat_contact:
        blocked.append("Repeat contact")
    if f.auto_replies_in_window >= MAX_AUTO_REPLIES_IN_WINDOW:
        blocked.append(f"Already answered automatically in the last {AUTO_REPLY_WINDOW_HOURS} h")
    if f.escalated:
        blocked.append("The ticket is escalated")
    if f.customer_unreachable:
        blocked.append("Replies to this customer bounced: automatic sends are stopped")
    if f.mail_loop_block:
        blocked.append(f"Mail-loop guard: {f.mail_loop_block}")
    return AutoSendVerdict(allowed=not blocked, blocked_by=tuple(blocked))
