"""Re-queue outbound replies that a lost enqueue or a dead worker left behind."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from supportdesk.outbox import outbox_sweep


class Command(BaseCommand):
    help = "Sweep the outbox once, or every N seconds with --every."

    def add_arguments(self, parser):
        parser.add_argument("--every", type=float, default=0, help="Repeat every N seconds.")

    def handle(self, *args, every: float, **options):
        while True:
            counts = outbox_sweep()
            if any(counts.values()) or not every:
                self.stdout.write(
                    "outbox: {enqueued} enqueued, {requeued} stale claims re-queued, "
                    "{unconfirmed} marked unconfirmed".format(**counts)
                )
            if not every:
                return
            time.sleep(every)
