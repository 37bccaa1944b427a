"""`kam score [--as-of DATE] [--no-clv]`: score all accounts and propose tier changes."""

import datetime as dt
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from kam.segmentation import services
from kam.segmentation.figures import FiguresError

PHASES = ["figures", "costs", "models", "scores", "proposals", "cleanup"]


def parse_date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"Not a date (YYYY-MM-DD): {value!r}") from None


class Command(BaseCommand):
    # A data command: the project checks run with `kam check` and `kam serve`, not on
    # every import, export or scoring (≈ 0.3 s each).
    requires_system_checks: list[str] = []
    help = "Score every account (Pareto, ABC, RFM, CLV, scores) and propose tier changes."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--as-of", default="", help="date to score at, YYYY-MM-DD (default today)"
        )
        parser.add_argument(
            "--no-clv", action="store_true", help="skip the BG/NBD and Gamma-Gamma models"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        as_of = parse_date(options["as_of"]) if options["as_of"] else None
        started = time.monotonic()
        bar = tqdm(total=len(PHASES), desc="kam score", unit="phase", disable=None)
        # (step name, seconds since the start) as each step begins; shown with -v2.
        marks: list[tuple[str, float]] = []

        def progress(name: str) -> None:
            marks.append((name, time.monotonic() - started))
            bar.set_postfix_str(name)
            if name != PHASES[0]:
                bar.update(1)

        try:
            run = services.scoring_run(
                as_of=as_of, with_clv=not options["no_clv"], progress=progress
            )
        except FiguresError as error:
            raise CommandError(f"Scoring failed: {error}") from None
        finally:
            bar.update(bar.total - bar.n)
            bar.close()
        summary = run.parameters
        counts = summary.get("abc_counts", {})
        self.stdout.write(
            f"Scored {run.accounts} accounts as of {run.as_of} (run {run.pk}, ranked by {run.value_basis}).\n"
            f"{run.head_count} accounts ({run.head_account_share:.1%}) make "
            f"{summary['config']['pareto_share']:.0%} of the value.\n"
            f"ABC: A {counts.get('A', 0)}, B {counts.get('B', 0)}, C {counts.get('C', 0)}.\n"
            f"Tier proposals created: {run.proposals_created}.\n"
            f"Done in {time.monotonic() - started:.1f} s."
        )
        if run.message:
            self.stdout.write(run.message)
        if options["verbosity"] >= 2:
            ends = [at for _name, at in marks[1:]] + [time.monotonic() - started]
            self.stdout.write(
                "Steps: "
                + ", ".join(
                    f"{name} {end - at:.2f} s" for (name, at), end in zip(marks, ends, strict=True)
                )
                + f" (start-up {marks[0][1]:.2f} s)"
            )
