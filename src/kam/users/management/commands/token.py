"""`kam token create USERNAME [--name NAME]`: an API token for scripts (shown once)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kam.users.models import ApiToken, User
from kam.users.services import api_token_create


class Command(BaseCommand):
    help = "Create, list or revoke API tokens."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["create", "list", "revoke"])
        parser.add_argument("username")
        parser.add_argument("--name", default="script")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            user = User.objects.get(username=options["username"])
        except User.DoesNotExist as error:
            raise CommandError(f"No user {options['username']!r}") from error
        if options["action"] == "create":
            _token, raw = api_token_create(user=user, name=options["name"])
            self.stdout.write(raw)
        elif options["action"] == "list":
            for token in user.api_tokens.all():
                self.stdout.write(f"{token.prefix}…  {token.name}  revoked={token.revoked}")
        else:
            count = ApiToken.objects.filter(user=user, name=options["name"]).update(revoked=True)
            self.stdout.write(f"revoked {count} token(s)")
