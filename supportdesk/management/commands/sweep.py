"""Pick up what a lost enqueue or a dead worker left behind: inbound messages not through the
AI pipeline, acknowledgements not sent, outbound replies not delivered.

A process of its own (`serve` starts it), not a task: it must work while the broker is down.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from supportdesk.outbox.delivery import outbox_sweep
from supportdesk.pipeline import pipeline_sweep


class Command(BaseCommand):
    help = "Sweep the pipeline and the outbox once, or every N seconds with --every."

    def add_arguments(self, parser):
        parser.add_argument("--every", type=float, default=0, help="Repeat every N seconds.")

    def handle(self, *args, every: float, **options):
        while True:
            pipeline = pipeline_sweep()
            if any(pipeline.values()) or not every:
                self.stdout.write(
                    "pipeline: {enqueued} enqueued again, {flagged} flagged for manual triage, "
                    "{automatic_mail} acknowledgements enqueued again"
                    "{down}".format(
                        **pipeline, down=" (the broker is down)" if pipeline["broker_down"] else ""
                    )
                )
            outbox = outbox_sweep()
            if any(outbox.values()) or not every:
                self.stdout.write(
                    "outbox: {enqueued} enqueued, {requeued} stale claims re-queued, "
                    "{unconfirmed} marked unconfirmed".format(**outbox)
                )
            if not every:
                return
            time.sleep(every)
