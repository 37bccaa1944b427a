"""Two imports of the same new orders at once: both succeed, as if run one after the other."""

import time
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection

from kam.audit.models import Action, AuditEntry
from kam.core.tests.concurrency import in_parallel
from kam.customers.models import Account
from kam.ledger import rollups
from kam.ledger import services as ledger_services
from kam.ledger.importing import import_file
from kam.ledger.models import AccountDay, ImportRun, ImportStatus, OrderLine, Product

# New orders are COPYed straight into the ledger on PostgreSQL only (SQLite always upserts,
# and its in-memory test database answers a second writer with "table is locked").
pytestmark = pytest.mark.skipif(
    connection.vendor == "sqlite", reason="the COPY path and concurrent writers need PostgreSQL"
)

HEADER = "account_code,order_no,line_no,order_date,revenue\n"


@pytest.fixture
def account(account_make):
    return account_make(code="A1")


@pytest.mark.django_db(transaction=True)
def test_orders_written_by_another_import_after_the_check_are_upserted(
    tmp_path, account, monkeypatch
):
    first = tmp_path / "first.csv"
    first.write_text(HEADER + "A1,SO-1,1,2024-03-05,10\nA1,SO-1,2,2024-03-05,20\n")
    second = tmp_path / "second.csv"
    second.write_text(
        HEADER + "A1,SO-1,1,2024-03-05,11\nA1,SO-1,2,2024-03-05,20\nA1,SO-2,1,2024-03-06,5\n"
    )
    check = rollups.order_lines_any_exist
    other: list = []

    def check_then_other_import(order_numbers):
        # The second import finds none of its orders; then the first one writes and commits.
        found = check(order_numbers)
        if not other:
            other.append(None)
            other[0] = in_parallel(lambda: import_file(kind="orders", path=first))[0]
        return found

    monkeypatch.setattr(rollups, "order_lines_any_exist", check_then_other_import)
    report = import_file(kind="orders", path=second)

    assert other[0].created == 2
    assert (report.created, report.updated, report.unchanged) == (1, 1, 1)
    lines = OrderLine.objects.order_by("order_no", "line_no")
    assert [(x.order_no, x.line_no, x.revenue) for x in lines] == [
        ("SO-1", 1, Decimal("11")),
        ("SO-1", 2, Decimal("20")),
        ("SO-2", 1, Decimal("5")),
    ]
    days = AccountDay.objects.filter(account=account).order_by("day")
    assert [(str(d.day), d.revenue, d.lines) for d in days] == [
        ("2024-03-05", Decimal("31"), 2),
        ("2024-03-06", Decimal("5"), 1),
    ]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("products", [0, 7])
def test_two_imports_of_the_same_new_file_at_once_both_succeed(tmp_path, account, products):
    # Without products both COPY and one waits for the other's lines; with new products
    # the second waits for the first's products (then finds its orders and upserts).
    rows = "".join(
        f"A1,SO-{n // 3},{n % 3 + 1},2024-03-05,{f'P{n % products}' if products else ''},{n}\n"
        for n in range(3000)
    )
    path = tmp_path / "same.csv"
    path.write_text("account_code,order_no,line_no,order_date,product_code,revenue\n" + rows)

    results = in_parallel(
        lambda: import_file(kind="orders", path=path),
        lambda: import_file(kind="orders", path=path),
    )

    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted((r.created, r.unchanged) for r in results) == [(0, 3000), (3000, 0)]
    assert OrderLine.objects.count() == 3000 and Product.objects.count() == products
    day = AccountDay.objects.get(account=account)
    assert (day.lines, day.revenue) == (3000, Decimal(sum(range(3000))))


NEW_ACCOUNT_FILE = HEADER + "NEW1,SO-9,1,2024-03-05,10\nNEW1,SO-9,2,2024-03-05,5\n"


@pytest.mark.django_db(transaction=True)
def test_two_imports_creating_the_same_new_account_at_once_both_succeed(tmp_path, director):
    path = tmp_path / "new.csv"
    path.write_text(NEW_ACCOUNT_FILE)

    def run():
        return import_file(kind="orders", path=path, actor=director, create_accounts=True)

    results = in_parallel(run, run)

    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(r.accounts_created for r in results) == [0, 1]
    account = Account.objects.get(code="NEW1")
    assert (
        AuditEntry.objects.filter(
            object_type="customers.account", object_id=str(account.pk), action=Action.CREATE
        ).count()
        == 1
    )
    assert OrderLine.objects.filter(account=account).count() == 2
    assert AccountDay.objects.get(account=account).revenue == Decimal("15")


@pytest.mark.django_db(transaction=True)
def test_an_account_created_meanwhile_outside_the_portfolio_stops_the_import(
    tmp_path, director, am_member
):
    path = tmp_path / "new.csv"
    path.write_text(NEW_ACCOUNT_FILE)
    other: list = []

    def director_imports_first():
        # Between the account manager's check and write, the director creates NEW1.
        other.extend(
            in_parallel(
                lambda: import_file(kind="orders", path=path, actor=director, create_accounts=True)
            )
        )

    with pytest.raises(PermissionDenied, match="NEW1"):
        import_file(
            kind="orders",
            path=path,
            actor=am_member,
            create_accounts=True,
            on_write=director_imports_first,
        )

    assert other[0].accounts_created == 1
    account = Account.objects.get(code="NEW1")
    assert account.owner_id is None
    assert OrderLine.objects.filter(account=account).count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_long_write_phase_keeps_beating_from_its_own_connection(
    tmp_path, account, director, monkeypatch
):
    path = tmp_path / "orders.csv"
    path.write_text(HEADER + "A1,SO-1,1,2024-03-05,10\n")
    run = ledger_services.import_run_create(user=director, kind="orders", file_name="orders.csv")
    monkeypatch.setattr(ledger_services, "WRITE_HEARTBEAT_SECONDS", 0.05)
    refresh = rollups.account_days_refresh
    seen: list = []

    def slow_refresh(ids):
        # Read the run from another connection, as another machine would, while writing.
        def beat_seen():
            return ImportRun.objects.values_list("status", "heartbeat_at").get(pk=run.pk)

        seen.append(in_parallel(beat_seen)[0])
        time.sleep(0.4)
        seen.append(in_parallel(beat_seen)[0])
        return refresh(ids)

    monkeypatch.setattr(rollups, "account_days_refresh", slow_refresh)
    report = ledger_services.import_run_execute(run=run, path=path)

    assert report.written and report.created == 1
    (status, first), (_status, later) = seen
    assert status == ImportStatus.WRITING and later > first
