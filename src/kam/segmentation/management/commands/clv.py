"""`kam clv fit|predict`: BG/NBD + Gamma-Gamma on the orders up to a calibration end date.

kam clv fit --calibration-end 2025-12-31 --period week --json
kam clv predict --calibration-end 2025-12-31 --period week --horizon 26 --output clv.csv
"""

import csv
import json
import math
from typing import Any

import numpy as np
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from kam.segmentation import figures, scoring, services
from kam.segmentation.management.commands.score import parse_date

CSV_COLUMNS = [
    "account_code",
    "frequency",
    "recency",
    "T",
    "p_alive",
    "expected_purchases",
    "expected_order_value",
    "clv",
]


def _number(value: float) -> str:
    return (
        "" if not math.isfinite(value) else f"{value:.6g}" if abs(value) < 1e6 else f"{value:.2f}"
    )


class Command(BaseCommand):
    # A data command: the project checks run with `kam check` and `kam serve`, not on
    # every import, export or scoring (≈ 0.3 s each).
    requires_system_checks: list[str] = []
    help = "Fit the CLV models (fit) or write per-account predictions (predict)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["fit", "predict"])
        parser.add_argument("--calibration-end", required=True, help="use orders up to this date")
        parser.add_argument("--period", choices=["week", "day"], default="week", help="time unit")
        parser.add_argument("--json", action="store_true", help="fit: print the parameters as JSON")
        parser.add_argument("--horizon", type=float, default=None, help="predict: next N periods")
        parser.add_argument("--months", type=int, default=None, help="CLV months (default: config)")
        parser.add_argument(
            "--discount-rate",
            type=float,
            default=None,
            help="annual discount rate (default: config)",
        )
        parser.add_argument("--output", default="", help="predict: CSV file to write")

    def handle(self, *args: Any, **options: Any) -> None:
        end = parse_date(options["calibration_end"])
        first = figures.first_order_day()
        if first is None:
            raise CommandError("There are no orders in the ledger yet.")
        if end < first:
            raise CommandError(
                f"The calibration end {end} is before the first order ({first}): nothing to fit."
            )
        period = options["period"]
        account_figures = figures.account_figures(end, [])
        if options["action"] == "fit":
            self.fit(account_figures, period, as_json=options["json"])
        else:
            self.predict(account_figures, period, options)

    def fit(self, account_figures: figures.AccountFigures, period: str, *, as_json: bool) -> None:
        summary = scoring.clv_summary(account_figures, period)  # type: ignore[arg-type]
        transactions, spend, messages = scoring.fit_models(summary)
        if transactions is None and spend is None:
            raise CommandError("; ".join(messages))
        empty = np.empty(0)
        result = scoring.ClvResult(transactions, spend, summary, empty, empty, empty, empty)
        parameters = scoring.clv_parameters(result, period)
        output = {
            "r": parameters["r"],
            "alpha": parameters["alpha"],
            "a": parameters["a"],
            "b": parameters["b"],
            "p": parameters["p"],
            "q": parameters["q"],
            "v": parameters["v"],
            "log_likelihood": parameters["log_likelihood"],
            "n_accounts": parameters["n_accounts"],
            "n_repeat": parameters["n_repeat"],
            "calibration_end": account_figures.as_of.isoformat(),
            "period": period,
            "messages": messages,
        }
        if as_json:
            self.stdout.write(json.dumps(output, ensure_ascii=False, indent=2))
            return
        for key, value in output.items():
            self.stdout.write(f"{key}: {value}")

    def predict(self, account_figures: figures.AccountFigures, period: str, options: dict) -> None:
        if not options["output"]:
            raise CommandError("predict needs --output FILE.csv")
        horizon = options["horizon"]
        if horizon is None or not horizon > 0:
            raise CommandError("predict needs --horizon N (periods, more than 0)")
        config = services.scoring_config_get()
        months = options["months"] or config.clv_horizon_months
        rate = (
            config.clv_annual_discount_rate
            if options["discount_rate"] is None
            else options["discount_rate"]
        )
        if months < 1 or not 0 <= rate < 1:
            raise CommandError("--months must be >= 1 and --discount-rate between 0 and 1")
        result = scoring.clv_compute(
            account_figures,
            period=period,  # type: ignore[arg-type]
            horizon_periods=horizon,
            months=months,
            annual_discount_rate=rate,
        )
        for message in result.messages:
            self.stderr.write(message)
        ids = account_figures["account_id"][result.summary.index]
        with connection.cursor() as cursor:
            cursor.execute("SELECT id, code FROM customers_account WHERE archived = %s", [False])
            codes = dict(cursor.fetchall())
        summary = result.summary
        columns = [
            summary.frequency,
            summary.recency,
            summary.T,
            result.p_alive,
            result.expected_purchases,
            result.expected_order_value,
            result.clv,
        ]
        with open(options["output"], "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(CSV_COLUMNS)
            for position, account_id in enumerate(ids.tolist()):
                writer.writerow(
                    [codes[account_id], *(_number(float(c[position])) for c in columns)]
                )
        self.stdout.write(f"Wrote {ids.size} accounts to {options['output']}.")
