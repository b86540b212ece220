"""REST API v1, the feedback loop: read drafts, approve or edit-and-send them, correct triage
and read the feedback events those decisions leave — with the inbox's rules and records."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from feedback.models import FeedbackEvent
from replies.models import Draft
from supportdesk.models import Message, Ticket
from supportdesk.services import api_token_create
from tests.factories import (
    DraftFactory,
    MessageFactory,
    TicketFactory,
    TriageResultFactory,
)
from tests.supportdesk.api_support import Api
from triage.models import LabelledExample

pytestmark = pytest.mark.django_db

DRAFTS = "/api/v1/drafts"
EVENTS = "/api/v1/feedback-events"


@pytest.fixture
def api(client, agent) -> Api:
    return Api(client, api_token_create(user=agent))


def _outbound() -> list[Message]:
    return list(Message.objects.filter(direction=Message.Direction.OUTBOUND))


def _drafts(count: int, **fields) -> list[Draft]:
    """Oldest first; pairs share a creation time, so the id must break ties."""
    start = timezone.now() - timedelta(days=1)
    return [
        DraftFactory(created_at=start + timedelta(minutes=i // 2), **fields) for i in range(count)
    ]


def _walk(api: Api, url: str, params: dict) -> tuple[list[dict], int]:
    response = api.get(url, params)
    assert response.status_code == 200, response.content
    items, pages = response.json()["results"], 1
    while response.json()["next"]:
        response = api.get(response.json()["next"].removeprefix("http://testserver"))
        assert response.status_code == 200, response.content
        items += response.json()["results"]
        pages += 1
    return items, pages


# -- reading drafts ----------------------------------------------------------------------------


def test_drafts_are_listed_newest_first_over_pages_without_gaps_or_repeats(api):
    drafts = _drafts(7)

    items, pages = _walk(api, DRAFTS, {"limit": 3})

    assert pages == 3
    assert [d["id"] for d in items] == [d.pk for d in reversed(drafts)]


def test_the_draft_list_filters_by_status_ticket_and_time(api):
    ticket = TicketFactory()
    mine = DraftFactory(in_reply_to=MessageFactory(ticket=ticket), status=Draft.Status.SENT)
    DraftFactory(in_reply_to=MessageFactory(ticket=ticket))  # proposed
    old = DraftFactory(status=Draft.Status.SENT, created_at=timezone.now() - timedelta(days=3))
    other = DraftFactory(status=Draft.Status.SENT)

    def ids(**params) -> set[int]:
        return {d["id"] for d in api.get(DRAFTS, params).json()["results"]}

    assert ids(status="sent") == {mine.pk, old.pk, other.pk}
    assert ids(status="sent", ticket=ticket.pk) == {mine.pk}
    since = (timezone.now() - timedelta(days=1)).isoformat()
    assert ids(status="sent", since=since) == {mine.pk, other.pk}
    assert ids(ticket=999_999) == set()


def test_a_draft_shows_its_text_citations_confidence_and_the_message_it_answers(api):
    message = MessageFactory(body_text="Where is my parcel?")
    draft = DraftFactory(
        in_reply_to=message,
        text="It arrives on Friday [1].",
        language="en",
        confidence=0.82,
        citations=[{"article_id": 3, "title": "Delivery times", "passage": "5 days"}],
    )

    data = api.get(f"{DRAFTS}/{draft.pk}").json()

    assert data["id"] == draft.pk
    assert data["ticket_id"] == message.ticket_id
    assert (data["text"], data["language"], data["status"]) == (
        "It arrives on Friday [1].",
        "en",
        "proposed",
    )
    assert data["confidence"] == 0.82
    assert data["citations"][0]["title"] == "Delivery times"
    assert (data["engine"], data["engine_version"]) == ("local", "1")
    assert data["in_reply_to"]["id"] == message.pk
    assert data["in_reply_to"]["body"] == "Where is my parcel?"
    assert data["decided_by"] is None and data["decided_at"] is None
    assert data["sent_message"] is None


def test_an_unknown_draft_is_404_for_every_draft_endpoint(api):
    huge = 2**63
    assert api.get(f"{DRAFTS}/424242").json() == {"error": "No draft 424242."}
    assert api.get(f"{DRAFTS}/{huge}").json() == {"error": f"No draft {huge}."}
    assert api.post(f"{DRAFTS}/424242/approve", {}).status_code == 404
    assert api.post(f"{DRAFTS}/424242/send", {"text": "Hi"}).status_code == 404


def test_list_filters_and_page_sizes_are_validated(api):
    assert api.get(DRAFTS, {"status": "lost"}).json()["fields"]["status"]
    assert api.get(DRAFTS, {"limit": 101}).status_code == 400
    assert api.get(DRAFTS, {"ticket": "x"}).status_code == 400
    assert api.get(DRAFTS, {"cursor": "nonsense"}).status_code == 400
    assert api.get(EVENTS, {"kind": "liked"}).json()["fields"]["kind"]
    assert api.get(EVENTS, {"since": "yesterday"}).status_code == 400
    assert api.get(EVENTS, {"page": 2}).json()["fields"] == {
        "page": ["Not a parameter of this endpoint."]
    }


def test_a_page_holds_at_most_50_drafts_unless_asked_for_fewer(api):
    _drafts(53)

    first = api.get(DRAFTS).json()

    assert len(first["results"]) == 50
    assert first["next"] is not None
    assert len(api.get(first["next"].removeprefix("http://testserver")).json()["results"]) == 3


# -- approve, edit and send ----------------------------------------------------------------------


def test_approving_sends_the_draft_as_written_and_records_who(api, agent):
    draft = DraftFactory(text="Your parcel arrives on Friday.")

    response = api.post(f"{DRAFTS}/{draft.pk}/approve", {})

    assert response.status_code == 200
    data = response.json()
    assert data["status"] == "sent"
    assert data["decided_by"] == "alice"
    assert data["decided_at"] is not None
    (reply,) = _outbound()
    assert reply.body_text == "Your parcel arrives on Friday."
    assert reply.author_user == agent
    assert data["sent_message"]["id"] == reply.pk
    assert data["sent_message"]["direction"] == "outbound"
    assert Ticket.objects.get(pk=draft.ticket_id).status == Ticket.Status.WAITING


def test_approving_needs_no_body_at_all(client, agent):
    draft = DraftFactory()
    token = api_token_create(user=agent)

    # As `curl -X POST URL` sends it: no body, no content type.
    response = client.generic(
        "POST", f"{DRAFTS}/{draft.pk}/approve", headers={"Authorization": f"Bearer {token}"}
    )

    assert response.status_code == 200
    assert Draft.objects.get(pk=draft.pk).status == Draft.Status.SENT


def test_an_api_approval_records_the_same_feedback_event_as_the_inbox(api, agent, agent_client):
    by_api = DraftFactory(text="Your parcel arrives on Friday.")
    by_page = DraftFactory(text="Your parcel arrives on Friday.")

    api.post(f"{DRAFTS}/{by_api.pk}/approve", {})
    agent_client.post(reverse("draft-send", args=[by_page.pk]), {"action": "approve"})

    api_event = FeedbackEvent.objects.get(draft=by_api)
    page_event = FeedbackEvent.objects.get(draft=by_page)
    fields = ("kind", "actor", "before", "after", "diff", "reason")
    assert [getattr(api_event, f) for f in fields] == [getattr(page_event, f) for f in fields]
    assert api_event.kind == "draft_approved"
    assert api_event.actor == agent
    assert api_event.ticket_id == by_api.ticket_id


def test_a_second_approval_is_409_and_names_the_first_sender(
    api, client, other_agent, django_capture_on_commit_callbacks
):
    draft = DraftFactory()
    other = Api(client, api_token_create(user=other_agent))

    with django_capture_on_commit_callbacks(execute=True):
        first = api.post(f"{DRAFTS}/{draft.pk}/approve", {})
        second = other.post(f"{DRAFTS}/{draft.pk}/approve", {})
        edited = other.post(f"{DRAFTS}/{draft.pk}/send", {"text": "Something else"})

    assert first.status_code == 200
    assert second.status_code == 409
    assert second.json()["error"].startswith("This draft was already sent by alice at ")
    assert edited.status_code == 409
    assert len(_outbound()) == 1
    assert len(mail.outbox) == 1
    assert FeedbackEvent.objects.count() == 1


def test_approving_an_escalated_or_replaced_draft_is_409(api):
    for status in (Draft.Status.ESCALATED, Draft.Status.SUPERSEDED):
        draft = DraftFactory(status=status)

        response = api.post(f"{DRAFTS}/{draft.pk}/approve", {})

        assert response.status_code == 409, status
        assert "already" in response.json()["error"]
    assert _outbound() == []


def test_text_sent_to_approve_is_refused_rather_than_dropped(api):
    draft = DraftFactory(text="The original draft.")

    response = api.post(f"{DRAFTS}/{draft.pk}/approve", {"text": "My better reply"})

    assert response.status_code == 400
    assert f"/api/v1/drafts/{draft.pk}/send" in response.json()["error"]
    assert response.json()["fields"] == {"text": ["Not a field of this endpoint."]}
    assert Draft.objects.get(pk=draft.pk).status == Draft.Status.PROPOSED
    assert _outbound() == []


def test_edit_and_send_sends_the_new_text_and_keeps_the_reason(api, agent):
    draft = DraftFactory(text="Hello,\nYour parcel arrives on Friday.\nBye")

    response = api.post(
        f"{DRAFTS}/{draft.pk}/send",
        {"text": "Hello,\nYour parcel arrives on Monday.\nBye", "reason": "wrong_facts"},
    )

    assert response.status_code == 200
    assert response.json()["status"] == "sent"
    (reply,) = _outbound()
    assert reply.body_text == "Hello,\nYour parcel arrives on Monday.\nBye"
    event = FeedbackEvent.objects.get()
    assert (event.kind, event.reason, event.actor) == ("draft_edited", "wrong_facts", agent)
    assert "+Your parcel arrives on Monday." in event.diff
    assert event.after == {"text": "Hello,\nYour parcel arrives on Monday.\nBye"}


def test_edit_and_send_without_a_reason_is_an_edit_without_one(api):
    draft = DraftFactory(text="Hello")

    api.post(f"{DRAFTS}/{draft.pk}/send", {"text": "Hello there", "reason": None})

    event = FeedbackEvent.objects.get()
    assert (event.kind, event.reason) == ("draft_edited", "")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"text": "Hi", "reason": "rude"}, "reason"),
        ({"text": "Hi", "reason": 3}, "reason"),
        ({"reason": "tone"}, "text"),
        ({"text": "   ", "reason": "tone"}, "text"),
        ({"text": ["Hi"]}, "text"),
        ({"text": "x" * (django_settings.MAX_MESSAGE_CHARS + 1)}, "text"),
        ({"text": "Hi", "note": "fixed it"}, "note"),
    ],
)
def test_an_invalid_edit_is_400_and_nothing_is_sent_or_recorded(api, body, field):
    draft = DraftFactory()

    response = api.post(f"{DRAFTS}/{draft.pk}/send", body)

    assert response.status_code == 400
    assert response.json()["error"] == "Validation failed."
    assert list(response.json()["fields"]) == [field]
    assert Draft.objects.get(pk=draft.pk).status == Draft.Status.PROPOSED
    assert _outbound() == []
    assert FeedbackEvent.objects.count() == 0


def test_bodies_are_checked_like_the_rest_of_the_api(api, settings):
    draft = DraftFactory()
    url = f"{DRAFTS}/{draft.pk}/send"

    assert (
        api.post(url, "text=Hi", content_type="application/x-www-form-urlencoded").status_code
        == 415
    )
    assert api.post(url, "{not json").status_code == 400
    assert api.post(url, ["Hi"]).json()["error"] == "The body must be a JSON object."
    assert api.post(f"{DRAFTS}/{draft.pk}/approve", "[]").status_code == 400
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    assert api.post(url, {"text": "x" * 200}).status_code == 413
    assert Draft.objects.get(pk=draft.pk).status == Draft.Status.PROPOSED


def test_a_user_who_may_not_answer_the_ticket_gets_403_and_nothing_is_sent(
    api, client, supervisor, settings
):
    settings.ESCALATED_REPLIES = "supervisors"
    draft = DraftFactory(in_reply_to=MessageFactory(ticket=TicketFactory(is_escalated=True)))

    refused = api.post(f"{DRAFTS}/{draft.pk}/approve", {})

    assert refused.status_code == 403
    assert "supervisor" in refused.json()["error"]
    assert Draft.objects.get(pk=draft.pk).status == Draft.Status.PROPOSED
    assert _outbound() == []
    boss = Api(client, api_token_create(user=supervisor))
    assert boss.post(f"{DRAFTS}/{draft.pk}/approve", {}).status_code == 200


def test_a_token_of_a_user_without_the_agent_role_is_403(client, outsider):
    draft = DraftFactory()
    token = api_token_create(user=outsider)

    for url in (f"{DRAFTS}/{draft.pk}/approve", f"/api/v1/tickets/{draft.ticket_id}/triage"):
        response = client.post(
            url, data={}, content_type="application/json",
            headers={"Authorization": f"Bearer {token}"},
        )  # fmt: skip
        assert response.status_code == 403
    assert Draft.objects.get(pk=draft.pk).status == Draft.Status.PROPOSED


def test_a_retried_approval_with_the_same_idempotency_key_sends_once(api):
    draft = DraftFactory()

    first = api.post(f"{DRAFTS}/{draft.pk}/approve", {}, key="approve-1")
    again = api.post(f"{DRAFTS}/{draft.pk}/approve", {}, key="approve-1")
    other_key = api.post(f"{DRAFTS}/{draft.pk}/approve", {}, key="approve-2")

    assert (first.status_code, again.status_code) == (200, 200)
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert other_key.status_code == 409
    assert len(_outbound()) == 1


def test_a_retried_edit_with_the_same_key_sends_once_and_another_body_is_409(api):
    draft = DraftFactory()
    url = f"{DRAFTS}/{draft.pk}/send"

    first = api.post(url, {"text": "Hello there", "reason": "tone"}, key="edit-1")
    again = api.post(url, {"reason": "tone", "text": "Hello there"}, key="edit-1")
    changed = api.post(url, {"text": "Hello again", "reason": "tone"}, key="edit-1")

    assert first.status_code == again.status_code == 200
    assert again["Idempotent-Replayed"] == "true"
    assert changed.status_code == 409
    assert "different request" in changed.json()["error"]
    assert len(_outbound()) == 1


# -- triage corrections --------------------------------------------------------------------------


def _triaged_ticket() -> Ticket:
    message = MessageFactory(
        ticket=TicketFactory(subject="Parcel late", emotion="neutral"),
        body_text="My parcel has not arrived.",
    )
    TriageResultFactory(message=message, category="refund")
    return message.ticket


def test_a_triage_correction_relabels_the_ticket_and_becomes_training_data(api, agent, categories):
    ticket = _triaged_ticket()
    ticket.category = categories["refund"]
    ticket.save()

    response = api.post(
        f"/api/v1/tickets/{ticket.pk}/triage",
        {"category": "delivery", "emotion": "anxious", "urgency": "high"},
    )

    assert response.status_code == 200
    assert response.json() == {
        "ticket_id": ticket.pk,
        "category": "delivery",
        "emotion": "anxious",
        "urgency": "high",
    }
    ticket.refresh_from_db()
    assert (ticket.category.slug, ticket.emotion, ticket.urgency_label) == (
        "delivery",
        "anxious",
        "high",
    )
    learnt = LabelledExample.objects.get(
        target="category", source=LabelledExample.Source.CORRECTION
    )
    assert learnt.label == "delivery"
    assert "My parcel has not arrived." in learnt.text
    assert LabelledExample.objects.filter(
        target="emotion", label="anxious", source=LabelledExample.Source.CORRECTION
    ).exists()
    event = FeedbackEvent.objects.get()
    assert (event.kind, event.actor, event.ticket_id) == ("triage_corrected", agent, ticket.pk)
    assert event.after == {"category": "delivery", "emotion": "anxious", "urgency": "high"}


def test_a_null_category_marks_the_ticket_out_of_scope(api, categories):
    ticket = _triaged_ticket()

    response = api.post(
        f"/api/v1/tickets/{ticket.pk}/triage",
        {"category": None, "emotion": "neutral", "urgency": "low"},
    )

    assert response.json()["category"] is None
    assert Ticket.objects.get(pk=ticket.pk).category is None


def test_triage_values_are_checked_against_the_known_ones(api, categories):
    ticket = _triaged_ticket()
    categories["refund"].active = False
    categories["refund"].save()

    response = api.post(
        f"/api/v1/tickets/{ticket.pk}/triage",
        {"category": "refund", "emotion": "grumpy", "urgency": "urgent"},
    )

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"category", "emotion", "urgency"}
    unchanged = Ticket.objects.get(pk=ticket.pk)
    assert (unchanged.emotion, unchanged.urgency_label) == ("neutral", "medium")
    assert FeedbackEvent.objects.count() == 0
    assert LabelledExample.objects.count() == 0


def test_a_triage_correction_needs_all_three_labels(api, categories):
    ticket = _triaged_ticket()
    url = f"/api/v1/tickets/{ticket.pk}/triage"

    missing = api.post(url, {"emotion": None, "urgency": 2})

    assert missing.json()["fields"] == {
        "category": ["This field is required."],
        "emotion": ["May not be null."],
        "urgency": ["Must be a string."],
    }
    assert api.post(url, {}).status_code == 400
    assert FeedbackEvent.objects.count() == 0


def test_correcting_an_unknown_ticket_is_404(api, categories):
    response = api.post(
        "/api/v1/tickets/424242/triage",
        {"category": "delivery", "emotion": "neutral", "urgency": "low"},
    )

    assert response.status_code == 404
    assert response.json() == {"error": "No ticket 424242."}


# -- feedback events -----------------------------------------------------------------------------


def test_feedback_events_show_each_decision_newest_first(api, categories):
    draft = DraftFactory(text="Hello")
    ticket = _triaged_ticket()
    api.post(f"{DRAFTS}/{draft.pk}/send", {"text": "Hello there", "reason": "tone"})
    api.post(
        f"/api/v1/tickets/{ticket.pk}/triage",
        {"category": "delivery", "emotion": "neutral", "urgency": "medium"},
    )

    corrected, edited = api.get(EVENTS).json()["results"]

    assert corrected["kind"] == "triage_corrected"
    assert corrected["ticket_id"] == ticket.pk
    assert corrected["triage_id"] is not None and corrected["draft_id"] is None
    assert corrected["after"]["category"] == "delivery"
    assert edited["kind"] == "draft_edited"
    assert edited["actor"] == "alice"
    assert (edited["ticket_id"], edited["draft_id"]) == (draft.ticket_id, draft.pk)
    assert edited["reason"] == "tone"
    assert edited["before"] == {"text": "Hello"}
    assert edited["after"] == {"text": "Hello there"}
    assert "+Hello there" in edited["diff"]


def _events(count: int, actor) -> list[FeedbackEvent]:
    start = timezone.now() - timedelta(hours=count)
    events = []
    for i in range(count):
        draft = DraftFactory()
        events.append(
            FeedbackEvent.objects.create(
                kind="draft_approved" if i % 2 else "draft_edited",
                reason="" if i % 2 else "policy",
                actor=actor,
                ticket_id=draft.ticket_id,
                draft=draft,
                created_at=start + timedelta(minutes=10 * (i // 2)),
            )
        )
    return events


def test_feedback_events_page_and_filter_by_kind_ticket_and_time(api, agent):
    events = _events(9, agent)

    items, pages = _walk(api, EVENTS, {"limit": 4})
    edits, _ = _walk(api, EVENTS, {"kind": "draft_edited", "limit": 2})
    since = events[6].created_at.isoformat()

    assert pages == 3
    assert [e["id"] for e in items] == [e.pk for e in reversed(events)]
    assert [e["id"] for e in edits] == [e.pk for e in reversed(events) if e.kind == "draft_edited"]
    assert {e["reason"] for e in edits} == {"policy"}
    assert [
        e["id"] for e in api.get(EVENTS, {"ticket": events[3].ticket_id}).json()["results"]
    ] == [events[3].pk]
    assert {e["id"] for e in api.get(EVENTS, {"since": since}).json()["results"]} == {
        e.pk for e in events[6:]
    }


# -- scale ---------------------------------------------------------------------------------------


def _queries(api: Api, url: str) -> int:
    api.get(url)  # the token's use is written once a minute: not part of a read
    with CaptureQueriesContext(connection) as queries:
        assert api.get(url, {"limit": 100}).status_code == 200
    return len(queries)


def test_the_draft_list_costs_the_same_queries_for_5_or_30_drafts(api, agent):
    for draft in _drafts(5, status=Draft.Status.SENT, decided_by=agent):
        draft.sent_message = MessageFactory(
            ticket=draft.ticket, direction=Message.Direction.OUTBOUND
        )
        draft.save()
    few = _queries(api, DRAFTS)
    for draft in _drafts(25, status=Draft.Status.SENT, decided_by=agent):
        draft.sent_message = MessageFactory(
            ticket=draft.ticket, direction=Message.Direction.OUTBOUND
        )
        draft.save()

    assert _queries(api, DRAFTS) == few


def test_the_feedback_event_list_costs_the_same_queries_for_5_or_30_events(api, agent):
    _events(5, agent)
    few = _queries(api, EVENTS)
    _events(25, agent)

    assert _queries(api, EVENTS) == few
