"""Recount the rules report's per-day figures from the routing decisions and their overrides.

The routing services count every decision and override as they write it; run this after rows
were written around them (a bulk import, a restore, tickets deleted in bulk)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from triage.services import routing_rule_days_rebuild


class Command(BaseCommand):
    help = "Recount the rules report's per-day figures from the routing decisions."

    def handle(self, *args, **options) -> None:
        days = routing_rule_days_rebuild()
        self.stdout.write(f"Recounted {days} rule-days from the routing decisions.")
