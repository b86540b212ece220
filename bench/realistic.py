"""Realistic help-desk tickets for the benches, as plain data (no Django, no database).

``ticket_specs(n, seed=0)`` yields ``n`` ``TicketSpec`` values describing what a busy desk holds:
what customers wrote (the multilingual texts of bench/data/first_pass_tickets.jsonl, eight
languages), conversations of 1 to 8 messages of mixed lengths, customer e-mails that quote the
previous reply ("On … wrote:" followed by "> " lines, as mail clients do), escalations (some open,
some acknowledged), customer ratings and the agent's decision on the AI draft, SLA targets that
are due, breached or met, and mostly open tickets spread over 90 days. The same ``n`` and
``seed`` always give the same tickets, so two products can be seeded with identical data.

The interface is stable (other benches seed other help desks from it):

- ``ticket_specs(n: int, seed: int = 0) -> Iterator[TicketSpec]``
- ``TicketSpec`` fields:
  ``index`` (0..n-1), ``subject``, ``customer_name``, ``customer_email`` (one customer writes
  several tickets; the same address always carries the same name), ``language`` (BCP 47, e.g.
  ``"zh-Hant"``), ``status`` (``"new" | "open" | "waiting" | "solved"``), ``priority``
  (``"high" | "medium" | "low"``), ``category_name`` (display name, or ``None`` when the text
  fits no category), ``category_slug`` (``None`` likewise), ``emotion``, ``channel``
  (``"email" | "web" | "api"``), ``created_minutes_ago`` (minutes before "now" at seeding time),
  ``messages`` (tuple of ``MessageSpec``), ``escalation`` (``EscalationSpec | None``), ``csat``
  (``"good" | "okay" | "bad" | None``: the customer's rating of the last reply), ``csat_comment``,
  ``draft_decision`` (``"approved" | "edited" | None``: what the agent did with the AI draft of
  the first reply; ``None`` when nobody replied), ``edit_reason`` (why it was edited:
  ``"wrong_facts" | "tone" | "language" | "missing_step" | "policy" | "other"``, or ``""``),
  ``sla`` (``"due" | "breached" | "met"``), ``sla_due_minutes_after`` (the response target, in
  minutes after creation), ``solved_minutes_after`` (``None`` unless solved).
- ``MessageSpec`` is a named tuple ``(direction, body, minutes_after)``: ``direction`` is
  ``"in"`` (customer) or ``"out"`` (agent); ``body`` is the whole text as received or sent,
  quotation included; ``minutes_after`` counts from the ticket's creation and never reaches
  "now". Messages alternate, starting with the customer's.
- ``split_quoted(body) -> (new_text, quoted_text)`` separates a body at its "On … wrote:" line.
- ``CATEGORIES``: ``{slug: display name}`` of every category the specs use.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

DATA = Path(__file__).resolve().parent / "data"

CATEGORIES = {
    "refund": "Refunds",
    "delivery": "Delivery",
    "order": "Orders",
    "account": "Account",
    "payment": "Payment",
    "invoice": "Invoices",
    "feedback": "Feedback",
    "shipping_address": "Shipping address",
    "cancellation_fee": "Cancellation fees",
    "contact": "Contact details",
    "newsletter": "Newsletter",
}

AGENTS = ("Sam Rivera", "Noor Haddad", "Kenji Watanabe", "Lucía Gómez", "Elena Petrova")

# What agents answer, per language: short and long replies (the long one gives steps).
REPLIES = {
    "en": (
        "Thanks for getting in touch. I've looked into this and it is sorted now.",
        "Hello,\nthank you for your patience. I checked your order: the parcel left our "
        "warehouse yesterday and the carrier expects to deliver it within two working days. "
        "You will get the tracking link by e-mail.\nIf it has not arrived by Friday, reply to "
        "this message and I will send a replacement straight away.\nKind regards",
        "Hi,\nI'm sorry about the trouble. I have issued the refund to your card; banks "
        "usually show it within 5 to 10 working days. Here is what happens next:\n1. You get a "
        "confirmation e-mail today.\n2. The amount appears on your statement.\n3. If it does "
        "not, send us the statement line and we will chase it with the bank.\nBest wishes",
    ),
    "de": (
        "Vielen Dank für Ihre Nachricht. Ich habe das erledigt.",
        "Hallo,\nvielen Dank für Ihre Geduld. Ihr Paket hat gestern unser Lager verlassen und "
        "sollte in zwei Werktagen ankommen. Den Sendungslink erhalten Sie per E-Mail.\n"
        "Freundliche Grüße",
    ),
    "fr": (
        "Merci de nous avoir écrit. C'est réglé.",
        "Bonjour,\nmerci de votre patience. Le remboursement a été émis sur votre carte ; il "
        "apparaît en général sous 5 à 10 jours ouvrés. Si ce n'est pas le cas, répondez à ce "
        "message.\nCordialement",
    ),
    "es": (
        "Gracias por escribirnos. Ya está resuelto.",
        "Hola:\ngracias por tu paciencia. Tu paquete salió ayer de nuestro almacén y llegará "
        "en dos días laborables. Recibirás el enlace de seguimiento por correo.\nUn saludo",
    ),
    "pt": (
        "Obrigado pelo contacto. Já está resolvido.",
        "Olá,\nobrigado pela paciência. O reembolso foi emitido para o seu cartão e costuma "
        "aparecer em 5 a 10 dias úteis. Se não aparecer, responda a esta mensagem.\nCumprimentos",
    ),
    "ja": (
        "お問い合わせありがとうございます。対応が完了しました。",
        "お問い合わせいただきありがとうございます。\nご注文の商品は昨日倉庫から発送されました。"
        "2営業日以内にお届けの予定です。追跡番号はメールでお送りします。\nよろしくお願いいたします。",
    ),
    "zh-Hans": (
        "感谢您的来信，问题已经解决。",
        "您好，\n感谢您的耐心等待。退款已退回您的银行卡，通常在5到10个工作日内到账。"
        "如未到账，请回复此邮件。\n祝好",
    ),
    "zh-Hant": (
        "感謝您的來信，問題已經解決。",
        "您好，\n感謝您的耐心等候。您的包裹昨天已從倉庫寄出，預計兩個工作天內送達。"
        "追蹤連結會以電子郵件寄給您。\n祝好",
    ),
}

# What customers write back: short nudges, per language (long follow-ups reuse real texts).
NUDGES = {
    "en": ("Any news on this?", "Thanks, that worked!", "Still nothing here, sorry."),
    "de": ("Gibt es etwas Neues?", "Danke, hat geklappt!"),
    "fr": ("Des nouvelles ?", "Merci, ça marche !"),
    "es": ("¿Alguna novedad?", "¡Gracias, funcionó!"),
    "pt": ("Alguma novidade?", "Obrigado, funcionou!"),
    "ja": ("その後いかがでしょうか？", "ありがとうございました。解決しました。"),
    "zh-Hans": ("请问有进展吗？", "谢谢，已经好了！"),
    "zh-Hant": ("請問有進展嗎？", "謝謝，已經好了！"),
}

ESCALATION_REASONS = (
    "Customer is angry and has written three times",
    "VIP customer",
    "Mentions a chargeback",
    "Refund above the agent's limit",
    "Response target breached",
)

CSAT_COMMENTS = {"good": "Quick and friendly, thanks.", "okay": "", "bad": "Took far too long."}
EDIT_REASONS = ("wrong_facts", "tone", "language", "missing_step", "policy", "other")


class MessageSpec(NamedTuple):
    direction: str  # "in" | "out"
    body: str
    minutes_after: int


@dataclass(frozen=True)
class EscalationSpec:
    reason: str
    minutes_after: int
    acknowledged: bool
    acknowledged_minutes_after: int | None  # None while it is open


@dataclass(frozen=True)
class TicketSpec:
    index: int
    subject: str
    customer_name: str
    customer_email: str
    language: str
    status: str
    priority: str
    category_name: str | None
    category_slug: str | None
    emotion: str
    channel: str
    created_minutes_ago: int
    messages: tuple[MessageSpec, ...]
    escalation: EscalationSpec | None
    csat: str | None
    csat_comment: str
    draft_decision: str | None
    edit_reason: str
    sla: str
    sla_due_minutes_after: int
    solved_minutes_after: int | None


def load_written() -> list[dict]:
    """The customer texts the specs draw from (bench/data/first_pass_tickets.jsonl)."""
    with (DATA / "first_pass_tickets.jsonl").open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def quote(text: str, *, author: str, minutes: int) -> str:
    """The quotation a mail client appends to a reply: an attribution line, then "> " lines."""
    day = 1 + minutes // (24 * 60) % 28
    clock = f"{minutes // 60 % 24:02d}:{minutes % 60:02d}"
    lines = "\n".join(f"> {line}" if line else ">" for line in text.splitlines())
    return f"On Tue, {day} May 2026 at {clock}, {author} wrote:\n{lines}"


def split_quoted(body: str) -> tuple[str, str]:
    """Split a body at its "On … wrote:" line into (what was written, what was quoted)."""
    lines = body.splitlines()
    for number, line in enumerate(lines):
        following = lines[number + 1] if number + 1 < len(lines) else ""
        if line.startswith("On ") and line.rstrip().endswith("wrote:") and following[:1] == ">":
            return "\n".join(lines[:number]).rstrip(), "\n".join(lines[number:])
    return body, ""


def _customer(k: int, written: list[dict]) -> tuple[str, str]:
    person = written[k % len(written)]["customer"]
    name = person["name"]
    local, _, domain = (person.get("email") or f"customer{k}@example.com").partition("@")
    email = f"{local}@{domain}" if k < len(written) else f"{local}+{k}@{domain}"
    return name, email.lower()


def ticket_specs(n: int, seed: int = 0) -> Iterator[TicketSpec]:
    """Yield ``n`` realistic tickets; deterministic for a given ``(n, seed)``."""
    written = load_written()
    by_language: dict[str, list[dict]] = {}
    for row in written:
        by_language.setdefault(row["language"], []).append(row)
    rng = random.Random(seed)
    customers = max(1, n // 3)  # a third as many customers as tickets: many write again
    ninety_days = 90 * 24 * 60
    for index in range(n):
        text = written[rng.randrange(len(written))]
        language = text["language"]
        customer_name, customer_email = _customer(rng.randrange(customers), written)
        status = rng.choices(["new", "open", "waiting", "solved"], weights=[8, 55, 15, 22])[0]
        # New tickets arrived in the last day and a half; the rest over ninety days.
        created_minutes_ago = rng.randrange(5, 36 * 60 if status == "new" else ninety_days)
        emotion = text["emotion"]
        high = 0.5 if emotion == "angry" else 0.1
        priority = rng.choices(["high", "medium", "low"], weights=[high, 0.5, 0.4])[0]
        slug = text["category"]
        # A conversation: 1 to 8 messages, alternating, with mostly short ones.
        if status == "new":
            count = 1
        else:
            count = rng.choices(range(1, 9), weights=[10, 30, 20, 15, 10, 7, 5, 3])[0]
        messages: list[MessageSpec] = []
        minutes = 0
        agent = AGENTS[rng.randrange(len(AGENTS))]
        previous = ""
        for position in range(count):
            if position == 0:
                body = text["body"]
                if rng.random() < 0.15:  # a long first message: two paragraphs of real text
                    other = rng.choice(by_language[language])["body"]
                    body = f"{body}\n\n{other}"
            elif position % 2 == 1:
                body = rng.choice(REPLIES.get(language, REPLIES["en"]))
            else:
                if rng.random() < 0.7:
                    body = rng.choice(NUDGES.get(language, NUDGES["en"]))
                else:
                    body = rng.choice(by_language[language])["body"]
                if rng.random() < 0.8:  # e-mail clients quote the reply they answer
                    body = f"{body}\n\n{quote(previous, author=agent, minutes=minutes)}"
            messages.append(MessageSpec("in" if position % 2 == 0 else "out", body, minutes))
            previous = body.split("\n\nOn ")[0]
            # Agents answer within hours (most within the target); customers take longer.
            if position % 2 == 0:
                minutes += 5 + min(24 * 60, int(rng.expovariate(1 / 150)))
            else:
                minutes += rng.randrange(30, 3 * 24 * 60)
        # Nothing happens in the future: squeeze the conversation into the ticket's lifetime.
        last = messages[-1].minutes_after
        if last >= created_minutes_ago:
            scale = (created_minutes_ago - 1) / last
            messages = [m._replace(minutes_after=int(m.minutes_after * scale)) for m in messages]
        replied = any(m.direction == "out" for m in messages)
        lifetime = created_minutes_ago - 1
        escalation = None
        if rng.random() < (0.25 if emotion == "angry" else 0.05):
            raised = min(lifetime, rng.randrange(10, 6 * 60))
            acknowledged = status == "solved" or rng.random() < 0.4
            escalation = EscalationSpec(
                reason=rng.choice(ESCALATION_REASONS),
                minutes_after=raised,
                acknowledged=acknowledged,
                acknowledged_minutes_after=(
                    min(lifetime, raised + rng.randrange(5, 240)) if acknowledged else None
                ),
            )
        csat = None
        if replied and status == "solved" and rng.random() < 0.4:
            csat = rng.choices(["good", "okay", "bad"], weights=[6, 2, 2])[0]
        draft_decision = None
        edit_reason = ""
        if replied:
            draft_decision = "edited" if rng.random() < 0.35 else "approved"
            if draft_decision == "edited":
                edit_reason = rng.choice(EDIT_REASONS)
        sla_due = {"high": 60, "medium": 4 * 60, "low": 24 * 60}[priority]
        first_reply = next((m.minutes_after for m in messages if m.direction == "out"), None)
        if first_reply is not None:
            sla = "met" if first_reply <= sla_due else "breached"
        else:
            sla = "due" if created_minutes_ago < sla_due else "breached"
        solved_minutes_after = (
            min(lifetime, messages[-1].minutes_after + rng.randrange(5, 600))
            if status == "solved"
            else None
        )
        yield TicketSpec(
            index=index,
            subject=text["subject"] or (text["body"].splitlines() or [""])[0][:80],
            customer_name=customer_name,
            customer_email=customer_email,
            language=language,
            status=status,
            priority=priority,
            category_name=CATEGORIES.get(slug) if slug else None,
            category_slug=slug if slug in CATEGORIES else None,
            emotion=emotion,
            channel=rng.choices(["email", "web", "api"], weights=[6, 3, 1])[0],
            created_minutes_ago=created_minutes_ago,
            messages=tuple(messages),
            escalation=escalation,
            csat=csat,
            csat_comment=CSAT_COMMENTS[csat] if csat else "",
            draft_decision=draft_decision,
            edit_reason=edit_reason,
            sla=sla,
            sla_due_minutes_after=sla_due,
            solved_minutes_after=solved_minutes_after,
        )
