"""PostgreSQL: new order lines are COPYed into the ledger while the file is still being read."""

import threading
import time
from decimal import Decimal

import pytest
from django.db import connection

from kam.audit.models import Action, AuditEntry
from kam.customers.models import Account
from kam.ledger import copystream, importing, rollups
from kam.ledger.importing import import_file
from kam.ledger.models import AccountDay, OrderLine, Product

pytestmark = [
    pytest.mark.skipif(
        connection.vendor == "sqlite", reason="the stream is a second PostgreSQL connection"
    ),
    # The stream's transaction is on a connection of its own: the test's data must be committed.
    pytest.mark.django_db(transaction=True),
]

HEADER = "account_code,order_no,line_no,order_date,product_code,product_name,revenue\n"


@pytest.fixture
def streams(monkeypatch):
    """Small batches (many of them per file); the streams the imports start."""
    monkeypatch.setattr(importing, "BATCH_ROWS", 4)
    monkeypatch.setattr(rollups, "BATCH", 4)
    started: list[copystream.CopyStream] = []

    class Recorded(copystream.CopyStream):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            started.append(self)

    monkeypatch.setattr(importing, "CopyStream", Recorded)
    return started


@pytest.fixture
def account(account_make):
    return account_make(code="A1")


def lines_file(tmp_path, rows, name="orders.csv"):
    path = tmp_path / name
    path.write_text(HEADER + "".join(f"{','.join(map(str, row))}\n" for row in rows))
    return path


def new_orders(count, account="A1", product=lambda n: f"P{n % 3}"):
    return [(account, f"SO-{n}", 1, "2024-03-05", product(n), "", n + 1) for n in range(count)]


def no_writer_left():
    return not [t for t in threading.enumerate() if t.name == "kam-import-copy"]


def test_new_orders_reach_the_ledger_while_the_file_is_still_read(tmp_path, account, streams):
    rows = new_orders(40, product=lambda n: f"P{n // 10}")  # a new product every 10 rows
    rows[35] = ("A1", "SO-35", 1, "2024-03-06", "P0", "网关", 36)  # P0's name comes late
    copied_while_reading = []

    def progress(rows_read):
        if rows_read >= 20 and not copied_while_reading:
            deadline = time.monotonic() + 10
            while streams[0].lines == 0 and time.monotonic() < deadline:
                time.sleep(0.01)
            copied_while_reading.append(streams[0].lines)

    report = import_file(kind="orders", path=lines_file(tmp_path, rows), progress=progress)

    assert copied_while_reading[0] > 0
    assert (report.created, report.updated, report.unchanged) == (40, 0, 0)
    assert report.products_created == 4 and streams[0].lines == 40
    assert OrderLine.objects.count() == 40
    assert OrderLine.objects.get(order_no="SO-17").product.code == "P1"
    assert Product.objects.get(code="P0").name == "网关"
    days = AccountDay.objects.filter(account=account).order_by("day")
    assert [(str(d.day), d.lines, d.revenue) for d in days] == [
        ("2024-03-05", 39, Decimal(sum(range(1, 41)) - 36)),
        ("2024-03-06", 1, Decimal(36)),
    ]
    assert no_writer_left()


def test_a_known_order_in_the_first_batch_is_upserted_without_streaming(tmp_path, account, streams):
    import_file(kind="orders", path=lines_file(tmp_path, new_orders(3), "old.csv"))
    rows = [("A1", "SO-0", 1, "2024-03-05", "P0", "", 100), *new_orders(12)[3:]]

    report = import_file(kind="orders", path=lines_file(tmp_path, rows))

    assert streams[1].lines == 0
    assert (report.created, report.updated, report.unchanged) == (9, 1, 0)
    assert OrderLine.objects.get(order_no="SO-0").revenue == Decimal(100)
    assert AccountDay.objects.get(account=account).lines == 12  # SO-0 to SO-11


def test_a_known_line_further_on_undoes_the_stream_and_every_line_is_upserted(
    tmp_path, account, streams
):
    import_file(kind="orders", path=lines_file(tmp_path, [new_orders(100)[99]], "old.csv"))
    rows = [*new_orders(20), ("A1", "SO-99", 1, "2024-03-05", "P0", "", 7)]

    report = import_file(kind="orders", path=lines_file(tmp_path, rows))

    assert (report.created, report.updated, report.unchanged) == (20, 1, 0)
    assert OrderLine.objects.count() == 21
    assert OrderLine.objects.get(order_no="SO-99").revenue == Decimal(7)
    day = AccountDay.objects.get(account=account)
    assert (day.lines, day.revenue) == (21, Decimal(sum(range(1, 21)) + 7))


def test_a_file_with_a_bad_row_writes_nothing_though_lines_were_streamed(
    tmp_path, account, streams
):
    rows = [*new_orders(30), ("A1", "SO-X", 1, "2024/13/45", "P0", "", 1)]

    report = import_file(kind="orders", path=lines_file(tmp_path, rows))

    assert streams[0].lines > 0 and not report.written and report.error_count == 1
    assert OrderLine.objects.count() == 0 and Product.objects.count() == 0
    assert AccountDay.objects.count() == 0 and no_writer_left()


def test_skipping_invalid_rows_keeps_the_streamed_valid_lines(tmp_path, account, streams):
    rows = [*new_orders(10), ("A1", "SO-X", 1, "2024/13/45", "P0", "", 1), *new_orders(20)[10:]]

    report = import_file(kind="orders", path=lines_file(tmp_path, rows), skip_invalid=True)

    assert report.written and report.skipped == 1 and report.created == 20
    assert sorted(OrderLine.objects.values_list("revenue", flat=True)) == [
        Decimal(n) for n in range(1, 21)
    ]


def test_lines_of_accounts_the_file_creates_are_written_once_they_exist(
    tmp_path, account, director, streams
):
    rows = [
        (code, f"SO-{n}", 1, "2024-03-05", "P0", "", n + 1)
        for n, code in enumerate(["A1", "NEW1", "A1", "NEW2", "NEW1"] * 4)
    ]

    report = import_file(
        kind="orders", path=lines_file(tmp_path, rows), actor=director, create_accounts=True
    )

    assert (report.created, report.accounts_created) == (20, 2)
    assert streams[0].lines == 8 and streams[0].held == 12
    counts = {
        code: AccountDay.objects.get(account__code=code).lines for code in ("A1", "NEW1", "NEW2")
    }
    assert counts == {"A1": 8, "NEW1": 8, "NEW2": 4}
    new1 = Account.objects.get(code="NEW1")
    assert AuditEntry.objects.filter(object_id=str(new1.pk), action=Action.CREATE).count() == 1


def test_a_crash_in_the_final_write_leaves_the_database_as_before(
    tmp_path, account, streams, monkeypatch
):
    path = lines_file(tmp_path, new_orders(30))

    def crash(account_ids):
        raise RuntimeError("killed")

    monkeypatch.setattr(rollups, "account_days_refresh", crash)
    with pytest.raises(RuntimeError, match="killed"):
        import_file(kind="orders", path=path)
    assert streams[0].lines == 30
    assert OrderLine.objects.count() == 0 and Product.objects.count() == 0
    assert no_writer_left()
    monkeypatch.undo()
    assert import_file(kind="orders", path=path).created == 30
    assert AccountDay.objects.get(account=account).lines == 30


def test_an_error_while_reading_rolls_the_stream_back(tmp_path, account, streams):
    def progress(rows_read):
        if rows_read >= 12:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        import_file(kind="orders", path=lines_file(tmp_path, new_orders(30)), progress=progress)

    assert OrderLine.objects.count() == 0 and Product.objects.count() == 0
    assert no_writer_left()


def test_a_failing_writer_stops_the_import_with_its_error(tmp_path, account, streams, monkeypatch):
    def fail(self, codes):
        raise RuntimeError("disk full")

    monkeypatch.setattr(copystream.CopyStream, "_products_create", fail)
    with pytest.raises(RuntimeError, match="disk full"):
        import_file(kind="orders", path=lines_file(tmp_path, new_orders(30)))

    assert OrderLine.objects.count() == 0 and Product.objects.count() == 0
    assert no_writer_left()
