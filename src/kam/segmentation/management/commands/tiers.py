"""`kam tiers approve|reject --as DIRECTOR [--to-tier T] [--note N]`: decide pending proposals.

For a first scoring's many proposals at once (the web page and the API queue the same
work as a background task). All or nothing: one transaction.
"""

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from kam.segmentation import services
from kam.users.models import User


class Command(BaseCommand):
    help = "Approve or reject every pending tier proposal (to one tier, or all)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("decision", choices=["approve", "reject"])
        parser.add_argument(
            "--as", dest="username", required=True, help="the director deciding (user name)"
        )
        parser.add_argument("--to-tier", default="", help="only proposals to this tier code")
        parser.add_argument("--note", default="", help="decision note kept with each proposal")

    def handle(self, *args: Any, **options: Any) -> None:
        director = User.objects.filter(username=options["username"], is_active=True).first()
        if director is None:
            raise CommandError(f"no active user {options['username']!r}")
        total = services.proposals_matching(to_tier=options["to_tier"]).count()
        bar = tqdm(total=total, unit=" proposals", desc=options["decision"], file=self.stderr._out)
        try:
            count = services.tier_proposals_decide_matching(
                director=director,
                approve=options["decision"] == "approve",
                to_tier=options["to_tier"],
                note=options["note"],
                progress=lambda done: bar.update(done - bar.n),
            )
        except PermissionDenied as error:
            raise CommandError(str(error)) from None
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from None
        finally:
            bar.close()
        verb = "approved" if options["decision"] == "approve" else "rejected"
        self.stdout.write(f"{count} tier proposals {verb}.")
