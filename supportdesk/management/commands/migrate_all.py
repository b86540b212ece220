"""Migrate every database this installation is configured with.

The embedded default keeps live events in a SQLite database of their own ("channels"); with
REDIS_URL set that database does not exist. `make setup` runs this instead of naming aliases, so
the same command sets up both shapes.
"""

from __future__ import annotations

from django.apps import apps
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import DEFAULT_DB_ALIAS, connections, router


class Command(BaseCommand):
    help = "Run migrate on every configured database."

    def handle(self, *args, **options):
        for alias in connections:
            self.stdout.write(f"Migrating the {alias!r} database")
            if alias == DEFAULT_DB_ALIAS:
                call_command("migrate", database=alias, interactive=False, verbosity=0)
                continue
            # Only the apps the routers keep there: migrating every app into an extra database
            # applies nothing but still replays each app's migration history (seconds of CPU).
            for config in apps.get_app_configs():
                if config.models_module is not None and router.allow_migrate(alias, config.label):
                    call_command(
                        "migrate", config.label, database=alias, interactive=False, verbosity=0
                    )
