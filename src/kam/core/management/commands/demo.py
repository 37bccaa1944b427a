"""`kam demo --accounts N --seed S`: a realistic demo portfolio (and each app's demo data)."""

import time
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandParser
from django.utils.module_loading import import_string

from kam.customers.demo import DEMO_PASSWORD, demo_accounts_create, demo_users_create


class Command(BaseCommand):
    help = "Create demo users, accounts, contacts, competitors and each app's demo history."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--accounts", type=int, default=300, help="number of accounts (default 300)"
        )
        parser.add_argument(
            "--seed", type=int, default=2026, help="random seed (same seed, same data)"
        )
        parser.add_argument(
            "--if-empty", action="store_true", help="do nothing when accounts exist"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from kam.customers.models import Account

        if options["accounts"] < 1:
            self.stderr.write("--accounts must be at least 1")
            raise SystemExit(2)
        if options["if_empty"] and Account.objects.exists():
            demo_logins_print(self.stdout)
            return
        started = time.monotonic()
        accounts = demo_accounts_create(count=options["accounts"], seed=options["seed"])
        self.stdout.write(f"Created {len(accounts)} accounts with contacts and competitors.")
        # Other apps (ledger history, tiers, tickets …) add theirs: AppConfig.demo_builders.
        for config in apps.get_app_configs():
            for dotted in getattr(config, "demo_builders", ()):
                summary = import_string(dotted)(
                    accounts=accounts, seed=options["seed"], stdout=self.stdout
                )
                if summary:
                    self.stdout.write(str(summary))
        # Then what needs every app's data (e.g. a scoring that counts the tickets' costs).
        for config in apps.get_app_configs():
            for dotted in getattr(config, "demo_finishers", ()):
                summary = import_string(dotted)(seed=options["seed"], stdout=self.stdout)
                if summary:
                    self.stdout.write(str(summary))
        self.stdout.write(f"Demo data ready in {time.monotonic() - started:.1f} s.")
        demo_logins_print(self.stdout)


def demo_logins_print(stdout: Any) -> None:
    logins, _managers = demo_users_create()
    stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
    for login in logins:
        stdout.write(f"  {login.username:<11} {login.note}")
