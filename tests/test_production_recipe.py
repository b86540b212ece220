"""The production recipe (docs/deploy/, docs/production.md) stays true to the code it runs."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "docs" / "deploy"


def _settings_variables() -> list[str]:
    source = (ROOT / "supportdesk" / "settings.py").read_text(encoding="utf-8")
    return sorted(set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z][A-Z0-9_]*)"', source)))


def test_production_guide_lists_every_variable_the_settings_read() -> None:
    guide = (ROOT / "docs" / "production.md").read_text(encoding="utf-8")
    variables = _settings_variables()
    assert len(variables) > 50  # the pattern still finds them
    missing = [name for name in variables if f"`{name}`" not in guide]
    assert not missing, f"docs/production.md does not explain {missing}"


def test_process_definitions_name_management_commands_that_exist() -> None:
    files = [DEPLOY / "Procfile", DEPLOY / "compose.yaml", *sorted((DEPLOY / "systemd").iterdir())]
    named = {
        (path.name, command)
        for path in files
        for command in re.findall(r"manage\.py\"?,? \"?([a-z_]+)", path.read_text(encoding="utf-8"))
    }
    assert {command for _, command in named} >= {"sweep", "migrate_all", "train_models"}
    unknown = sorted((name, command) for name, command in named if command not in get_commands())
    assert not unknown, f"no such management command: {unknown}"


def test_proxy_lets_the_largest_accepted_email_through() -> None:
    """nginx must pass an e-mail the desk accepts, and let the desk answer a larger one with
    its own 413 (which names the limit) rather than nginx's page."""
    largest = max(settings.INBOUND_EMAIL_MAX_BYTES, settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    for path in (DEPLOY / "nginx.conf", DEPLOY / "compose.yaml"):
        sizes = re.findall(r"client_max_body_size (\d+)m;", path.read_text(encoding="utf-8"))
        assert sizes, path
        for size in sizes:
            assert int(size) * 1024 * 1024 > largest, (path.name, size)
