"""`kam export accounts|contacts|orders --output FILE.csv|FILE.xlsx [filters]`."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from kam.customers.selectors import AccountFilters, account_list
from kam.ledger.exporting import export_rows
from kam.lib.tabular import write_table
from kam.users.models import Role, User


class Command(BaseCommand):
    # A data command: the project checks run with `kam check` and `kam serve`, not on
    # every import, export or scoring (≈ 0.3 s each).
    requires_system_checks: list[str] = []
    help = "Export accounts, contacts or order lines with the import's columns (re-importable)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=["accounts", "contacts", "orders"])
        parser.add_argument("--output", "-o", type=Path, required=True, help="FILE.csv or .xlsx")
        parser.add_argument("--as", dest="username", help="export what this user sees")
        for name in ("q", "region", "industry", "kind", "sales_stage", "tier", "abc_class"):
            parser.add_argument(f"--{name.replace('_', '-')}", dest=f"filter_{name}", default="")
        parser.add_argument("--archived", action="store_true", help="archived accounts only")

    def handle(self, *args: Any, **options: Any) -> None:
        output = Path(options["output"])
        if not output.name.lower().endswith((".csv", ".xlsx", ".csv.gz")):
            raise CommandError("--output must end in .csv, .csv.gz or .xlsx")
        if options["username"]:
            user = User.objects.filter(username=options["username"], is_active=True).first()
            if user is None:
                raise CommandError(f"no active user {options['username']!r}")
        else:
            # The command line is trusted: it sees what a director sees.
            user = User(username="kam-cli", role=Role.DIRECTOR, is_active=True)
        filters = AccountFilters(
            **{name[7:]: value for name, value in options.items() if name.startswith("filter_")},
            archived=options["archived"],
        )
        header, rows = export_rows(options["kind"], account_list(user, filters))
        bar = tqdm(rows, unit=" rows", desc="exporting", file=self.stderr._out)
        count = write_table(output, header, bar)
        bar.close()
        self.stdout.write(f"Wrote {count} {options['kind']} rows to {output}.")
