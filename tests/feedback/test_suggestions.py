"""Suggestions for admins, learnt from agents' repeated edits and from overrides of routing:
which groups become suggestions, what each proposes, the edits behind it, and the page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from feedback.models import FeedbackEvent, SuggestionSnapshot
from feedback.services import text_diff
from feedback.suggestions import (
    KB_CORRECTION,
    MACRO,
    TONE,
    Observation,
    edit_suggestions,
    suggest_threshold,
)
from tests.factories import (
    ArticleFactory,
    CategoryFactory,
    DraftFactory,
    RoutingDecisionFactory,
    UserFactory,
)
from triage.models import RoutingDecision, RoutingRule, RoutingSettings
from triage.selectors import routing_threshold_suggestions

pytestmark = pytest.mark.django_db

DRAFT = "Hello Anna,\n\nThanks for writing.\nOpen Settings and choose Address.\n\nBest wishes"


def _edit(*, reason: str, language: str = "en", after: str | None = None, days_ago: float = 1,
          citations: list | None = None, category=None, actor=None) -> FeedbackEvent:  # fmt: skip
    draft = DraftFactory(
        text=DRAFT,
        language=language,
        citations=citations or [],
        in_reply_to__ticket__category=category,
        in_reply_to__ticket__language=language,
    )
    after = after if after is not None else DRAFT.replace("Hello", "Dear")
    return FeedbackEvent.objects.create(
        kind=FeedbackEvent.Kind.DRAFT_EDITED,
        actor=actor or UserFactory(username="kenji"),
        ticket=draft.ticket,
        draft=draft,
        before={"text": DRAFT},
        after={"text": after},
        diff=text_diff(DRAFT, after),
        reason=reason,
        created_at=timezone.now() - timedelta(days=days_ago),
    )


def test_three_tone_edits_in_one_locale_make_one_tone_suggestion_with_those_edits():
    edits = [_edit(reason="tone", language="ja") for _ in range(3)]
    _edit(reason="tone", language="es")  # another locale: its own group, too small

    found = edit_suggestions()

    assert [(s.kind, s.language, s.count) for s in found] == [(TONE, "ja", 3)]
    assert "tone profile for ja" in found[0].title
    assert {e.event_id for e in found[0].evidence} == {e.pk for e in edits}
    newest = found[0].evidence[0]
    assert (newest.actor, newest.reason) == ("kenji", "tone")
    assert "+Dear Anna," in newest.diff


def test_two_edits_or_old_ones_suggest_nothing():
    _edit(reason="tone", language="ja")
    _edit(reason="tone", language="ja")
    _edit(reason="tone", language="ja", days_ago=45)  # outside the 30-day window

    assert edit_suggestions() == []


def test_wrong_facts_on_the_same_cited_article_name_the_article_to_correct():
    article = ArticleFactory(title="Changing your delivery address")
    cited = [{"article_id": article.pk, "title": article.title, "language": "en"}]
    edits = [_edit(reason="wrong_facts", citations=cited) for _ in range(3)]
    other = ArticleFactory(title="Refunds")
    _edit(reason="wrong_facts", citations=[{"article_id": other.pk, "title": "Refunds"}])

    found = [s for s in edit_suggestions() if s.kind == KB_CORRECTION]

    assert len(found) == 1
    assert found[0].article_id == article.pk
    assert "Changing your delivery address" in found[0].title
    assert {e.event_id for e in found[0].evidence} == {e.pk for e in edits}


def test_a_sentence_agents_keep_adding_becomes_a_proposed_macro():
    step = "You can also change the address in the mobile app under Profile, then Addresses."
    variants = [
        DRAFT.replace("Best wishes", f"{step}\n\nBest wishes"),
        DRAFT.replace("Best wishes", f"{step}\n\nKind regards"),
        DRAFT.replace("Open Settings", f"{step.replace('also ', '')}\nOpen Settings"),
    ]
    edits = [
        _edit(reason=reason, after=text)
        for reason, text in zip(["missing_step", "missing_step", "other"], variants, strict=True)
    ]
    _edit(reason="other", after=DRAFT.replace("Best wishes", "We have fixed the bug in the app."))

    found = [s for s in edit_suggestions() if s.kind == MACRO]

    assert len(found) == 1
    assert found[0].body == step
    assert {e.event_id for e in found[0].evidence} == {e.pk for e in edits}
    assert "2 of them marked" in found[0].proposal


def test_japanese_additions_are_compared_without_spaces():
    step = "アプリのプロフィール画面から住所を変更することもできます。"
    for ending in ("よろしくお願いします", "敬具", "またのご連絡をお待ちしております"):
        _edit(reason="missing_step", language="ja", after=f"{DRAFT}\n{step}\n{ending}")

    found = [s for s in edit_suggestions() if s.kind == MACRO]

    assert [(s.language, s.body) for s in found] == [("ja", step)]


def _auto_sent(confidence: float, *, taken_over: bool, robot, agent) -> FeedbackEvent | None:
    decision = RoutingDecisionFactory(
        action=RoutingDecision.Action.AUTO_SEND,
        triage__category_confidence=confidence,
        auto_send={"allowed": True, "blocked_by": []},
    )
    draft = DraftFactory(in_reply_to=decision.triage.message, confidence=0.9)
    FeedbackEvent.objects.create(
        kind=FeedbackEvent.Kind.DRAFT_APPROVED, actor=robot, ticket=draft.ticket, draft=draft
    )
    if not taken_over:
        return None
    return FeedbackEvent.objects.create(
        kind=FeedbackEvent.Kind.TAKEOVER, actor=agent, ticket=draft.ticket, draft=draft
    )


def test_taken_over_auto_sends_suggest_raising_the_auto_send_confidence():
    RoutingSettings.objects.update_or_create(
        pk=1, defaults={"auto_send_min_category_confidence": 0.8}
    )
    robot, agent = UserFactory(username="auto-reply"), UserFactory(username="mia")
    overridden = [_auto_sent(0.82, taken_over=True, robot=robot, agent=agent) for _ in range(4)]
    for _ in range(6):
        _auto_sent(0.9, taken_over=False, robot=robot, agent=agent)

    found = [s for s in routing_threshold_suggestions() if "category confidence" in s.title]

    assert len(found) == 1
    suggestion = found[0]
    assert (suggestion.current, suggestion.suggested) == (0.8, 0.9)
    assert suggestion.title == "Raise the auto-send category confidence from 0.80 to 0.90"
    assert suggestion.proposal.startswith("4 of 4 tickets between 0.80 and 0.90 were taken over")
    assert {e.event_id for e in suggestion.evidence} == {e.pk for e in overridden}
    assert all(e.actor == "mia" for e in suggestion.evidence)


def test_auto_sends_nobody_took_over_suggest_no_change():
    robot, agent = UserFactory(username="auto-reply"), UserFactory(username="mia")
    for _ in range(6):
        _auto_sent(0.95, taken_over=False, robot=robot, agent=agent)

    assert routing_threshold_suggestions() == []


def test_tickets_sent_to_people_for_low_confidence_but_approved_as_written_suggest_lowering():
    rule = RoutingRule.objects.filter(action="human", confidence_below__isnull=False).first()
    rule.confidence_below = 0.5
    rule.save()
    agent = UserFactory(username="mia")
    fired = [{"rule_id": rule.pk, "name": rule.name, "action": "human",
              "conditions": ["Low category confidence (42%)"]}]  # fmt: skip
    for confidence in (0.42, 0.44, 0.45, 0.47):
        decision = RoutingDecisionFactory(
            action="human", rule=rule, fired_rules=fired, triage__category_confidence=confidence
        )
        draft = DraftFactory(in_reply_to=decision.triage.message)
        FeedbackEvent.objects.create(
            kind=FeedbackEvent.Kind.DRAFT_APPROVED, actor=agent, ticket=draft.ticket, draft=draft
        )

    found = routing_threshold_suggestions()

    assert [(s.rule_id, s.current, s.suggested) for s in found] == [(rule.pk, 0.5, 0.42)]
    assert found[0].title.startswith("Lower the confidence below which")
    assert found[0].count == 4


def test_the_threshold_is_the_lowest_that_keeps_overrides_within_the_target():
    def seen(confidence: float, overridden: bool) -> Observation:
        return Observation(confidence, overridden, evidence=None)  # type: ignore[arg-type]

    observations = [seen(0.81, True)] * 3 + [seen(0.86, True)] + [seen(0.86, False)] * 9

    move = suggest_threshold(observations, current=0.8)

    assert move is not None and move.suggested == 0.86  # 1 of 10 overridden: within 10 %
    assert (move.band_overridden, move.kept, move.kept_overridden) == (3, 10, 1)


def test_agents_may_not_open_the_page(agent_client):
    response = agent_client.get("/suggestions/")

    assert response.status_code == 403


def test_admins_see_each_suggestion_with_its_edits_and_the_form_to_act(desk_admin_client):
    for _ in range(3):
        _edit(reason="tone", language="ja")

    response = desk_admin_client.get("/suggestions/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "Review the tone profile for ja" in html
    assert "/admin/replies/toneprofilesetting/add/?locale=ja" in html
    assert html.count('<li id="event-') == 3
    assert 'href="/suggestions/"' in html  # in the navigation


def test_supervisors_read_the_page_without_the_admin_links(supervisor_client):
    for _ in range(3):
        _edit(reason="tone", language="ja")

    html = supervisor_client.get("/suggestions/").content.decode()

    assert "Review the tone profile for ja" in html
    assert "/admin/replies/toneprofilesetting/" not in html


def test_the_page_escapes_hostile_diff_text(desk_admin_client):
    hostile = DRAFT.replace(
        "Best wishes", '<script>alert("x")</script><img src=x onerror=alert(1)>'
    )
    for _ in range(3):
        _edit(reason="policy", after=hostile, category=CategoryFactory(slug="billing"))

    html = desk_admin_client.get("/suggestions/").content.decode()

    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html


def test_the_page_reads_the_same_number_of_queries_whatever_the_number_of_events(
    desk_admin_client,
):
    robot, agent = UserFactory(username="auto-reply"), UserFactory(username="mia")
    category = CategoryFactory(slug="billing")

    def add(n: int) -> None:
        for _ in range(n):
            _edit(reason="tone", language="ja")
            _edit(reason="policy", category=category)
            _auto_sent(0.82, taken_over=True, robot=robot, agent=agent)
            _auto_sent(0.95, taken_over=False, robot=robot, agent=agent)

    add(3)
    desk_admin_client.get("/suggestions/")  # warm the session and permission caches
    with CaptureQueriesContext(connection) as few:
        assert desk_admin_client.get("/suggestions/").status_code == 200
    add(9)
    with CaptureQueriesContext(connection) as many:
        html = desk_admin_client.get("/suggestions/").content.decode()

    assert "Review the policy for Billing" in html and "Raise the auto-send" in html
    assert len(many) == len(few)


def test_a_reworded_line_of_the_draft_is_not_text_agents_keep_adding(db):
    reworded = DRAFT.replace("Open Settings and choose Address.", "Open Settings, then Address.")
    for _ in range(3):
        _edit(reason="other", after=reworded)

    assert [s for s in edit_suggestions() if s.kind == MACRO] == []


# ---- stored suggestions: computed by periodic tasks, read by the page ------------------------


def _refresh() -> None:
    from feedback.tasks import edit_suggestions_refresh
    from triage.tasks import threshold_suggestions_refresh

    threshold_suggestions_refresh()
    edit_suggestions_refresh()


def test_the_threshold_task_stores_what_the_routing_decisions_suggest(supervisor_client):
    from feedback.selectors import suggestion_snapshots
    from triage.tasks import threshold_suggestions_refresh

    RoutingSettings.objects.update_or_create(
        pk=1, defaults={"auto_send_min_category_confidence": 0.8}
    )
    robot, agent = UserFactory(username="auto-reply"), UserFactory(username="mia")
    for _ in range(4):
        _auto_sent(0.82, taken_over=True, robot=robot, agent=agent)
    for _ in range(6):
        _auto_sent(0.9, taken_over=False, robot=robot, agent=agent)

    threshold_suggestions_refresh()

    stored = suggestion_snapshots()[SuggestionSnapshot.Source.THRESHOLDS]
    assert stored.with_evidence() == routing_threshold_suggestions()
    html = supervisor_client.get("/suggestions/").content.decode()
    assert "Raise the auto-send category confidence from 0.80 to 0.90" in html


def test_the_page_shows_the_stored_suggestions_until_they_are_recomputed(supervisor_client):
    for _ in range(3):
        _edit(reason="tone", language="ja")
    _refresh()
    for _ in range(3):
        _edit(reason="tone", language="es")

    before = supervisor_client.get("/suggestions/").content.decode()
    _refresh()
    after = supervisor_client.get("/suggestions/").content.decode()

    assert "Review the tone profile for ja" in before
    assert "Review the tone profile for es" not in before
    assert "Review the tone profile for es" in after


def test_the_page_says_how_long_ago_the_suggestions_were_computed(supervisor_client):
    _refresh()
    SuggestionSnapshot.objects.update(computed_at=timezone.now() - timedelta(minutes=5))

    html = supervisor_client.get("/suggestions/").content.decode()

    assert "Computed 5\xa0minutes ago." in html
    assert "They are recomputed every 10 minutes." in html


def test_update_now_recomputes_the_suggestions_at_once(supervisor_client):
    _refresh()
    SuggestionSnapshot.objects.update(computed_at=timezone.now() - timedelta(minutes=5))
    for _ in range(3):
        _edit(reason="tone", language="ja")

    response = supervisor_client.post("/suggestions/update/")

    assert response.status_code == 302 and response["Location"] == "/suggestions/"
    html = supervisor_client.get("/suggestions/").content.decode()
    assert "Review the tone profile for ja" in html
    assert "Computed just now." in html


def test_agents_may_not_recompute_the_suggestions(agent_client):
    response = agent_client.post("/suggestions/update/")

    assert response.status_code == 403
    assert not SuggestionSnapshot.objects.exists()


def test_the_page_reads_no_decisions_or_events_however_many_there_are(supervisor_client):
    robot, agent = UserFactory(username="auto-reply"), UserFactory(username="mia")

    def add(n: int) -> None:
        for _ in range(n):
            _edit(reason="tone", language="ja")
            _auto_sent(0.82, taken_over=True, robot=robot, agent=agent)
            _auto_sent(0.95, taken_over=False, robot=robot, agent=agent)
        _refresh()

    add(3)
    supervisor_client.get("/suggestions/")  # warm the session and permission caches
    with CaptureQueriesContext(connection) as few:
        supervisor_client.get("/suggestions/")
    add(20)
    with CaptureQueriesContext(connection) as many:
        html = supervisor_client.get("/suggestions/").content.decode()

    read = " ".join(q["sql"] for q in many.captured_queries)
    assert "feedback_feedbackevent" not in read and "triage_routingdecision" not in read
    assert len(many) == len(few) <= 12
    assert "Review the tone profile for ja" in html and "Raise the auto-send" in html


def test_stored_suggestions_read_in_the_readers_language(supervisor_client):
    for _ in range(3):
        _edit(reason="tone", language="ja")
    _refresh()

    english = supervisor_client.get("/suggestions/").content.decode()
    spanish = supervisor_client.get("/suggestions/", HTTP_ACCEPT_LANGUAGE="es").content.decode()

    assert "Review the tone profile for ja" in english
    assert "Revisar el perfil de tono de ja" in spanish


def test_each_role_sees_its_own_actions_on_the_same_stored_suggestions(
    supervisor_client, desk_admin_client
):
    for _ in range(3):
        _edit(reason="tone", language="ja")
    _refresh()

    admin = desk_admin_client.get("/suggestions/").content.decode()
    supervisor = supervisor_client.get("/suggestions/").content.decode()

    assert "/admin/replies/toneprofilesetting/add/?locale=ja" in admin
    assert "Review the tone profile for ja" in supervisor
    assert "/admin/replies/toneprofilesetting/" not in supervisor
