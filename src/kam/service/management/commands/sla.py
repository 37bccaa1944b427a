"""`kam sla deadline --start 'YYYY-MM-DD HH:MM' --hours H`, `kam sla check`, `kam sla holidays`.

`deadline` prints (ISO 8601) the moment H working hours after the start on the
configured business calendar; `check` runs the escalation check once and prints
what fired; `holidays --years 2027 [--file F]` loads a year of China's holidays.
"""

from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from kam.lib.business_calendar import add_working_time
from kam.service import services
from kam.service.calendar import calendar_get, calendar_years_covered


class Command(BaseCommand):
    help = "SLA tools: compute a deadline on the business calendar, run the escalation check."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        deadline = sub.add_parser("deadline", help="the moment H working hours after START")
        deadline.add_argument(
            "--start", required=True, help="'YYYY-MM-DD HH:MM' (calendar time zone)"
        )
        deadline.add_argument("--hours", required=True, help="working hours, e.g. 4 or 1.5")
        sub.add_parser("check", help="run the escalation check once")
        holidays = sub.add_parser("holidays", help="load China's holidays for years")
        holidays.add_argument("--years", nargs="+", type=int, required=True)
        holidays.add_argument("--file", type=Path, help="a holidays_cn.json-format file")

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, f"handle_{options['action']}")(options)

    def handle_deadline(self, options: dict[str, Any]) -> None:
        calendar = calendar_get()
        try:
            start = datetime.strptime(options["start"].strip(), "%Y-%m-%d %H:%M")
        except ValueError as error:
            raise CommandError(
                f"--start must be 'YYYY-MM-DD HH:MM', not {options['start']!r}"
            ) from error
        try:
            hours = Decimal(options["hours"])
        except InvalidOperation as error:
            raise CommandError(f"--hours must be a number, not {options['hours']!r}") from error
        if not hours.is_finite() or hours < 0:
            raise CommandError("--hours must not be negative")
        if start.year not in calendar_years_covered():
            self.stderr.write(f"warning: no public holidays loaded for {start.year}")
        due = add_working_time(
            calendar, start.replace(tzinfo=calendar.zone), timedelta(hours=float(hours))
        )
        assert due is not None  # no pauses, so the deadline always exists
        self.stdout.write(due.isoformat())

    def handle_check(self, options: dict[str, Any]) -> None:
        fired = services.sla_check()
        for escalation in fired:
            self.stdout.write(
                f"#{escalation.ticket_id} {escalation.target} {escalation.level} "
                f"→ {', '.join(escalation.notified) or '(nobody)'}"
            )
        self.stdout.write(f"{len(fired)} escalation(s) fired")

    def handle_holidays(self, options: dict[str, Any]) -> None:
        try:
            count = services.calendar_years_load(
                actor=None, years=options["years"], path=options["file"]
            )
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from error
        self.stdout.write(f"loaded {count} days for {', '.join(map(str, options['years']))}")
