"""Refresh SLA states now (the worker does this every minute; handy from cron or by hand)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from triage.sla_timers import sla_check


class Command(BaseCommand):
    help = "Mark tickets whose SLA is at risk or breached; breaches raise an escalation."

    def handle(self, *args, **options):
        seen = sla_check()
        self.stdout.write(f"Checked {seen} ticket(s).")
