"""No customer message is lost between intake and the AI: a broker that is down at intake costs
the customer nothing, and the sweeper runs whatever never went through the pipeline.

The broker here is real: Celery with a Redis URL on a port nothing listens on, so every enqueue
fails the way it does when Redis is down.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from supportdesk.celery import app as celery_app
from supportdesk.models import AutomaticMail, Message, Ticket
from supportdesk.pipeline import pipeline_sweep
from supportdesk.services import (
    api_token_create,
    message_pipeline_start,
    ticket_create,
    ticket_retry_ai,
)
from supportdesk.tasks import process_message
from tests.factories import MessageFactory, TicketFactory
from triage.models import TriageResult

pytestmark = pytest.mark.django_db

DEAD_BROKER = "redis://127.0.0.1:9/0"  # the discard port: connection refused


@pytest.fixture
def broker_down(settings):
    """TASK_BACKEND=celery with a broker that refuses connections."""
    settings.TASK_BACKEND = "celery"
    previous = celery_app.conf.broker_url
    celery_app.conf.broker_url = DEAD_BROKER
    celery_app.pool.force_close_all()
    celery_app._pool = None
    yield
    celery_app.conf.broker_url = previous
    celery_app._pool = None


def _later(seconds: float):
    return timezone.now() + timedelta(seconds=seconds)


def _untriaged_message(**fields) -> Message:
    ticket = TicketFactory(status=Ticket.Status.NEW)
    return MessageFactory(ticket=ticket, body_text="Where is my parcel? Order 4411.", **fields)


# -- intake with the broker down ---------------------------------------------------------------


def test_api_ticket_is_201_and_saved_while_the_broker_is_down(
    client, agent, broker_down, django_capture_on_commit_callbacks
):
    token = api_token_create(user=agent)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/tickets",
            data={"customer": {"email": "ana@example.org"}, "subject": "Parcel",
                  "body": "Where is my parcel?"},
            content_type="application/json",
            headers={"Authorization": f"Bearer {token}"},
        )  # fmt: skip

    assert response.status_code == 201, response.content
    message = Ticket.objects.get(pk=response.json()["id"]).messages.get()
    assert message.pipeline_done_at is None  # left for the sweeper


def test_contact_form_thanks_the_customer_while_the_broker_is_down(
    client, broker_down, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("contact"),
            {"name": "Ana", "email": "ana@example.org", "subject": "Parcel", "website": "",
             "body": "My parcel has not arrived yet, can you check?", "locale": "en"},
            follow=True,
        )  # fmt: skip

    assert response.status_code == 200
    ticket = Ticket.objects.get()
    assert f"#{ticket.pk}" in response.content.decode()
    # The acknowledgement stays queued for the sweeper, not lost.
    assert AutomaticMail.objects.get().status == AutomaticMail.Status.QUEUED


def test_the_sweeper_waits_while_the_broker_is_down_and_counts_no_attempt(broker_down):
    message = _untriaged_message()

    counts = pipeline_sweep(now=_later(3600))

    assert counts["broker_down"] == 1
    message.refresh_from_db()
    assert (message.pipeline_attempts, message.pipeline_done_at) == (0, None)
    assert not Ticket.objects.get(pk=message.ticket_id).needs_manual_triage


# -- the sweeper -------------------------------------------------------------------------------


def test_a_message_the_pipeline_never_saw_is_triaged_and_drafted_by_the_sweeper(
    stub_triage, demo_kb
):
    stub_triage()
    message = _untriaged_message()

    assert pipeline_sweep()["enqueued"] == 0  # too young: its own task may be on its way
    counts = pipeline_sweep(now=_later(3600))

    assert counts["enqueued"] == 1
    assert TriageResult.objects.filter(message=message).exists()
    assert message.ticket.drafts.count() == 1
    message.refresh_from_db()
    assert message.pipeline_done_at is not None
    assert Ticket.objects.get(pk=message.ticket_id).status == Ticket.Status.OPEN
    assert pipeline_sweep(now=_later(7200))["enqueued"] == 0  # done: never again


def test_a_ticket_created_normally_is_done_and_not_swept_again(
    stub_triage, demo_kb, django_capture_on_commit_callbacks
):
    stub_triage()
    with django_capture_on_commit_callbacks(execute=True):
        ticket = ticket_create(
            email="ana@example.org", subject="Parcel", body="Where is it?", channel="api"
        )

    assert ticket.messages.get().pipeline_done_at is not None
    assert pipeline_sweep(now=_later(3600)) == {
        "enqueued": 0, "flagged": 0, "broker_down": 0, "automatic_mail": 0,
    }  # fmt: skip


def test_a_message_dated_in_the_past_gets_its_grace_from_when_it_was_stored(settings):
    """An imported mail or a demo ticket arrives with an old date: its own task is queued, so
    the sweeper leaves it alone for the grace period like any new message."""
    settings.TASK_BACKEND = "q2"  # enqueued into django-q2's table; no worker runs them
    ticket_create(
        email="ana@example.org", subject="Parcel", body="Where is it?", channel="email",
        received_at=timezone.now() - timedelta(days=2),
    )  # fmt: skip

    assert pipeline_sweep()["enqueued"] == 0
    assert pipeline_sweep(now=_later(settings.PIPELINE_GRACE_SECONDS + 1))["enqueued"] == 1


def test_a_message_waiting_in_a_long_queue_is_enqueued_again_but_never_flagged(settings):
    settings.TASK_BACKEND = "q2"  # enqueued into django-q2's table; no worker runs them
    message = _untriaged_message()

    for hour in range(1, 2 * settings.PIPELINE_MAX_ATTEMPTS):
        assert pipeline_sweep(now=_later(3600 * hour))["enqueued"] == 1

    assert not Ticket.objects.get(pk=message.ticket_id).needs_manual_triage


def test_a_message_whose_worker_keeps_dying_is_flagged_for_a_person(settings):
    settings.TASK_BACKEND = "q2"
    message = _untriaged_message()
    for _ in range(settings.PIPELINE_MAX_ATTEMPTS):
        # What a task that starts and is then killed leaves behind.
        assert message_pipeline_start(message_id=message.pk) == message.ticket_id

    assert pipeline_sweep(now=_later(60))["flagged"] == 0  # a task may still be running
    counts = pipeline_sweep(now=_later(3600))

    assert counts["flagged"] == 1
    ticket = Ticket.objects.get(pk=message.ticket_id)
    assert ticket.needs_manual_triage
    assert "started 3 times on this message and never finished" in ticket.ai_error
    assert ticket.status == Ticket.Status.OPEN  # in the inbox, visibly waiting for a person
    assert pipeline_sweep(now=_later(7200))["enqueued"] == 0

    # Retry AI makes it pending again with fresh tries.
    ticket_retry_ai(ticket_id=ticket.pk)
    message.refresh_from_db()
    assert (message.pipeline_done_at, message.pipeline_attempts) == (None, 0)


def test_a_duplicate_task_for_a_finished_message_does_nothing(stub_triage, demo_kb):
    engine = stub_triage()
    message = _untriaged_message()
    process_message(message.pk)
    process_message(message.pk)

    assert len(engine.seen) == 1
    assert message.ticket.drafts.count() == 1


def test_sweep_command_reports_both_sweepers(capsys, settings):
    settings.TASK_BACKEND = "q2"
    _untriaged_message(created_at=timezone.now() - timedelta(hours=1))

    call_command("sweep")

    out = capsys.readouterr().out
    assert "pipeline: 1 enqueued again" in out
    assert "outbox: 0 enqueued" in out
