"""Remove attachment files that no message refers to."""

from django.core.management.base import BaseCommand

from supportdesk.intake.attachments import attachment_files_sweep


class Command(BaseCommand):
    help = (
        "Delete attachment files that no message refers to (files of deleted tickets, or of "
        "a transaction that rolled back). Files younger than an hour are left alone. The "
        "worker runs this daily; safe to run at any time."
    )

    def handle(self, *args, **options):
        removed = attachment_files_sweep()
        self.stdout.write(f"Removed {removed} unreferenced attachment file(s).")
