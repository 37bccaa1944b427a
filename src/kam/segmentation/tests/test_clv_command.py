"""`kam clv fit|predict` against kam.lib.clv's own summary builder and the lifetimes oracle."""

import csv
import datetime as dt
import io
import json
import warnings

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from kam.lib import clv as clv_model
from kam.segmentation.tests.helpers import orders_add, random_history

END = dt.date(2024, 12, 31)


@pytest.fixture
def history(account_make):
    return random_history([account_make() for _ in range(150)], seed=11)


def fit_json(period: str) -> dict:
    out = io.StringIO()
    call_command(
        "clv", "fit", "--calibration-end", END.isoformat(), "--period", period, "--json", stdout=out
    )
    return json.loads(out.getvalue())


def lib_summary(history: list, period: str) -> clv_model.TransactionSummary:
    ids = np.array([row[0] for row in history])
    days = np.array([row[1] for row in history], dtype="datetime64[D]")
    amounts = np.array([row[2] for row in history])
    return clv_model.summary_from_transactions(
        ids, days, END, amounts, unit="D", unit_multiplier=7.0 if period == "week" else 1.0
    )


@pytest.mark.parametrize("period", ["week", "day"])
def test_fit_json_matches_the_lib_fit_on_the_lib_summary(history, period):
    result = fit_json(period)
    summary = lib_summary(history, period)
    transactions = clv_model.fit_bgnbd(summary.frequency, summary.recency, summary.T)
    spend = clv_model.fit_gamma_gamma(summary.frequency, summary.monetary_value)
    assert set(result) >= {
        "r",
        "alpha",
        "a",
        "b",
        "p",
        "q",
        "v",
        "log_likelihood",
        "n_accounts",
        "n_repeat",
    }
    assert result["calibration_end"] == "2024-12-31" and result["period"] == period
    assert result["n_accounts"] == summary.frequency.size
    assert result["n_repeat"] == int((summary.frequency > 0).sum())
    for name in ("r", "alpha", "a", "b"):
        assert result[name] == pytest.approx(getattr(transactions, name), rel=1e-3)
    for name in ("p", "q", "v"):
        assert result[name] == pytest.approx(getattr(spend, name), rel=1e-3)
    assert result["log_likelihood"]["bgnbd"] == pytest.approx(transactions.log_likelihood, rel=1e-6)


def test_fit_matches_lifetimes_to_three_significant_digits(history):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lifetimes = pytest.importorskip("lifetimes")
        import pandas as pd
    frame = pd.DataFrame(history, columns=["account", "date", "revenue"])
    frame["date"] = pd.to_datetime(frame["date"])
    frame = frame.groupby(["account", "date"], as_index=False)["revenue"].sum()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        summary = lifetimes.utils.summary_data_from_transaction_data(
            frame,
            "account",
            "date",
            monetary_value_col="revenue",
            observation_period_end=END,
            freq="D",
            freq_multiplier=7,
        )
        oracle = lifetimes.BetaGeoFitter().fit(
            summary["frequency"], summary["recency"], summary["T"]
        )
        repeat = summary[summary["frequency"] > 0]
        spend = lifetimes.GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
    result = fit_json("week")
    for name in ("r", "alpha", "a", "b"):
        assert result[name] == pytest.approx(oracle.params_[name], rel=1e-3)
    for name in ("p", "q", "v"):
        assert result[name] == pytest.approx(spend.params_[name], rel=1e-3)


def test_predict_writes_one_row_per_account(history, tmp_path):
    target = tmp_path / "clv.csv"
    call_command(
        "clv",
        "predict",
        "--calibration-end",
        END.isoformat(),
        "--period",
        "week",
        "--horizon",
        "26",
        "--output",
        str(target),
        stdout=io.StringIO(),
    )
    rows = list(csv.DictReader(target.open(encoding="utf-8")))
    assert list(rows[0]) == [
        "account_code",
        "frequency",
        "recency",
        "T",
        "p_alive",
        "expected_purchases",
        "expected_order_value",
        "clv",
    ]
    assert len(rows) == len({row[0] for row in history if row[1] <= END})
    assert all(0 <= float(row["p_alive"]) <= 1 for row in rows)
    assert all(float(row["clv"]) >= 0 for row in rows)


def test_calibration_before_any_order_is_a_clear_error(account_make):
    orders_add(account_make(), [("2025-01-05", 100, None)])
    with pytest.raises(CommandError, match="before the first order"):
        call_command("clv", "fit", "--calibration-end", "2024-01-01", "--period", "week")


def test_no_repeat_purchase_is_a_clear_error(account_make):
    orders_add(account_make(), [("2025-01-05", 100, None)])
    with pytest.raises(CommandError, match="repeat"):
        call_command("clv", "fit", "--calibration-end", "2025-02-01", "--period", "day")


def test_predict_needs_an_output_and_a_horizon(history):
    with pytest.raises(CommandError, match="--output"):
        call_command("clv", "predict", "--calibration-end", END.isoformat(), "--horizon", "4")
    with pytest.raises(CommandError, match="--horizon"):
        call_command("clv", "predict", "--calibration-end", END.isoformat(), "--output", "x.csv")


def test_bad_date_is_a_clear_error(history):
    with pytest.raises(CommandError, match="Not a date"):
        call_command("clv", "fit", "--calibration-end", "31/12/2024")
