"""Export → import round trips to the same data, in CSV and XLSX, from the CLI."""

from decimal import Decimal

import pytest
from django.core.management import call_command

from kam.customers.models import Account, Contact
from kam.customers.services import contact_create
from kam.ledger.importing import import_file
from kam.ledger.models import OrderLine

ORDERS = (
    "account_code,order_no,line_no,order_date,product_code,product_name,category,quantity,"
    "revenue,cost,currency,channel,sales_rep,credit_for_order_no\n"
    "R1,SO-1,1,2024-03-05,P1,网关,设备,2.5,1234.56,1000.01,CNY,直销,王磊,\n"
    "R1,SO-1,2,2024-03-05,P2,=SUM(A1),设备,1,100,,USD,,,\n"
    "R1,CN-1,1,2024-03-20,P1,网关,设备,-1,-493.82,-400,CNY,直销,王磊,SO-1\n"
)


def _state():
    accounts = list(
        Account.objects.order_by("code").values_list(
            "code", "legal_name", "credit_code", "region", "industry", "parent__code",
            "owner__username", "team__name", "employees", "wallet_size", "sales_stage",
        )
    )  # fmt: skip
    contacts = list(
        Contact.objects.order_by("account__code", "name").values_list(
            "account__code", "name", "title", "reports_to__name", "buying_role", "influence",
            "has_left", "left_on", "email",
        )
    )  # fmt: skip
    lines = list(
        OrderLine.objects.order_by("order_no", "line_no").values_list(
            "account__code", "order_no", "line_no", "order_date", "product__code",
            "product__name", "quantity", "revenue", "cost", "currency", "channel",
            "sales_rep", "credit_for_order_no",
        )
    )  # fmt: skip
    return accounts, contacts, lines


@pytest.fixture
def data(account_make, director, am_member, tmp_path):
    from datetime import date

    group = account_make(code="R0", legal_name="集团", region="east", owner=am_member)
    account = account_make(
        code="R1", legal_name="一号, 有限公司", parent=group, industry="logistics",
        employees=120, wallet_size=Decimal("1234567.89"), owner=am_member,
    )  # fmt: skip
    boss = contact_create(actor=director, account=account, data={"name": "王总", "influence": 5})
    contact_create(
        actor=director, account=account,
        data={"name": "李四", "title": "采购", "reports_to": boss, "has_left": True,
              "left_on": date(2024, 5, 1), "email": "li@example.cn", "buying_role": "gatekeeper"},
    )  # fmt: skip
    path = tmp_path / "orders.csv"
    path.write_text(ORDERS, encoding="utf-8")
    assert import_file(kind="orders", path=path).written


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_export_then_import_round_trips_to_the_same_data(data, tmp_path, suffix):
    before = _state()
    files = {}
    for kind in ("accounts", "contacts", "orders"):
        files[kind] = tmp_path / f"{kind}{suffix}"
        call_command("export", kind, output=str(files[kind]))
    Contact.objects.all().delete()
    OrderLine.objects.all().delete()
    Account.objects.update(parent=None, wallet_size=None, employees=None, region="")
    for kind in ("accounts", "contacts", "orders"):
        report = import_file(kind=kind, path=files[kind])
        assert report.ok and report.written, report.errors
    assert _state() == before
    for kind in ("accounts", "contacts", "orders"):
        again = import_file(kind=kind, path=files[kind])
        assert again.created == again.updated == 0


def test_export_as_an_account_manager_only_covers_their_portfolio(
    data, tmp_path, account_make, am_outsider
):
    account_make(code="X9", owner=am_outsider)
    call_command("export", "accounts", output=str(tmp_path / "a.csv"), username="am_member")
    text = (tmp_path / "a.csv").read_text(encoding="utf-8-sig")
    assert "X9" not in text and "R1" in text
    call_command("export", "accounts", output=str(tmp_path / "all.csv"), filter_region="east")
    assert [
        line.split(",")[0]
        for line in (tmp_path / "all.csv").read_text("utf-8-sig").splitlines()[1:]
    ] == ["R0"]
