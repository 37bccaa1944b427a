"""Bulk writes of order lines and the per-account daily rollups (AccountDay) kept beside them.

Plain SQL because these run on a million rows: a staging table loaded with COPY
(PostgreSQL) or executemany (SQLite), then one INSERT … SELECT … ON CONFLICT.
Call these inside the caller's transaction.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice

from django.db import connection

from kam.ledger.models import AccountDay, OrderLine

STAGE = "kam_import_lines"
# Order of the tuples given to order_lines_upsert.
LINE_COLUMNS = (
    "account_id", "order_no", "line_no", "order_date", "product_id", "quantity", "revenue",
    "cost", "currency", "channel", "sales_rep", "credit_for_order_no",
)  # fmt: skip
_STAGE_DDL = f"""
CREATE TEMPORARY TABLE {STAGE} (
    account_id bigint NOT NULL, order_no varchar(64) NOT NULL, line_no integer NOT NULL,
    order_date date NOT NULL, product_id bigint NULL, quantity numeric(18, 4) NOT NULL,
    revenue numeric(18, 2) NOT NULL, cost numeric(18, 2) NULL, currency varchar(3) NOT NULL,
    channel varchar(50) NOT NULL, sales_rep varchar(100) NOT NULL,
    credit_for_order_no varchar(64) NOT NULL
)"""
BATCH = 10_000


@dataclass
class UpsertResult:
    """What an upsert did: lines created, changed, identical; accounts whose lines moved away."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    moved_from: set[int] = field(default_factory=set)


def _batches(rows: Iterable[tuple], size: int) -> Iterator[list[tuple]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def _stage_load(cursor: object, rows: Iterable[tuple]) -> int:
    """Fill the staging table; returns the row count."""
    count = 0
    if connection.vendor == "postgresql":
        raw = cursor.cursor  # type: ignore[attr-defined]  # psycopg's own cursor, for COPY
        with raw.copy(f"COPY {STAGE} ({', '.join(LINE_COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
        cursor.execute(f"ANALYZE {STAGE}")  # type: ignore[attr-defined]
        return count
    placeholders = ", ".join(["%s"] * len(LINE_COLUMNS))
    sql = f"INSERT INTO {STAGE} ({', '.join(LINE_COLUMNS)}) VALUES ({placeholders})"
    for batch in _batches(rows, BATCH):
        cursor.executemany(sql, batch)  # type: ignore[attr-defined]
        count += len(batch)
    return count


def order_lines_upsert(rows: Iterable[tuple]) -> UpsertResult:
    """Insert or update order lines keyed by (order_no, line_no); identical lines are not touched.

    Steps: load the rows into a temporary staging table; count the new keys;
    find accounts that lose a line to another account (their rollups change
    too); upsert with a WHERE that skips lines whose values are all equal.
    """
    table = connection.ops.quote_name(OrderLine._meta.db_table)
    result = UpsertResult()
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")
        cursor.execute(_STAGE_DDL)
        total = _stage_load(cursor, rows)
        join = "o.order_no = s.order_no AND o.line_no = s.line_no"
        cursor.execute(
            f"SELECT COUNT(*) FROM {STAGE} s WHERE NOT EXISTS "
            f"(SELECT 1 FROM {table} o WHERE {join})"
        )
        result.created = cursor.fetchone()[0]
        cursor.execute(
            f"SELECT DISTINCT o.account_id FROM {table} o JOIN {STAGE} s ON {join} "
            "WHERE o.account_id <> s.account_id"
        )
        result.moved_from = {row[0] for row in cursor.fetchall()}
        columns = ", ".join(LINE_COLUMNS)
        updated = [c for c in LINE_COLUMNS if c not in ("order_no", "line_no")]
        assignments = ", ".join(f"{c} = excluded.{c}" for c in updated)
        differs = " OR ".join(f"{table}.{c} IS DISTINCT FROM excluded.{c}" for c in updated)
        # "WHERE true" lets SQLite tell the upsert's ON CONFLICT from a join's ON.
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {STAGE} WHERE true "
            f"ON CONFLICT (order_no, line_no) DO UPDATE SET {assignments} WHERE {differs}"
        )
        written = cursor.rowcount
        cursor.execute(f"DROP TABLE {STAGE}")
    result.updated = max(0, written - result.created)
    result.unchanged = total - result.created - result.updated
    return result


def account_days_refresh(account_ids: Iterable[int]) -> None:
    """Rebuild the AccountDay rows of these accounts from their order lines."""
    ids = sorted(set(account_ids))
    days = connection.ops.quote_name(AccountDay._meta.db_table)
    lines = connection.ops.quote_name(OrderLine._meta.db_table)
    with connection.cursor() as cursor:
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(f"DELETE FROM {days} WHERE account_id IN ({marks})", chunk)
            cursor.execute(
                f"INSERT INTO {days} (account_id, day, revenue, cost, cost_lines, lines, orders) "
                "SELECT account_id, order_date, SUM(revenue), COALESCE(SUM(cost), 0), "
                "COUNT(cost), COUNT(*), COUNT(DISTINCT order_no) "
                f"FROM {lines} WHERE account_id IN ({marks}) GROUP BY account_id, order_date",
                chunk,
            )
