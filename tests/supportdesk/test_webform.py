"""The public web form: per-address rate limit (behind proxies too), honeypot, accessible
errors, and the acknowledgement page and e-mail with the ticket reference."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
from email import message_from_bytes

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.test import RequestFactory
from django.urls import reverse

from supportdesk.intake.webform import client_address, web_form_rate_limit_hit
from supportdesk.models import AutomaticMail, Customer, Ticket

pytestmark = pytest.mark.django_db

CONTACT = {
    "name": "Maria Lopez",
    "email": "maria@example.com",
    "subject": "Where is my parcel?",
    "body": "The tracking still says dispatched.",
    "locale": "en-GB",
    "website": "",
}


@pytest.fixture
def run_tasks(monkeypatch) -> list[tuple[str, tuple]]:
    """Run automatic-mail tasks when their transaction commits; only record the AI pipeline."""
    from supportdesk import queue, tasks

    enqueued: list[tuple[str, tuple]] = []

    def enqueue(task: str, *args: object) -> None:
        enqueued.append((task, args))
        if task == "supportdesk.tasks.send_automatic_mail":
            tasks.send_automatic_mail(*args)

    monkeypatch.setattr(queue, "enqueue", enqueue)
    return enqueued


def post(client, data=CONTACT, *, ip="203.0.113.7", **extra):
    return client.post(reverse("contact"), data, REMOTE_ADDR=ip, **extra)


# -- acknowledgement --------------------------------------------------------------------------


def test_submission_shows_the_reference_and_mails_it_after_commit(
    client, run_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, follow=True)

    ticket = Ticket.objects.get()
    assert f"Your ticket reference is <strong>#{ticket.pk}</strong>" in response.content.decode()
    (ack,) = mail.outbox
    assert ack.to == ["maria@example.com"]
    assert ack.subject == f"Re: Where is my parcel? [#{ticket.pk}]"
    assert f"opened ticket #{ticket.pk}" in ack.body
    parsed = message_from_bytes(ack.message().as_bytes())
    assert parsed["Auto-Submitted"] == "auto-replied"
    assert parsed["X-Auto-Response-Suppress"] == "All"
    sent = AutomaticMail.objects.get()
    assert (sent.status, sent.kind) == (
        AutomaticMail.Status.SENT,
        AutomaticMail.Kind.ACKNOWLEDGEMENT,
    )
    assert sent.message_id == parsed["Message-ID"]
    assert ("supportdesk.tasks.process_message", (ticket.messages.get().pk,)) in run_tasks


def test_no_acknowledgement_leaves_before_the_ticket_is_committed(
    client, run_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        post(client)

    assert mail.outbox == []
    assert AutomaticMail.objects.get().status == AutomaticMail.Status.QUEUED
    for callback in callbacks:
        callback()
    assert len(mail.outbox) == 1


def test_subject_with_line_breaks_cannot_add_recipients_to_the_acknowledgement(
    client, run_tasks, django_capture_on_commit_callbacks
):
    # The form collapses whitespace; the mail builder collapses it again.
    data = {**CONTACT, "subject": "Help\r\nBcc: victim@example.org"}
    with django_capture_on_commit_callbacks(execute=True):
        post(client, data)

    (ack,) = mail.outbox
    parsed = message_from_bytes(ack.message().as_bytes())
    assert parsed.get_all("Bcc") is None
    assert ack.recipients() == ["maria@example.com"]
    assert "\n" not in parsed["Subject"]


# -- honeypot ---------------------------------------------------------------------------------


def test_honeypot_pretends_success_stores_and_mails_nothing_and_logs(
    client, run_tasks, caplog, django_capture_on_commit_callbacks
):
    with caplog.at_level(logging.INFO), django_capture_on_commit_callbacks(execute=True):
        response = post(client, {**CONTACT, "website": "http://spam.example"}, follow=True)

    assert response.status_code == 200
    assert "Thank you" in response.content.decode()
    assert not Ticket.objects.exists() and not Customer.objects.exists()
    assert mail.outbox == []
    assert "honeypot filled by 203.0.113.7" in caplog.text


# -- accessible errors ------------------------------------------------------------------------


def test_errors_are_announced_and_tied_to_their_fields(client):
    response = post(client, {**CONTACT, "email": "maria", "body": ""})

    page = response.content.decode()
    assert response.status_code == 400
    assert 'role="alert"' in page and "Please correct the 2 fields below." in page
    assert '<a href="#id_email">Your e-mail address: Enter a valid email address.</a>' in page
    assert 'aria-invalid="true"' in page
    assert 'aria-describedby="id_email-error"' in page
    assert 'id="id_email-error"' in page
    assert 'aria-describedby="id_subject-error"' not in page  # a valid field stays quiet


# -- rate limit -------------------------------------------------------------------------------


def test_the_sixth_submission_in_ten_minutes_gets_429_with_retry_after(client, settings):
    settings.WEB_FORM_RATE_LIMIT = 5
    settings.WEB_FORM_RATE_WINDOW = 600

    for _ in range(5):
        assert post(client).status_code == 302
    response = post(client)

    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 600
    assert "Please wait a moment" in response.content.decode()
    assert Ticket.objects.count() == 5
    assert post(client, ip="198.51.100.20").status_code == 302  # another address is not limited


def test_invalid_and_honeypot_posts_count_too(client, settings):
    settings.WEB_FORM_RATE_LIMIT = 2
    post(client, {**CONTACT, "email": "nope"})
    post(client, {**CONTACT, "website": "x"})

    assert post(client).status_code == 429
    assert not Ticket.objects.exists()


def test_retry_after_is_the_rest_of_the_window(settings):
    settings.WEB_FORM_RATE_LIMIT = 1
    settings.WEB_FORM_RATE_WINDOW = 600
    start = 1_800_000_000  # a window boundary (divisible by 600)

    assert web_form_rate_limit_hit(client="192.0.2.1", now=start + 100) == 0
    assert web_form_rate_limit_hit(client="192.0.2.1", now=start + 160) == 440
    assert web_form_rate_limit_hit(client="192.0.2.1", now=start + 600) == 0  # next window


def test_forged_forwarded_for_does_not_escape_the_limit_without_trusted_proxies(client, settings):
    settings.WEB_FORM_RATE_LIMIT = 1
    settings.TRUSTED_PROXY_COUNT = 0

    assert post(client, HTTP_X_FORWARDED_FOR="10.0.0.1").status_code == 302
    assert post(client, HTTP_X_FORWARDED_FOR="10.0.0.2").status_code == 429


def test_behind_one_proxy_each_client_is_counted_by_the_address_the_proxy_saw(client, settings):
    settings.WEB_FORM_RATE_LIMIT = 1
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = "10.0.0.5"

    assert post(client, ip=proxy, HTTP_X_FORWARDED_FOR="203.0.113.50").status_code == 302
    # The same client forging an extra entry is still 203.0.113.50 to us.
    forged = "1.2.3.4, 203.0.113.50"
    assert post(client, ip=proxy, HTTP_X_FORWARDED_FOR=forged).status_code == 429
    assert post(client, ip=proxy, HTTP_X_FORWARDED_FOR="203.0.113.51").status_code == 302


@pytest.mark.parametrize(
    ("hops", "remote", "forwarded", "expected"),
    [
        (0, "203.0.113.9", "1.1.1.1", "203.0.113.9"),
        (1, "10.0.0.1", "1.1.1.1, 203.0.113.9", "203.0.113.9"),
        (2, "10.0.0.2", "1.1.1.1, 203.0.113.9, 10.0.0.1", "203.0.113.9"),
        (2, "10.0.0.2", "203.0.113.9", "203.0.113.9"),  # fewer hops than configured
        (1, "10.0.0.1", "not-an-address", "10.0.0.1"),
        (1, "10.0.0.1", "", "10.0.0.1"),
        (0, "2001:db8:1:2:3:4:5:6", "", "2001:db8:1:2::/64"),
        (0, "::ffff:203.0.113.9", "", "203.0.113.9"),
    ],
)
def test_client_address(settings, hops, remote, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = hops
    request = RequestFactory().post("/contact/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)

    assert client_address(request) == expected


def test_the_count_is_shared_with_other_processes(client, settings):
    """Web processes behind one address share the counter (not per-process memory)."""
    settings.WEB_FORM_RATE_LIMIT = 3
    config = django_settings.CACHES["default"]
    script = textwrap.dedent(
        f"""
        import django
        django.setup()
        from django.test import override_settings
        with override_settings(CACHES={{"default": {config!r}}}, WEB_FORM_RATE_LIMIT=3):
            from supportdesk.intake.webform import web_form_rate_limit_hit
            for _ in range(3):
                assert web_form_rate_limit_hit(client="203.0.113.7") == 0
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)

    assert post(client).status_code == 429


def test_web_form_ticket_is_triaged_and_acknowledged(
    client, settings, categories, stub_triage, django_capture_on_commit_callbacks
):
    settings.TASK_BACKEND = "sync"
    stub_triage(category="delivery", urgency="medium")

    with django_capture_on_commit_callbacks(execute=True):
        post(client)

    ticket = Ticket.objects.get()
    assert ticket.category.slug == "delivery"
    assert ticket.urgency_label == "medium"
    assert ticket.channel == Ticket.Channel.WEB
    (ack,) = mail.outbox
    assert f"[#{ticket.pk}]" in ack.subject
