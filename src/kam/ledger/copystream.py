"""PostgreSQL: COPY checked order lines into the ledger while the file is still being read.

A million-line import spends about as long checking rows in Python as the server
spends COPYing them into the indexed ledger. Here the two overlap: the check hands
each batch of checked lines to a writer thread, which holds the import's transaction
on a connection of its own and streams them into the ledger with one COPY, while the
check reads on (the main connection stays free for the existence checks and the
run's progress). When the file has been read, the rest of the write (accounts,
product names, the lines held back, rollups) runs in the same thread and
transaction, so the import still commits once or not at all.

Only lines of orders the ledger does not hold are streamed. A batch with a known
order, or a COPY failing on the unique key (another import wrote the same orders
meanwhile), undoes the streamed lines (a savepoint) and the final write upserts
every line from the spool, as without the stream. Lines of accounts the file
creates are held back until the accounts exist (they are created at the end, as
without the stream); new products are created as they appear, in the transaction.
"""

import queue
import threading
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from typing import Any

from django.db import IntegrityError, connection, transaction

from kam.ledger import rollups
from kam.ledger.models import Product

# Checked batches waiting for the writer: enough to keep it busy, few enough to keep
# memory flat when the server is the slower side (psycopg queues at most 128 MB more).
QUEUE_BATCHES = 4
_END = "end"  # the file is read: keep what was streamed
_ABANDON = "abandon"  # a batch has orders the ledger holds: upsert everything at the end
_ROLLBACK = "rollback"  # the import writes nothing

Rows = list[tuple[Any, ...]]
FinalWrite = Callable[[int | None], None]


class _Fallback(Exception):
    """The streamed lines are undone; the final write writes every line."""


class CopyStream:
    """A writer thread and its transaction, fed batches of SPOOL_COLUMNS rows.

    Main thread: `put(rows)` per checked batch, then `finish(write)` or `close()`.
    `write(streamed)` runs in the writer's thread and transaction, with the number of
    lines already in the ledger, or None when they were undone and it must write all.
    """

    def __init__(
        self, account_ids: Mapping[str, int], products: Mapping[str, tuple[str, str]]
    ) -> None:
        self.account_ids = account_ids  # the accounts known at the check's start
        self.products = products  # code -> (name, category), filled by the check as it reads
        self.products_created = 0
        self.lines = 0  # lines in the ledger (until undone)
        self.held = 0  # lines of accounts the file creates: written by the final write
        self.streaming = True
        self.error: BaseException | None = None
        self._finished = False
        self._looked_up = False
        self._queue: queue.Queue[Any] = queue.Queue(QUEUE_BATCHES)
        self._thread = threading.Thread(target=self._run, name="kam-import-copy", daemon=True)
        self._thread.start()

    # ---------------------------------------------------------------- main thread

    def put(self, rows: Rows) -> None:
        """Hand over a checked batch; a first batch with a known order ends the streaming.

        Only the first batch is looked up: a file that repeats known orders usually
        does so from its start (a re-import, old months before new ones), and a known
        line further on fails the COPY on the unique key, which undoes the stream
        just the same. Looking up every batch took ≈ 2.4 s per million lines.
        """
        if not self.streaming:
            return
        if not self._looked_up:
            self._looked_up = True
            if rollups.order_lines_any_exist({row[1] for row in rows}):
                self.streaming = False
                self._send(_ABANDON)
                return
        self._send(rows)

    def finish(self, write: FinalWrite) -> None:
        """The file is read and accepted: run `write` in the writer's transaction, commit."""
        if self.streaming:
            self.streaming = False
            self._send(_END)
        self._finished = True
        self._send(write)
        self._thread.join()
        if self.error is not None:
            raise self.error

    def close(self) -> None:
        """Roll back unless finished (a rejected file, an error while checking)."""
        self.streaming = False
        if not self._finished and self._thread.is_alive():
            self._finished = True
            self._send(_ROLLBACK)
        self._thread.join()

    def _send(self, item: Any) -> None:
        while self._thread.is_alive():
            try:
                self._queue.put(item, timeout=0.5)
                return
            except queue.Full:
                continue
        if item == _ROLLBACK:
            return  # the writer has ended, and its transaction with it
        if self.error is not None:
            raise self.error
        raise RuntimeError("the import's writer thread has stopped")

    # ---------------------------------------------------------------- writer thread

    def _run(self) -> None:
        try:
            with transaction.atomic():
                self._work()
        except BaseException as error:  # noqa: BLE001 - handed to the main thread
            self.error = error
        finally:
            connection.close()

    def _work(self) -> None:
        job: Any = None
        try:
            with transaction.atomic():  # a savepoint: the streamed lines
                end = self._stream()
                job = self._next_job() if end == _END else (_ROLLBACK if end == _ROLLBACK else None)
                if callable(job):
                    job(self.lines)
                    return
                raise _Fallback
        except (_Fallback, IntegrityError):
            pass
        if job is None:
            job = self._next_job()
        if job == _ROLLBACK:
            transaction.set_rollback(True)
            return
        job(None)

    def _next_job(self) -> Any:
        """Skip what is left of the stream up to the final write (or the rollback)."""
        while True:
            item = self._queue.get()
            if item == _ROLLBACK or callable(item):
                return item

    def _stream(self) -> str:
        """COPY the batches into the ledger until the main thread says what comes next."""
        sql = rollups.ledger_copy_sql()
        accounts = rollups.id_texts(self.account_ids)
        products = rollups.id_texts(dict(Product.objects.values_list("code", "id")))
        with connection.cursor() as cursor, connection.wrap_database_errors, ExitStack() as copying:
            copy = None
            while isinstance(rows := self._queue.get(), list):
                columns = list(zip(*rows, strict=True))
                if not all(map(products.__contains__, columns[4])):
                    # The products go in first: end this COPY (the server finishes it).
                    copying.close()
                    copy = None
                    products.update(self._products_create(set(columns[4]) - products.keys()))
                if not all(map(accounts.__contains__, columns[0])):
                    kept = [row for row in rows if row[0] in accounts]
                    self.held += len(rows) - len(kept)
                    if not kept:
                        continue
                    columns = list(zip(*kept, strict=True))
                if copy is None:
                    copy = copying.enter_context(cursor.cursor.copy(sql))
                copy.write(rollups.ledger_csv(columns, accounts, products))
                self.lines += len(columns[0])
        return rows

    def _products_create(self, codes: set[str]) -> dict[str, str]:
        """Create products named as the file has them so far (the final write updates names).

        Returns their ids as COPY text, keyed by code.
        """
        ordered = sorted(codes)  # the same lock order in concurrent imports
        named = [(code, *self.products.get(code, ("", ""))) for code in ordered]
        Product.objects.bulk_create(
            [Product(code=code, name=name, category=category) for code, name, category in named],
            batch_size=2000,
            ignore_conflicts=True,  # a concurrent import may create them first
        )
        self.products_created += len(ordered)
        ids: dict[str, str] = {}
        for start in range(0, len(ordered), 2000):
            chunk = ordered[start : start + 2000]
            found = Product.objects.filter(code__in=chunk).values_list("code", "id")
            ids.update((code, str(pk)) for code, pk in found)
        return ids
