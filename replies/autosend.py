"""Auto-send: after a draft is written, send it without a person only when the routing rules
chose auto-send and every guardrail (replies/guardrails.py) passes. The send goes through the same
`draft_send` and outbox as a person's approval."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from replies.guardrails import AUTO_REPLY_WINDOW_HOURS, AutoSendFacts, autosend_check
from replies.models import Draft
from replies.services import draft_send
from supportdesk.models import Message, Ticket
from supportdesk.outbox.automail import automatic_mail_allowed
from supportdesk.outbox.delivery import outbound_auto_send_allowed
from supportdesk.services import ticket_touch
from triage.models import Escalation, RoutingDecision, RoutingSettings

AUTO_SEND_USERNAME = "auto-reply"


def auto_send_user() -> AbstractBaseUser:
    """The account automatic replies are sent as. It cannot sign in."""
    user, created = get_user_model().objects.get_or_create(
        username=AUTO_SEND_USERNAME, defaults={"is_active": False, "first_name": "Automatic"}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


@transaction.atomic
def draft_auto_send(*, message_id: int) -> Message | None:
    """After the draft for a message is written: when the routing rules chose auto-send, check
    the guardrails and, if every one passes, send the draft through the normal send path (the
    outbox delivers it). The verdict is stored on the routing decision either way. Safe to
    call twice: a decision is checked once."""
    decision = (
        RoutingDecision.objects.select_for_update(of=("self",))
        .select_related("triage")
        .filter(triage__message_id=message_id)
        .order_by("-created_at", "-pk")
        .first()
    )
    if decision is None or decision.action != RoutingDecision.Action.AUTO_SEND:
        return None
    if decision.auto_send:
        return None
    # Lock order draft → ticket, as draft_send does: no deadlock with an agent's approval.
    draft = Draft.objects.select_for_update().filter(in_reply_to_id=message_id).first()
    if draft is None or draft.status != Draft.Status.PROPOSED:
        return None
    ticket = (
        Ticket.objects.select_for_update(of=("self",))
        .select_related("category")
        .get(pk=decision.ticket_id)
    )
    config = RoutingSettings.current()
    robot = auto_send_user()
    since = timezone.now() - timedelta(hours=AUTO_REPLY_WINDOW_HOURS)
    triage = decision.triage
    verdict = autosend_check(
        AutoSendFacts(
            route_action=decision.action,
            paused=config.auto_send_paused or settings.AUTO_SEND_PAUSED,
            category_enabled=bool(ticket.category and ticket.category.auto_send),
            category_confidence=triage.category_confidence,
            min_category_confidence=config.auto_send_min_category_confidence,
            draft_confidence=draft.confidence,
            min_draft_confidence=config.auto_send_min_draft_confidence,
            emotion=ticket.emotion,
            draft_grounded=draft.grounded,
            draft_citations=len(draft.citations or []),
            draft_needs_translation=draft.needs_translation,
            promise_flags=tuple(getattr(draft, "promise_flags", None) or ()),
            draft_needs_human=draft.needs_human_reason,
            repeat_contact=decision.repeat_contacts > 0 or decision.reopened,
            auto_replies_in_window=Message.objects.filter(
                ticket=ticket,
                direction=Message.Direction.OUTBOUND,
                author_user=robot,
                created_at__gte=since,
            ).count(),
            escalated=ticket.is_escalated
            or Escalation.objects.filter(ticket=ticket, acknowledged_at__isnull=True).exists(),
            customer_unreachable=not outbound_auto_send_allowed(ticket.customer),
            mail_loop_block=_mail_loop_block(message_id=message_id, ticket=ticket),
        )
    )
    outcome = verdict.as_json()
    sent = None
    if verdict.allowed:
        assignee_before = ticket.assignee_id
        sent = draft_send(draft_id=draft.pk, actor=robot, automatic=True)
        # Marked before commit, so the worker sends it as automatic mail (Auto-Submitted).
        sent.automatic = True
        sent.save(update_fields=["automatic"])
        outcome["message_id"] = sent.pk
        ticket.refresh_from_db()
        if ticket.assignee_id != assignee_before:
            # The robot answered; a customer's next message should reach a person's queue.
            ticket.assignee_id = assignee_before
            ticket_touch(ticket, "assignee")
    else:
        ticket_touch(ticket)  # the ticket page shows why it was held back
    decision.auto_send = outcome
    decision.save(update_fields=["auto_send"])
    return sent


def _mail_loop_block(*, message_id: int, ticket: Ticket) -> str:
    """Why an automatic reply must not go out: the message came from a machine, or the
    customer's address is a no-reply one, or the automatic-mail limit is reached."""
    automated = Message.objects.values_list("automated_reason", flat=True).get(pk=message_id)
    if automated:
        return f"the message is automated ({automated})"
    allowed, reason = automatic_mail_allowed(ticket=ticket, recipient=ticket.customer.email)
    return "" if allowed else reason
