from django.core.management.base import BaseCommand

from supportdesk.intake.idempotency import IDEMPOTENCY_TTL, idempotency_keys_purge


class Command(BaseCommand):
    help = (
        "Delete REST API Idempotency-Key records older than 24 hours. Expired keys are "
        "already ignored by the API; this only reclaims their rows. Safe to run at any time."
    )

    def handle(self, *args, **options):
        deleted = idempotency_keys_purge(older_than=IDEMPOTENCY_TTL)
        self.stdout.write(f"Deleted {deleted} expired idempotency key(s).")
