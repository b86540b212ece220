"""Knowledge-base sync with a Notion database, through a loopback server that speaks the
Notion API the official client calls: import (pages, blocks, Language, trash), and the export
of FAQ articles written here, which a later import finds in step instead of duplicating."""

from __future__ import annotations

import json

import pytest
from django.db import DatabaseError

from knowledge.models import Article, ArticleVersion
from knowledge.services import article_update, faq_suggestion_approve
from knowledge.sync.services import kb_sync_run
from tests.factories import ArticleFactory, FAQSuggestionFactory
from tests.knowledge.kb_servers import Fault

pytestmark = pytest.mark.django_db


NOT_FOUND = json.dumps(
    {"object": "error", "status": 404, "code": "object_not_found", "message": "No database"}
).encode()


def _database(fake_notion) -> dict[str, str]:
    n = fake_notion
    setup = n.add_page(
        "Set up the app",
        [
            ("heading_2", "Before you start"),
            ("paragraph", "You need an account."),
            ("bulleted_list_item", "A phone"),
            ("bulleted_list_item", "A network"),
            ("numbered_list_item", "Install"),
            ("numbered_list_item", "Sign in"),
            ("to_do", "Turn on alerts"),
            ("quote", "It takes two minutes."),
            ("callout", "Ask us when stuck."),
            ("code", "app --init"),
            ("image", ""),
        ],
        language="en",
    )
    n.blocks[setup][6]["to_do"]["checked"] = True
    return {
        "setup": setup,
        "refund": n.add_page("返金について", [("paragraph", "30日以内に返金します。")], "ja"),
        "hours": n.add_page("營業時間", [("paragraph", "週一至週五。")], language="zh-TW"),
        "plain": n.add_page("Passwords", [("paragraph", "Use a long one.")]),
    }


def _notion(**kwargs) -> list:
    return kb_sync_run(sources=["notion"], **kwargs)


def test_first_notion_import_reads_pages_blocks_and_language(fake_notion):
    pages = _database(fake_notion)

    (report,) = _notion()

    assert (report.created, report.errors) == (4, [])
    setup = Article.objects.get(external_source="notion", external_id=pages["setup"])
    assert setup.title == "Set up the app"
    assert setup.body.split("\n") == [
        "Before you start",
        "You need an account.",
        "- A phone",
        "- A network",
        "1. Install",
        "2. Sign in",
        "[x] Turn on alerts",
        "It takes two minutes.",
        "Ask us when stuck.",
        "app --init",
    ]
    assert setup.external_url == f"https://www.notion.so/{pages['setup'].replace('-', '')}"
    assert setup.versions.get().change == ArticleVersion.Change.SYNCED
    languages = dict(Article.objects.values_list("external_id", "language"))
    assert languages == {
        pages["setup"]: "en",
        pages["refund"]: "ja",
        pages["hours"]: "zh-Hant",
        pages["plain"]: "en",  # no Language: the desk's default
    }
    # Four pages and eleven blocks, two a page: the client followed every cursor.
    queries = fake_notion.calls("POST", "/query")
    assert [q.body.get("start_cursor") for q in queries] == [None, "2"]
    setup_blocks = fake_notion.calls("GET", f"/blocks/{pages['setup']}/children")
    assert len(setup_blocks) == 6
    assert all(r.headers["authorization"] == "Bearer secret_notion" for r in fake_notion.requests)


def test_language_from_a_text_property(fake_notion):
    fake_notion.language_type = "rich_text"
    fake_notion.add_page("Horario", [("paragraph", "De lunes a viernes.")], language="es")

    _notion()

    assert Article.objects.get().language == "es"


def test_notion_reimport_unchanged_then_one_version_for_an_edit(fake_notion):
    pages = _database(fake_notion)
    _notion()

    (again,) = _notion()
    fake_notion.edit(pages["plain"], title="Strong passwords", lines=[("paragraph", "Use 12+.")])
    (edited,) = _notion()

    assert (again.created, again.updated, again.unchanged) == (0, 0, 4)
    assert (edited.updated, edited.unchanged) == (1, 3)
    article = Article.objects.get(external_id=pages["plain"])
    assert (article.title, article.body, article.version) == ("Strong passwords", "Use 12+.", 2)
    assert ArticleVersion.objects.count() == 5


def test_a_page_moved_to_the_trash_is_unpublished(fake_notion):
    pages = _database(fake_notion)
    _notion()
    fake_notion.pages[pages["refund"]]["in_trash"] = True

    (trashed,) = _notion()
    fake_notion.pages[pages["refund"]]["in_trash"] = False
    (restored,) = _notion()

    assert (trashed.unpublished, trashed.unchanged) == (1, 3)
    assert restored.updated == 1
    assert Article.objects.get(external_id=pages["refund"]).published


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        (
            Fault(path="/query", status=200, raw=b"<html>maintenance</html>"),
            "not answer with JSON",
        ),
        (Fault(path="/children", hang=1.5), "did not answer in time"),
        (Fault(path="/databases/", status=404, raw=NOT_FOUND), "HTTP 404"),
    ],
    ids=["not-json", "timeout", "not-found"],
)
def test_a_notion_failure_leaves_the_articles_as_they_were(fake_notion, settings, fault, message):
    pages = _database(fake_notion)
    _notion()
    fake_notion.edit(pages["plain"], title="Changed in Notion")
    fake_notion.pages[pages["refund"]]["in_trash"] = True
    settings.KB_SYNC_TIMEOUT = 0.5
    fake_notion.faults.append(fault)

    (report,) = _notion()

    (error,) = report.errors
    assert error.startswith("notion: ") and message in error
    assert Article.objects.get(external_id=pages["plain"]).title == "Passwords"
    assert Article.objects.filter(published=True).count() == 4
    assert ArticleVersion.objects.count() == 4


# -- export ------------------------------------------------------------------------------------


def _approved_faq(agent, **kwargs) -> Article:
    suggestion = FAQSuggestionFactory(**kwargs)
    return faq_suggestion_approve(
        suggestion_id=suggestion.pk,
        actor=agent,
        title="Do you ship to Antarctica?",
        answer="Yes, twice a year.\n\nOrders close in March.",
    )


def test_export_creates_notion_pages_for_approved_faq_articles_and_links_them(fake_notion, agent):
    faq = _approved_faq(agent, language="ja")
    ArticleFactory(title="Written here, not a FAQ")
    ArticleFactory(title="A translation", translation_of=faq)

    export, notion = _notion(export_notion=True)

    assert (export.created, export.errors) == (1, [])
    (create,) = fake_notion.calls("POST", "/v1/pages")
    assert create.body["parent"] == {
        "type": "data_source_id",
        "data_source_id": fake_notion.data_source_id,
    }
    assert create.body["properties"]["Name"]["title"][0]["text"]["content"] == faq.title
    assert create.body["properties"]["Language"] == {"select": {"name": "ja"}}
    paragraphs = [
        "".join(t["text"]["content"] for t in block["paragraph"]["rich_text"])
        for block in create.body["children"]
    ]
    assert paragraphs == ["Yes, twice a year.", "", "Orders close in March."]
    faq.refresh_from_db()
    (page_id,) = fake_notion.pages
    assert (faq.external_source, faq.external_id) == ("notion", page_id)
    # The import that follows finds the page in step: no second article, no new version.
    assert (notion.created, notion.updated, notion.unchanged) == (0, 0, 1)
    assert Article.objects.count() == 3
    assert faq.versions.count() == 1


def test_a_second_export_and_import_do_not_duplicate(fake_notion, agent):
    faq = _approved_faq(agent)
    _notion(export_notion=True)

    export, notion = _notion(export_notion=True)
    (plain_import,) = _notion()

    assert (export.created, export.updated, export.unchanged) == (0, 0, 1)
    assert len(fake_notion.calls("POST", "/v1/pages")) == 1
    assert len(fake_notion.pages) == 1
    assert (notion.created, notion.unchanged) == (0, 1)
    assert (plain_import.created, plain_import.unchanged) == (0, 1)
    assert Article.objects.get().pk == faq.pk


def test_export_writes_an_edit_made_here_over_the_older_page(fake_notion, agent):
    faq = _approved_faq(agent)
    _notion(export_notion=True)
    (page_id,) = fake_notion.pages
    article_update(article_id=faq.pk, author=agent, body="Yes, three times a year.")

    export, notion = _notion(export_notion=True)

    assert (export.updated, export.errors) == (1, [])
    assert fake_notion.text(page_id) == ["Yes, three times a year."]
    assert fake_notion.calls("PATCH", f"/v1/pages/{page_id}")
    assert (notion.updated, notion.unchanged) == (0, 1)
    faq.refresh_from_db()
    assert (faq.body, faq.version) == ("Yes, three times a year.", 2)


def test_an_import_keeps_an_edit_made_here_until_it_is_exported(fake_notion, agent):
    faq = _approved_faq(agent)
    _notion(export_notion=True)
    article_update(article_id=faq.pk, author=agent, body="Yes, three times a year.")

    (report,) = _notion()

    faq.refresh_from_db()
    assert report.unchanged == 1
    assert faq.body == "Yes, three times a year."


def test_an_edit_in_notion_after_the_export_comes_back_as_a_synced_version(fake_notion, agent):
    faq = _approved_faq(agent)
    _notion(export_notion=True)
    (page_id,) = fake_notion.pages
    fake_notion.edit(page_id, lines=[("paragraph", "Yes, every month.")])

    export, notion = _notion(export_notion=True)

    assert (export.updated, export.unchanged) == (0, 1)  # Notion's text is the newer one
    assert notion.updated == 1
    faq.refresh_from_db()
    assert faq.body == "Yes, every month."
    assert faq.versions.first().change == ArticleVersion.Change.SYNCED


@pytest.mark.parametrize("trash_fails", [False, True])
def test_a_page_whose_link_cannot_be_saved_never_comes_back_as_a_second_article(
    fake_notion, agent, monkeypatch, trash_fails
):
    faq = _approved_faq(agent)

    def lost(**kwargs):
        raise DatabaseError("connection lost")

    monkeypatch.setattr("knowledge.sync.services.article_link_external", lost)
    if trash_fails:
        fake_notion.faults.extend(Fault(path="/v1/pages/", status=503) for _ in range(5))
    export, notion = _notion(export_notion=True)
    (page_id,) = fake_notion.pages
    assert export.created == 0
    assert "connection lost" in export.errors[0]
    if trash_fails:
        # Nothing could undo it: the admin is told exactly which page to delete.
        assert fake_notion.pages[page_id]["url"] in export.errors[0]
        assert not fake_notion.pages[page_id]["in_trash"]
        return
    assert fake_notion.pages[page_id]["in_trash"]
    assert "trash" in export.errors[0]

    monkeypatch.undo()
    export, notion = _notion(export_notion=True)
    assert (export.created, export.errors) == (1, [])
    live = [p for p in fake_notion.pages.values() if not p["in_trash"]]
    assert len(live) == 1
    assert list(Article.objects.values_list("pk", flat=True)) == [faq.pk]
    faq.refresh_from_db()
    assert faq.external_id == live[0]["id"]


def test_export_dry_run_creates_no_page(fake_notion, agent):
    faq = _approved_faq(agent)

    export, notion = _notion(export_notion=True, dry_run=True)

    assert export.created == 1
    assert not fake_notion.calls("POST", "/v1/pages")
    faq.refresh_from_db()
    assert faq.external_source == ""


def test_a_failed_page_creation_is_reported_and_the_article_stays_unlinked(fake_notion, agent):
    faq = _approved_faq(agent)
    fake_notion.faults.append(
        Fault(
            path="/v1/pages",
            status=400,
            raw=json.dumps(
                {
                    "object": "error",
                    "status": 400,
                    "code": "validation_error",
                    "message": "Language is not a property",
                }
            ).encode(),
        )
    )

    export, notion = _notion(export_notion=True)

    (error,) = export.errors
    assert "notion: HTTP 400" in error and "Language is not a property" in error
    faq.refresh_from_db()
    assert faq.external_source == ""
    assert notion.errors == []
