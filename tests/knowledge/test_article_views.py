"""The article pages: the list, an article's edit form, version history, line diff and
revert, and the review of its translations; who may do what; a fixed number of queries."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from knowledge.models import Article, ArticleVersion
from knowledge.services import article_update
from knowledge.translations import translations_propose
from tests.factories import ArticleFactory

pytestmark = pytest.mark.django_db

LANGUAGES = ["en", "zh-Hant", "ja", "es"]


@pytest.fixture(autouse=True)
def _languages(settings):
    settings.SUPPORTED_LANGUAGES = LANGUAGES
    settings.LLM_BASE_URL = ""
    settings.LLM_MODEL = ""
    settings.AZURE_OPENAI_ENDPOINT = ""


@pytest.fixture
def refund():
    return ArticleFactory(
        title="Refunds",
        body="Refunds take 14 days.\nWrite to us with your order number.\nThank you.",
        language="en",
    )


def page(client, article: Article, **query) -> str:
    response = client.get(reverse("knowledge-article", args=[article.pk]), query)
    assert response.status_code == 200
    return response.content.decode()


def edit(client, article: Article, **fields):
    article.refresh_from_db()
    data = {"title": article.title, "body": article.body, "note": "", "version": article.version}
    data.update(fields)
    return client.post(reverse("knowledge-article", args=[article.pk]), data)


# -- reading and permissions ----------------------------------------------------------------


def test_an_agent_reads_the_list_and_the_article_but_has_no_edit_form(agent_client, refund):
    listing = agent_client.get(reverse("knowledge-articles")).content.decode()
    assert "Refunds" in listing
    assert 'href="/knowledge/articles/"' in listing and "aria-current" in listing  # the tab

    html = page(agent_client, refund)

    assert "Refunds take 14 days." in html
    assert "Version history" in html
    assert "Save as a new version" not in html
    assert "Revert to version" not in html
    assert "Propose translation" not in html


def test_an_agent_cannot_edit_revert_or_review(agent_client, refund):
    article_update(article_id=refund.pk, author=None, body="Refunds take 10 days.")

    assert edit(agent_client, refund, body="Refunds are instant.").status_code == 403
    revert = reverse("knowledge-article-revert", args=[refund.pk, 1])
    assert agent_client.post(revert).status_code == 403
    propose = reverse("knowledge-translation-propose", args=[refund.pk])
    assert agent_client.post(propose, {"language": "ja"}).status_code == 403
    refund.refresh_from_db()
    assert (refund.version, refund.body) == (2, "Refunds take 10 days.")
    assert not refund.translations.exists()


def test_people_without_a_role_and_visitors_cannot_read(client, outsider, refund):
    url = reverse("knowledge-article", args=[refund.pk])
    assert client.get(url).status_code == 302  # to the sign-in page
    client.force_login(outsider)
    assert client.get(url).status_code == 403
    assert client.get(reverse("knowledge-articles")).status_code == 403


# -- edit, history, diff, revert --------------------------------------------------------------


def test_an_edit_is_a_new_version_the_history_shows(desk_admin_client, refund):
    response = edit(desk_admin_client, refund, body="Refunds take 10 days.", note="Faster refunds")

    assert response.status_code == 302
    refund.refresh_from_db()
    assert (refund.version, refund.body) == (2, "Refunds take 10 days.")
    html = page(desk_admin_client, refund)
    assert "Saved as version 2." in html
    assert "Version 2</strong> · Edited · ada" in html
    assert "Faster refunds" in html
    assert "Version 1</strong> · Created" in html


def test_saving_the_same_text_makes_no_version(desk_admin_client, refund):
    edit(desk_admin_client, refund)

    assert ArticleVersion.objects.filter(article=refund).count() == 1
    assert "Nothing changed" in page(desk_admin_client, refund)


def test_an_edit_over_someone_elses_newer_version_is_refused_and_keeps_the_text(
    desk_admin_client, refund, desk_admin
):
    article_update(article_id=refund.pk, author=desk_admin, body="Refunds take 7 days.")

    response = desk_admin_client.post(
        reverse("knowledge-article", args=[refund.pk]),
        {"title": "Refunds", "body": "My stale edit.", "note": "", "version": 1},
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert "Someone saved version 2 while you were editing" in html
    assert "My stale edit." in html
    refund.refresh_from_db()
    assert refund.body == "Refunds take 7 days."


def test_an_empty_text_is_refused_with_a_message_next_to_the_field(desk_admin_client, refund):
    response = edit(desk_admin_client, refund, body="")

    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    refund.refresh_from_db()
    assert refund.version == 1


def test_the_diff_shows_removed_and_added_lines_as_text(desk_admin_client, agent_client):
    article = ArticleFactory(
        title="Scripts", body="Line one.\n<script>alert('old')</script>\nLine three."
    )
    edit(
        desk_admin_client,
        article,
        title="Scripts & tags",
        body="Line one.\n<b>bold</b> <script>alert('new')</script>\nLine three.",
    )

    html = page(agent_client, article, compare=2)

    assert "Changes from version 1 to version 2" in html
    assert "<script>alert" not in html and "<b>bold" not in html
    removed = "&lt;script&gt;alert(&#x27;old&#x27;)&lt;/script&gt;"
    added = "&lt;b&gt;bold&lt;/b&gt; &lt;script&gt;alert(&#x27;new&#x27;)&lt;/script&gt;"
    assert f'<span aria-hidden="true">− </span>{removed}</del>' in html
    assert f'<span aria-hidden="true">+ </span>{added}</ins>' in html
    assert '<li class="diff-same"><span aria-hidden="true">  </span>Line one.</li>' in html
    assert "Scripts &amp; tags</ins>" in html  # the title changed too


def test_the_first_version_has_nothing_to_compare_with(agent_client, refund):
    html = page(agent_client, refund, compare=1)

    assert "Changes from version" not in html
    assert "Compare version 1 with previous" not in html


def test_revert_restores_an_old_text_as_a_new_version(desk_admin_client, refund, desk_admin):
    original = refund.body
    article_update(article_id=refund.pk, author=desk_admin, body="Refunds take 3 days.")

    response = desk_admin_client.post(reverse("knowledge-article-revert", args=[refund.pk, 1]))

    assert response.status_code == 302
    refund.refresh_from_db()
    assert (refund.version, refund.body) == (3, original)
    newest = refund.versions.order_by("-number").first()
    assert (newest.change, newest.author, newest.note) == (
        ArticleVersion.Change.REVERTED,
        desk_admin,
        "Back to version 1",
    )
    html = page(desk_admin_client, refund)
    assert "Version 1 is the current text again, as version 3." in html
    assert "Version 3</strong> · Reverted · ada" in html


def test_reverting_needs_a_post(desk_admin_client, refund):
    url = reverse("knowledge-article-revert", args=[refund.pk, 1])
    assert desk_admin_client.get(url).status_code == 405


def test_the_history_is_paginated(desk_admin_client, refund, desk_admin):
    for n in range(12):
        article_update(article_id=refund.pk, author=desk_admin, body=f"Refunds take {n} days.")

    first = page(desk_admin_client, refund)
    second = page(desk_admin_client, refund, page=2)

    assert "Version 13</strong>" in first and "Version 3</strong>" not in first
    assert "Page 1 of 2" in first
    assert "Version 3</strong>" in second and "Version 1</strong>" in second


# -- the list ---------------------------------------------------------------------------------


def test_the_list_searches_and_filters_by_language_and_state(agent_client, refund):
    ArticleFactory(title="Shipping times", body="We ship in 2 days.", language="en")
    ArticleFactory(title="Envíos", body="Enviamos en 2 días.", language="es")
    ArticleFactory(title="Old policy", body="Retired.", language="en", published=False)
    url = reverse("knowledge-articles")

    def titles(**query) -> list[str]:
        response = agent_client.get(url, query)
        return [row.article.title for row in response.context["rows"]]

    assert titles(q="ship") == ["Shipping times"]
    assert titles(q="14 days") == ["Refunds"]
    assert titles(language="es") == ["Envíos"]
    assert titles(state="unpublished") == ["Old policy"]
    assert titles(state="published") == ["Envíos", "Refunds", "Shipping times"]


def test_the_list_shows_each_articles_translations_present_and_missing(
    agent_client, refund, desk_admin
):
    translations_propose(article_id=refund.pk, languages=["ja"])
    ArticleFactory(title="Reembolsos", body="Tardan 14 días.", language="es",
                   translation_of=refund, source_version=1)  # fmt: skip

    response = agent_client.get(reverse("knowledge-articles"), {"q": "Refunds"})

    row = response.context["rows"][0]
    assert {cell.language: cell.state for cell in row.cells} == {
        "zh-Hant": "missing",
        "ja": "to_translate",
        "es": "published",
    }
    html = response.content.decode()
    assert "Waiting for a translator" in html and "Missing" in html
    review = agent_client.get(reverse("knowledge-articles"), {"state": "review"})
    assert [r.article.language for r in review.context["rows"]] == ["ja"]


def test_the_list_is_paginated_and_its_filter_answers_with_the_list_alone(agent_client):
    for n in range(30):
        ArticleFactory(title=f"Article {n:02d}")

    response = agent_client.get(reverse("knowledge-articles"), {"page": 2})
    fragment = agent_client.get(
        reverse("knowledge-articles"), {"q": "Article 2"}, headers={"HX-Request": "true"}
    )

    assert [r.article.title for r in response.context["rows"]][0] == "Article 25"
    assert "Page 2 of 2" in response.content.decode()
    assert fragment.content.decode().lstrip().startswith('<section id="article-list"')
    assert "<html" not in fragment.content.decode()


def _with_translations(count: int, author) -> Article:
    last = None
    for n in range(count):
        last = ArticleFactory(title=f"Article {n:02d}", body=f"Body {n}.")
        ArticleFactory(title=f"Artículo {n:02d}", body=f"Texto {n}.", language="es",
                       translation_of=last, source_version=1)  # fmt: skip
        article_update(article_id=last.pk, author=author, body=f"Body {n}, version 2.")
    return last


def _queries(client, url, **query) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, query).status_code == 200
    return len(captured)


def test_the_list_runs_as_many_queries_for_30_articles_as_for_5(desk_admin_client, desk_admin):
    url = reverse("knowledge-articles")
    _with_translations(5, desk_admin)
    few = _queries(desk_admin_client, url)
    _with_translations(30, desk_admin)
    many = _queries(desk_admin_client, url)

    assert many == few
    assert few <= 8


def test_the_article_page_runs_as_many_queries_for_30_versions_as_for_5(
    desk_admin_client, desk_admin
):
    article = ArticleFactory(title="Busy article")
    translations_propose(article_id=article.pk)
    url = reverse("knowledge-article", args=[article.pk])
    for n in range(5):
        article_update(article_id=article.pk, author=desk_admin, body=f"Body {n}.")
    few = _queries(desk_admin_client, url, compare=3)
    for n in range(25):
        article_update(article_id=article.pk, author=desk_admin, body=f"Body {n} again.")
    many = _queries(desk_admin_client, url, compare=3)

    assert many == few
    assert few <= 12


# -- translations on the page -----------------------------------------------------------------


def test_an_admin_proposes_writes_and_approves_a_translation(
    desk_admin_client, refund, settings, django_capture_on_commit_callbacks
):
    settings.TASK_BACKEND = "sync"
    url = reverse("knowledge-article", args=[refund.pk])
    html = page(desk_admin_client, refund)
    assert html.count("Propose translation into") == 3
    assert "Propose the 3 missing translations" in html

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        desk_admin_client.post(
            reverse("knowledge-translation-propose", args=[refund.pk]), {"language": "ja"}
        )

    assert len(callbacks) == 1  # the proposal is the worker's, after commit

    ja = refund.translations.get(language="ja")
    html = page(desk_admin_client, refund)
    assert 'id="translation-ja"' in html
    assert "Save the Japanese translation for review" in html
    assert html.count("Propose translation into") == 2
    desk_admin_client.post(
        reverse("knowledge-translation-write", args=[ja.pk]),
        {f"t{ja.pk}-title": "返金について", f"t{ja.pk}-body": "返金には14日かかります。"},
    )
    html = page(desk_admin_client, refund)
    assert "返金には14日かかります。" in html and "Approve the Japanese translation" in html

    response = desk_admin_client.post(reverse("knowledge-translation-approve", args=[ja.pk]))

    assert response.status_code == 302 and response["Location"] == f"{url}#translations"
    ja.refresh_from_db()
    assert ja.published and ja.review == Article.Review.REVIEWED
    assert "The Japanese translation is published." in page(desk_admin_client, refund)


def test_an_admin_edits_then_approves_or_rejects_a_proposal(desk_admin_client, refund, desk_admin):
    from knowledge.translations import translation_write

    translations_propose(article_id=refund.pk, languages=["es", "ja"])
    es, ja = (refund.translations.get(language=code) for code in ("es", "ja"))
    for translation, title in ((es, "Reembolsos"), (ja, "返金")):
        translation_write(
            article_id=translation.pk, title=title, body="Texto <i>uno</i>.", author=desk_admin
        )
    html = page(desk_admin_client, refund)
    assert "Texto &lt;i&gt;uno&lt;/i&gt;." in html and "<i>uno" not in html

    desk_admin_client.post(
        reverse("knowledge-translation-approve", args=[es.pk]),
        {"edited": "1", f"t{es.pk}-title": "Reembolsos", f"t{es.pk}-body": "Tardan 14 días."},
    )
    desk_admin_client.post(
        reverse("knowledge-translation-reject", args=[ja.pk]), {f"t{ja.pk}-reason": "Wrong tone"}
    )

    es.refresh_from_db()
    ja.refresh_from_db()
    assert es.published and es.body == "Tardan 14 días."
    assert not ja.published and ja.review == Article.Review.TO_TRANSLATE
    assert "Proposal rejected by ada: Wrong tone" in page(desk_admin_client, refund)


def test_an_agent_cannot_approve_a_translation(agent_client, refund, desk_admin):
    from knowledge.translations import translation_write

    translations_propose(article_id=refund.pk, languages=["es"])
    es = refund.translations.get()
    translation_write(article_id=es.pk, title="Reembolsos", body="Tardan.", author=desk_admin)

    response = agent_client.post(reverse("knowledge-translation-approve", args=[es.pk]))

    assert response.status_code == 403
    es.refresh_from_db()
    assert not es.published


def test_a_translation_page_says_when_it_is_out_of_date(agent_client, refund, desk_admin):
    es = ArticleFactory(title="Reembolsos", body="Tardan 14 días.", language="es",
                        translation_of=refund, source_version=1)  # fmt: skip
    article_update(article_id=refund.pk, author=desk_admin, body="Refunds take 10 days.")

    html = page(agent_client, es)

    assert "Out of date: this translates version 1 of the source" in html
    assert "translates version 1; the article is at version 2" in page(agent_client, refund)


def test_proposing_every_missing_language_at_once(
    desk_admin_client, refund, settings, django_capture_on_commit_callbacks
):
    settings.TASK_BACKEND = "sync"

    with django_capture_on_commit_callbacks(execute=True):
        desk_admin_client.post(reverse("knowledge-translation-propose", args=[refund.pk]))

    assert sorted(t.language for t in refund.translations.all()) == ["es", "ja", "zh-Hant"]
    assert "Propose translation into" not in page(desk_admin_client, refund)


def test_an_editor_brings_a_translation_up_to_date(desk_admin_client, refund, desk_admin):
    es = ArticleFactory(title="Reembolsos", body="Tardan 14 días.", language="es",
                        translation_of=refund)  # fmt: skip
    article_update(article_id=refund.pk, author=desk_admin, body="Refunds take 10 days.")
    assert "Out of date" in page(desk_admin_client, es)
    assert "This translation now matches the current source" in page(desk_admin_client, es)

    edit(desk_admin_client, es, body="Tardan 10 días.", up_to_date="on")

    es.refresh_from_db()
    assert (es.body, es.source_version, es.version) == ("Tardan 10 días.", 2, 2)
    assert "Out of date" not in page(desk_admin_client, es)


def test_a_task_page_says_it_has_no_text_and_points_to_the_review(agent_client, refund):
    translations_propose(article_id=refund.pk, languages=["ja"])
    ja = refund.translations.get()

    html = page(agent_client, ja)

    assert "no version yet" in html and "No text yet." in html
    assert "This translation is not published" in html
    assert f'href="/knowledge/articles/{refund.pk}/#translation-ja"' in html
    assert "Save as a new version" not in html
