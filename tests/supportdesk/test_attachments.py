"""Attachments of inbound mail: kept within limits, listed when not, downloaded only by staff as
opaque bytes; over-long message text stored cut and flagged, never lost."""

from __future__ import annotations

import hashlib
from email import message_from_bytes
from email.message import EmailMessage
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from supportdesk.intake.attachments import FILENAME_MAX, filename_sanitise
from supportdesk.intake.email_in import parse_email
from supportdesk.intake.ingest import FULL_TEXT_NAME, email_ingest
from supportdesk.models import Message, MessageAttachment
from tests.factories import MessageFactory, TicketFactory

pytestmark = pytest.mark.django_db

MAIL = Path(__file__).parent / "mail"
PDF = b"%PDF-1.4\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + hashlib.sha256(b"pixels").digest() * 30


def mail_with(
    files: list[tuple[str, str, bytes]],
    *,
    body: str = "Files attached.",
    message_id: str = "<files@example.com>",
    subject: str = "Files",
) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Maria Lopez <maria@example.com>"
    msg["To"] = "support@example.com"
    msg["Subject"] = subject
    msg["Message-ID"] = message_id
    msg.set_content(body)
    for name, ctype, data in files:
        maintype, subtype = ctype.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return msg.as_bytes()


def stored_files() -> set[Path]:
    root = Path(settings.ATTACHMENTS_DIR)
    return {path for path in root.rglob("*") if path.is_file()} if root.exists() else set()


def read(row: MessageAttachment) -> bytes:
    with row.file.open("rb") as handle:
        return handle.read()


# -- storing ---------------------------------------------------------------------------------


def test_parser_keeps_the_decoded_bytes_of_each_attachment() -> None:
    raw = mail_with([("invoice.pdf", "application/pdf", PDF), ("shot.png", "image/png", PNG)])

    parsed = parse_email(raw)

    assert [(a.filename, a.size, a.data) for a in parsed.attachments] == [
        ("invoice.pdf", len(PDF), PDF),
        ("shot.png", len(PNG), PNG),
    ]


def test_a_real_mail_with_a_pdf_and_an_image_stores_both_files_with_their_bytes() -> None:
    raw = (MAIL / "attachment.eml").read_bytes()
    expected = [
        part.get_payload(decode=True)
        for part in message_from_bytes(raw).walk()
        if part.get_content_type() in ("application/pdf", "image/png")
    ]

    result = email_ingest(raw=raw)

    rows = list(result.message.attachments.order_by("pk"))
    assert [(r.filename, r.content_type) for r in rows] == [
        ("Rechnung März.pdf", "application/pdf"),
        ("截圖.png", "image/png"),
        ("rfc822.eml", "message/rfc822"),
    ]
    for row, data in zip(rows[:2], expected, strict=True):
        assert read(row) == data
        assert row.size == len(data)
        assert row.sha256 == hashlib.sha256(data).hexdigest()
        assert row.not_kept_reason == ""
        # Stored under the attachments directory, never under the sender's name.
        assert Path(row.file.path).is_relative_to(Path(settings.ATTACHMENTS_DIR).resolve())
        assert row.filename not in row.file.name
    # The forwarded mail is kept as the message itself, openable as .eml.
    assert read(rows[2]) == b"From: old@example.com\nSubject: earlier mail\n\nold body"


def test_hostile_file_names_are_sanitised() -> None:
    raw = mail_with(
        [
            ("../../etc/passwd", "text/plain", b"root:x:0:0"),
            ("<script>.html", "text/html", b"<script>alert(1)</script>"),
            ("Überweisung 請求書.pdf", "application/pdf", PDF),  # RFC 2231 encoded by the client
            ("bad\x07name\x1b\u202e.txt", "text/plain", b"x"),  # bell, escape, RTL override
            ("", "image/png", PNG),
        ]
    )
    assert b"filename*=utf-8''%C3%9Cberweisung" in raw  # really sent RFC 2231 encoded

    result = email_ingest(raw=raw)

    assert [row.filename for row in result.message.attachments.order_by("pk")] == [
        "etc_passwd",
        "_script_.html",
        "Überweisung 請求書.pdf",
        "bad name .txt",  # no control or direction characters left
        "attachment.png",
    ]


def test_long_file_names_are_cut_keeping_the_extension() -> None:
    name = filename_sanitise("a" * 400 + ".pdf")

    assert len(name) == FILENAME_MAX
    assert name.endswith("a.pdf")
    assert filename_sanitise("bad\x00name\r\n\u202e.txt") == "badname.txt"
    assert filename_sanitise("...") == "attachment"
    assert filename_sanitise(".htaccess") == "htaccess"
    assert filename_sanitise("C:\\Users\\x\\report.docx") == "C__Users_x_report.docx"


def test_a_file_over_the_size_limit_is_listed_as_not_kept(settings) -> None:
    settings.ATTACHMENT_MAX_BYTES = 3 * 1024 * 1024
    big = b"\x00" * (4 * 1024 * 1024)
    before = stored_files()

    result = email_ingest(
        raw=mail_with([("video.mp4", "video/mp4", big), ("shot.png", "image/png", PNG)])
    )

    video, shot = result.message.attachments.order_by("pk")
    assert (video.filename, video.size, video.kept) == ("video.mp4", len(big), False)
    assert video.not_kept_reason == "not kept: too large (4.0 MB)"
    assert video.sha256 == ""
    assert shot.kept and read(shot) == PNG
    assert len(stored_files() - before) == 1


def test_files_over_the_total_limit_are_not_kept(settings) -> None:
    settings.ATTACHMENTS_MAX_TOTAL_BYTES = len(PDF) + len(PNG) + 10
    files = [("a.pdf", "application/pdf", PDF), ("b.pdf", "application/pdf", PDF)]

    result = email_ingest(raw=mail_with([*files, ("c.png", "image/png", PNG)]))

    rows = list(result.message.attachments.order_by("pk"))
    assert [row.kept for row in rows] == [True, False, True]
    assert rows[1].not_kept_reason.startswith("not kept: the message's attachments exceed")


def test_files_over_the_count_limit_are_not_kept(settings) -> None:
    settings.ATTACHMENTS_MAX_COUNT = 2
    files = [(f"{n}.png", "image/png", PNG) for n in range(4)]

    result = email_ingest(raw=mail_with(files))

    rows = list(result.message.attachments.order_by("pk"))
    assert [row.kept for row in rows] == [True, True, False, False]
    assert rows[3].not_kept_reason == "not kept: more than 2 attachments in one message"


def test_a_duplicate_delivery_stores_no_second_set_of_attachments() -> None:
    raw = mail_with([("invoice.pdf", "application/pdf", PDF)])
    first = email_ingest(raw=raw)
    files = stored_files()

    again = email_ingest(raw=raw)

    assert again.duplicate and again.message == first.message
    assert MessageAttachment.objects.count() == 1
    assert stored_files() == files


# -- over-long text ----------------------------------------------------------------------------


def test_an_oversized_body_is_stored_cut_flagged_and_kept_in_full_as_a_file(
    settings, agent_client
) -> None:
    settings.MESSAGE_TEXT_MAX_CHARS = 100
    body = "My order is missing. " + "x" * 300 + " END"

    result = email_ingest(raw=mail_with([], body=body))

    message = result.message
    assert message.truncated is True
    assert len(message.body_text) == 100
    full = message.attachments.get()
    assert full.filename == FULL_TEXT_NAME
    assert read(full).decode().strip() == body
    page = agent_client.get(reverse("ticket", args=[result.ticket.pk])).content.decode()
    assert "This message was too long and is shown cut short." in page
    assert reverse("attachment-download", args=[full.pk]) in page


def test_an_oversized_reply_in_a_thread_is_flagged_too(settings) -> None:
    settings.MESSAGE_TEXT_MAX_CHARS = 100
    first = email_ingest(raw=mail_with([], body="short"))
    reply = mail_with([], body="y" * 500, message_id="<reply@example.com>", subject="Re: Files")
    reply = reply.replace(b"Subject:", b"In-Reply-To: <files@example.com>\nSubject:", 1)

    result = email_ingest(raw=reply)

    assert result.ticket == first.ticket and not result.created_ticket
    assert result.message.truncated is True
    assert len(result.message.body_text) == 100


def test_a_short_body_is_not_flagged(agent_client) -> None:
    result = email_ingest(raw=mail_with([]))

    assert result.message.truncated is False
    assert not result.message.attachments.exists()
    page = agent_client.get(reverse("ticket", args=[result.ticket.pk])).content.decode()
    assert "too long" not in page


# -- download ----------------------------------------------------------------------------------


def test_staff_download_is_an_opaque_attachment_with_exact_headers(agent_client) -> None:
    result = email_ingest(raw=(MAIL / "attachment.eml").read_bytes())
    pdf = result.message.attachments.get(content_type="application/pdf")

    response = agent_client.get(reverse("attachment-download", args=[pdf.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"] == (
        "attachment; filename=\"Rechnung M_rz.pdf\"; filename*=UTF-8''Rechnung%20M%C3%A4rz.pdf"
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Length"] == str(pdf.size)
    assert b"".join(response.streaming_content) == read(pdf)


def test_html_attachments_are_never_served_as_html(agent_client) -> None:
    result = email_ingest(raw=mail_with([("<script>.html", "text/html", b"<script>x</script>")]))
    page = result.message.attachments.get()

    response = agent_client.get(reverse("attachment-download", args=[page.pk]))

    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"] == (
        "attachment; filename=\"_script_.html\"; filename*=UTF-8''_script_.html"
    )
    assert response["X-Content-Type-Options"] == "nosniff"


def test_anonymous_visitors_are_sent_to_the_login_page(client) -> None:
    result = email_ingest(raw=mail_with([("invoice.pdf", "application/pdf", PDF)]))
    url = reverse("attachment-download", args=[result.message.attachments.get().pk])

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_users_without_the_inbox_permission_are_refused(client, outsider) -> None:
    result = email_ingest(raw=mail_with([("invoice.pdf", "application/pdf", PDF)]))
    client.force_login(outsider)

    response = client.get(
        reverse("attachment-download", args=[result.message.attachments.get().pk])
    )

    assert response.status_code == 403


def test_a_file_that_was_not_kept_cannot_be_downloaded(agent_client, settings) -> None:
    settings.ATTACHMENT_MAX_BYTES = 10
    result = email_ingest(raw=mail_with([("invoice.pdf", "application/pdf", PDF)]))

    response = agent_client.get(
        reverse("attachment-download", args=[result.message.attachments.get().pk])
    )

    assert response.status_code == 404


# -- ticket page -------------------------------------------------------------------------------


def test_the_ticket_page_lists_attachments_escaped_with_not_kept_ones_greyed(
    agent_client, settings
) -> None:
    settings.ATTACHMENT_MAX_BYTES = len(PDF)
    files = [("Tom & Jerry.pdf", "application/pdf", PDF), ("huge.bin", "application/zip", PDF * 2)]
    result = email_ingest(raw=mail_with(files))
    kept, dropped = result.message.attachments.order_by("pk")

    page = agent_client.get(reverse("ticket", args=[result.ticket.pk])).content.decode()

    link = reverse("attachment-download", args=[kept.pk])
    assert f'<a href="{link}" download>Tom &amp; Jerry.pdf</a>' in page
    assert "Tom & Jerry" not in page
    assert '<li class="not-kept" aria-disabled="true"><span>huge.bin</span>' in page
    assert dropped.not_kept_reason in page
    assert reverse("attachment-download", args=[dropped.pk]) not in page


def _ticket_page_queries(client, ticket_pk: int) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("ticket", args=[ticket_pk]))
    assert response.status_code == 200
    return len(queries)


def test_ticket_page_query_count_does_not_grow_with_the_number_of_attachments(agent_client):
    ticket = TicketFactory()

    def attach(message: Message, count: int) -> None:
        for n in range(count):
            row = MessageAttachment(message=message, filename=f"{n}.txt", size=1)
            if n % 2:
                row.not_kept_reason = "not kept: too large (1 B)"
            else:
                row.file.save(row.filename, ContentFile(b"x"), save=False)
            row.save()

    attach(MessageFactory(ticket=ticket), 1)
    with_one = _ticket_page_queries(agent_client, ticket.pk)
    for _ in range(5):
        attach(MessageFactory(ticket=ticket), 4)

    with_twenty_one = _ticket_page_queries(agent_client, ticket.pk)

    assert with_twenty_one == with_one


def test_sweep_removes_only_old_files_that_no_row_points_to() -> None:
    import os
    import time

    from django.core.management import call_command

    from supportdesk.intake.attachments import attachment_files_sweep

    def aged(path: Path) -> Path:
        old = time.time() - 2 * 3600  # older than the sweep's one-hour grace
        os.utime(path, (old, old))
        return path

    kept = email_ingest(raw=mail_with([("a.pdf", "application/pdf", PDF)])).message
    kept_file = aged(Path(kept.attachments.get().file.path))
    deleted = email_ingest(
        raw=mail_with([("b.png", "image/png", PNG)], message_id="<gone@example.com>")
    ).message
    deleted_file = aged(Path(deleted.attachments.get().file.path))
    deleted.ticket.delete()  # the rows cascade; the file is left behind
    root = Path(settings.ATTACHMENTS_DIR)
    (root / "2001" / "01").mkdir(parents=True, exist_ok=True)
    rolled_back = root / "2001" / "01" / "0123456789abcdef"
    rolled_back.write_bytes(b"from a transaction that rolled back")
    aged(rolled_back)
    in_flight = root / "2001" / "01" / "fedcba9876543210"  # just written: may still commit
    in_flight.write_bytes(b"new")

    assert attachment_files_sweep() >= 2

    assert kept_file.exists() and read(kept.attachments.get()) == PDF
    assert not deleted_file.exists() and not rolled_back.exists()
    assert in_flight.exists()
    in_flight.unlink()
    call_command("sweep_attachments")  # the same sweep from the command line
    assert kept_file.exists()


def test_the_workers_sweep_attachments_daily(settings) -> None:
    from django_q.models import Schedule

    from supportdesk.celery import beat_schedule
    from supportdesk.queue import periodic_schedules_sync

    settings.TASK_BACKEND = "q2"
    periodic_schedules_sync()

    schedule = Schedule.objects.get(name="attachment_sweep")
    assert (schedule.func, schedule.schedule_type, schedule.minutes) == (
        "supportdesk.tasks.attachment_sweep",
        Schedule.MINUTES,
        24 * 60,
    )
    assert beat_schedule()["attachment_sweep"] == {"task": schedule.func, "schedule": 86400.0}
