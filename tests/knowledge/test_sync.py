"""Knowledge-base import from Zendesk Help Center and Confluence, through loopback servers
that speak their REST APIs: idempotent imports, one version a change, unpublishing, dry runs,
and failures that leave the articles as they were."""

from __future__ import annotations

import pytest
from django.urls import reverse

from knowledge.models import Article, ArticleVersion
from knowledge.selectors import kb_index
from knowledge.services import article_update
from knowledge.sync import article_html_to_text, desk_language
from knowledge.sync.services import kb_sync_run
from tests.factories import ArticleFactory
from tests.knowledge.kb_servers import Fault

pytestmark = pytest.mark.django_db

SUPPORTED = ["en", "zh-Hant", "zh-Hans", "ja", "es", "de", "fr", "pt"]


def _help_center(fake_zendesk) -> None:
    zd = fake_zendesk
    reset = "<p>Open <b>Settings</b>.</p><ul><li>Tap Reset</li><li>Check your mail</li></ul>"
    zd.article(101, "en-us", "Reset your password", reset)
    zd.article(102, "en-us", "Shipping times", "<h2>Europe</h2><p>3 to 5 days.</p>")
    zd.article(103, "en-us", "Refunds", "<p>Within 30 days.</p><script>alert(1)</script>")
    zd.article(104, "en-us", "Unfinished", "<p>Not yet.</p>", draft=True)
    zd.article(101, "ja", "パスワードの再設定", "<p>設定を開きます。</p>")
    zd.article(101, "zh-tw", "重設密碼", "<p>打開設定。</p>")
    zd.article(101, "ko", "비밀번호 재설정", "<p>설정을 엽니다.</p>")  # not a desk language


def _zendesk() -> object:
    (report,) = kb_sync_run(sources=["zendesk"])
    return report


def test_first_zendesk_import_creates_articles_with_a_synced_first_version(fake_zendesk):
    _help_center(fake_zendesk)

    report = _zendesk()

    assert (report.created, report.updated, report.unchanged, report.errors) == (5, 0, 0, [])
    reset = Article.objects.get(external_source="zendesk", external_id="101:en-us")
    assert reset.title == "Reset your password"
    assert reset.body == "Open Settings.\nTap Reset\nCheck your mail"
    assert reset.language == "en" and reset.published
    assert reset.external_url == "https://acme.zendesk.com/hc/en-us/articles/101"
    assert reset.external_updated_at.isoformat() == "2026-12-01T10:00:00+00:00"
    (version,) = reset.versions.all()
    assert (version.number, version.change) == (1, ArticleVersion.Change.SYNCED)
    assert "Zendesk" in version.note
    assert Article.objects.get(external_id="102:en-us").body == "Europe\n3 to 5 days."
    assert Article.objects.get(external_id="103:en-us").body == "Within 30 days."
    by_language = dict(
        Article.objects.filter(external_id__startswith="101:").values_list("language", "title")
    )
    assert by_language == {
        "en": "Reset your password",
        "ja": "パスワードの再設定",
        "zh-Hant": "重設密碼",
    }
    assert not Article.objects.filter(external_id="104:en-us").exists()  # a draft
    # The Japanese and Chinese pages are the English article's translations here too.
    assert set(reset.translations.values_list("language", flat=True)) == {"ja", "zh-Hant"}
    assert not Article.objects.get(external_id="102:en-us").translations.exists()
    # Three English articles are two pages: the reader followed next_page.
    english_pages = fake_zendesk.calls("GET", "/en-us/articles.json")
    assert len(english_pages) == 2 and english_pages[1].query["page"] == ["2"]
    assert not fake_zendesk.calls("GET", "/ko/articles.json")


def test_wrong_zendesk_credentials_are_reported_and_nothing_is_imported(fake_zendesk, settings):
    _help_center(fake_zendesk)
    settings.ZENDESK_API_TOKEN = "wrong"

    report = _zendesk()

    assert report.created == 0
    assert report.errors == [
        f"zendesk: {fake_zendesk.url}/api/v2/help_center/locales.json refused the credentials"
        " (HTTP 401)"
    ]
    assert not Article.objects.exists()


def test_second_import_changes_nothing(fake_zendesk):
    _help_center(fake_zendesk)
    _zendesk()

    report = _zendesk()

    assert (report.created, report.updated, report.unchanged, report.unpublished) == (0, 0, 5, 0)
    assert ArticleVersion.objects.count() == 5


def test_a_changed_article_gets_exactly_one_new_version(fake_zendesk):
    _help_center(fake_zendesk)
    _zendesk()
    changed = fake_zendesk.articles[1]
    changed.update(body="<h2>Europe</h2><p>2 to 4 days.</p>", updated_at="2026-12-03T08:00:00Z")

    report = _zendesk()
    again = _zendesk()

    assert (report.updated, report.unchanged) == (1, 4)
    assert (again.updated, again.unchanged) == (0, 5)
    article = Article.objects.get(external_id="102:en-us")
    assert article.body == "Europe\n2 to 4 days."
    assert article.version == 2
    assert article.external_updated_at.isoformat() == "2026-12-03T08:00:00+00:00"
    latest = article.versions.first()
    assert (latest.number, latest.change) == (2, ArticleVersion.Change.SYNCED)
    assert latest.body == "Europe\n2 to 4 days."


def test_a_draft_in_the_source_is_unpublished_and_published_again(fake_zendesk):
    _help_center(fake_zendesk)
    _zendesk()
    fake_zendesk.articles[2]["draft"] = True

    hidden = _zendesk()
    refunds = Article.objects.get(external_id="103:en-us")
    assert (hidden.unpublished, hidden.unchanged) == (1, 4)
    assert not refunds.published
    hits = kb_index().search("refund within 30 days", language="en")
    assert refunds.pk not in [hit.article_id for hit in hits]

    fake_zendesk.articles[2]["draft"] = False
    shown = _zendesk()

    refunds.refresh_from_db()
    assert (shown.updated, shown.unpublished) == (1, 0)
    hits = kb_index().search("refund within 30 days", language="en")
    assert [hit.article_id for hit in hits][:1] == [refunds.pk]
    assert refunds.published
    assert refunds.version == 1  # publishing is not a new version of the text


def test_an_article_deleted_in_the_source_is_unpublished(fake_zendesk):
    _help_center(fake_zendesk)
    _zendesk()
    del fake_zendesk.articles[0]

    report = _zendesk()
    again = _zendesk()

    assert report.unpublished == 1
    assert again.unpublished == 0
    assert not Article.objects.get(external_id="101:en-us").published
    assert Article.objects.filter(published=True).count() == 4


def test_dry_run_reports_the_same_counts_and_writes_nothing(fake_zendesk):
    _help_center(fake_zendesk)

    (dry,) = kb_sync_run(sources=["zendesk"], dry_run=True)
    assert not Article.objects.exists()
    real = _zendesk()
    assert (dry.created, dry.updated, dry.unchanged, dry.unpublished) == (5, 0, 0, 0)
    assert vars(dry) == vars(real)

    fake_zendesk.articles[1]["title"] = "Delivery times"
    fake_zendesk.articles[2]["draft"] = True
    (dry,) = kb_sync_run(sources=["zendesk"], dry_run=True)

    assert (dry.created, dry.updated, dry.unchanged, dry.unpublished) == (0, 1, 3, 1)
    assert Article.objects.get(external_id="102:en-us").title == "Shipping times"
    assert Article.objects.get(external_id="103:en-us").published
    assert ArticleVersion.objects.count() == 5
    assert vars(_zendesk()) == vars(dry)


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        (Fault(path="/en-us/articles.json", status=500), "HTTP 500 from"),
        (
            Fault(path="/en-us/articles.json", status=200, raw=b"<html>busy</html>"),
            "not answer with JSON",
        ),  # fmt: skip
        (
            Fault(path="/en-us/articles.json", status=200, raw=b'{"articles": 3}'),
            "not as expected",
        ),  # fmt: skip
        (Fault(path="/en-us/articles.json", hang=1.5), "no answer from"),
    ],
    ids=["http-500", "not-json", "wrong-shape", "timeout"],
)
def test_a_failing_source_leaves_existing_articles_as_they_were(
    fake_zendesk, settings, fault, message
):
    _help_center(fake_zendesk)
    _zendesk()
    fake_zendesk.articles[0]["title"] = "Changed there"
    del fake_zendesk.articles[1]
    settings.ZENDESK_TIMEOUT = 0.5
    fake_zendesk.faults.append(fault)

    report = _zendesk()

    (error,) = report.errors
    assert error.startswith("zendesk: ") and message in error
    assert (report.created, report.updated, report.unpublished) == (0, 0, 0)
    assert Article.objects.get(external_id="101:en-us").title == "Reset your password"
    assert Article.objects.filter(published=True).count() == 5
    assert ArticleVersion.objects.count() == 5


def test_one_bad_article_is_reported_and_the_others_are_imported(fake_zendesk):
    _help_center(fake_zendesk)
    fake_zendesk.article(105, "en-us", "Empty", "<p> </p>")

    report = _zendesk()

    assert report.created == 5
    (error,) = report.errors
    assert "105:en-us" in error and "“Empty” has no title or no text" in error


def test_an_imported_article_edited_here_takes_the_source_text_with_a_note(fake_zendesk):
    _help_center(fake_zendesk)
    _zendesk()
    article = Article.objects.get(external_id="103:en-us")
    article_update(article_id=article.pk, author=None, body="Within 14 days.")
    fake_zendesk.articles[2]["body"] = "<p>Within 60 days.</p>"

    report = _zendesk()

    article.refresh_from_db()
    assert report.updated == 1
    assert article.body == "Within 60 days."
    edited, synced = article.versions.get(number=2), article.versions.get(number=3)
    assert edited.body == "Within 14 days."  # kept in the history, can be reverted to
    assert synced.change == ArticleVersion.Change.SYNCED
    assert "replacing the edit made here in version 2" in synced.note


def test_one_source_failing_does_not_stop_the_next(fake_zendesk, fake_confluence):
    _help_center(fake_zendesk)
    fake_confluence.page("9001", "VPN setup", "<p>Install the client.</p>")
    fake_zendesk.faults.append(Fault(path="/locales.json", status=503))

    zendesk, confluence = kb_sync_run(sources=["zendesk", "confluence"])

    assert zendesk.errors and zendesk.created == 0
    assert (confluence.created, confluence.errors) == (1, [])
    assert Article.objects.get().title == "VPN setup"


# -- Confluence --------------------------------------------------------------------------------

STORAGE = """<h1>Connect to the VPN</h1><p>Install the <strong>client</strong> first.</p>
<ol><li>Open it</li><li>Sign in</li></ol>
<ac:structured-macro ac:name="code"><ac:parameter ac:name="language">bash</ac:parameter>
<ac:plain-text-body><![CDATA[vpn connect --profile office
vpn status]]></ac:plain-text-body></ac:structured-macro>
<ac:structured-macro ac:name="info"><ac:rich-text-body><p>Ask IT when stuck.</p>
</ac:rich-text-body></ac:structured-macro>"""


def _space(fake_confluence) -> None:
    fake_confluence.page("9001", "VPN setup", STORAGE)
    fake_confluence.page("9002", "Printers", "<p>Use the second floor printer.</p>")
    fake_confluence.page("9003", "Laptops", "<p>Lock your screen.</p>")


def _confluence() -> object:
    (report,) = kb_sync_run(sources=["confluence"])
    return report


def test_confluence_import_reads_every_page_of_the_space(fake_confluence, settings):
    _space(fake_confluence)

    report = _confluence()

    assert (report.created, report.errors) == (3, [])
    vpn = Article.objects.get(external_source="confluence", external_id="9001")
    assert vpn.body == (
        "Connect to the VPN\nInstall the client first.\nOpen it\nSign in\n"
        "vpn connect --profile office\nvpn status\nAsk IT when stuck."
    )
    assert vpn.language == "en"
    assert vpn.external_url == f"{fake_confluence.url}/spaces/KB/pages/9001"
    assert vpn.versions.get().change == ArticleVersion.Change.SYNCED
    first, second = fake_confluence.calls("GET", "/rest/api/content")
    assert first.query["expand"] == ["body.storage,version,history.lastUpdated"]
    assert second.query["start"] == ["2"]  # followed _links.next


def test_confluence_reimport_is_idempotent_and_takes_changes(fake_confluence):
    _space(fake_confluence)
    _confluence()
    again = _confluence()
    fake_confluence.pages[1]["body"]["storage"]["value"] = "<p>Use the third floor printer.</p>"
    fake_confluence.pages[2]["status"] = "archived"

    changed = _confluence()

    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert (changed.updated, changed.unpublished, changed.unchanged) == (1, 1, 1)
    printers = Article.objects.get(external_id="9002")
    assert (printers.body, printers.version) == ("Use the third floor printer.", 2)
    assert not Article.objects.get(external_id="9003").published


def test_confluence_errors_name_the_source(fake_confluence, settings):
    _space(fake_confluence)
    fake_confluence.faults.append(Fault(path="/rest/api/content", status=502, raw=b"Bad gateway"))

    report = _confluence()

    (error,) = report.errors
    assert error == f"confluence: HTTP 502 from {fake_confluence.url}/rest/api/content"
    assert not Article.objects.exists()


# -- the plain helpers -------------------------------------------------------------------------


def test_source_locales_map_to_desk_languages():
    def language(code: str) -> str:
        return desk_language(code, supported=SUPPORTED, default="en")

    assert language("zh-tw") == language("zh-hk") == language("zh-Hant") == "zh-Hant"
    assert language("zh-cn") == language("zh") == "zh-Hans"
    assert (language("en-us"), language("en-gb"), language("ja"), language("es-419")) == (
        "en",
        "en",
        "ja",
        "es",
    )
    assert (language("pt-BR"), language("pt_BR")) == ("pt", "pt")
    assert desk_language("ko", supported=SUPPORTED, default="") == ""


def test_article_html_keeps_paragraphs_and_list_items_as_lines_and_drops_scripts():
    text = article_html_to_text(
        "<p>First <em>line</em></p><ul><li>one</li><li>two</li></ul>"
        "<style>p{}</style><script>steal()</script><p>Last &amp; final</p>"
    )

    assert text == "First line\none\ntwo\nLast & final"


# -- the admin ---------------------------------------------------------------------------------


def test_admin_shows_where_a_synced_article_comes_from_and_filters_by_source(
    fake_zendesk, desk_admin_client
):
    _help_center(fake_zendesk)
    _zendesk()
    local = ArticleFactory(title="Gift cards")
    synced = Article.objects.get(external_id="101:en-us")

    page = desk_admin_client.get(reverse("admin:knowledge_article_change", args=[synced.pk]))
    posted = desk_admin_client.post(
        reverse("admin:knowledge_article_change", args=[synced.pk]),
        {
            "title": synced.title,
            "body": synced.body,
            "language": "en",
            "published": "on",
            "version": synced.version,
            "created_at_0": "2026-12-01",
            "created_at_1": "10:00:00",
            "external_id": "tampered",
        },
    )
    listed = desk_admin_client.get(
        reverse("admin:knowledge_article_changelist"), {"external_source__exact": "zendesk"}
    )

    text = page.content.decode()
    assert (
        "Zendesk Help Center" in text and "https://acme.zendesk.com/hc/en-us/articles/101" in text
    )
    assert 'name="external_id"' not in text  # read-only
    assert posted.status_code == 302
    synced.refresh_from_db()
    assert synced.external_id == "101:en-us"
    assert "Reset your password" in listed.content.decode()
    assert local.title not in listed.content.decode()
