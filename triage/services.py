"""Writes for triage: apply an engine's analysis, route, escalate, and take corrections."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext

from feedback.models import FeedbackEvent, SuggestionSnapshot
from feedback.services import feedback_record, outcome_open, suggestion_snapshot_save
from supportdesk import realtime
from supportdesk.models import Category, Message, Note, Team, Ticket
from supportdesk.queue import enqueue_on_commit
from supportdesk.services import search_index, ticket_solve, ticket_status_change, ticket_touch
from supportdesk.sla import BREACHED
from triage.analysis import triage_analyse
from triage.assignment import pick_agent, team_for
from triage.engine.types import CustomerContext, TriageInput
from triage.escalations import escalation_acknowledge, escalation_raise
from triage.models import (
    OUT_OF_SCOPE_LABEL,
    AgentSession,
    Escalation,
    LabelledExample,
    RoutingDecision,
    RoutingRuleDay,
    TriageResult,
    example_text_hash,
)
from triage.registry import get_triage_engine
from triage.routing import HOLDING_DRAFT_REASON, Route, RouteInput, decide_route
from triage.selectors import (
    agents_online,
    assignable_agents,
    open_ticket_counts,
    routing_rules_for_evaluation,
    routing_threshold_suggestions,
    teams_for_assignment,
)
from triage.sla_timers import sla_start
from triage.waiting import agent_came_online

URGENCY_RANK = {
    "high": Ticket.Urgency.HIGH,
    "medium": Ticket.Urgency.MEDIUM,
    "low": Ticket.Urgency.LOW,
}
NEW_CUSTOMER_DAYS = 30


def _customer_context(ticket: Ticket) -> CustomerContext:
    customer = ticket.customer
    since = timezone.now() - timedelta(days=settings.REPEAT_CONTACT_DAYS)
    recent = (
        Ticket.objects.filter(
            customer=customer, created_at__gte=since, created_at__lt=ticket.created_at
        )
        .exclude(pk=ticket.pk)
        .count()
    )
    return CustomerContext(
        vip=customer.is_vip,
        plan=customer.plan,
        is_new=customer.first_seen >= timezone.now() - timedelta(days=NEW_CUSTOMER_DAYS),
        recent_contacts=recent,
        locale=customer.locale,
    )


def triage_message(*, message_id: int) -> TriageResult:
    """Analyse an inbound message (outside any transaction: the engine may take a while),
    then apply the result and route the ticket. Safe to call twice for the same message."""
    existing = TriageResult.objects.filter(message_id=message_id).first()
    if existing is not None:
        return existing
    message = Message.objects.select_related("ticket__customer").get(pk=message_id)
    ticket = message.ticket
    context = _customer_context(ticket)
    started = time.perf_counter()
    analysis = triage_analyse(
        inp=TriageInput(text=message.body_text, subject=ticket.subject, customer=context),
        ticket=ticket,
        local_engine=get_triage_engine(),
    )
    latency_ms = round((time.perf_counter() - started) * 1000)
    return triage_apply(
        message_id=message_id, analysis=analysis, latency_ms=latency_ms, context=context
    )


@transaction.atomic
def triage_apply(
    *, message_id: int, analysis, latency_ms: int, context: CustomerContext
) -> TriageResult:
    message = Message.objects.get(pk=message_id)
    ticket = Ticket.objects.select_for_update().select_related("customer").get(pk=message.ticket_id)
    result, created = TriageResult.objects.get_or_create(
        message=message,
        defaults=dict(
            ticket=ticket,
            language=analysis.language,
            language_confidence=analysis.language_confidence,
            category=analysis.category,
            category_confidence=analysis.category_confidence,
            out_of_scope=analysis.out_of_scope,
            emotion=analysis.emotion,
            emotion_confidence=analysis.emotion_confidence,
            emotion_intensity=analysis.emotion_intensity,
            urgency=analysis.urgency,
            urgency_reasons=list(analysis.urgency_reasons),
            needs_human=analysis.needs_human,
            needs_human_reasons=list(analysis.needs_human_reasons),
            engine=analysis.engine,
            engine_version=analysis.engine_version,
            latency_ms=latency_ms,
        ),
    )
    if not created:
        return result
    outcome_open(ticket=ticket, triage=result)
    category = Category.objects.filter(slug=result.category, active=True).first()
    ticket.language = result.language
    ticket.category = category
    ticket.emotion = result.emotion
    ticket.urgency = URGENCY_RANK.get(result.urgency, Ticket.Urgency.MEDIUM)
    ticket.needs_human = result.needs_human
    if ticket.status == Ticket.Status.NEW:
        ticket.status = Ticket.Status.OPEN
    ticket_touch(ticket, "language", "category", "emotion", "urgency", "needs_human", "status")
    route_ticket(ticket=ticket, triage=result, context=context, category=category)
    return result


def _repeat_contacts(*, ticket: Ticket, category: Category | None) -> int:
    """Earlier tickets of the same customer about the same category (or also without one)
    within REPEAT_CONTACT_DAYS. Uses the (customer, created_at) index."""
    since = ticket.created_at - timedelta(days=settings.REPEAT_CONTACT_DAYS)
    return (
        Ticket.objects.filter(
            customer_id=ticket.customer_id,
            created_at__gte=since,
            created_at__lt=ticket.created_at,
            category=category,
        )
        .exclude(pk=ticket.pk)
        .count()
    )


def route_ticket(
    *, ticket: Ticket, triage: TriageResult, context: CustomerContext, category: Category | None
) -> RoutingDecision:
    """Runs inside the caller's transaction, with the ticket row locked."""
    message = triage.message
    repeat_contacts = _repeat_contacts(ticket=ticket, category=category)
    route = decide_route(
        routing_rules_for_evaluation(),
        RouteInput(
            category=triage.category,
            category_confidence=triage.category_confidence,
            category_is_routine=bool(category and category.routine),
            out_of_scope=triage.out_of_scope,
            emotion=triage.emotion,
            emotion_confidence=triage.emotion_confidence,
            emotion_intensity=triage.emotion_intensity,
            urgency=triage.urgency,
            needs_human=triage.needs_human,
            vip=context.vip,
            recent_contacts=repeat_contacts,
            language=triage.language,
            channel=ticket.channel,
            plan=context.plan,
            new_customer=context.is_new,
            reopened=ticket.reopen_count > 0,
            text=f"{ticket.subject}\n{message.body_text}",
        ),
    )
    decision = RoutingDecision.objects.create(
        ticket=ticket,
        triage=triage,
        action=route.action,
        reasons=list(route.reasons),
        fired_rules=route.fired_json,
        rule_id=route.deciding_rule_id,
        repeat_contacts=repeat_contacts,
        reopened=ticket.reopen_count > 0,
    )
    routing_rule_day_add(rule_id=decision.rule_id, decided_at=decision.created_at, decisions=1)
    outcome_open(ticket=ticket, routing=decision)
    changed = []
    if route.set_urgency in URGENCY_RANK and ticket.urgency != URGENCY_RANK[route.set_urgency]:
        ticket.urgency = URGENCY_RANK[route.set_urgency]
        changed.append("urgency")
    if ticket.assignee_id is None and (
        route.assign_agent_id or route.assign_team_id or route.assign_matching_team
    ):
        decision.assignment = _assign(ticket=ticket, route=route, triage=triage)
        decision.save(update_fields=["assignment"])
        if ticket.assignee_id is not None:
            changed.append("assignee")
        elif ticket.waiting_team_id is not None:
            changed.append("waiting_team")
    if route.action in (RoutingDecision.Action.HUMAN, RoutingDecision.Action.SUPERVISOR) and (
        not ticket.needs_human
    ):
        ticket.needs_human = True
        changed.append("needs_human")
    if ticket.first_response_due_at is None:
        changed += sla_start(ticket=ticket, policy_id=route.sla_policy_id, plan=context.plan)
    if changed:
        ticket_touch(ticket, *changed)
    if "sla_state" in changed and ticket.sla_state == BREACHED:  # routed after its due time
        escalation_raise(ticket=ticket, reason="SLA breached before the ticket was routed")
    if route.notify_supervisors:
        escalation_raise(ticket=ticket, reason="; ".join(route.reasons))
    return decision


def _assign(*, ticket: Ticket, route: Route, triage: TriageResult) -> dict:
    """Pick the assignee a rule asked for. Runs inside route_ticket's transaction; locks the
    team row so two tickets never read the same round-robin pointer."""
    if route.assign_agent_id:
        agent = get_user_model().objects.filter(pk=route.assign_agent_id, is_active=True).first()
        if agent is None:
            return {"team": "", "agent": "", "reason": "The rule's agent is inactive"}
        ticket.assignee = agent
        return {"team": "", "agent": agent.get_username(), "reason": "A rule names this agent"}
    teams = teams_for_assignment()
    if route.assign_team_id:
        info = next((t for t in teams if t.id == route.assign_team_id), None)
    else:
        info = team_for(teams, category=triage.category, language=triage.language)
    if info is None:
        reason = "No active team handles this category and language"
        return {"team": "", "agent": "", "reason": reason}
    team = Team.objects.select_for_update().get(pk=info.id)
    info = replace(info, last_assigned_id=team.last_assigned_id)
    online = agents_online(user_ids=info.member_ids)
    pick = pick_agent(info, online_ids=online, open_tickets=open_ticket_counts(user_ids=online))
    if pick.agent_id is None:
        ticket.waiting_team_id = team.pk  # triage.waiting hands it out when someone comes online
        return {"team": team.name, "agent": "", "reason": pick.reason}
    ticket.assignee_id = pick.agent_id
    team.last_assigned_id = pick.agent_id
    team.save(update_fields=["last_assigned"])
    username = get_user_model().objects.get(pk=pick.agent_id).get_username()
    return {"team": team.name, "agent": username, "reason": pick.reason}


@transaction.atomic
def ticket_reassign(*, ticket_id: int, actor: AbstractBaseUser, assignee_id: int | None) -> Ticket:
    """A person moves a ticket to someone else (or unassigns it). Recorded as feedback on the
    routing decision, so rules whose assignments people keep changing show up."""
    ticket = (
        Ticket.objects.select_for_update(of=("self",)).select_related("assignee").get(pk=ticket_id)
    )
    if ticket.assignee_id == assignee_id:
        return ticket
    assignee = None
    if assignee_id is not None:
        assignee = assignable_agents().filter(pk=assignee_id).first()
        if assignee is None:
            raise ValueError(gettext("That person cannot take tickets."))
    before = {"assignee": ticket.assignee.get_username() if ticket.assignee else ""}
    ticket.assignee = assignee
    ticket.waiting_team = None  # a person decided: nothing is handed out automatically any more
    ticket_touch(ticket, "assignee", "waiting_team")
    decision = _latest_decision(ticket)
    if decision is not None:
        _routing_override_record(
            kind="reassigned", actor=actor, ticket=ticket, decision=decision, before=before,
            after={"assignee": assignee.get_username() if assignee else ""},
        )  # fmt: skip
    return ticket


@transaction.atomic
def ticket_merge(*, source_id: int, target_id: int, actor: AbstractBaseUser) -> Ticket:
    """Merge one ticket into another of the same customer's: its messages, notes and tags move
    to the target, its open escalations are acknowledged, and it is solved with a pointer to
    where the conversation went. Both tickets say so in a note."""
    if source_id == target_id:
        raise ValueError("A ticket cannot be merged into itself.")
    # Lock both rows, lowest id first: two merges of the same pair cannot deadlock.
    locked = {
        t.pk: t
        for t in Ticket.objects.select_for_update()
        .filter(pk__in=[source_id, target_id])
        .order_by("pk")
    }
    if len(locked) != 2:
        raise Ticket.DoesNotExist(gettext("No such ticket."))
    source, target = locked[source_id], locked[target_id]
    if source.customer_id != target.customer_id:
        raise ValueError(gettext("Only tickets of the same customer can be merged."))
    if source.merged_into_id or target.merged_into_id:
        raise ValueError(gettext("That ticket was already merged into another one."))
    Message.objects.filter(ticket=source).update(ticket=target)
    Note.objects.filter(ticket=source).update(ticket=target)
    target.tags.add(*source.tags.all())
    open_cards = Escalation.objects.filter(ticket=source, acknowledged_at__isnull=True)
    for escalation_id in open_cards.values_list("pk", flat=True):
        # As a supervisor would: the queue updates live.
        escalation_acknowledge(escalation_id=escalation_id, actor=actor, assign=False)
    who = actor.get_username()
    Note.objects.create(
        ticket=target, author=actor,
        body=f"{who} merged {source.reference} “{source.subject}” into this ticket.",
    )  # fmt: skip
    Note.objects.create(ticket=source, author=actor, body=f"Merged into {target.reference}.")
    search_index(target, [source.search_document], append=True)
    source.merged_into = target
    source.is_escalated = False
    fields = ticket_status_change(source, Ticket.Status.SOLVED)
    ticket_touch(source, "merged_into", "is_escalated", *fields)
    ticket_touch(target)
    return target


BULK_MAX = 100  # tickets one bulk action may touch


@dataclass(frozen=True)
class BulkOutcome:
    done: int
    refused: list[str]  # why some tickets were left as they were


def tickets_bulk(
    *, ticket_ids: list[int], actor: AbstractBaseUser, action: str, assignee_id: int | None = None
) -> BulkOutcome:
    """Assign or solve many tickets at once (the inbox's bulk bar). Each ticket is its own
    transaction: one that cannot be changed is reported, the others are still done."""
    if action not in ("assign", "solve"):
        raise ValueError(gettext("Choose assign or solve."))
    if not ticket_ids:
        raise ValueError(gettext("Select one or more tickets first."))
    if len(ticket_ids) > BULK_MAX:
        raise ValueError(gettext("At most %(count)s tickets at once.") % {"count": BULK_MAX})
    done, refused = 0, []
    for ticket_id in ticket_ids:
        try:
            if action == "assign":
                ticket_reassign(ticket_id=ticket_id, actor=actor, assignee_id=assignee_id)
            else:
                ticket_solve(ticket_id=ticket_id)
            done += 1
        except Ticket.DoesNotExist:
            refused.append(gettext("#%(id)s no longer exists") % {"id": ticket_id})
        except ValueError as exc:
            refused.append(f"#{ticket_id}: {exc}")
    return BulkOutcome(done, refused)


def escalations_bulk_acknowledge(
    *, escalation_ids: list[int], actor: AbstractBaseUser, assign: bool
) -> int:
    """Acknowledge (and take, with `assign`) many escalations; returns how many."""
    if not escalation_ids:
        raise ValueError(gettext("Select one or more escalations first."))
    if len(escalation_ids) > BULK_MAX:
        raise ValueError(gettext("At most %(count)s escalations at once.") % {"count": BULK_MAX})
    found = list(Escalation.objects.filter(pk__in=escalation_ids).values_list("pk", flat=True))
    for escalation_id in found:
        escalation_acknowledge(escalation_id=escalation_id, actor=actor, assign=assign)
    return len(found)


def _latest_decision(ticket: Ticket) -> RoutingDecision | None:
    return RoutingDecision.objects.filter(ticket=ticket).order_by("-created_at", "-pk").first()


def routing_rule_day_add(*, rule_id: int | None, decided_at: datetime, **counts: int) -> None:
    """Runs inside the caller's transaction: adds `counts` (decisions=1, rerouted=1, …) to the
    rule's row for the UTC day of the decision. One INSERT … ON CONFLICT that adds to the
    stored counters, so two transactions counting the same rule and day both count."""
    unknown = set(counts) - set(RoutingRuleDay.COUNTERS)
    if unknown:
        raise ValueError(f"not a routing rule day counter: {sorted(unknown)}")
    table = connection.ops.quote_name(RoutingRuleDay._meta.db_table)
    columns = ", ".join(RoutingRuleDay.COUNTERS)
    adds = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in RoutingRuleDay.COUNTERS)
    values = [counts.get(c, 0) for c in RoutingRuleDay.COUNTERS]
    # Table and column names come from the model, never from the caller; values are bound.
    sql = (
        f"INSERT INTO {table} (day, rule_key, {columns}) "  # noqa: S608
        f"VALUES (%s, %s{', %s' * len(values)}) "
        f"ON CONFLICT (day, rule_key) DO UPDATE SET {adds}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [decided_at.astimezone(UTC).date(), rule_id or 0, *values])


def _routing_override_record(*, kind: str, decision: RoutingDecision, **event) -> None:
    """Runs inside the caller's transaction: the feedback event on the routing decision, and
    the override counted on the decision's rule and day for the rules report."""
    feedback_record(kind=kind, routing=decision, **event)
    routing_rule_day_add(rule_id=decision.rule_id, decided_at=decision.created_at, **{kind: 1})


# Decisions (and override events) read per query while the days are recounted.
REBUILD_BATCH = 5000


@transaction.atomic
def routing_rule_days_rebuild() -> int:
    """Recount every rule's days from the decisions and their overrides, after rows were
    written around the services (a bulk import, seeding). Reads the rows in id ranges, so
    memory holds days × rules, never the decisions. Returns how many days were written."""
    totals: dict[tuple, dict[str, int]] = {}

    def add(day, rule_id, counter: str, n: int) -> None:
        row = totals.setdefault((day, rule_id or 0), dict.fromkeys(RoutingRuleDay.COUNTERS, 0))
        row[counter] += n

    for start in range(0, _max_pk(RoutingDecision) + 1, REBUILD_BATCH):
        rows = (
            RoutingDecision.objects.filter(pk__gt=start, pk__lte=start + REBUILD_BATCH)
            .annotate(day=TruncDate("created_at", tzinfo=UTC))
            .values("day", "rule_id")
            .annotate(n=Count("*"))
        )
        for row in rows:
            add(row["day"], row["rule_id"], "decisions", row["n"])
    for start in range(0, _max_pk(FeedbackEvent) + 1, REBUILD_BATCH):
        rows = (
            FeedbackEvent.objects.filter(
                pk__gt=start,
                pk__lte=start + REBUILD_BATCH,
                kind__in=RoutingRuleDay.OVERRIDES,
                routing__isnull=False,
            )
            .annotate(day=TruncDate("routing__created_at", tzinfo=UTC))
            .values("day", "routing__rule_id", "kind")
            .annotate(n=Count("*"))
        )
        for row in rows:
            add(row["day"], row["routing__rule_id"], row["kind"], row["n"])
    RoutingRuleDay.objects.all().delete()
    RoutingRuleDay.objects.bulk_create(
        [RoutingRuleDay(day=day, rule_key=key, **n) for (day, key), n in totals.items()],
        batch_size=REBUILD_BATCH,
    )
    return len(totals)


def _max_pk(model) -> int:
    return model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def routing_hand_to_person(
    *, message_id: int, reason: str = HOLDING_DRAFT_REASON
) -> RoutingDecision | None:
    """Runs inside the caller's transaction, with the ticket row locked: the draft for
    `message_id` is only a holding reply (or answers only part of the message), so a route
    that offers it for one-click approval hands the ticket to a person instead. The rules that
    fired stay on record; `reason` is added. None when the route was not a one-click draft."""
    decision = (
        RoutingDecision.objects.filter(triage__message_id=message_id)
        .order_by("-created_at", "-pk")
        .first()
    )
    if decision is None or decision.action != RoutingDecision.Action.AUTO_REPLY:
        return None
    decision.action = RoutingDecision.Action.HUMAN
    decision.reasons = [*decision.reasons, reason]
    decision.save(update_fields=["action", "reasons"])
    return decision


@transaction.atomic
def routing_override(*, ticket_id: int, actor: AbstractBaseUser, action: str) -> Ticket:
    """A supervisor re-routes a ticket: to a person, to supervisors, or back to a one-click
    draft. Recorded against the routing decision it overrules."""
    if action not in (
        RoutingDecision.Action.AUTO_REPLY,
        RoutingDecision.Action.HUMAN,
        RoutingDecision.Action.SUPERVISOR,
    ):
        raise ValueError(
            gettext("Choose a route: auto-reply candidate, human agent or supervisor.")
        )
    ticket = Ticket.objects.select_for_update().get(pk=ticket_id)
    decision = _latest_decision(ticket)
    if decision is None:
        raise ValueError(gettext("This ticket has not been routed yet."))
    if action == RoutingDecision.Action.SUPERVISOR:
        escalation_raise(ticket=ticket, reason=f"Re-routed by {actor.get_username()}", actor=actor)
    else:
        ticket.needs_human = action == RoutingDecision.Action.HUMAN
        ticket_touch(ticket, "needs_human")
    _routing_override_record(
        kind="rerouted", actor=actor, ticket=ticket, decision=decision,
        before={"action": decision.action}, after={"action": action},
    )  # fmt: skip
    return ticket


@transaction.atomic
def ticket_escalate(*, ticket_id: int, actor: AbstractBaseUser, reason: str) -> Escalation:
    """A person raises a supervisor alert the rules did not."""
    reason = reason.strip()
    if not reason:
        raise ValueError(gettext("Say why the ticket needs a supervisor."))
    ticket = Ticket.objects.select_for_update().get(pk=ticket_id)
    escalation = escalation_raise(
        ticket=ticket, reason=f"{reason} (by {actor.get_username()})", actor=actor
    )
    decision = _latest_decision(ticket)
    if decision is not None:
        _routing_override_record(
            kind="escalated", actor=actor, ticket=ticket, decision=decision,
            before={"escalated": False}, after={"escalated": True}, note=reason,
        )  # fmt: skip
    return escalation


@transaction.atomic
def ticket_deescalate(*, ticket_id: int, actor: AbstractBaseUser) -> Ticket:
    """A supervisor decides the ticket needs no supervisor: open alerts are acknowledged and
    the ticket leaves the escalated queue."""
    ticket = Ticket.objects.select_for_update().get(pk=ticket_id)
    if not ticket.is_escalated:
        return ticket
    Escalation.objects.filter(ticket=ticket, acknowledged_at__isnull=True).update(
        acknowledged_by=actor, acknowledged_at=timezone.now()
    )
    ticket.is_escalated = False
    ticket_touch(ticket, "is_escalated")
    realtime.broadcast(realtime.ESCALATIONS_CHANGED, ticket_id=ticket.pk)
    decision = _latest_decision(ticket)
    if decision is not None:
        _routing_override_record(
            kind="deescalated", actor=actor, ticket=ticket, decision=decision,
            before={"escalated": True}, after={"escalated": False},
        )  # fmt: skip
    return ticket


@transaction.atomic
def agent_session_open(*, user_id: int, channel_name: str) -> None:
    AgentSession.objects.update_or_create(channel_name=channel_name, defaults={"user_id": user_id})
    agent_came_online(user_id=user_id)


@transaction.atomic
def agent_session_close(*, channel_name: str) -> None:
    AgentSession.objects.filter(channel_name=channel_name).delete()


@transaction.atomic
def triage_correct(
    *, ticket_id: int, actor: AbstractBaseUser, category: str, emotion: str, urgency: str
) -> Ticket:
    """An agent fixes the labels. The fix becomes training data and a feedback event."""
    ticket = Ticket.objects.select_for_update().get(pk=ticket_id)
    triage = TriageResult.objects.filter(ticket=ticket).order_by("-created_at").first()
    before = {
        "category": ticket.category.slug if ticket.category else "",
        "emotion": ticket.emotion,
        "urgency": ticket.urgency_label,
    }
    after = {"category": category, "emotion": emotion, "urgency": urgency}
    if before == after:
        return ticket
    ticket.category = Category.objects.filter(slug=category).first() if category else None
    ticket.emotion = emotion
    ticket.urgency = URGENCY_RANK[urgency]
    ticket.needs_manual_triage = False
    ticket_touch(ticket, "category", "emotion", "urgency", "needs_manual_triage")
    first_message = ticket.messages.filter(direction=Message.Direction.INBOUND).first()
    learned = []  # targets with a new example: their retraining counters move
    if first_message is not None:
        text = f"{ticket.subject}\n{first_message.body_text}"
        for target, label in (("category", category or OUT_OF_SCOPE_LABEL), ("emotion", emotion)):
            if before[target] != (label if label != OUT_OF_SCOPE_LABEL else ""):
                examples_import(
                    target=target, rows=[(text, label)], source=LabelledExample.Source.CORRECTION
                )
                learned.append(target)
    _schedule_retraining(targets=learned)
    if triage is not None:
        feedback_record(
            kind="triage_corrected", actor=actor, ticket=ticket, triage=triage,
            before=before, after=after,
        )  # fmt: skip
    return ticket


def _schedule_retraining(*, targets: Iterable[str]) -> None:
    """Every RETRAIN_EVERY corrections of a target (category and emotion counted apart), retrain
    that target in the background. Runs inside the caller's transaction; the task is enqueued
    after commit. The new version is promoted only if it reads agents' held-back corrections at
    least as well as the active one (see triage.training.should_promote)."""
    for target in targets:
        corrections = LabelledExample.objects.filter(
            target=target, source=LabelledExample.Source.CORRECTION
        )
        if corrections.count() % settings.RETRAIN_EVERY == 0:
            enqueue_on_commit("triage.tasks.retrain_models", target)


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    labels: int
    categories_created: int


@transaction.atomic
def examples_import(
    *,
    target: str,
    rows: Iterable[tuple[str, str]],
    source: str = LabelledExample.Source.IMPORT,
    oos_label: str | None = None,
) -> ImportResult:
    """Store labelled examples; a text seen before keeps one example with the newest label.
    Category labels the taxonomy does not know yet become categories (not routine until an
    admin says so)."""
    by_hash: dict[str, LabelledExample] = {}
    for text, label in rows:
        text, label = text.strip(), label.strip()
        if not text or not label:
            continue
        if oos_label is not None and label == oos_label:
            label = OUT_OF_SCOPE_LABEL
        digest = example_text_hash(text)
        by_hash[digest] = LabelledExample(
            target=target, text=text, label=label, source=source, text_hash=digest
        )
    hashes = list(by_hash)
    updated = sum(
        LabelledExample.objects.filter(target=target, text_hash__in=hashes[i : i + 900]).count()
        for i in range(0, len(hashes), 900)
    )
    LabelledExample.objects.bulk_create(
        list(by_hash.values()),
        batch_size=1000,
        update_conflicts=True,
        unique_fields=["target", "text_hash"],
        update_fields=["label", "source", "text"],
    )
    labels = {e.label for e in by_hash.values()}
    new_categories = 0
    if target == LabelledExample.Target.CATEGORY:
        known = set(Category.objects.values_list("slug", flat=True))
        fresh = sorted(labels - known - {OUT_OF_SCOPE_LABEL})
        # The label is the category's slug: triage results name categories by it.
        Category.objects.bulk_create(
            [
                Category(slug=label[:60], name=label.replace("_", " ").capitalize())
                for label in fresh
            ],
            ignore_conflicts=True,
        )
        new_categories = len(fresh)
    return ImportResult(
        created=len(by_hash) - updated,
        updated=updated,
        labels=len(labels),
        categories_created=new_categories,
    )


def threshold_suggestions_refresh() -> SuggestionSnapshot:
    """Recompute the routing threshold suggestions and store them for the suggestions page."""
    computed_at = timezone.now()
    return suggestion_snapshot_save(
        source=SuggestionSnapshot.Source.THRESHOLDS,
        suggestions=routing_threshold_suggestions(),
        computed_at=computed_at,
    )
