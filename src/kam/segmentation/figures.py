"""Per-account figures as of a date, read in the database from the ledger's rollups.

One query over ``ledger.AccountTotal`` (per-account totals kept current by the importer
with the daily ``AccountDay`` rows), never over order lines nor every daily row,
streamed into NumPy arrays in chunks so a million accounts stay within a few hundred
MB. A second query sums the days after ``as_of`` of the accounts that have any, which
are subtracted, so future-dated lines never count; both read one snapshot. On large ledgers
the reading is shared by three readers on both cores (_figures_and_future). A purchase
day is a day with positive net revenue; the CLV models see exactly those days (same-day
orders are one transaction).
"""

from __future__ import annotations

import datetime as dt
import logging
import subprocess
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.db import connection, transaction

from kam.lib import pgcopy, sqlite_numbers

logger = logging.getLogger(__name__)

_EPOCH = dt.date(1970, 1, 1)
# From this many accounts the figures are read by three readers at once (see
# _figures_and_future). Below it, starting the other readers costs more than it saves.
SPLIT_MIN_ACCOUNTS = 200_000
# Account ids bounding a read of every account.
_ID_MIN, _ID_MAX = -(2**62), 2**62

# The person-judged criteria read with the figures (segmentation.AccountStrategicProfile).
PROFILE_COLUMNS = [
    "strategic_project",
    "market_influence",
    "technology_absorption",
    "growth_potential",
    "business_potential",
    "development_potential",
    "service_potential",
]
ABC_CODES = ["A", "B", "C"]


class FiguresError(ValueError):
    """The ledger holds something the figures cannot be computed from (message says what)."""


@dataclass
class AccountFigures:
    """Arrays indexed alike, one entry per (non-archived) account, sorted by account id."""

    as_of: dt.date
    columns: dict[str, np.ndarray]
    tier_codes: list[str]
    # Current tiers that are not in the configured rules (code by account id).
    other_tiers: dict[int, str]
    # Account-days after as_of, left out.
    future_days: int = 0

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

    def current_tier_index(self) -> np.ndarray:
        """Each account's tier as its position in tier_codes; -1 for none, -2 for another."""
        index = self.columns["tier_index"].astype(np.int64)
        if self.other_tiers:
            index[np.searchsorted(self["account_id"], list(self.other_tiers))] = -2
        return index

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


_LAST_PURCHASE = """CASE WHEN t.last_purchase IS NULL THEN NULL
    WHEN t.last_purchase <= %(as_of)s THEN t.last_purchase
    ELSE (SELECT s.day FROM ledger_accountday s WHERE s.account_id = t.account_id
      AND s.day <= %(as_of)s AND s.revenue > 0 ORDER BY s.day DESC LIMIT 1) END"""


def _running_revenue_sql(day: str) -> str:
    """The account's revenue up to and including ``day`` (a parameter), for the row ``t``.

    Zero before its first day, its total after its last day, else one index look-up of
    the running total on its last rollup day not after ``day``.
    """
    return f"""CASE WHEN t.account_id IS NULL OR t.first_day > {day} THEN 0
    WHEN t.last_day <= {day} THEN t.revenue
    ELSE (SELECT s.revenue_to_date FROM ledger_accountday s
      WHERE s.account_id = t.account_id AND s.day <= {day} ORDER BY s.day DESC LIMIT 1) END"""


_FUTURE_SUMS = """CAST(SUM(d.revenue) AS DOUBLE PRECISION), CAST(SUM(d.cost) AS DOUBLE PRECISION),
    SUM(d.cost_lines), SUM(d.lines), SUM(d.orders),
    SUM(CASE WHEN d.revenue > 0 THEN 1 ELSE 0 END),
    CAST(SUM(CASE WHEN d.revenue > 0 THEN d.revenue ELSE 0 END) AS DOUBLE PRECISION),
    COUNT(*), MAX(CASE WHEN ft.first_day > %(as_of)s THEN 1 ELSE 0 END)"""


# Columns of FUTURE_SQL, in order.
FUTURE_COLUMNS = [
    "account_id",
    "revenue",
    "cost",
    "cost_lines",
    "lines",
    "orders",
    "purchase_days",
    "purchase_revenue",
    "future_days",
    "only_later",
]

# Per account with days after as_of: the sums of those days, which account_figures
# subtracts from the totals (nothing when every day is later: those totals are not read).
# Few accounts have any, so reading them apart costs the main query no join.
# CROSS JOIN keeps SQLite's join order (the few totals with later days, then an index
# range each); PostgreSQL reorders it freely and picks a parallel hash join, faster there
# than a million index ranges through a small buffer cache.
FUTURE_SQL = f"""
  SELECT d.account_id, {_FUTURE_SUMS}
  FROM ledger_accounttotal ft CROSS JOIN ledger_accountday d
  WHERE ft.last_day > %(as_of)s AND d.account_id = ft.account_id AND d.day > %(as_of)s
  GROUP BY d.account_id
  ORDER BY d.account_id"""


def tier_index_sql(column: str, tier_codes: list[str], other: int = -1) -> str:
    """SQL giving a tier column's position in ``tier_codes`` (``other`` for any other tier).

    The codes are parameters tier0, tier1, … (see tier_params).
    """
    if not tier_codes:
        return str(int(other))
    cases = " ".join(f"WHEN %(tier{i})s THEN {i}" for i in range(len(tier_codes)))
    return f"CASE {column} {cases} ELSE {int(other)} END"


def tier_params(tier_codes: list[str]) -> dict[str, str]:
    return {f"tier{i}": code for i, code in enumerate(tier_codes)}


# Small whole numbers travel packed into one value (bits, low first), as fewer values
# cross from SQLite into Python: converting them one by one is most of reading the figures
# (17 values per account took ≈ 4 s of ≈ 9 s for 1,000,000 accounts). All packs stay
# within the 53 bits a float64 holds exactly.
PACKS: dict[str, list[tuple[str, int]]] = {
    "flags": [("has_orders", 1), ("previous_abc_index", 2), ("tier_index", 10), ("too_big", 1)],
    "counts": [("purchase_days", 20), ("orders", 33)],
    "lines": [("cost_lines", 26), ("lines", 27)],
    "days": [("first_purchase", 20), ("last_purchase", 20)],
}
# Packed parts that are -1 for none are stored plus one.
_OFFSET_PARTS = {"previous_abc_index", "tier_index", "first_purchase", "last_purchase"}


def _pack_sql(parts: dict[str, str], pack: str) -> str:
    terms, shift = [], 0
    for name, bits in PACKS[pack]:
        expression = f"CAST({parts[name]} AS BIGINT)"
        if name in _OFFSET_PARTS:
            expression = f"({expression} + 1)"
        terms.append(expression if not shift else f"{expression} * {2**shift}")
        shift += bits
    return " + ".join(terms)


def _unpack(values: np.ndarray, pack: str) -> dict[str, np.ndarray]:
    numbers = values.astype(np.int64)
    columns, shift = {}, 0
    for name, bits in PACKS[pack]:
        part = (numbers >> shift) & ((1 << bits) - 1)
        columns[name] = (part - 1 if name in _OFFSET_PARTS else part).astype(np.float64)
        shift += bits
    return columns


def figures_sql(tier_codes: list[str]) -> str:
    """Every non-archived account with its totals and figures as of a date.

    From the per-account totals; the days after the date are subtracted afterwards
    (FUTURE_SQL). Revenue up to a date is a running total, read by one index look-up
    where the date falls inside the account's days. Named parameters: as_of, year_ago,
    two_years_ago, archived, previous_run (the run whose ABC classes are the previous
    ones, -1 for none), id_from and id_to (the account ids read: from ≤ id < to),
    tier0, tier1, …
    """
    tier_bits = dict(PACKS["flags"])["tier_index"]
    if len(tier_codes) >= 2**tier_bits - 1:  # rules.MAX_RULES keeps configurations below
        raise ValueError("Too many tiers.")
    money = "DOUBLE PRECISION"

    def total(name: str) -> str:
        return f"CAST(COALESCE(t.{name}, 0) AS {money})"

    first_purchase = "CASE WHEN t.first_purchase <= %(as_of)s THEN t.first_purchase END"
    parts = {
        "has_orders": "CASE WHEN t.account_id IS NULL THEN 0 ELSE 1 END",
        "previous_abc_index": (
            "CASE p.abc_class WHEN 'A' THEN 0 WHEN 'B' THEN 1 WHEN 'C' THEN 2 ELSE -1 END"
        ),
        "tier_index": tier_index_sql("a.tier", tier_codes),
        "purchase_days": "COALESCE(t.purchase_days, 0)",
        "orders": "COALESCE(t.orders, 0)",
        "cost_lines": "COALESCE(t.cost_lines, 0)",
        "lines": "COALESCE(t.lines, 0)",
        "first_purchase": f"COALESCE({_day_sql(first_purchase)}, -1)",
        "last_purchase": f"COALESCE({_day_sql(_LAST_PURCHASE)}, -1)",
    }
    # An account whose counts would not fit their bits is flagged, never packed wrong
    # (cost lines are at most the lines: the lines are held to the cost lines' bits).
    limits = {name: 2**bits for pack in PACKS.values() for name, bits in pack}
    parts["too_big"] = (
        f"CASE WHEN {parts['lines']} >= {limits['cost_lines']} "
        f"OR {parts['orders']} >= {limits['orders']} "
        f"OR {parts['purchase_days']} >= {limits['purchase_days']} THEN 1 ELSE 0 END"
    )
    return f"""
SELECT a.id,
  {_pack_sql(parts, "flags")},
  {total("revenue")},
  {total("cost")},
  {_pack_sql(parts, "counts")},
  {_pack_sql(parts, "lines")},
  {total("purchase_revenue")},
  CAST(CASE WHEN t.first_purchase <= %(as_of)s THEN t.first_purchase_revenue ELSE 0 END
    AS {money}),
  {_pack_sql(parts, "days")},
  CAST({_running_revenue_sql("%(year_ago)s")} AS {money}),
  CAST({_running_revenue_sql("%(two_years_ago)s")} AS {money})
FROM customers_account a
LEFT JOIN ledger_accounttotal t ON t.account_id = a.id AND t.first_day <= %(as_of)s
LEFT JOIN segmentation_accountscore p ON p.run_id = %(previous_run)s AND p.account_id = a.id
WHERE a.archived = %(archived)s AND a.id >= %(id_from)s AND a.id < %(id_to)s
ORDER BY a.id
"""


# Columns of figures_sql, in order; all numeric (dates as days since 1970-01-01, -1 for
# none); the packs are unpacked by account_figures.
QUERY_COLUMNS = [
    "account_id",
    "flags",
    "revenue",
    "cost",
    "counts",
    "lines",
    "purchase_revenue",
    "first_purchase_revenue",
    "days",
    "revenue_to_year_ago",
    "revenue_to_two_years_ago",
]


def _copy_statement(sql: str, params: dict[str, Any], width: int) -> str:
    """A binary COPY of a query of numbers, its parameters bound (COPY takes none).

    The rows travel as one row of ``width`` arrays (a column each), not a row per
    account: a million one-row COPY messages cost the server and, mostly, the client
    (≈ 1.8 s of Python per 500,000 rows, against ≈ 0.1 s for the arrays). The server
    holds the arrays while it builds them, about 10 bytes per value.
    """
    names = ", ".join(f"c{i}" for i in range(width))
    floats = ", ".join(
        f"COALESCE(CAST(c{i} AS DOUBLE PRECISION), 'NaN') AS f{i}" for i in range(width)
    )
    arrays = ", ".join(f"array_agg(f{i})" for i in range(width))
    query = f"SELECT {arrays} FROM (SELECT {floats} FROM ({sql}) AS q({names}) ORDER BY c0) AS r"
    with connection.cursor() as cursor:
        statement = cursor.cursor.mogrify(query, params)
    return f"COPY ({statement}) TO STDOUT (FORMAT BINARY)"


# A float8 array in binary: dimensions, has-nulls flag, element type, then per dimension
# its size and lower bound; then per element a length (8) and the value.
_ARRAY_HEADER = np.dtype([("ndim", ">i4"), ("has_nulls", ">i4"), ("type", ">u4")])
_ARRAY_ELEMENT = np.dtype([("length", ">i4"), ("value", ">f8")])


def copied_columns(data: bytes, width: int) -> np.ndarray:
    """The float array (rows × width) in the binary COPY ``data`` of a _copy_statement.

    Rows are put in order of the first column should the server not have kept the
    order the arrays were built in.
    """
    if not data.startswith(pgcopy.SIGNATURE) or not data.endswith(pgcopy.TRAILER):
        raise ValueError("Unexpected binary COPY data.")
    body = memoryview(data)[len(pgcopy.SIGNATURE) : -len(pgcopy.TRAILER)]
    if int.from_bytes(body[:2], "big") != width:
        raise ValueError("Unexpected binary COPY data: not one row of arrays.")
    position, columns = 2, []
    for _ in range(width):
        length = int.from_bytes(body[position : position + 4], "big", signed=True)
        position += 4
        if length < 0:  # array_agg of no rows
            columns.append(np.empty(0))
            continue
        header = np.frombuffer(body, dtype=_ARRAY_HEADER, count=1, offset=position)[0]
        if header["ndim"] == 0:
            columns.append(np.empty(0))
        elif header["ndim"] != 1 or header["has_nulls"]:
            raise ValueError("Unexpected binary COPY data: not a plain array of numbers.")
        else:
            size = int.from_bytes(body[position + 12 : position + 16], "big")
            offset = position + 20
            elements = np.frombuffer(body, dtype=_ARRAY_ELEMENT, count=size, offset=offset)
            columns.append(elements["value"].astype(np.float64))
        position += length
    values = np.column_stack(columns) if columns[0].size else np.empty((0, width))
    first = values[:, 0]
    if first.size > 1 and np.any(first[1:] < first[:-1]):
        values = values[np.argsort(first, kind="stable")]
    return values


def _copy_numbers(cursor: Any, statement: str, width: int) -> np.ndarray:
    """The rows of a _copy_statement as a float array (NULL as NaN), on a psycopg cursor."""
    with cursor.copy(statement) as copy:
        data = b"".join(bytes(block) for block in copy)
    return copied_columns(data, width)


def numbers_fetch(sql: str, params: dict[str, Any], width: int) -> np.ndarray:
    """Stream a query of numbers (named parameters) into a float array, NULL as NaN."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            return _copy_numbers(cursor.cursor, _copy_statement(sql, params, width), width)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return sqlite_numbers.rows_array(cursor, width)


# Settings of a query read beside others (_read_at_once). The later days read beside the
# two halves of the figures plan without parallel workers (and sort in memory): three
# processes of theirs on two cores slowed the halves more than they sped the later days
# up (PostgreSQL, a million accounts: the figures step 6.6-9.9 s -> 6.0-8.9 s, four pairs
# alternately in one process). Read alone, the parallel plan is the faster one.
_BESIDE_SETTINGS: dict[str, tuple[str, ...]] = {
    FUTURE_SQL: ("SET LOCAL max_parallel_workers_per_gather = 0", "SET LOCAL work_mem = '64MB'"),
}


def _postgresql_read_elsewhere(
    params: dict[str, Any],
    snapshot: str | None,
    statement: str,
    width: int,
    settings: tuple[str, ...] = (),
) -> np.ndarray:
    """A COPY on a second connection (``params``) that sees the exported ``snapshot``.

    Without a snapshot it sees what is committed when it starts. ``settings`` are SET
    LOCAL statements run first.
    """
    import psycopg
    from psycopg import sql

    with psycopg.connect(**params) as other:
        other.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        if snapshot is not None:
            other.execute(sql.SQL("SET TRANSACTION SNAPSHOT {}").format(snapshot))
        other.execute("SET LOCAL jit = off")
        for setting in settings:
            other.execute(setting)
        with other.cursor() as cursor:
            return _copy_numbers(cursor, statement, width)


def _split_possible(snapshot_owned: bool) -> bool:
    """Whether a second reader can see exactly what this connection sees.

    PostgreSQL: a second connection imports this transaction's REPEATABLE READ snapshot
    (not a caller's, whose isolation level is its own). SQLite: a helper process on the
    database file starts its read transaction while this connection holds the write lock
    (transactions begin IMMEDIATE), so no commit can come between the two reads.
    """
    if connection.vendor == "postgresql":
        return snapshot_owned
    if connection.vendor != "sqlite" or not connection.in_atomic_block:
        return False
    mode = connection.settings_dict["OPTIONS"].get("transaction_mode", "")
    return str(mode).upper() in ("IMMEDIATE", "EXCLUSIVE") and _sqlite_file() is not None


def _sqlite_file() -> str | None:
    """The SQLite database file a helper process can open (None for a memory database)."""
    if connection.vendor != "sqlite" or getattr(connection, "is_in_memory_db", lambda: True)():
        return None
    return str(connection.settings_dict["NAME"])


def _split_id(params: dict[str, Any]) -> int | None:
    """The account id that halves the accounts to read (None: too few to split)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM customers_account WHERE archived = %s", [params["archived"]]
        )
        (count,) = cursor.fetchone()
        if count < SPLIT_MIN_ACCOUNTS:
            return None
        cursor.execute(
            "SELECT id FROM customers_account WHERE archived = %s ORDER BY id LIMIT 1 OFFSET %s",
            [params["archived"], count // 2],
        )
        return int(cursor.fetchone()[0])


Query = tuple[str, dict[str, Any], int]  # SQL, named parameters, width


def _read_at_once(queries: list[Query]) -> list[np.ndarray]:
    """The queries' rows, the first read here and the others elsewhere at the same time.

    Elsewhere is a second PostgreSQL connection (in a thread: psycopg waits for COPY data
    without the GIL) or a SQLite helper process; see _split_possible.
    """
    (sql, params, width), *others = queries
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_export_snapshot()")
            (snapshot,) = cursor.fetchone()
        connection_params = connection.get_connection_params()
        with ThreadPoolExecutor(max_workers=len(others)) as pool:
            elsewhere = [
                pool.submit(
                    _postgresql_read_elsewhere,
                    connection_params,
                    snapshot,
                    _copy_statement(*query),
                    query[2],
                    _BESIDE_SETTINGS.get(query[0], ()),
                )
                for query in others
            ]
            here = numbers_fetch(sql, params, width)
            pairs = zip(elsewhere, others, strict=True)
            return [here, *(_elsewhere_or_here(future, query) for future, query in pairs)]
    database = _sqlite_file()
    assert database is not None
    helpers = [_helper_start(database, query) for query in others]
    try:
        here = numbers_fetch(sql, params, width)
    except BaseException:
        for helper in helpers:
            if helper is not None:
                sqlite_numbers.helper_stop(helper)
        raise
    started = zip(helpers, others, strict=True)
    return [here, *(_helper_or_here(helper, query) for helper, query in started)]


def _elsewhere_or_here(future: Future[np.ndarray], query: Query) -> np.ndarray:
    """A second connection's rows; read here (in the same snapshot) if it failed.

    The other connections are only more cores: when the server refuses them (e.g. no
    connection slot left), the scoring goes on, more slowly.
    """
    import psycopg

    try:
        return future.result()
    except psycopg.OperationalError as error:
        logger.warning("Reading on a second connection failed, reading here: %s", error)
        return numbers_fetch(*query)


def _helper_start(database: str, query: Query) -> subprocess.Popen | None:
    try:
        return sqlite_numbers.helper_start(database, *query)
    except OSError as error:
        logger.warning("A helper process could not start, reading here: %s", error)
        return None


def _helper_or_here(helper: subprocess.Popen | None, query: Query) -> np.ndarray:
    """A helper's rows; read here instead if it failed (still inside the write lock).

    A helper is only a second core: if it cannot run (no such interpreter under an
    embedding server, a file it may not open), the scoring goes on, more slowly.
    """
    if helper is None:
        return numbers_fetch(*query)
    try:
        return sqlite_numbers.helper_result(helper, query[2])
    except RuntimeError as error:
        logger.warning("Reading in a helper process failed, reading here: %s", error)
        return numbers_fetch(*query)


@contextmanager
def numbers_beside(
    sql: str, params: dict[str, Any], width: int, *, beside: bool = True
) -> Iterator[Callable[[], np.ndarray]]:
    """Read a query of numbers on the other core while this connection goes on writing.

    Yields a function that waits for the rows (as numbers_fetch gives them). For the
    caller's transaction, before it writes anything the query reads: the rows are those
    this connection would read at the start. SQLite: a helper process whose read begins
    while this transaction holds the write lock (IMMEDIATE), so it sees exactly what this
    transaction saw before its writes. PostgreSQL: a second connection, which sees what is
    committed when it starts, as a statement of this READ COMMITTED transaction would.
    Elsewhere (``beside`` false, e.g. a small run where starting a reader costs more than
    it saves; a memory database, no write lock, a helper or connection that fails) the
    rows are read here when asked for.
    """
    query: Query = (sql, params, width)
    # (PostgreSQL: only in a transaction of the caller's own, not inside another one whose
    # uncommitted rows a second connection would not see.)
    if beside and connection.vendor == "postgresql" and len(connection.atomic_blocks) == 1:
        statement = _copy_statement(*query)
        pool = ThreadPoolExecutor(max_workers=1)
        future = pool.submit(
            _postgresql_read_elsewhere, connection.get_connection_params(), None, statement, width
        )
        pool.shutdown(wait=False)
        try:
            yield lambda: _elsewhere_or_here(future, query)
        finally:
            future.cancel()
        return
    if not beside or not _split_possible(False):
        yield lambda: numbers_fetch(*query)
        return
    database = _sqlite_file()
    assert database is not None
    helper = _helper_start(database, query)
    collected = False

    def rows() -> np.ndarray:
        nonlocal collected
        collected = True
        return _helper_or_here(helper, query)

    try:
        yield rows
    finally:
        if helper is not None and not collected:
            sqlite_numbers.helper_stop(helper)


def _figures_and_future(
    tier_codes: list[str], params: dict[str, Any], split: bool
) -> tuple[np.ndarray, np.ndarray]:
    """The rows of figures_sql and of FUTURE_SQL; where ``split``, three readers at once.

    Reading a million accounts takes about as long in the database as turning the rows
    into floats, on one core: with ``split`` (see _split_possible) the lower half of the
    accounts is read here while the upper half and the later days are read elsewhere,
    the three sharing both cores.
    """
    sql, width = figures_sql(tier_codes), len(QUERY_COLUMNS)
    future: Query = (FUTURE_SQL, params, len(FUTURE_COLUMNS))
    middle = _split_id(params) if split else None
    if middle is None:
        values = numbers_fetch(sql, {**params, "id_from": _ID_MIN, "id_to": _ID_MAX}, width)
        return values, numbers_fetch(*future)
    lower, upper, later = _read_at_once(
        [
            (sql, {**params, "id_from": _ID_MIN, "id_to": middle}, width),
            (sql, {**params, "id_from": middle, "id_to": _ID_MAX}, width),
            future,
        ]
    )
    return np.concatenate([lower, upper]), later


def _future_subtract(columns: dict[str, np.ndarray], future: np.ndarray) -> int:
    """Take the days after as_of (FUTURE_SQL's rows) off the accounts' totals.

    Returns how many days those were.
    """
    ids = columns["account_id"]
    if not future.shape[0] or not ids.size:
        return 0
    account = future[:, 0].astype(np.int64)
    positions = np.minimum(np.searchsorted(ids, account), ids.size - 1)
    scored = ids[positions] == account  # archived accounts are not scored
    days = int(future[scored, -2].sum())
    scored &= future[:, -1] == 0
    positions, future = positions[scored], future[scored]
    for i, name in enumerate(FUTURE_COLUMNS[1:-2], start=1):
        columns[name][positions] -= future[:, i]
    return days


@contextmanager
def _one_snapshot() -> Iterator[bool]:
    """The reads inside see the database as of one moment (an import may commit meanwhile).

    The totals and the later days they lose are read by two statements: both must see
    the same rollups. SQLite holds a read transaction's snapshot from its first read;
    PostgreSQL needs REPEATABLE READ, which must be set before a transaction's first
    query (inside a caller's transaction, that transaction's isolation applies).
    Yields whether the transaction is this one's own.
    """
    if connection.in_atomic_block:
        yield False
        return
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield True


def account_figures(
    as_of: dt.date, tier_codes: list[str], previous_run: int | None = None
) -> AccountFigures:
    """Figures of every non-archived account as of ``as_of``, from its AccountTotal row.

    ``previous_run`` is the scoring run whose ABC classes count as the previous ones.

    Two streamed queries (figures_sql, FUTURE_SQL): no scan of the daily rollups, only
    index look-ups for the accounts with days after ``as_of`` and for the 12-month windows.
    """
    params: dict[str, Any] = {
        "as_of": as_of.isoformat(),
        "year_ago": _years_back(as_of, 1).isoformat(),
        "two_years_ago": _years_back(as_of, 2).isoformat(),
        "archived": False,
        "previous_run": previous_run if previous_run is not None else -1,
        **tier_params(tier_codes),
    }
    with _one_snapshot() as owned:
        return _account_figures_read(as_of, tier_codes, params, _split_possible(owned))


def _account_figures_read(
    as_of: dt.date, tier_codes: list[str], params: dict[str, Any], split: bool
) -> AccountFigures:
    values, future = _figures_and_future(tier_codes, params, split)
    columns = {name: np.ascontiguousarray(values[:, i]) for i, name in enumerate(QUERY_COLUMNS)}
    del values
    columns["account_id"] = columns["account_id"].astype(np.int64)
    for pack in PACKS:
        columns.update(_unpack(columns.pop(pack), pack))
    ids = columns["account_id"]
    too_big = ids[columns.pop("too_big") > 0]
    if too_big.size:
        raise FiguresError(
            f"Account id {int(too_big[0])} has more order lines, orders or purchase days "
            "than the scoring can count."
        )
    future_days = _future_subtract(columns, future)
    # Revenue − cost scaled up to every line; NaN where no line has a cost.
    with_cost = columns["cost_lines"] > 0
    scaled_cost = np.divide(
        columns.pop("cost") * columns.pop("lines"),
        columns["cost_lines"],
        out=np.zeros(ids.size),
        where=with_cost,
    )
    columns["margin"] = np.where(with_cost, columns["revenue"] - scaled_cost, np.nan)
    to_year_ago = columns.pop("revenue_to_year_ago")
    columns["revenue_12m"] = columns["revenue"] - to_year_ago
    columns["revenue_prev_12m"] = to_year_ago - columns.pop("revenue_to_two_years_ago")
    # Wallet sizes and strategic criteria are set on few accounts: read just those.
    sparse = [
        (
            ["wallet_size"],
            "SELECT id, CAST(wallet_size AS DOUBLE PRECISION) FROM "
            "customers_account WHERE wallet_size IS NOT NULL ORDER BY id",
        ),
        (
            PROFILE_COLUMNS,
            f"SELECT account_id, {', '.join(f'COALESCE({name}, -1)' for name in PROFILE_COLUMNS)} "
            "FROM segmentation_accountstrategicprofile ORDER BY account_id",
        ),
    ]
    for names, sql in sparse:
        values = numbers_fetch(sql, {}, 1 + len(names))
        positions = np.searchsorted(ids, values[:, 0].astype(np.int64))
        # Archived accounts are not in ids.
        found = positions < ids.size
        found[found] = ids[positions[found]] == values[found, 0]
        for i, name in enumerate(names, start=1):
            column = np.full(ids.size, -1.0)
            column[positions[found]] = values[found, i]
            columns[name] = column
    columns["first_day"] = columns["first_purchase"]
    columns["last_day"] = columns["last_purchase"]
    with connection.cursor() as cursor:
        placeholders = ", ".join(["%s"] * len(tier_codes)) or "''"
        cursor.execute(
            "SELECT id, tier FROM customers_account WHERE archived = %s AND tier <> '' "
            f"AND tier NOT IN ({placeholders}) ORDER BY id",
            [False, *tier_codes],
        )
        other_tiers = dict(cursor.fetchall())
    return AccountFigures(
        as_of=as_of,
        columns=columns,
        tier_codes=tier_codes,
        other_tiers=other_tiers,
        future_days=future_days,
    )


def _date(value: Any) -> dt.date | None:
    if value is None:
        return None
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def last_order_day() -> dt.date | None:
    """The latest day in the rollups (None without any order)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT MAX(last_day) FROM ledger_accounttotal")
        return _date(cursor.fetchone()[0])


def first_order_day() -> dt.date | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT MIN(first_day) FROM ledger_accounttotal")
        return _date(cursor.fetchone()[0])
