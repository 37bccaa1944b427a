"""`kam import accounts|contacts|orders FILE`: check a CSV/XLSX file and import it in one go."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext
from tqdm import tqdm

from kam.ledger.importing import ImportReport, estimate_rows
from kam.ledger.models import ImportKind
from kam.ledger.services import import_run_create, import_run_execute
from kam.users.models import User

SHOW_ERRORS = 200


class Command(BaseCommand):
    # A data command: the project checks run with `kam check` and `kam serve`, not on
    # every import, export or scoring (≈ 0.3 s each).
    requires_system_checks: list[str] = []
    help = (
        "Import accounts, contacts or order lines from CSV (UTF-8, GBK), .csv.gz or XLSX. "
        "Every row is checked first; a file with errors writes nothing unless --skip-invalid."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=ImportKind.values)
        parser.add_argument("file", type=Path)
        parser.add_argument("--dry-run", action="store_true", help="only check and report")
        parser.add_argument(
            "--skip-invalid", action="store_true", help="import the valid rows, list the skipped"
        )
        parser.add_argument(
            "--create-accounts",
            action="store_true",
            help="orders: create accounts missing from the master (named by account_name)",
        )
        parser.add_argument(
            "--as", dest="username", help="import as this user (default: the system, all accounts)"
        )
        parser.add_argument(
            "--all-errors",
            action="store_true",
            help=f"list every error, not the first {SHOW_ERRORS}",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        user = None
        if options["username"]:
            user = User.objects.filter(username=options["username"], is_active=True).first()
            if user is None:
                raise CommandError(f"no active user {options['username']!r}")
        run = import_run_create(
            user=user,
            kind=options["kind"],
            file_name=path.name,
            dry_run=options["dry_run"],
            skip_invalid=options["skip_invalid"],
            create_accounts=options["create_accounts"],
        )
        bar = tqdm(total=estimate_rows(path), unit=" rows", desc="checking", file=self.stderr._out)
        done = [0]

        def progress(rows: int) -> None:
            bar.update(rows - done[0])
            done[0] = rows

        try:
            report = import_run_execute(run=run, path=path, progress_callback=progress)
        finally:
            bar.close()
        self.report_print(report, limit=None if options["all_errors"] else SHOW_ERRORS)
        if report.file_error or (report.error_count and not report.written and not report.dry_run):
            raise SystemExit(1)

    def report_print(self, report: ImportReport, *, limit: int | None) -> None:
        """The report in the active language (KAM_LANGUAGE), like the web page's."""
        write = self.stdout.write
        if report.file_error:
            write(self.style.ERROR(report.file_error))
            write(gettext("Nothing was written."))
            return
        write(gettext("%(file)s: %(rows)s rows read, %(valid)s valid, %(bad)s with errors "
                      "(%(errors)s errors).") % {
            "file": report.file_name, "rows": report.rows, "valid": report.valid,
            "bad": report.bad_rows, "errors": report.error_count,
        })  # fmt: skip
        shown = report.errors if limit is None else report.errors[:limit]
        line = gettext("row %(row)s, column %(column)s: %(reason)s")
        for error in shown:
            write("  " + line % {"row": error.row, "column": error.column, "reason": error.reason})
        if report.error_count > len(shown):
            write("  " + gettext("… and %(count)s more (--all-errors lists them)")
                  % {"count": report.error_count - len(shown)})  # fmt: skip
        if report.written:
            text = gettext("Written: %(created)s created, %(updated)s updated, "
                           "%(unchanged)s unchanged") % {
                "created": report.created, "updated": report.updated,
                "unchanged": report.unchanged,
            }  # fmt: skip
            if report.accounts_created:
                text += gettext(", %(count)s accounts created") % {"count": report.accounts_created}
            if report.bad_rows:
                text += gettext("; %(count)s rows skipped (listed above).") % {
                    "count": report.bad_rows
                }
            else:
                text += "."
            write(self.style.SUCCESS(text))
        elif report.dry_run:
            write(gettext("Dry run: nothing was written."))
        elif report.error_count:
            write(self.style.ERROR(gettext(
                "Nothing was written. Fix the rows above, or re-run with --skip-invalid "
                "to import the valid rows only."
            )))  # fmt: skip
