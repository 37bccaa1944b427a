"""Per-account figures as of a date, aggregated in the database from the daily rollups.

One GROUP BY over ``ledger.AccountDay`` (per account and day totals kept current by
the importer), never over order lines, streamed into NumPy arrays in chunks so a
million accounts stay within a few hundred MB. Days after ``as_of`` are ignored, so
future-dated lines never count. A purchase day is a day with positive net revenue;
the CLV models see exactly those days (same-day orders are one transaction).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
from django.db import connection

FETCH_ROWS = 50_000
_EPOCH = dt.date(1970, 1, 1)

# Columns of the query below, in order; all numeric (dates as days since 1970-01-01).
COLUMNS = [
    "account_id",
    "has_orders",
    "wallet_size",
    "tier_index",
    "previous_abc_index",
    "strategic_project",
    "market_influence",
    "technology_absorption",
    "growth_potential",
    "business_potential",
    "development_potential",
    "service_potential",
    "revenue",
    "cost",
    "cost_lines",
    "lines",
    "orders",
    "first_day",
    "last_day",
    "revenue_12m",
    "revenue_prev_12m",
    "purchase_days",
    "first_purchase",
    "last_purchase",
    "purchase_revenue",
    "first_purchase_revenue",
]
PROFILE_COLUMNS = COLUMNS[5:12]
ABC_CODES = ["A", "B", "C"]


@dataclass
class AccountFigures:
    """Arrays indexed alike, one entry per (non-archived) account, sorted by account id."""

    as_of: dt.date
    columns: dict[str, np.ndarray]
    tier_codes: list[str]
    # Current tiers that are not in the configured rules (code by account id).
    other_tiers: dict[int, str]

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]

    @property
    def size(self) -> int:
        return int(self.columns["account_id"].size)

    def current_tiers(self) -> np.ndarray:
        codes = np.array([*self.tier_codes, ""], dtype=object)
        index = self.columns["tier_index"].astype(np.int64)
        tiers = codes[np.where(index < 0, len(self.tier_codes), index)]
        if self.other_tiers:
            positions = np.searchsorted(self["account_id"], list(self.other_tiers))
            tiers[positions] = list(self.other_tiers.values())
        return tiers

    def previous_abc(self) -> np.ndarray:
        codes = np.array([*ABC_CODES, ""], dtype=object)
        index = self.columns["previous_abc_index"].astype(np.int64)
        return codes[np.where(index < 0, 3, index)]


def day_number(day: dt.date) -> int:
    return (day - _EPOCH).days


def date_of(number: float) -> dt.date:
    return _EPOCH + dt.timedelta(days=int(number))


def _day_sql(expression: str) -> str:
    """SQL giving the days since 1970-01-01 of a date expression (NULL stays NULL)."""
    if connection.vendor == "postgresql":
        return f"({expression} - DATE '1970-01-01')"
    return f"CAST(julianday({expression}) - 2440587.5 AS INTEGER)"


def _years_back(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def figures_sql(tier_codes: list[str]) -> str:
    tier_case = " ".join(f"WHEN %s THEN {i}" for i in range(len(tier_codes)))
    tier_sql = f"CASE a.tier {tier_case} ELSE -1 END" if tier_codes else "-1"
    money = "DOUBLE PRECISION"
    profile = ", ".join(f"COALESCE(p.{name}, -1)" for name in PROFILE_COLUMNS)
    return f"""
WITH agg AS (
  SELECT d.account_id,
    SUM(d.revenue) AS revenue,
    SUM(d.cost) AS cost,
    SUM(d.cost_lines) AS cost_lines,
    SUM(d.lines) AS lines,
    SUM(d.orders) AS orders,
    MIN(d.day) AS first_day,
    MAX(d.day) AS last_day,
    SUM(CASE WHEN d.day > %s THEN d.revenue ELSE 0 END) AS revenue_12m,
    SUM(CASE WHEN d.day > %s AND d.day <= %s THEN d.revenue ELSE 0 END) AS revenue_prev_12m,
    SUM(CASE WHEN d.revenue > 0 THEN 1 ELSE 0 END) AS purchase_days,
    MIN(CASE WHEN d.revenue > 0 THEN d.day END) AS first_purchase,
    MAX(CASE WHEN d.revenue > 0 THEN d.day END) AS last_purchase,
    SUM(CASE WHEN d.revenue > 0 THEN d.revenue ELSE 0 END) AS purchase_revenue
  FROM ledger_accountday d
  WHERE d.day <= %s
  GROUP BY d.account_id
)
SELECT a.id,
  CASE WHEN agg.account_id IS NULL THEN 0 ELSE 1 END,
  COALESCE(CAST(a.wallet_size AS {money}), -1),
  {tier_sql},
  CASE a.abc_class WHEN 'A' THEN 0 WHEN 'B' THEN 1 WHEN 'C' THEN 2 ELSE -1 END,
  {profile},
  COALESCE(CAST(agg.revenue AS {money}), 0),
  COALESCE(CAST(agg.cost AS {money}), 0),
  COALESCE(agg.cost_lines, 0),
  COALESCE(agg.lines, 0),
  COALESCE(agg.orders, 0),
  COALESCE({_day_sql("agg.first_day")}, -1),
  COALESCE({_day_sql("agg.last_day")}, -1),
  COALESCE(CAST(agg.revenue_12m AS {money}), 0),
  COALESCE(CAST(agg.revenue_prev_12m AS {money}), 0),
  COALESCE(agg.purchase_days, 0),
  COALESCE({_day_sql("agg.first_purchase")}, -1),
  COALESCE({_day_sql("agg.last_purchase")}, -1),
  COALESCE(CAST(agg.purchase_revenue AS {money}), 0),
  COALESCE(CAST(f.revenue AS {money}), 0)
FROM customers_account a
LEFT JOIN agg ON agg.account_id = a.id
LEFT JOIN ledger_accountday f ON f.account_id = a.id AND f.day = agg.first_purchase
LEFT JOIN segmentation_accountstrategicprofile p ON p.account_id = a.id
WHERE a.archived = %s
ORDER BY a.id
"""


def account_figures(as_of: dt.date, tier_codes: list[str]) -> AccountFigures:
    """Figures of every non-archived account from its AccountDay rows up to ``as_of``."""
    year_ago, two_years_ago = _years_back(as_of, 1), _years_back(as_of, 2)
    params: list[object] = [
        year_ago.isoformat(),
        two_years_ago.isoformat(),
        year_ago.isoformat(),
        as_of.isoformat(),
        *tier_codes,
        False,
    ]
    chunks = []
    # chunked_cursor streams on PostgreSQL (a server-side cursor) instead of buffering.
    with connection.chunked_cursor() as cursor:
        cursor.execute(figures_sql(tier_codes), params)
        while rows := cursor.fetchmany(FETCH_ROWS):
            chunks.append(np.array(rows, dtype=np.float64))
    table = np.concatenate(chunks) if chunks else np.zeros((0, len(COLUMNS)))
    columns = {name: np.ascontiguousarray(table[:, i]) for i, name in enumerate(COLUMNS)}
    del table, chunks
    columns["account_id"] = columns["account_id"].astype(np.int64)
    other_tiers: dict[int, str] = {}
    with connection.cursor() as cursor:
        placeholders = ", ".join(["%s"] * len(tier_codes)) or "''"
        cursor.execute(
            "SELECT id, tier FROM customers_account WHERE archived = %s AND tier <> '' "
            f"AND tier NOT IN ({placeholders}) ORDER BY id",
            [False, *tier_codes],
        )
        other_tiers = dict(cursor.fetchall())
    return AccountFigures(
        as_of=as_of, columns=columns, tier_codes=tier_codes, other_tiers=other_tiers
    )


def last_order_day() -> dt.date | None:
    """The latest day in the rollups (None without any order)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT MIN(day), MAX(day) FROM ledger_accountday")
        _first, last = cursor.fetchone()
    if last is None:
        return None
    return last if isinstance(last, dt.date) else dt.date.fromisoformat(str(last))


def first_order_day() -> dt.date | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT MIN(day) FROM ledger_accountday")
        (first,) = cursor.fetchone()
    if first is None:
        return None
    return first if isinstance(first, dt.date) else dt.date.fromisoformat(str(first))


def future_days_count(as_of: dt.date) -> int:
    """How many account-days lie after ``as_of`` (ignored by this scoring)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM ledger_accountday WHERE day > %s", [as_of.isoformat()])
        return int(cursor.fetchone()[0])
