"""IMAP polling against a real Dovecot on loopback (Debian's dovecot-imapd, `make services`).

One Dovecot per module, started in the foreground with its own configuration in a temporary
directory; each test logs in as a fresh user, so each test has its own empty INBOX.
"""

from __future__ import annotations

import imaplib
import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.db import OperationalError
from django_q.models import Schedule

from supportdesk.intake import imap
from supportdesk.intake.imap import ImapConfig, ImapConfigError, imap_poll, parse_imap_url
from supportdesk.models import Message, Ticket
from supportdesk.queue import enqueue, periodic_schedules_sync

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
PASSWORD = "imap-pw-5tq"
ROOT = Path(__file__).resolve().parents[2]


def mail(
    *,
    message_id: str = "<imap-1@mail.example.com>",
    sender: str = "Maria Lopez <maria@example.com>",
    subject: str = "Parcel not delivered",
    body: str = "My parcel did not arrive yet. Where is it?",
) -> bytes:
    headers = [f"Subject: {subject}", f"Message-ID: {message_id}", "To: support@example.com"]
    headers += [f"From: {sender}"] if sender else []
    return ("\r\n".join(headers) + "\r\n\r\n" + body + "\r\n").encode()


@dataclass
class Mailbox:
    """One user's INBOX on the test Dovecot, with the client calls a test needs."""

    host: str
    port: int
    user: str

    @property
    def config(self) -> ImapConfig:
        return ImapConfig(
            host=self.host, port=self.port, username=self.user, password=PASSWORD, security="none"
        )

    @property
    def url(self) -> str:
        return f"imap://{self.user}:{PASSWORD}@{self.host}:{self.port}/INBOX"

    def _client(self) -> imaplib.IMAP4:
        client = imaplib.IMAP4(self.host, self.port, timeout=10)
        client.login(self.user, PASSWORD)
        client.select("INBOX")
        return client

    def deliver(self, raw: bytes, flags: str = "") -> None:
        client = self._client()
        try:
            assert client.append("INBOX", flags or None, None, raw)[0] == "OK"
        finally:
            client.logout()

    def flags(self) -> list[set[str]]:
        """Each message's flags, in mailbox order."""
        client = self._client()
        try:
            _, data = client.uid("FETCH", "1:*", "(FLAGS)")
        finally:
            client.logout()
        return [{flag.decode() for flag in imaplib.ParseFlags(item)} for item in data if item]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _config(root: Path, port: int, user: str, group: str) -> str:
    return f"""
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_login_user = {user}
default_internal_user = {user}
default_internal_group = {group}
passdb {{
  driver = static
  args = password={PASSWORD}
}}
userdb {{
  driver = static
  args = uid={user} gid={group} home={root}/home/%u
}}
mail_location = maildir:~/Maildir
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""


@pytest.fixture(scope="module")
def dovecot() -> Iterator[tuple[str, int]]:
    if not Path(DOVECOT).exists():
        pytest.fail(
            "Dovecot is not installed: run `make services` (apt-get install dovecot-imapd)."
        )
    # Root runs the mail processes as nobody (Dovecot refuses root); anyone else as themselves.
    account = pwd.getpwnam("nobody") if os.geteuid() == 0 else pwd.getpwuid(os.geteuid())
    group = "nogroup" if os.geteuid() == 0 else account.pw_name
    root = Path(tempfile.mkdtemp(prefix="sd-dovecot-"))  # not under pytest's 0700 tmp dirs
    root.chmod(0o755)
    (root / "home").mkdir()
    os.chown(root / "home", account.pw_uid, account.pw_gid)
    port = _free_port()
    conf = root / "dovecot.conf"
    conf.write_text(_config(root, port, account.pw_name, group))
    process = subprocess.Popen([DOVECOT, "-F", "-c", str(conf)])
    try:
        for _ in range(200):
            if process.poll() is not None:
                log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
                pytest.fail(f"Dovecot exited with {process.returncode}:\n{log}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        else:
            pytest.fail("Dovecot did not start listening")
        yield "127.0.0.1", port
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def mailbox(dovecot) -> Mailbox:
    host, port = dovecot
    return Mailbox(host=host, port=port, user=f"desk-{uuid.uuid4().hex[:10]}")


@pytest.fixture(autouse=True)
def _quick_triage(stub_triage) -> None:
    stub_triage()


# -- polling -----------------------------------------------------------------------------------

pytestmark = pytest.mark.django_db(transaction=True)  # each ingest really commits


def test_poll_files_unseen_mail_and_marks_it_seen(mailbox):
    mailbox.deliver(mail())
    mailbox.deliver(mail(message_id="<imap-2@x.example>", sender="Ken <ken@example.org>"))
    mailbox.deliver(mail(message_id="<read-already@x.example>"), flags=r"(\Seen)")

    result = imap_poll(config=mailbox.config)

    assert (result.fetched, result.filed, result.duplicates) == (2, 2, 0)
    assert sorted(Ticket.objects.values_list("customer__email", flat=True)) == [
        "ken@example.org",
        "maria@example.com",
    ]
    assert all(r"\Seen" in flags for flags in mailbox.flags())
    assert imap_poll(config=mailbox.config).fetched == 0


def test_reply_in_the_mailbox_threads_into_its_ticket(mailbox):
    mailbox.deliver(mail())
    imap_poll(config=mailbox.config)
    reply = mail(message_id="<imap-3@mail.example.com>", subject="Re: Parcel not delivered")
    reply = reply.replace(b"To:", b"In-Reply-To: <imap-1@mail.example.com>\r\nTo:")
    mailbox.deliver(reply)

    imap_poll(config=mailbox.config)

    ticket = Ticket.objects.get()
    assert ticket.messages.count() == 2


def test_crash_between_ingest_and_flag_redelivers_harmlessly(mailbox, monkeypatch):
    mailbox.deliver(mail())

    def worker_killed(*args: object) -> None:
        raise KeyboardInterrupt("worker killed after the ingest committed")

    with monkeypatch.context() as patch:
        patch.setattr(imap, "_flag", worker_killed)
        with pytest.raises(KeyboardInterrupt):
            imap_poll(config=mailbox.config)
    assert Message.objects.count() == 1
    assert mailbox.flags() == [set()]  # still unseen

    again = imap_poll(config=mailbox.config)

    assert (again.fetched, again.filed, again.duplicates) == (1, 0, 1)
    assert (Ticket.objects.count(), Message.objects.count()) == (1, 1)
    assert mailbox.flags() == [{r"\Seen"}]


def test_database_failure_leaves_mail_unseen_for_the_next_poll(mailbox, monkeypatch):
    mailbox.deliver(mail())

    def database_down(**kwargs: object) -> None:
        raise OperationalError("could not connect to server")

    with monkeypatch.context() as patch:
        patch.setattr(imap, "email_ingest", database_down)
        failed = imap_poll(config=mailbox.config)
    assert [uid for uid, _ in failed.failed] == [1]
    assert mailbox.flags() == [set()]

    recovered = imap_poll(config=mailbox.config)

    assert recovered.filed == 1
    assert Ticket.objects.count() == 1


def test_mail_that_cannot_be_filed_is_flagged_for_a_person_and_not_refetched(mailbox):
    mailbox.deliver(mail(sender=""))
    mailbox.deliver(mail(message_id="<ok@x.example>"))

    result = imap_poll(config=mailbox.config)

    assert result.filed == 1
    assert [(uid, reason) for uid, reason in result.rejected] == [
        (1, "no sender address (From/Sender)")
    ]
    assert mailbox.flags() == [{r"\Seen", r"\Flagged"}, {r"\Seen"}]
    assert imap_poll(config=mailbox.config).fetched == 0


def test_poll_takes_at_most_a_batch_oldest_first(mailbox, settings):
    settings.IMAP_BATCH = 2
    for n in range(3):
        mailbox.deliver(mail(message_id=f"<batch-{n}@x.example>", subject=f"Order {n}"))

    first = imap_poll(config=mailbox.config)
    second = imap_poll(config=mailbox.config)

    assert (first.filed, second.filed) == (2, 1)
    assert list(Ticket.objects.order_by("pk").values_list("subject", flat=True)) == [
        "Order 0",
        "Order 1",
        "Order 2",
    ]


def test_wrong_password_is_a_clear_error_and_files_nothing(mailbox):
    config = ImapConfig(
        host=mailbox.host, port=mailbox.port, username=mailbox.user, password="no", security="none"
    )

    with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED|Authentication failed"):
        imap_poll(config=config)
    assert not Ticket.objects.exists()


def test_the_queued_task_polls_the_mailbox_from_imap_url(mailbox, settings, categories):
    settings.IMAP_URL = mailbox.url
    mailbox.deliver(mail())

    enqueue("supportdesk.intake.imap.imap_poll_task")  # TASK_BACKEND=sync runs it here

    ticket = Ticket.objects.get()
    assert ticket.channel == Ticket.Channel.EMAIL
    assert ticket.category.slug == "delivery"  # the pipeline ran on the committed message
    assert mailbox.flags() == [{r"\Seen"}]


# -- configuration and schedule ----------------------------------------------------------------


def test_imap_url_is_decoded_into_its_parts():
    config = parse_imap_url(
        "imaps://support%40example.com:p%40ss%3Aw@mail.example.com/Support%20In"
    )

    assert config == ImapConfig(
        host="mail.example.com",
        port=993,
        username="support@example.com",
        password="p@ss:w",
        mailbox="Support In",
        security="ssl",
    )
    assert parse_imap_url("imap+starttls://u:p@h").port == 143
    assert parse_imap_url("imap://u:p@h:1143").security == "none"
    assert "p@ss" not in repr(config)


@pytest.mark.parametrize(
    "url", ["pop3://u:p@h/", "imaps://h/INBOX", "imaps://u:p@h:99999/", "imaps://u:p@/"]
)
def test_unusable_imap_url_is_a_clear_error(url):
    with pytest.raises(ImapConfigError, match="IMAP_URL"):
        parse_imap_url(url)


def test_separate_variables_configure_the_mailbox(settings):
    settings.IMAP_URL = ""
    settings.IMAP_HOST, settings.IMAP_USER, settings.IMAP_PASSWORD = "mx.example", "desk", "pw"
    settings.IMAP_SECURITY, settings.IMAP_PORT = "starttls", 0

    config = imap.imap_config()

    assert (config.host, config.port, config.username, config.security) == (
        "mx.example",
        143,
        "desk",
        "starttls",
    )
    settings.IMAP_SECURITY = "tls1.0"
    with pytest.raises(ImapConfigError, match="IMAP_SECURITY"):
        imap.imap_config()


def test_migrate_schedules_the_poll_only_while_imap_is_configured(settings):
    settings.TASK_BACKEND = "q2"
    settings.IMAP_URL, settings.IMAP_POLL_MINUTES = "imaps://u:p@mx.example/INBOX", 5

    assert "imap_poll" in periodic_schedules_sync()
    assert "imap_poll" in periodic_schedules_sync()  # idempotent
    schedule = Schedule.objects.get(name="imap_poll")
    assert (schedule.func, schedule.schedule_type, schedule.minutes) == (
        "supportdesk.intake.imap.imap_poll_task",
        Schedule.MINUTES,
        5,
    )

    settings.IMAP_URL = ""
    assert "imap_poll" not in periodic_schedules_sync()
    assert not Schedule.objects.filter(func="supportdesk.intake.imap.imap_poll_task").exists()


def test_celery_beat_gets_the_poll_when_imap_is_configured():
    code = (
        "import json; from supportdesk.celery import app; print(json.dumps(app.conf.beat_schedule))"
    )
    env = {**os.environ, "IMAP_URL": "imaps://u:p@mx.example/INBOX", "IMAP_POLL_MINUTES": "2"}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout

    beat = json.loads(out.strip().splitlines()[-1])
    assert beat["imap_poll"] == {
        "task": "supportdesk.intake.imap.imap_poll_task",
        "schedule": 120.0,
        "options": {"expires": 120.0},  # a poll held up past the next one is dropped
    }
    assert beat["sla_check"]["task"] == "triage.tasks.sla_check"  # always scheduled
