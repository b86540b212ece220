"""Run the embedded default's background worker: django-q2's cluster, with one compute thread
per worker process and the models loaded once before the cluster forks its workers
(`supportdesk.workers`)."""

from __future__ import annotations

from django.core.management import call_command
from django.core.management.base import BaseCommand

from supportdesk.workers import worker_prepare


class Command(BaseCommand):
    help = "Run the django-q2 worker cluster with the models preloaded."

    def handle(self, *args, **options):
        worker_prepare()
        call_command("qcluster")
