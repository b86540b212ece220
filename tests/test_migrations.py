"""An installation upgraded from the previous release keeps its data.

The database is migrated back to the schema the previous release shipped with, filled through
that schema's own (historical) models the way the old code wrote rows, and migrated forward to
today's schema; every ticket, message, draft, model version and feedback event must still be
there, and the data migrations must have filled the new columns correctly.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

pytestmark = pytest.mark.django_db(transaction=True)

# The last migration of each app in the previous release (apps added since are not installed).
PREVIOUS_RELEASE = [
    ("supportdesk", "0013_ticket_sla_hours"),
    ("triage", "0010_business_hours"),
    ("replies", "0004_draft_promise_flags"),
    ("knowledge", "0002_initial"),
    ("feedback", "0004_routing_override_kinds"),
    ("llm", "0001_llm_settings_and_calls"),
    ("axes", None),
]


def _migrate(targets) -> object:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state([t for t in targets if t[1]]).apps


def _latest() -> list[tuple[str, str]]:
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()


def _fill_as_the_previous_release(apps) -> dict[str, int]:
    User = apps.get_model("auth", "User")
    Customer = apps.get_model("supportdesk", "Customer")
    Ticket = apps.get_model("supportdesk", "Ticket")
    Message = apps.get_model("supportdesk", "Message")
    TriageResult = apps.get_model("triage", "TriageResult")
    ModelVersion = apps.get_model("triage", "ModelVersion")
    Draft = apps.get_model("replies", "Draft")
    FeedbackEvent = apps.get_model("feedback", "FeedbackEvent")

    agent = User.objects.create(username="upgrade-agent")
    customer = Customer.objects.create(email="kept@example.org", name="Kept Customer")
    now = timezone.now()
    triaged = Ticket.objects.create(customer=customer, subject="Triaged", channel="email")
    done = Message.objects.create(
        ticket=triaged, direction="in", body_text="Where is my parcel?", created_at=now
    )
    TriageResult.objects.create(
        ticket=triaged, message=done, language="en", language_confidence=0.9,
        category="delivery", category_confidence=0.8, emotion="neutral",
        emotion_confidence=0.7, urgency="low", engine="local", engine_version="v1",
        latency_ms=12,
    )  # fmt: skip
    draft = Draft.objects.create(
        ticket=triaged, in_reply_to=done, text="Your parcel is on its way.", language="en",
        engine="local", engine_version="v1",
    )  # fmt: skip
    FeedbackEvent.objects.create(kind="draft_approved", actor=agent, ticket=triaged, draft=draft)
    ModelVersion.objects.create(target="emotion", version="v-old", is_active=True)
    # The old FAQ suggestion: the whole message, the customer's name and order number in it.
    apps.get_model("knowledge", "FAQSuggestion").objects.create(
        question="Engraving\nHi, Kept Customer here (order LM-204118). Do you engrave glasses?",
        language="en",
        source_ticket=triaged,
    )
    # A message the old pipeline lost (its task never ran): the sweeper must pick it up.
    lost = Ticket.objects.create(customer=customer, subject="Lost", channel="api")
    pending = Message.objects.create(ticket=lost, direction="in", body_text="Hello?")
    return {"done": done.pk, "pending": pending.pk, "draft": draft.pk, "triaged": triaged.pk}


def _fill_the_taxonomy_as_the_previous_release(apps, ticket_id: int) -> None:
    """Categories, teams and business hours lived in triage; the floor owns them today."""
    Category = apps.get_model("triage", "Category")
    Team = apps.get_model("triage", "Team")
    BusinessHours = apps.get_model("triage", "BusinessHours")
    Ticket = apps.get_model("supportdesk", "Ticket")
    Permission = apps.get_model("auth", "Permission")

    billing = Category.objects.create(slug="billing", name="Billing")
    team = Team.objects.create(name="Payments", languages=["en"])
    team.categories.add(billing)
    team.members.add(apps.get_model("auth", "User").objects.get(username="upgrade-agent"))
    hours = BusinessHours.objects.create(name="Tokyo office", timezone="Asia/Tokyo")
    hours.holidays.create(date="2027-01-01", name="New Year")
    apps.get_model("triage", "SlaPolicy").objects.create(
        name="Office hours", first_response_minutes=60, resolution_minutes=480,
        business_hours=hours,
    )  # fmt: skip
    apps.get_model("knowledge", "Article").objects.create(
        title="Refunds", body="Within 30 days.", language="en", category=billing
    )
    Ticket.objects.filter(pk=ticket_id).update(category=billing, waiting_team=team, sla_hours=hours)
    group = apps.get_model("auth", "Group").objects.create(name="Taxonomy editors")
    group.permissions.add(
        Permission.objects.get(content_type__app_label="triage", codename="change_category")
    )


@pytest.fixture
def latest():
    """Today's schema, restored whatever the test does, for the tests that run after it."""
    targets = _latest()
    yield targets
    _migrate(targets)


def test_upgrading_from_the_previous_release_keeps_every_row(latest):
    old_apps = _migrate(PREVIOUS_RELEASE)
    ids = _fill_as_the_previous_release(old_apps)
    _fill_the_taxonomy_as_the_previous_release(old_apps, ids["triaged"])

    apps = _migrate(latest)

    Message = apps.get_model("supportdesk", "Message")
    assert apps.get_model("supportdesk", "Ticket").objects.count() == 2
    assert Message.objects.count() == 2
    assert apps.get_model("supportdesk", "Customer").objects.get().email == "kept@example.org"
    draft = apps.get_model("replies", "Draft").objects.get(pk=ids["draft"])
    assert draft.text == "Your parcel is on its way."
    assert apps.get_model("triage", "TriageResult").objects.count() == 1
    assert apps.get_model("triage", "ModelVersion").objects.get().version == "v-old"
    assert apps.get_model("feedback", "FeedbackEvent").objects.get().kind == "draft_approved"
    # The new pipeline bookkeeping: the triaged message is done, the lost one is pending.
    done = Message.objects.get(pk=ids["done"])
    assert done.pipeline_done_at == done.created_at
    assert Message.objects.get(pk=ids["pending"]).pipeline_done_at is None

    # Tickets from before search are found by their subject, customer and messages.
    ticket = apps.get_model("supportdesk", "Ticket").objects.get(pk=ids["triaged"])
    assert set(ticket.search_document.split()) >= {"triaged", "kept", "customer", "parcel"}
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id FROM supportdesk_ticket"
                " WHERE search_vector @@ to_tsquery('simple', 'parcel:*')"
            )
            assert cursor.fetchall() == [(ids["triaged"],)]

    # The taxonomy moved to the floor with every row and link kept.
    assert ticket.category.slug == "billing"
    assert ticket.sla_hours.holidays.get().name == "New Year"
    team = apps.get_model("supportdesk", "Team").objects.get()
    assert ticket.waiting_team == team
    assert [c.slug for c in team.categories.all()] == ["billing"]
    assert [u.username for u in team.members.all()] == ["upgrade-agent"]
    policy = apps.get_model("triage", "SlaPolicy").objects.get(name="Office hours")
    assert policy.business_hours == ticket.sla_hours
    article = apps.get_model("knowledge", "Article").objects.get()
    assert article.category == ticket.category
    assert [(v.number, v.change, v.body) for v in article.versions.all()] == [
        (1, "created", "Within 30 days.")
    ]
    suggestion = apps.get_model("knowledge", "FAQSuggestion").objects.get()
    assert suggestion.question == "Do you engrave glasses?"
    assert (suggestion.gap_count, suggestion.status) == (1, "pending")
    # Permissions granted on the moved models still hold, under the new app label.
    granted = apps.get_model("auth", "Group").objects.get(name="Taxonomy editors").permissions
    assert [(p.content_type.app_label, p.codename) for p in granted.all()] == [
        ("supportdesk", "change_category")
    ]
