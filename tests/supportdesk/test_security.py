"""Security: sign-in throttling (django-axes) on the desk's and the admin's sign-in pages, and
the settings a production deployment needs (`check --deploy`, the secret key)."""

from __future__ import annotations

import io
import os
import runpy
import stat
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.test import Client

from supportdesk.services import api_token_create
from tests.factories import DEFAULT_PASSWORD, UserFactory

ROOT = Path(__file__).resolve().parents[2]
SETTINGS_FILE = ROOT / "supportdesk" / "settings.py"
PRODUCTION_EXAMPLE = ROOT / "docs" / "production.env.example"

LIMIT = 5
WRONG = "not the password"
LOCKED = "Too many failed sign-in attempts"
ATTACKER = "198.51.100.7"
ELSEWHERE = "203.0.113.9"


@pytest.fixture(autouse=True)
def _throttle(settings) -> None:
    """The shipped defaults, whatever the calling shell sets."""
    settings.AXES_FAILURE_LIMIT = LIMIT
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)
    settings.TRUSTED_PROXY_COUNT = 0


def sign_in(client: Client, username: str, password: str, *, path="/login/", **meta):
    meta.setdefault("REMOTE_ADDR", ATTACKER)
    return client.post(path, {"username": username, "password": password}, **meta)


def lock_out(client: Client, username: str, *, path="/login/", **meta):
    """Fail to sign in as often as the limit allows; returns the last answer."""
    for _ in range(LIMIT):
        response = sign_in(client, username, WRONG, path=path, **meta)
    return response


def assert_signed_in(response) -> None:
    assert response.status_code == 302, response.content.decode()[:500]
    assert response.url == "/inbox/"


def assert_locked_out(response) -> None:
    assert response.status_code == 429
    assert LOCKED in response.content.decode()
    assert "about 15 minutes" in response.content.decode()
    assert response["Retry-After"] == str(15 * 60)


# -- sign-in throttling ------------------------------------------------------------------------


@pytest.mark.django_db
def test_after_the_failure_limit_even_the_right_password_is_refused(client, agent):
    for _ in range(LIMIT - 1):
        response = sign_in(client, "alice", WRONG)
        assert response.status_code == 200
        assert "didn't match" in response.content.decode()

    assert_locked_out(sign_in(client, "alice", WRONG))
    assert_locked_out(sign_in(client, "alice", DEFAULT_PASSWORD))
    assert client.get("/inbox/").url.startswith("/login/")


@pytest.mark.django_db
def test_fewer_failures_than_the_limit_still_sign_in(client, agent):
    for _ in range(LIMIT - 1):
        sign_in(client, "alice", WRONG)

    assert_signed_in(sign_in(client, "alice", DEFAULT_PASSWORD))


@pytest.mark.django_db
def test_the_lock_holds_per_account_and_per_address_and_spares_everyone_else(
    client, agent, other_agent
):
    lock_out(client, "alice")

    # Another person, elsewhere: unaffected.
    assert_signed_in(sign_in(Client(), "bob", DEFAULT_PASSWORD, REMOTE_ADDR=ELSEWHERE))
    # The locked account from another address: still locked.
    assert_locked_out(sign_in(Client(), "alice", DEFAULT_PASSWORD, REMOTE_ADDR=ELSEWHERE))
    # Another account from the locked address: locked too (guessing across accounts).
    assert_locked_out(sign_in(Client(), "bob", DEFAULT_PASSWORD, REMOTE_ADDR=ATTACKER))


@pytest.mark.django_db
def test_failures_spread_over_many_accounts_lock_the_address(client, other_agent):
    for number in range(LIMIT):
        sign_in(client, f"guess{number}", WRONG)

    assert_locked_out(sign_in(Client(), "bob", DEFAULT_PASSWORD))
    assert_signed_in(sign_in(Client(), "bob", DEFAULT_PASSWORD, REMOTE_ADDR=ELSEWHERE))


@pytest.mark.django_db
def test_a_forged_forwarded_for_header_does_not_escape_the_address_limit(client, other_agent):
    for number in range(LIMIT):
        sign_in(client, f"guess{number}", WRONG, HTTP_X_FORWARDED_FOR=f"192.0.2.{number}")

    assert_locked_out(
        sign_in(Client(), "bob", DEFAULT_PASSWORD, HTTP_X_FORWARDED_FOR="192.0.2.200")
    )


@pytest.mark.django_db
def test_behind_a_trusted_proxy_clients_are_counted_by_their_own_address(
    client, other_agent, settings
):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    for number in range(LIMIT):
        sign_in(client, f"guess{number}", WRONG, HTTP_X_FORWARDED_FOR=ATTACKER, **proxy)

    assert_locked_out(
        sign_in(Client(), "bob", DEFAULT_PASSWORD, HTTP_X_FORWARDED_FOR=ATTACKER, **proxy)
    )
    assert_signed_in(
        sign_in(Client(), "bob", DEFAULT_PASSWORD, HTTP_X_FORWARDED_FOR=ELSEWHERE, **proxy)
    )


@pytest.mark.django_db
def test_ipv6_clients_are_counted_per_64_prefix(client, other_agent):
    for number in range(LIMIT):
        sign_in(client, f"guess{number}", WRONG, REMOTE_ADDR=f"2001:db8:0:7::{number + 1}")

    same_prefix = sign_in(Client(), "bob", DEFAULT_PASSWORD, REMOTE_ADDR="2001:db8:0:7::beef")
    assert_locked_out(same_prefix)
    assert_signed_in(sign_in(Client(), "bob", DEFAULT_PASSWORD, REMOTE_ADDR="2001:db8:0:8::1"))


@pytest.mark.django_db
def test_the_admin_sign_in_is_throttled_too(client, desk_admin):
    response = lock_out(client, "ada", path="/admin/login/")

    assert_locked_out(response)
    assert_locked_out(sign_in(client, "ada", DEFAULT_PASSWORD, path="/admin/login/"))
    assert client.get("/admin/").url.startswith("/admin/login/")


@pytest.mark.django_db
def test_a_desk_admin_sees_the_lockout_in_the_admin_and_unlocks_the_account(
    client, agent, desk_admin_client
):
    lock_out(client, "alice")

    index = desk_admin_client.get("/admin/")
    assert "Access attempts" in index.content.decode()
    attempts = desk_admin_client.get("/admin/axes/accessattempt/")
    assert attempts.status_code == 200
    assert "alice" in attempts.content.decode()
    assert "Locked Out" in attempts.content.decode()

    # Tick the account's attempts and delete them: what "unlock" is in the admin.
    response = desk_admin_client.post(
        "/admin/axes/accessattempt/",
        {
            "action": "delete_selected",
            "_selected_action": list(AccessAttempt.objects.values_list("pk", flat=True)),
            "post": "yes",
        },
    )
    assert response.status_code == 302

    assert_signed_in(sign_in(client, "alice", DEFAULT_PASSWORD))


@pytest.mark.django_db
def test_the_reset_command_unlocks_the_account(client, agent):
    lock_out(client, "alice")

    call_command("axes_reset_username", "alice", stdout=io.StringIO())

    assert_signed_in(sign_in(client, "alice", DEFAULT_PASSWORD))


@pytest.mark.django_db
def test_api_tokens_are_neither_locked_out_nor_counted(client, agent):
    token = api_token_create(user=agent)
    lock_out(Client(), "alice")

    answer = client.get("/api/v1/tickets", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200

    call_command("axes_reset_username", "alice", stdout=io.StringIO())
    for _ in range(LIMIT * 2):
        bad = client.get(
            "/api/v1/tickets", headers={"Authorization": "Bearer sd_wrong"}, REMOTE_ADDR=ATTACKER
        )
        assert bad.status_code == 401
    assert_signed_in(sign_in(client, "alice", DEFAULT_PASSWORD))


@pytest.mark.django_db
def test_signing_in_with_force_login_still_works(agent):
    """The test suite's shortcut (no password, no request address) is not throttled."""
    for _ in range(LIMIT + 1):
        client = Client()
        client.force_login(agent)
        assert client.get("/inbox/").status_code == 200


@pytest.mark.django_db
def test_an_account_that_does_not_exist_is_locked_like_one_that_does(client):
    """The lockout page cannot be used to find out which usernames exist."""
    UserFactory(username="carol")
    unknown = lock_out(client, "nobody-by-this-name", REMOTE_ADDR="192.0.2.1")
    known = lock_out(Client(), "carol", REMOTE_ADDR="192.0.2.2")

    assert_locked_out(unknown)
    assert_locked_out(known)


# -- production settings -----------------------------------------------------------------------


def _example_variables() -> dict[str, str]:
    variables = {}
    for line in PRODUCTION_EXAMPLE.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            variables[name.strip()] = value.strip()
    return variables


def _manage(tmp_path: Path, variables: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    """`manage.py` in a fresh environment: only these variables, a throwaway VAR_DIR and a SQLite
    database, so nothing from the calling shell or the test run's settings leaks in."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", str(tmp_path)),
        **variables,
        "VAR_DIR": str(tmp_path / "var"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'desk.sqlite3'}",
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_production_example_passes_check_deploy(tmp_path):
    variables = _example_variables()
    assert variables["SECRET_KEY"] == "", "the example must not ship a usable key"
    variables["SECRET_KEY"] = "a" + os.urandom(40).hex()  # what the operator fills in

    result = _manage(tmp_path, variables, "check", "--deploy", "--fail-level", "WARNING")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_production_example_refuses_to_start_until_a_secret_key_is_set(tmp_path):
    result = _manage(tmp_path, _example_variables(), "check")

    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_the_old_public_default_key_is_refused_when_debug_is_off(tmp_path):
    public = {"DEBUG": "false", "SECRET_KEY": "insecure-development-key-change-me"}

    result = _manage(tmp_path, public, "check")

    assert result.returncode != 0
    assert "SECRET_KEY is the old public default or too weak" in result.stderr


def load_settings(monkeypatch, tmp_path: Path, **variables: str) -> dict[str, object]:
    """Run settings.py as a starting process would, with only these security variables set."""
    for name in (
        "DEBUG",
        "SECRET_KEY",
        "SITE_URL",
        "BEHIND_TLS_PROXY",
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SECURE_HSTS_PRELOAD",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("VAR_DIR", str(tmp_path))
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(SETTINGS_FILE))


def test_without_a_secret_key_the_installation_generates_its_own_once(monkeypatch, tmp_path):
    first = load_settings(monkeypatch, tmp_path)
    again = load_settings(monkeypatch, tmp_path)

    key_file = tmp_path / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert first["SECRET_KEY"] == again["SECRET_KEY"] == key_file.read_text().strip()
    assert len(first["SECRET_KEY"]) >= 50
    assert first["SECRET_KEY"] != "insecure-development-key-change-me"
    assert sorted(p.name for p in tmp_path.iterdir() if "secret" in p.name) == ["secret_key"]


def test_the_embedded_default_serves_plain_http(monkeypatch, tmp_path):
    embedded = load_settings(monkeypatch, tmp_path)

    assert embedded["SECURE_SSL_REDIRECT"] is False
    assert embedded["SESSION_COOKIE_SECURE"] is False
    assert embedded["CSRF_COOKIE_SECURE"] is False
    assert embedded["SECURE_HSTS_SECONDS"] == 0
    assert "SECURE_PROXY_SSL_HEADER" not in embedded


@pytest.mark.parametrize("debug", ["false", "true"])
def test_an_https_site_url_switches_https_on_unless_debugging(monkeypatch, tmp_path, debug):
    key = "k" + os.urandom(40).hex()
    public = load_settings(
        monkeypatch, tmp_path, SITE_URL="https://desk.example.com", SECRET_KEY=key, DEBUG=debug
    )

    on = debug == "false"
    assert public["SECURE_SSL_REDIRECT"] is on
    assert public["SESSION_COOKIE_SECURE"] is on
    assert public["CSRF_COOKIE_SECURE"] is on
    assert (public["SECURE_HSTS_SECONDS"] > 0) is on
    assert "SECURE_PROXY_SSL_HEADER" not in public


def test_the_forwarded_proto_header_is_trusted_only_behind_a_declared_proxy(monkeypatch, tmp_path):
    behind = load_settings(monkeypatch, tmp_path, BEHIND_TLS_PROXY="true")

    assert behind["SECURE_PROXY_SSL_HEADER"] == ("HTTP_X_FORWARDED_PROTO", "https")


@pytest.mark.parametrize(
    "key", ["insecure-development-key-change-me", "short-but-random-Zq8", "a" * 60]
)
def test_weak_keys_are_refused_when_debug_is_off(monkeypatch, tmp_path, key):
    with pytest.raises(ImproperlyConfigured, match="too weak"):
        load_settings(monkeypatch, tmp_path, SECRET_KEY=key, DEBUG="false")


def test_an_https_site_without_a_secret_key_is_refused(monkeypatch, tmp_path):
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY is not set"):
        load_settings(monkeypatch, tmp_path, SITE_URL="https://desk.example.com")

    assert not (tmp_path / "secret_key").exists()
