"""The per-account rollups (AccountDay, AccountTotal) stay equal to their order lines."""

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from kam.ledger import rollups
from kam.ledger.importing import import_file
from kam.ledger.models import AccountDay, AccountTotal, OrderLine

HEADER = ["account_code", "order_no", "line_no", "order_date", "revenue", "cost"]
LINES = [
    ["A1", "SO-1", "1", "2024-03-05", "1000", "600"],
    ["A1", "SO-1", "2", "2024-03-05", "200", ""],
    ["A1", "SO-2", "1", "2024-01-10", "-50", ""],  # a credit day: not a purchase day
    ["A1", "SO-3", "1", "2024-06-01", "300", "100"],
    ["A2", "SO-4", "1", "2024-04-01", "600", "450"],
]


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    path.write_text("\n".join(",".join(row) for row in [HEADER, *rows]) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def accounts(account_make):
    return {code: account_make(code=code) for code in ("A1", "A2")}


def expected_total(account_id: int) -> dict:
    """The AccountTotal and running totals computed in Python from the order lines."""
    by_day: dict[dt.date, list] = {}
    for line in OrderLine.objects.filter(account_id=account_id):
        entry = by_day.setdefault(line.order_date, [Decimal(0), Decimal(0), 0, 0, set()])
        entry[0] += line.revenue
        if line.cost is not None:
            entry[1] += line.cost
            entry[2] += 1
        entry[3] += 1
        entry[4].add(line.order_no)
    days = sorted(by_day)
    purchases = [day for day in days if by_day[day][0] > 0]
    running, to_date = Decimal(0), {}
    for day in days:
        running += by_day[day][0]
        to_date[day] = running
    return {
        "first_day": days[0],
        "last_day": days[-1],
        "revenue": sum(by_day[d][0] for d in days),
        "cost": sum(by_day[d][1] for d in days),
        "cost_lines": sum(by_day[d][2] for d in days),
        "lines": sum(by_day[d][3] for d in days),
        "orders": sum(len(by_day[d][4]) for d in days),
        "purchase_days": len(purchases),
        "purchase_revenue": sum(by_day[d][0] for d in purchases),
        "first_purchase": purchases[0] if purchases else None,
        "first_purchase_revenue": by_day[purchases[0]][0] if purchases else 0,
        "last_purchase": purchases[-1] if purchases else None,
        "running": to_date,
    }


def assert_rollups_match_lines(*account_ids: int) -> None:
    for account_id in account_ids:
        expected = expected_total(account_id)
        running = expected.pop("running")
        total = AccountTotal.objects.get(account_id=account_id)
        for name, value in expected.items():
            assert getattr(total, name) == value, name
        days = dict(
            AccountDay.objects.filter(account_id=account_id).values_list("day", "revenue_to_date")
        )
        assert days == running


def test_import_keeps_account_totals_and_running_revenue(tmp_path, accounts):
    import_file(kind="orders", path=write_csv(tmp_path / "o.csv", LINES))
    assert_rollups_match_lines(accounts["A1"].pk, accounts["A2"].pk)
    total = AccountTotal.objects.get(account=accounts["A1"])
    assert (total.first_day, total.first_purchase) == (dt.date(2024, 1, 10), dt.date(2024, 3, 5))
    assert (total.purchase_days, total.first_purchase_revenue) == (2, Decimal("1200"))
    assert total.revenue == Decimal("1450") and total.orders == 3 and total.cost_lines == 2


def test_reimport_with_changed_and_new_lines_updates_the_totals(tmp_path, accounts):
    import_file(kind="orders", path=write_csv(tmp_path / "o.csv", LINES))
    changed = [row[:] for row in LINES]
    changed[3][4] = "-400"  # the last purchase day becomes a credit day
    changed.append(["A2", "SO-5", "1", "2023-12-01", "80", "20"])  # a new first day
    import_file(kind="orders", path=write_csv(tmp_path / "o2.csv", changed))
    assert_rollups_match_lines(accounts["A1"].pk, accounts["A2"].pk)
    a1 = AccountTotal.objects.get(account=accounts["A1"])
    assert a1.last_purchase == dt.date(2024, 3, 5) and a1.last_day == dt.date(2024, 6, 1)
    assert AccountTotal.objects.get(account=accounts["A2"]).first_purchase == dt.date(2023, 12, 1)


def test_lines_moved_to_another_account_move_their_totals(tmp_path, accounts):
    import_file(kind="orders", path=write_csv(tmp_path / "o.csv", LINES))
    moved = [["A1", "SO-4", "1", "2024-04-01", "600", "450"]]
    import_file(kind="orders", path=write_csv(tmp_path / "moved.csv", moved))
    assert not AccountTotal.objects.filter(account=accounts["A2"]).exists()
    assert_rollups_match_lines(accounts["A1"].pk)
    assert AccountTotal.objects.get(account=accounts["A1"]).purchase_days == 3


def test_rebuild_gives_the_same_rollups_as_the_importer(tmp_path, accounts):
    import_file(kind="orders", path=write_csv(tmp_path / "o.csv", LINES))
    before = list(AccountTotal.objects.order_by("pk").values())
    AccountDay.objects.update(revenue_to_date=0)
    AccountTotal.objects.all().delete()
    rollups.account_totals_rebuild()
    assert list(AccountTotal.objects.order_by("pk").values()) == before
    assert_rollups_match_lines(accounts["A1"].pk, accounts["A2"].pk)
