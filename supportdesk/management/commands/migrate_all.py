"""Migrate every database this installation is configured with.

The embedded default keeps live events in a SQLite database of their own ("channels"); with
REDIS_URL set that database does not exist. `make setup` runs this instead of naming aliases, so
the same command sets up both shapes.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run migrate on every configured database."

    def handle(self, *args, **options):
        for alias in settings.DATABASES:
            self.stdout.write(f"Migrating the {alias!r} database")
            call_command("migrate", database=alias, interactive=False, verbosity=0)
