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
from typing import Any

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
DAY_COLUMNS = {"first_day", "last_day", "first_purchase", "last_purchase"}
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


def _first_purchase_sql() -> str:
    """The first purchase day and its revenue in one aggregate: MIN over 'YYYY-MM-DD:revenue'.

    ISO dates have a fixed width, so the smallest text is the first day's (C collation).
    PostgreSQL only: SQLite reads them with FIRST_PURCHASES_SQLITE (building the text
    is a third of its GROUP BY).
    """
    text = "CAST(d.day AS TEXT) || ':' || CAST(d.revenue AS TEXT)"
    return f',\n  MIN(CASE WHEN d.revenue > 0 THEN {text} END COLLATE "C")'


# SQLite: with exactly one MIN() in the query, a bare column (revenue) comes from the row
# holding the minimum (documented SQLite behaviour), here the first purchase day.
FIRST_PURCHASES_SQLITE = """
SELECT account_id, revenue, MIN(day)
FROM ledger_accountday
WHERE revenue > 0 AND day <= %s
GROUP BY account_id
ORDER BY account_id
"""


def figures_sql() -> str:
    """The GROUP BY over the rollups; first and last order are the first and last purchase day."""
    money = "DOUBLE PRECISION"
    first = _first_purchase_sql() if connection.vendor == "postgresql" else ""
    return f"""
SELECT d.account_id,
  CAST(SUM(d.revenue) AS {money}),
  CAST(SUM(d.cost) AS {money}),
  SUM(d.cost_lines),
  SUM(d.lines),
  SUM(d.orders),
  CAST(SUM(CASE WHEN d.day > %s THEN d.revenue ELSE 0 END) AS {money}),
  CAST(SUM(CASE WHEN d.day > %s AND d.day <= %s THEN d.revenue ELSE 0 END) AS {money}),
  SUM(CASE WHEN d.revenue > 0 THEN 1 ELSE 0 END),
  COALESCE({_day_sql("MAX(CASE WHEN d.revenue > 0 THEN d.day END)")}, -1),
  CAST(SUM(CASE WHEN d.revenue > 0 THEN d.revenue ELSE 0 END) AS {money}){first}
FROM ledger_accountday d
WHERE d.day <= %s
GROUP BY d.account_id
ORDER BY d.account_id
"""


def accounts_sql(tier_codes: list[str]) -> str:
    tier_case = " ".join(f"WHEN %s THEN {i}" for i in range(len(tier_codes)))
    tier_sql = f"CASE a.tier {tier_case} ELSE -1 END" if tier_codes else "-1"
    profile = ", ".join(f"COALESCE(p.{name}, -1)" for name in PROFILE_COLUMNS)
    return f"""
SELECT a.id,
  COALESCE(CAST(a.wallet_size AS DOUBLE PRECISION), -1),
  {tier_sql},
  CASE a.abc_class WHEN 'A' THEN 0 WHEN 'B' THEN 1 WHEN 'C' THEN 2 ELSE -1 END,
  {profile}
FROM customers_account a
LEFT JOIN segmentation_accountstrategicprofile p ON p.account_id = a.id
WHERE a.archived = %s
ORDER BY a.id
"""


AGGREGATE_COLUMNS = [
    "revenue",
    "cost",
    "cost_lines",
    "lines",
    "orders",
    "revenue_12m",
    "revenue_prev_12m",
    "purchase_days",
    "last_purchase",
    "purchase_revenue",
]
ACCOUNT_COLUMNS = [
    "account_id",
    "wallet_size",
    "tier_index",
    "previous_abc_index",
    *PROFILE_COLUMNS,
]


def _fetch(
    sql: str, params: list[Any], width: int, last_text: bool = False
) -> tuple[np.ndarray, list]:
    """Stream a query into a float array (and, if asked, its last column as a list of text)."""
    chunks: list[np.ndarray] = []
    texts: list = []
    # chunked_cursor streams on PostgreSQL (a server-side cursor) instead of buffering.
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(FETCH_ROWS):
            if last_text:
                texts.extend(row[-1] for row in rows)
                rows = [row[:-1] for row in rows]
            chunks.append(np.array(rows, dtype=np.float64).reshape(-1, width))
    return (np.concatenate(chunks) if chunks else np.zeros((0, width))), texts


def _first_purchases_parse(texts: list) -> tuple[np.ndarray, np.ndarray]:
    """Day number and revenue from 'YYYY-MM-DD:revenue' texts (None without a purchase)."""
    first_day = np.full(len(texts), -1.0)
    first_revenue = np.zeros(len(texts))
    bought = np.array([text is not None for text in texts], dtype=bool)
    if bought.any():
        present = [text for text in texts if text is not None]
        days = np.array([text[:10] for text in present], dtype="datetime64[D]")
        first_day[bought] = days.astype(np.int64)
        first_revenue[bought] = [float(text[11:]) for text in present]
    return first_day, first_revenue


def account_figures(as_of: dt.date, tier_codes: list[str]) -> AccountFigures:
    """Figures of every non-archived account from its AccountDay rows up to ``as_of``.

    Two streamed queries (the GROUP BY over the rollups, and the accounts with their
    strategic criteria; on SQLite a third for the first purchases), merged on the
    account id in NumPy.
    """
    year_ago, two_years_ago = _years_back(as_of, 1), _years_back(as_of, 2)
    params: list[Any] = [
        year_ago.isoformat(),
        two_years_ago.isoformat(),
        year_ago.isoformat(),
        as_of.isoformat(),
    ]
    width = 1 + len(AGGREGATE_COLUMNS)
    if connection.vendor == "postgresql":
        totals, first_texts = _fetch(figures_sql(), params, width, last_text=True)
        first_day, first_revenue = _first_purchases_parse(first_texts)
    else:
        totals, _ = _fetch(figures_sql(), params, width)
        firsts, days = _fetch(FIRST_PURCHASES_SQLITE, [as_of.isoformat()], 2, last_text=True)
        first_day = np.full(totals.shape[0], -1.0)
        first_revenue = np.zeros(totals.shape[0])
        at = np.searchsorted(totals[:, 0], firsts[:, 0])
        first_day[at] = np.array(days, dtype="datetime64[D]").astype(np.int64)
        first_revenue[at] = firsts[:, 1]
    accounts, _ = _fetch(accounts_sql(tier_codes), [*tier_codes, False], len(ACCOUNT_COLUMNS))
    n = accounts.shape[0]
    columns = {name: np.ascontiguousarray(accounts[:, i]) for i, name in enumerate(ACCOUNT_COLUMNS)}
    columns["account_id"] = columns["account_id"].astype(np.int64)
    ids = totals[:, 0].astype(np.int64)
    positions = np.searchsorted(columns["account_id"], ids)
    # Rollups of archived accounts are not scored.
    known = positions < n
    known[known] = columns["account_id"][positions[known]] == ids[known]
    positions = positions[known]
    for i, name in enumerate(AGGREGATE_COLUMNS, start=1):
        column = np.full(n, -1.0 if name in DAY_COLUMNS else 0.0)
        column[positions] = totals[known, i]
        columns[name] = column
    has_orders = np.zeros(n)
    has_orders[positions] = 1.0
    columns["has_orders"] = has_orders
    for name, values, empty in (
        ("first_purchase", first_day, -1.0),
        ("first_purchase_revenue", first_revenue, 0.0),
    ):
        column = np.full(n, empty)
        column[positions] = values[known]
        columns[name] = column
    columns["first_day"] = columns["first_purchase"]
    columns["last_day"] = columns["last_purchase"]
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
