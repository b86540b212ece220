from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from supportdesk.services import api_token_create


class Command(BaseCommand):
    help = "Create an API token for USERNAME and print it (it cannot be shown again)."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username: str, **options):
        try:
            user = get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"No user named {username!r}.") from None
        self.stdout.write(api_token_create(user=user))
