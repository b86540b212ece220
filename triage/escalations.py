"""Supervisor escalations: raise one (live alert, and an e-mail to the on-duty supervisors when
the ticket is high urgency), and acknowledge it."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.mail import EmailMessage
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from supportdesk import realtime
from supportdesk.models import Ticket
from supportdesk.queue import enqueue_on_commit
from supportdesk.services import ticket_touch
from triage.models import Escalation, RoutingSettings


def escalation_raise(
    *, ticket: Ticket, reason: str, actor: AbstractBaseUser | None = None
) -> Escalation:
    """Runs inside the caller's transaction, with the ticket row locked. A ticket has at most
    one open escalation: a further reason is added to the open one (one card per ticket in the
    supervisors' queue), not raised as another."""
    escalation = (
        Escalation.objects.filter(ticket=ticket, acknowledged_at__isnull=True)
        .order_by("-created_at", "-pk")
        .first()
    )
    if escalation is None:
        escalation = Escalation.objects.create(ticket=ticket, reason=reason[:300], raised_by=actor)
    elif reason not in escalation.reason:
        escalation.reason = f"{escalation.reason}; {reason}"[:300]
        escalation.save(update_fields=["reason"])
    if ticket.urgency == Ticket.Urgency.HIGH and escalation.notified_at is None:
        enqueue_on_commit("triage.tasks.escalation_notify", escalation.pk)
    if not ticket.is_escalated:
        ticket.is_escalated = True
        ticket.needs_human = True
        ticket_touch(ticket, "is_escalated", "needs_human")
    realtime.broadcast(realtime.ESCALATIONS_CHANGED, ticket_id=ticket.pk)
    return escalation


def escalation_notify(*, escalation_id: int) -> int:
    """E-mail the on-duty supervisors about a high-urgency escalation, once. Returns how many
    were e-mailed. The claim (`notified_at`) is taken before sending, so a retried task never
    mails twice; a failed send is logged and the live alert still stands."""
    claimed = Escalation.objects.filter(pk=escalation_id, notified_at__isnull=True).update(
        notified_at=timezone.now()
    )
    if not claimed:
        return 0
    escalation = Escalation.objects.select_related("ticket__customer").get(pk=escalation_id)
    ticket = escalation.ticket
    recipients = sorted(
        user.email
        for user in RoutingSettings.current().on_duty_supervisors.filter(is_active=True)
        if user.email and user.has_perm("supportdesk.supervise")
    )
    if not recipients:
        return 0
    subject = " ".join(f"High-urgency escalation {ticket.reference}: {ticket.subject}".split())
    body = (
        f"{escalation.reason}\n\n"
        f"Customer: {ticket.customer}{' (VIP)' if ticket.customer.is_vip else ''}\n"
        f"Ticket: {settings.SITE_URL}{reverse('ticket', args=[ticket.pk])}\n"
        f"Escalations: {settings.SITE_URL}{reverse('supervisor')}\n"
    )
    EmailMessage(
        subject=subject[:200],
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=recipients,
        headers={"Auto-Submitted": "auto-generated"},
    ).send(fail_silently=False)
    return len(recipients)


@transaction.atomic
def escalation_acknowledge(
    *, escalation_id: int, actor: AbstractBaseUser, assign: bool
) -> Escalation:
    escalation = Escalation.objects.select_for_update().get(pk=escalation_id)
    if escalation.acknowledged_at is None:
        escalation.acknowledged_by = actor
        escalation.acknowledged_at = timezone.now()
        escalation.save(update_fields=["acknowledged_by", "acknowledged_at"])
    if assign:
        ticket = Ticket.objects.select_for_update().get(pk=escalation.ticket_id)
        ticket.assignee = actor
        ticket_touch(ticket, "assignee")
    realtime.broadcast(realtime.ESCALATIONS_CHANGED, ticket_id=escalation.ticket_id)
    return escalation
