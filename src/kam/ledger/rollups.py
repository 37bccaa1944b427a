"""Bulk writes of order lines and the per-account daily rollups (AccountDay) kept beside them.

Plain SQL because these run on a million rows: a staging table loaded from the
spooled lines with COPY (PostgreSQL) or executemany (SQLite), then one
INSERT … SELECT … ON CONFLICT.
Call these inside the caller's transaction.
"""

import csv
import io
import marshal
import tempfile
from collections.abc import Collection, Generator, Iterable, Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from itertools import islice
from typing import TYPE_CHECKING, Any, BinaryIO, TextIO

from django.db import IntegrityError, connection, transaction

from kam.customers.models import Account
from kam.ledger.models import AccountDay, AccountTotal, OrderLine, Product

if TYPE_CHECKING:
    from kam.ledger.copystream import CopyStream

STAGE = "kam_import_lines"
# Columns of the CSV spool given to order_lines_upsert (no header row). Accounts and
# products are named by code; SQL resolves the ids, so no Python runs per row.
SPOOL_COLUMNS = (
    "account_code", "order_no", "line_no", "order_date", "product_code", "quantity",
    "revenue", "cost", "currency", "channel", "sales_rep", "credit_for_order_no",
)  # fmt: skip
LINE_COLUMNS = (
    "account_id", "order_no", "line_no", "order_date", "product_id", "quantity", "revenue",
    "cost", "currency", "channel", "sales_rep", "credit_for_order_no",
)  # fmt: skip
_STAGE_DDL = f"""
CREATE TEMPORARY TABLE {STAGE} (
    account_code varchar(32) NOT NULL, order_no varchar(64) NOT NULL, line_no integer NOT NULL,
    order_date date NOT NULL, product_code varchar(64) NULL, quantity numeric(18, 4) NOT NULL,
    revenue numeric(18, 2) NOT NULL, cost numeric(18, 2) NULL, currency varchar(3) NOT NULL,
    channel varchar(50) NOT NULL, sales_rep varchar(100) NOT NULL,
    credit_for_order_no varchar(64) NOT NULL
)"""
_STAGE_INSERT = f"INSERT INTO {STAGE} VALUES ({', '.join(['%s'] * len(SPOOL_COLUMNS))})"
BATCH = 10_000
SQLITE_CACHE_KB = 256 * 1024


@dataclass
class UpsertResult:
    """What an upsert did: lines created, changed, identical; accounts whose lines moved away."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    moved_from: set[int] = field(default_factory=set)


class LineSpool:
    """Checked order lines (SPOOL_COLUMNS tuples) kept until the write.

    SQLite: rows go straight into the temporary staging table as they are checked
    (executemany, no formatting or parsing per line); a rejected file leaves only
    that temporary table, dropped by close(). PostgreSQL: in a temporary file, a
    batch at a time, for COPY (the connection stays free meanwhile for progress
    updates). The batches are kept with ``marshal`` (the rows hold only text and
    whole numbers), not as CSV: writing and reading back a million lines costs
    ≈ 0.9 s of CPU instead of ≈ 3.2 s (the import as a whole gains less, ≈ 0.5 s, as
    the file is read in another thread meanwhile); only what COPY reads becomes CSV.
    """

    def __init__(self, *, keep: bool = True, stream: "CopyStream | None" = None) -> None:
        self.batch: list[tuple[Any, ...]] = []
        self.file: BinaryIO | None = None
        self.keep = keep  # False: a dry run, the lines are only counted
        self.stream = stream  # PostgreSQL: also hand each batch to the ledger's COPY
        self.staged = connection.vendor != "postgresql"
        if keep and self.staged:
            with connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")
                cursor.execute(_STAGE_DDL)
        elif keep:
            self.file = tempfile.TemporaryFile()  # noqa: SIM115 -- closed by close()

    def add(self, line: tuple[Any, ...]) -> None:
        self.batch.append(line)
        if len(self.batch) >= BATCH:
            self.flush()

    def extend(self, lines: Iterable[tuple[Any, ...]]) -> None:
        if not self.keep:
            return
        if self.file is not None:
            rows = list(lines)
            data = marshal.dumps(rows)
            self.file.write(len(data).to_bytes(8, "little"))
            self.file.write(data)
            if self.stream is not None:
                self.stream.put(rows)
            return
        # One transaction per batch: in autocommit every row would be one (3-10x slower).
        with transaction.atomic():
            # sqlite3's own executemany, past Django's cursor wrapper (a tenth more per row).
            connection.connection.executemany(_STAGE_INSERT.replace("%s", "?"), lines)

    def flush(self) -> None:
        if self.batch:
            self.extend(self.batch)
            self.batch = []

    def batches(self) -> Generator[list[tuple[Any, ...]], None, None]:
        """PostgreSQL: the spooled lines from the start, a batch at a time (a generator, so
        it can be closed early and read again)."""
        assert self.file is not None
        self.flush()
        self.file.seek(0)
        while size := self.file.read(8):
            yield marshal.loads(self.file.read(int.from_bytes(size, "little")))

    def csv_chunks(self) -> Iterator[bytes]:
        """PostgreSQL: the spooled lines as CSV (SPOOL_COLUMNS), a batch per chunk."""
        for batch in self.batches():
            yield csv_bytes(batch)

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
        elif self.keep:
            with connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")


def csv_bytes(rows: Iterable[Iterable[Any]]) -> bytes:
    """Rows as CSV in UTF-8, formatted in C (csv.writer on a StringIO), encoded once."""
    text = io.StringIO()
    csv.writer(text).writerows(rows)
    return text.getvalue().encode()


# Empty CSV fields are NULL for COPY; these text columns want '' instead.
COPY_OPTIONS = "FORMAT csv, FORCE_NOT_NULL (channel, sales_rep, credit_for_order_no)"


def _stage_load(cursor: Any, spool: "TextIO | LineSpool") -> int:
    """Fill the staging table from the spool (SQLite: LineSpool filled it); returns the count."""
    if isinstance(spool, LineSpool):
        spool.flush()
        chunks: Iterable[Any] = () if spool.staged else spool.csv_chunks()
    else:
        spool.seek(0)
        chunks = iter(lambda: spool.read(1 << 20), "")
    if connection.vendor == "postgresql":
        with cursor.cursor.copy(f"COPY {STAGE} FROM STDIN WITH ({COPY_OPTIONS})") as copy:
            for chunk in chunks:
                copy.write(chunk)
        cursor.execute(f"ANALYZE {STAGE}")
    elif not isinstance(spool, LineSpool):
        rows = csv.reader(spool)
        while batch := list(islice(rows, BATCH)):
            cursor.executemany(_STAGE_INSERT, batch)
    cursor.execute(f"SELECT COUNT(*) FROM {STAGE}")
    return cursor.fetchone()[0]


def order_lines_write(
    spool: LineSpool,
    order_numbers: Collection[str],
    account_ids: Mapping[str, int],
    product_ids: Mapping[str, int],
) -> UpsertResult:
    """Write checked lines: on PostgreSQL by COPY when all their orders are new, else upsert.

    Another import may write lines of the same orders between the check and the COPY
    (or hold them uncommitted: the COPY waits for it). The COPY then fails on the
    unique key; it is rolled back to its savepoint and the lines are upserted, as if
    the two imports had run one after the other.
    """
    if not spool.staged and not order_lines_any_exist(order_numbers):
        try:
            with transaction.atomic(), connection.wrap_database_errors:
                return order_lines_copy_new(spool, account_ids, product_ids)
        except IntegrityError:
            pass  # a true integrity problem would fail the upsert just the same
    return order_lines_upsert(spool)


def order_lines_any_exist(order_numbers: Collection[str]) -> bool:
    """Whether the ledger holds a line of any of these orders."""
    table = connection.ops.quote_name(OrderLine._meta.db_table)
    numbers = list(order_numbers)
    postgresql = connection.vendor == "postgresql"
    size = 50_000 if postgresql else 500
    with connection.cursor() as cursor:
        for start in range(0, len(numbers), size):
            chunk = numbers[start : start + size]
            if postgresql:
                cursor.execute(f"SELECT 1 FROM {table} WHERE order_no = ANY(%s) LIMIT 1", [chunk])
            else:
                marks = ", ".join(["%s"] * len(chunk))
                cursor.execute(f"SELECT 1 FROM {table} WHERE order_no IN ({marks}) LIMIT 1", chunk)
            if cursor.fetchone():
                return True
    return False


def ledger_copy_sql() -> str:
    """The COPY of SPOOL_COLUMNS lines, codes made ids (ledger_csv), into the ledger."""
    table = connection.ops.quote_name(OrderLine._meta.db_table)
    return f"COPY {table} ({', '.join(LINE_COLUMNS)}) FROM STDIN WITH ({COPY_OPTIONS})"


def id_texts(ids: Mapping[str, int]) -> dict[str, str]:
    """code -> id as the text COPY reads, made once per code; '' (no product) stays ''."""
    texts = {code: str(pk) for code, pk in ids.items()}
    texts[""] = ""
    return texts


def ledger_csv(
    columns: Sequence[Sequence[Any]], accounts: Mapping[str, str], products: Mapping[str, str]
) -> bytes:
    """Lines (SPOOL_COLUMNS, by column) as CSV for ledger_copy_sql, codes made ids (id_texts).

    Joined in C when no value needs quoting (no comma, quote or line break: the
    counts of the joined text prove it), ≈ 2× faster than csv.writer, which
    formats the rest.
    """
    size = len(columns[0])
    account_ids = tuple(map(accounts.__getitem__, columns[0]))
    product_ids = tuple(map(products.__getitem__, columns[4]))
    rows = zip(
        account_ids, columns[1], map(str, columns[2]), columns[3], product_ids, *columns[5:],
        strict=True,
    )  # fmt: skip
    text = "\n".join(map(",".join, rows)) + "\n"
    if (
        '"' not in text
        and "\r" not in text
        and text.count("\n") == size
        and text.count(",") == size * (len(columns) - 1)
    ):
        return text.encode()
    return csv_bytes(zip(account_ids, *columns[1:4], product_ids, *columns[5:], strict=True))


def order_lines_copy_new(
    spool: LineSpool,
    account_ids: Mapping[str, int],
    product_ids: Mapping[str, int],
    *,
    only_these_accounts: bool = False,
) -> UpsertResult:
    """PostgreSQL: COPY lines of orders the ledger does not hold yet straight into it.

    COPY writes the table in bulk (several rows per page write), about twice as fast
    as INSERT … SELECT from a staging table. Codes become ids here, in Python,
    while the server works through the previous chunk. `only_these_accounts`: skip
    the lines of accounts not in `account_ids` (the ones a CopyStream has written).
    """
    accounts, products = id_texts(account_ids), id_texts(product_ids)
    total = 0
    # closing: a failed COPY leaves the reader mid-file; the upsert reads the spool again.
    with (
        closing(spool.batches()) as batches,
        connection.cursor() as cursor,
        cursor.cursor.copy(ledger_copy_sql()) as copy,
    ):
        for batch in batches:
            if only_these_accounts:
                batch = [row for row in batch if row[0] in account_ids]  # noqa: PLW2901
            if batch:
                total += len(batch)
                copy.write(ledger_csv(list(zip(*batch, strict=True)), accounts, products))
    return UpsertResult(created=total)


@contextmanager
def _big_cache(cursor: Any) -> Iterator[None]:
    """SQLite: a page cache big enough for the ledger's indexes while upserting a big file.

    The default 2 MB cache makes every index insert of a million-line upsert a page
    read; 256 MB (allocated only as pages are touched) keeps the indexes in memory.
    """
    if connection.vendor != "sqlite":
        yield
        return
    cursor.execute("PRAGMA cache_size")
    (before,) = cursor.fetchone()
    cursor.execute(f"PRAGMA cache_size = {-SQLITE_CACHE_KB}")
    try:
        yield
    finally:
        cursor.execute(f"PRAGMA cache_size = {int(before)}")


def order_lines_upsert(spool: "TextIO | LineSpool") -> UpsertResult:
    """Insert or update order lines keyed by (order_no, line_no); identical lines are not touched.

    `spool` is a LineSpool or CSV text with SPOOL_COLUMNS, every account and product code existing.
    Steps: load it into a temporary staging table (COPY on PostgreSQL); count the
    new keys; find accounts that lose a line to another account (their rollups
    change too); upsert, resolving codes to ids by join, with a WHERE that skips
    lines whose values are all equal.
    """
    quote = connection.ops.quote_name
    table = quote(OrderLine._meta.db_table)
    accounts, products = quote(Account._meta.db_table), quote(Product._meta.db_table)
    result = UpsertResult()
    with connection.cursor() as cursor, _big_cache(cursor):
        if not (isinstance(spool, LineSpool) and spool.staged):
            cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")
            cursor.execute(_STAGE_DDL)
        total = _stage_load(cursor, spool)
        join = "o.order_no = s.order_no AND o.line_no = s.line_no"
        cursor.execute(
            f"SELECT COUNT(*) FROM {STAGE} s WHERE NOT EXISTS "
            f"(SELECT 1 FROM {table} o WHERE {join})"
        )
        result.created = cursor.fetchone()[0]
        cursor.execute(
            f"SELECT DISTINCT o.account_id FROM {table} o JOIN {STAGE} s ON {join} "
            f"JOIN {accounts} a ON a.code = s.account_code WHERE o.account_id <> a.id"
        )
        result.moved_from = {row[0] for row in cursor.fetchall()}
        updated = [c for c in LINE_COLUMNS if c not in ("order_no", "line_no")]
        assignments = ", ".join(f"{c} = excluded.{c}" for c in updated)
        differs = " OR ".join(f"{table}.{c} IS DISTINCT FROM excluded.{c}" for c in updated)
        cost = "s.cost" if connection.vendor == "postgresql" else "NULLIF(s.cost, '')"
        # "WHERE true" lets SQLite tell the upsert's ON CONFLICT from a join's ON.
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(LINE_COLUMNS)}) "
            "SELECT a.id, s.order_no, s.line_no, s.order_date, p.id, s.quantity, s.revenue, "
            f"{cost}, s.currency, s.channel, s.sales_rep, s.credit_for_order_no "
            f"FROM {STAGE} s JOIN {accounts} a ON a.code = s.account_code "
            f"LEFT JOIN {products} p ON p.code = s.product_code WHERE true "
            f"ON CONFLICT (order_no, line_no) DO UPDATE SET {assignments} WHERE {differs}"
        )
        written = cursor.rowcount
        cursor.execute(f"DROP TABLE {STAGE}")
    result.updated = max(0, written - result.created)
    result.unchanged = total - result.created - result.updated
    return result


def _totals_insert_sql(where: str) -> str:
    """INSERT of the AccountTotal rows of the accounts matching ``where`` (on AccountDay d)."""
    days = connection.ops.quote_name(AccountDay._meta.db_table)
    totals = connection.ops.quote_name(AccountTotal._meta.db_table)
    purchase = "d.revenue > 0"
    return (
        f"INSERT INTO {totals} (account_id, first_day, last_day, revenue, cost, cost_lines, "
        "lines, orders, purchase_days, purchase_revenue, first_purchase, last_purchase, "
        "first_purchase_revenue) "
        "SELECT d.account_id, MIN(d.day), MAX(d.day), SUM(d.revenue), SUM(d.cost), "
        f"SUM(d.cost_lines), SUM(d.lines), SUM(d.orders), SUM(CASE WHEN {purchase} THEN 1 "
        f"ELSE 0 END), SUM(CASE WHEN {purchase} THEN d.revenue ELSE 0 END), "
        f"MIN(CASE WHEN {purchase} THEN d.day END), MAX(CASE WHEN {purchase} THEN d.day END), "
        f"COALESCE((SELECT f.revenue FROM {days} f WHERE f.account_id = d.account_id "
        "AND f.revenue > 0 ORDER BY f.day LIMIT 1), 0) "
        # In account order: scoring reads the totals by account, with index look-ups beside.
        f"FROM {days} d WHERE {where} GROUP BY d.account_id ORDER BY d.account_id"
    )


def account_days_refresh(account_ids: Iterable[int]) -> None:
    """Rebuild the AccountDay and AccountTotal rows of these accounts from their order lines.

    The one hook for every writer of order lines (importer, demo): call it with every
    account that gained, changed or lost a line.
    """
    ids = sorted(set(account_ids))
    days = connection.ops.quote_name(AccountDay._meta.db_table)
    totals = connection.ops.quote_name(AccountTotal._meta.db_table)
    lines = connection.ops.quote_name(OrderLine._meta.db_table)
    with connection.cursor() as cursor, _big_cache(cursor):
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(f"DELETE FROM {days} WHERE account_id IN ({marks})", chunk)
            cursor.execute(
                f"INSERT INTO {days} (account_id, day, revenue, cost, cost_lines, lines, orders, "
                "revenue_to_date) "
                "SELECT account_id, order_date, SUM(revenue), COALESCE(SUM(cost), 0), "
                "COUNT(cost), COUNT(*), COUNT(DISTINCT order_no), "
                "SUM(SUM(revenue)) OVER (PARTITION BY account_id ORDER BY order_date) "
                f"FROM {lines} WHERE account_id IN ({marks}) GROUP BY account_id, order_date",
                chunk,
            )
            cursor.execute(f"DELETE FROM {totals} WHERE account_id IN ({marks})", chunk)
            cursor.execute(_totals_insert_sql(f"d.account_id IN ({marks})"), chunk)


def account_totals_rebuild() -> None:
    """Recompute every AccountDay running total and AccountTotal row from AccountDay.

    For the migration that introduced them and for bulk loads that write AccountDay
    directly (the benchmark); the importer keeps both current through account_days_refresh.
    """
    days = connection.ops.quote_name(AccountDay._meta.db_table)
    totals = connection.ops.quote_name(AccountTotal._meta.db_table)
    with connection.cursor() as cursor, _big_cache(cursor):
        cursor.execute(
            f"UPDATE {days} SET revenue_to_date = s.running FROM (SELECT id, SUM(revenue) "
            "OVER (PARTITION BY account_id ORDER BY day) AS running "
            f"FROM {days}) s WHERE s.id = {days}.id"
        )
        cursor.execute(f"DELETE FROM {totals}")
        cursor.execute(_totals_insert_sql("1 = 1"))
