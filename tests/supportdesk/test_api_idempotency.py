"""REST API v1: the Idempotency-Key header — one request per key, replayed, never doubled."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import timedelta

import psycopg
import pytest
from django.core.management import call_command
from django.utils import timezone

from supportdesk import services
from supportdesk.models import IdempotencyKey, Message, Ticket
from supportdesk.services import api_token_create
from tests.e2e.livedesk import Installation
from tests.factories import TicketFactory
from tests.supportdesk.api_race import post_concurrently, slow_ticket_create
from tests.supportdesk.api_support import TICKETS_URL, Api

NEW_TICKET = {
    "customer": {"email": "maria@example.com", "name": "Maria"},
    "subject": "Charged twice",
    "body": "My card was charged twice for order 5521.",
}


@pytest.fixture
def api(client, agent) -> Api:
    return Api(client, api_token_create(user=agent))


# -- replay and conflict -----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_retry_with_the_same_key_replays_the_stored_response(api):
    first = api.post(TICKETS_URL, NEW_TICKET, key="order-5521")

    retry = api.post(TICKETS_URL, NEW_TICKET, key="order-5521")

    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true"
    assert not first.has_header("Idempotent-Replayed")
    assert Ticket.objects.count() == 1


@pytest.mark.django_db
def test_the_same_body_with_other_spacing_and_key_order_is_the_same_request(api):
    first = api.post(TICKETS_URL, NEW_TICKET, key="k1")
    customer = NEW_TICKET["customer"]
    reordered = (
        f'{{"body": "{NEW_TICKET["body"]}", "subject":"{NEW_TICKET["subject"]}",\n'
        f' "customer": {{"name": "{customer["name"]}", "email": "{customer["email"]}"}}}}'
    )

    retry = api.post(TICKETS_URL, reordered, key="k1")

    assert retry["Idempotent-Replayed"] == "true"
    assert retry.json()["id"] == first.json()["id"]


@pytest.mark.django_db
def test_the_same_key_with_a_different_body_is_409_and_creates_nothing(api):
    api.post(TICKETS_URL, NEW_TICKET, key="order-5521")

    response = api.post(TICKETS_URL, {**NEW_TICKET, "subject": "Other"}, key="order-5521")

    assert response.status_code == 409
    assert "already used for a different request" in response.json()["error"]
    assert Ticket.objects.count() == 1


@pytest.mark.django_db
def test_the_same_key_on_another_endpoint_is_409(api):
    ticket_id = api.post(TICKETS_URL, NEW_TICKET, key="shared").json()["id"]

    response = api.post(f"/api/v1/tickets/{ticket_id}/messages", {"body": "Hi"}, key="shared")

    assert response.status_code == 409
    assert Message.objects.count() == 1


@pytest.mark.django_db
def test_a_retried_message_is_added_once(api):
    ticket = TicketFactory(status=Ticket.Status.SOLVED)
    url = f"/api/v1/tickets/{ticket.pk}/messages"

    first = api.post(url, {"body": "Any news?"}, key="msg-1")
    retry = api.post(url, {"body": "Any news?"}, key="msg-1")

    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.json()["id"] == first.json()["id"]
    assert Message.objects.filter(ticket=ticket).count() == 1


@pytest.mark.django_db
def test_keys_belong_to_the_token_user(api, client, other_agent):
    mine = api.post(TICKETS_URL, NEW_TICKET, key="k").json()["id"]

    theirs = Api(client, api_token_create(user=other_agent)).post(TICKETS_URL, NEW_TICKET, key="k")

    assert theirs.status_code == 201
    assert not theirs.has_header("Idempotent-Replayed")
    assert theirs.json()["id"] != mine


@pytest.mark.django_db
def test_requests_without_a_key_are_not_deduplicated(api):
    api.post(TICKETS_URL, NEW_TICKET)
    api.post(TICKETS_URL, NEW_TICKET)

    assert Ticket.objects.count() == 2
    assert not IdempotencyKey.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "key", ["", "x" * 256, "two words", "tab\there"], ids=["empty", "256", "space", "tab"]
)
def test_an_unusable_key_is_400_and_nothing_is_done(api, key):
    response = api.post(TICKETS_URL, NEW_TICKET, key=key)

    assert response.status_code == 400
    assert response.json() == {
        "error": "Idempotency-Key must be 1 to 255 visible ASCII characters."
    }
    assert not Ticket.objects.exists()


@pytest.mark.django_db
def test_a_255_character_key_works(api):
    key = "k" * 255

    api.post(TICKETS_URL, NEW_TICKET, key=key)

    assert api.post(TICKETS_URL, NEW_TICKET, key=key)["Idempotent-Replayed"] == "true"


@pytest.mark.django_db
def test_an_error_response_is_not_stored_so_the_corrected_request_can_use_the_key(api):
    rejected = api.post(TICKETS_URL, {**NEW_TICKET, "subject": " "}, key="k")

    corrected = api.post(TICKETS_URL, NEW_TICKET, key="k")

    assert rejected.status_code == 400
    assert corrected.status_code == 201
    assert not corrected.has_header("Idempotent-Replayed")


@pytest.mark.django_db
def test_a_request_that_crashes_leaves_neither_ticket_nor_key(api, monkeypatch):
    real_create = services.ticket_create

    def crashes_after_writing(**kwargs):
        real_create(**kwargs)
        raise RuntimeError("the process died mid-request")

    monkeypatch.setattr("supportdesk.services.ticket_create", crashes_after_writing)
    api.client.raise_request_exception = False
    response = api.client.post(
        TICKETS_URL,
        data=NEW_TICKET,
        content_type="application/json",
        headers={"Authorization": f"Bearer {api.token}", "Idempotency-Key": "k"},
    )
    monkeypatch.setattr("supportdesk.services.ticket_create", real_create)

    assert response.status_code == 500
    assert not Ticket.objects.exists()
    assert not IdempotencyKey.objects.exists()
    retry = api.post(TICKETS_URL, NEW_TICKET, key="k")
    assert retry.status_code == 201
    assert not retry.has_header("Idempotent-Replayed")


# -- expiry ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_key_older_than_24_hours_starts_a_new_request(api):
    first = api.post(TICKETS_URL, NEW_TICKET, key="k").json()["id"]
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=24, minutes=1))

    again = api.post(TICKETS_URL, NEW_TICKET, key="k")

    assert again.status_code == 201
    assert not again.has_header("Idempotent-Replayed")
    assert again.json()["id"] != first
    assert IdempotencyKey.objects.count() == 1


@pytest.mark.django_db
def test_purge_command_deletes_only_expired_keys(api, capsys):
    api.post(TICKETS_URL, NEW_TICKET, key="old")
    api.post(TICKETS_URL, NEW_TICKET, key="fresh")
    IdempotencyKey.objects.filter(key="old").update(created_at=timezone.now() - timedelta(hours=25))

    call_command("purge_idempotency_keys")

    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["fresh"]
    assert "Deleted 1 expired idempotency key(s)." in capsys.readouterr().out


# -- concurrency -------------------------------------------------------------------------------


def _assert_one_execution(outcomes: list[dict]) -> None:
    """Every twin answered with the winner's ticket; exactly one did the work."""
    assert {o["status"] for o in outcomes} == {201}, outcomes
    assert len({o["body"]["id"] for o in outcomes}) == 1
    assert Counter(o["replayed"] for o in outcomes) == {True: len(outcomes) - 1, False: 1}


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_create_one_ticket(agent):
    token = api_token_create(user=agent)

    with slow_ticket_create(0.5):
        outcomes = post_concurrently(token=token, path=TICKETS_URL, body=NEW_TICKET, key="k")

    _assert_one_execution(outcomes)
    assert Ticket.objects.count() == 1


POSTGRES = "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=5"


@pytest.fixture(scope="module")
def postgres_desk(tmp_path_factory):
    """An installation on its own PostgreSQL database, migrated, removed afterwards."""
    try:
        admin = psycopg.connect(POSTGRES, autocommit=True)
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL is not reachable ({POSTGRES}): run `make services`.\n{exc}")
    database = f"supportdesk_api_{uuid.uuid4().hex[:10]}"
    admin.execute(f'CREATE DATABASE "{database}"')
    desk = Installation.create(
        "api-postgres",
        tmp_path_factory.mktemp("api-postgres"),
        DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{database}",
    )
    try:
        desk.manage("migrate", "--noinput", step="migrate")
        yield desk
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        admin.close()


def test_concurrent_duplicates_on_postgresql(postgres_desk):
    result = postgres_desk.orm(
        "from tests.supportdesk.api_race import race_in_installation\n"
        "result = race_in_installation()"
    )

    assert result["vendor"] == "postgresql"
    # Six simultaneous requests with one key: one ticket, five replays of it.
    same_key = result["same_key"]
    assert {o["status"] for o in same_key} == {201}, same_key
    assert len({o["body"]["id"] for o in same_key}) == 1
    assert Counter(o["replayed"] for o in same_key) == {True: 5, False: 1}
    assert result["same_key_tickets"] == 1
    # Twins that could not wait for the first request to finish: a 409 to retry, no ticket.
    in_progress = result["in_progress"]
    winners = [o for o in in_progress if o["status"] == 201 and not o["replayed"]]
    waiting = [o for o in in_progress if o["status"] == 409]
    assert len(winners) == 1, in_progress
    assert waiting, in_progress
    for outcome in waiting:
        assert outcome["body"] == {
            "error": "A request with this Idempotency-Key is still in progress; retry shortly."
        }
        assert outcome["retry_after"] == "1"
    assert result["in_progress_tickets"] == 1
    # The same external_id delivered six times at once: one message, the others get it too.
    by_status = Counter(o["status"] for o in result["external_id"])
    assert by_status == {201: 1, 200: 5}, result["external_id"]
    assert len({o["body"]["id"] for o in result["external_id"]}) == 1
    assert result["external_id_messages"] == 1
    # The database itself refuses a second row for a (user, key).
    assert result["duplicate_key_row"] == "rejected"
