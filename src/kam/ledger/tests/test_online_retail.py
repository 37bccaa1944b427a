"""The UCI Online Retail data set: a slice of the real file converted and imported."""

import csv
import gzip
import importlib.util
import io
import itertools
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from kam.customers.models import Account
from kam.ledger.importing import import_file
from kam.ledger.models import AccountDay, OrderLine

REPO = Path(__file__).resolve().parents[4]
DATA = REPO.parent / "shared" / "data" / "online_retail_2010-12_2011-06.csv.gz"
SLICE = 3000


def _script():
    spec = importlib.util.spec_from_file_location(
        "online_retail", REPO / "scripts" / "online_retail.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(not DATA.exists(), reason=f"{DATA} is not on this machine")
def test_a_slice_of_the_real_file_imports_cleanly(tmp_path, db):
    with gzip.open(DATA, "rt", encoding="utf-8", newline="") as source:
        lines = list(itertools.islice(source, SLICE + 1))
    (tmp_path / "slice.csv.gz").write_bytes(gzip.compress("".join(lines).encode()))
    rows = list(csv.DictReader(io.StringIO("".join(lines))))
    without_customer = sum(1 for row in rows if not row["CustomerID"].strip())
    cancelled = [row for row in rows if row["InvoiceNo"].startswith("C") and row["CustomerID"]]
    assert without_customer and cancelled  # the slice exercises both cases

    stats = _script().convert(
        tmp_path / "slice.csv.gz", tmp_path / "accounts.csv.gz", tmp_path / "orders.csv.gz"
    )
    assert stats.without_customer == without_customer
    assert stats.written == SLICE - without_customer

    accounts = import_file(kind="accounts", path=tmp_path / "accounts.csv.gz")
    orders = import_file(kind="orders", path=tmp_path / "orders.csv.gz")
    assert accounts.ok and orders.ok and orders.written
    assert orders.created == SLICE - without_customer
    assert (
        Account.objects.filter(code__startswith="UCI", region="overseas").count() == stats.accounts
    )

    first = cancelled[0]
    line = OrderLine.objects.filter(order_no=first["InvoiceNo"]).order_by("line_no").first()
    expected = Decimal(first["Quantity"]) * Decimal(first["UnitPrice"])
    assert line.revenue < 0 and line.revenue == -abs(expected).quantize(Decimal("0.01"))
    assert line.account.code == "UCI" + first["CustomerID"].removesuffix(".0")
    assert line.currency == "GBP" and line.product.code == first["StockCode"]
    total = sum(OrderLine.objects.values_list("revenue", flat=True))
    days = sum(AccountDay.objects.values_list("revenue", flat=True))
    assert days.quantize(Decimal("0.01")) == total.quantize(Decimal("0.01"))
    again = import_file(kind="orders", path=tmp_path / "orders.csv.gz")
    assert again.unchanged == orders.created and again.created == again.updated == 0
