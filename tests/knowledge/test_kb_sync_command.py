"""`manage.py kb_sync`: what it prints per source, its exit status, and the periodic task."""

from __future__ import annotations

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from knowledge.models import Article
from supportdesk.queue import enqueue
from supportdesk.task_table import periodic_tasks
from tests.knowledge.kb_servers import Fault

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("kb_sync", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_command_prints_the_counts_of_each_source(fake_zendesk, fake_confluence):
    fake_zendesk.article(1, "en-us", "Reset", "<p>Open Settings.</p>")
    fake_zendesk.article(2, "ja", "リセット", "<p>設定を開きます。</p>")
    fake_confluence.page("9001", "VPN setup", "<p>Install the client.</p>")

    first, _ = _run()
    fake_zendesk.articles[0]["draft"] = True
    second, _ = _run("--source", "zendesk")

    assert first.splitlines() == [
        "zendesk: 2 created, 0 updated, 0 unchanged, 0 unpublished, 0 errors",
        "confluence: 1 created, 0 updated, 0 unchanged, 0 unpublished, 0 errors",
    ]
    assert second.splitlines() == [
        "zendesk: 0 created, 0 updated, 1 unchanged, 1 unpublished, 0 errors",
    ]


def test_dry_run_says_so_and_writes_nothing(fake_notion):
    fake_notion.add_page("Passwords", [("paragraph", "Use a long one.")])

    out, _ = _run("--source", "notion", "--dry-run")

    assert out.splitlines() == [
        "Dry run: nothing was written.",
        "notion: 1 created, 0 updated, 0 unchanged, 0 unpublished, 0 errors",
    ]
    assert not Article.objects.exists()


def test_export_is_reported_before_the_import(fake_notion, agent):
    from knowledge.services import faq_suggestion_approve
    from tests.factories import FAQSuggestionFactory

    suggestion = FAQSuggestionFactory(proposed_answer="Yes, twice a year.")
    faq_suggestion_approve(suggestion_id=suggestion.pk, actor=agent)

    out, _ = _run("--export-notion")

    assert out.splitlines() == [
        "notion export: 1 created, 0 updated, 0 unchanged, 0 unpublished, 0 errors",
        "notion: 0 created, 0 updated, 1 unchanged, 0 unpublished, 0 errors",
    ]


def test_a_failing_source_is_printed_and_the_command_fails(fake_zendesk, fake_confluence):
    fake_confluence.page("9001", "VPN setup", "<p>Install the client.</p>")
    fake_zendesk.faults.append(Fault(path="/locales.json", status=500))
    out, err = StringIO(), StringIO()

    with pytest.raises(CommandError, match="Finished with errors in: zendesk"):
        call_command("kb_sync", stdout=out, stderr=err)

    assert out.getvalue().splitlines() == [
        "zendesk: 0 created, 0 updated, 0 unchanged, 0 unpublished, 1 errors",
        "confluence: 1 created, 0 updated, 0 unchanged, 0 unpublished, 0 errors",
    ]
    assert "HTTP 500 from" in err.getvalue() and "locales.json" in err.getvalue()


def test_an_unconfigured_source_is_refused_by_name(fake_zendesk):
    with pytest.raises(CommandError, match="notion is not configured: set NOTION_TOKEN"):
        _run("--source", "notion")
    with pytest.raises(CommandError, match="notion is not configured"):
        _run("--source", "zendesk", "--export-notion")
    assert not fake_zendesk.requests


def test_unconfigured_source_exits_non_zero_from_the_shell():
    env = {
        **os.environ,
        "NOTION_TOKEN": "",
        "NOTION_DATABASE_ID": "",
        "CONFLUENCE_URL": "",
        "ZENDESK_URL": "",
        "ZENDESK_SUBDOMAIN": "",
    }

    def kb_sync(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", "kb_sync", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    done = kb_sync("--source", "confluence")

    assert done.returncode == 1
    assert "confluence is not configured: set CONFLUENCE_URL" in done.stderr


def test_with_no_source_configured_the_command_names_the_settings(no_kb_sources):
    with pytest.raises(CommandError) as refused:
        _run()

    assert "No knowledge-base source is configured" in str(refused.value)
    assert "notion: NOTION_TOKEN, NOTION_DATABASE_ID" in str(refused.value)


# -- on a clock --------------------------------------------------------------------------------


def _kb_periodic():
    return next(p for p in periodic_tasks() if p.name == "kb_sync")


def test_periodic_sync_runs_only_when_a_source_is_configured(settings, no_kb_sources):
    settings.KB_SYNC_MINUTES = 60
    assert not _kb_periodic().enabled

    settings.NOTION_TOKEN, settings.NOTION_DATABASE_ID = "secret", "db"
    assert _kb_periodic().enabled
    assert _kb_periodic().minutes == 60

    settings.KB_SYNC_MINUTES = 0
    assert not _kb_periodic().enabled


def test_the_periodic_task_imports_from_every_configured_source(fake_zendesk, fake_notion):
    fake_zendesk.article(1, "en-us", "Reset", "<p>Open Settings.</p>")
    fake_notion.add_page("Passwords", [("paragraph", "Use a long one.")])

    enqueue("knowledge.tasks.kb_sync")

    assert set(Article.objects.values_list("external_source", "title")) == {
        ("zendesk", "Reset"),
        ("notion", "Passwords"),
    }
