"""Importing order lines, accounts and contacts from real files in every encoding and format."""

import csv
import gzip
from decimal import Decimal
from pathlib import Path

import pytest
from django.db.models import ProtectedError
from django.utils import translation
from openpyxl import Workbook

from kam.audit.models import AuditEntry
from kam.customers.models import Account, Contact
from kam.ledger import rollups
from kam.ledger.importing import import_file
from kam.ledger.models import AccountDay, OrderLine, Product
from kam.lib import credit_code

ORDERS_ZH = [
    ["客户编号", "订单号", "行号", "日期", "产品编码", "产品名称", "数量", "金额", "成本"],
    ["A1", "SO-1", "1", "2024-03-05", "P1", "工业网关", "2", "1,234.50", "1000"],
    ["A1", "SO-1", "2", "2024-03-05", "P2", "配电柜", "1", "100", ""],
    ["A2", "SO-2", "1", "2024-04-01", "P1", "工业网关", "1", "600", "450"],
]


def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8") -> Path:
    text = "\n".join(",".join(f'"{c}"' if "," in c else c for c in row) for row in rows) + "\n"
    path.write_bytes(text.encode(encoding))
    return path


def write_xlsx(path: Path, rows: list[list[object]]) -> Path:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


@pytest.fixture(autouse=True)
def english():
    """These tests read the reasons in English; test_import_wording covers the Chinese."""
    with translation.override("en"):
        yield


@pytest.fixture
def accounts(account_make, am_member, am_outsider):
    return {
        "A1": account_make(code="A1", owner=am_member),
        "A2": account_make(code="A2", owner=am_member),
        "B1": account_make(code="B1", owner=am_outsider),
    }


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_orders_import_reads_chinese_headers_in_every_csv_encoding(tmp_path, accounts, encoding):
    path = write_csv(tmp_path / "orders.csv", ORDERS_ZH, encoding)
    report = import_file(kind="orders", path=path)
    assert report.ok and report.written
    assert report.created == 3
    line = OrderLine.objects.get(order_no="SO-1", line_no=1)
    assert line.revenue == Decimal("1234.50") and line.cost == Decimal("1000.00")
    assert line.product.name == "工业网关" and line.currency == "CNY"
    assert OrderLine.objects.get(order_no="SO-1", line_no=2).cost is None


def test_orders_import_reads_xlsx_and_gzip(tmp_path, accounts):
    assert import_file(kind="orders", path=write_xlsx(tmp_path / "o.xlsx", ORDERS_ZH)).created == 3
    OrderLine.objects.all().delete()
    gz = tmp_path / "o.csv.gz"
    gz.write_bytes(gzip.compress(write_csv(tmp_path / "o.csv", ORDERS_ZH).read_bytes()))
    assert import_file(kind="orders", path=gz).created == 3


def test_reimporting_the_same_file_changes_nothing_and_a_changed_file_updates(tmp_path, accounts):
    path = write_csv(tmp_path / "orders.csv", ORDERS_ZH)
    import_file(kind="orders", path=path)
    again = import_file(kind="orders", path=path)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    changed = [row[:] for row in ORDERS_ZH]
    changed[3][7] = "700"
    report = import_file(kind="orders", path=write_csv(tmp_path / "orders2.csv", changed))
    assert (report.created, report.updated, report.unchanged) == (0, 1, 2)
    assert OrderLine.objects.get(order_no="SO-2").revenue == Decimal("700")
    day = AccountDay.objects.get(account=accounts["A2"])
    assert day.revenue == Decimal("700") and day.cost == Decimal("450") and day.orders == 1


def test_rollups_sum_each_account_day(tmp_path, accounts):
    import_file(kind="orders", path=write_csv(tmp_path / "orders.csv", ORDERS_ZH))
    day = AccountDay.objects.get(account=accounts["A1"])
    assert day.revenue == Decimal("1334.50")
    assert (day.cost, day.cost_lines, day.lines, day.orders) == (Decimal("1000"), 1, 2, 1)


def test_a_line_moved_to_another_account_refreshes_both_rollups(tmp_path, accounts):
    import_file(kind="orders", path=write_csv(tmp_path / "orders.csv", ORDERS_ZH))
    moved = [ORDERS_ZH[0], ["A1", "SO-2", "1", "2024-04-01", "P1", "x", "1", "600", "450"]]
    import_file(kind="orders", path=write_csv(tmp_path / "moved.csv", moved))
    assert not AccountDay.objects.filter(account=accounts["A2"]).exists()
    assert AccountDay.objects.filter(account=accounts["A1"]).count() == 2


BAD_ROWS = [
    ["account_code", "order_no", "line_no", "order_date", "revenue"],
    ["A1", "SO-1", "1", "2024/13/45", "10"],
    ["A1", "SO-2", "1", "2024-01-02", "1,234.5元"],
    ["ZZ", "SO-3", "1", "2024-01-02", "10"],
    ["A1", "SO-4", "1", "2024-01-02", "10"],
    ["A1", "SO-4", "1", "2024-01-03", "11"],
    ["A1", "SO-5", "1", "2024-01-02", "abc"],
]


def test_every_bad_row_is_reported_with_row_column_and_reason_and_nothing_written(
    tmp_path, accounts
):
    report = import_file(kind="orders", path=write_csv(tmp_path / "bad.csv", BAD_ROWS))
    assert not report.written and OrderLine.objects.count() == 0
    found = {(e.row, e.column): e.reason for e in report.errors}
    assert "not a real date" in found[(2, "order_date")]
    assert "unit/currency" in found[(3, "revenue")]
    assert "unknown account 'ZZ'" in found[(4, "account_code")]
    assert "already on row 5" in found[(6, "order_no")]
    assert "not a number" in found[(7, "revenue")]
    assert report.bad_rows == 5 and report.valid == 1


def test_skip_invalid_writes_the_valid_rows_and_lists_exactly_the_skipped(tmp_path, accounts):
    report = import_file(
        kind="orders", path=write_csv(tmp_path / "bad.csv", BAD_ROWS), skip_invalid=True
    )
    assert report.written and report.created == 1
    assert sorted({e.row for e in report.errors}) == [2, 3, 4, 6, 7]
    assert list(OrderLine.objects.values_list("order_no", flat=True)) == ["SO-4"]


def test_dry_run_writes_nothing(tmp_path, accounts):
    report = import_file(kind="orders", path=write_csv(tmp_path / "o.csv", ORDERS_ZH), dry_run=True)
    assert report.ok and report.valid == 3 and not report.written
    assert OrderLine.objects.count() == 0 and Product.objects.count() == 0


def test_create_accounts_makes_missing_accounts_named_from_the_file(tmp_path, director):
    rows = [
        ["account_code", "account_name", "order_no", "order_date", "revenue"],
        ["N1", "新客户有限公司", "SO-1", "2024-01-02", "10"],
        ["N1", "新客户有限公司", "SO-1", "2024-01-02", "-3"],
    ]
    path = write_csv(tmp_path / "o.csv", rows)
    assert not import_file(kind="orders", path=path).written
    report = import_file(kind="orders", path=path, create_accounts=True, actor=director)
    assert report.accounts_created == 1 and report.created == 2
    account = Account.objects.get(code="N1")
    assert account.legal_name == "新客户有限公司"
    # No line column: lines are numbered per order in file order.
    assert list(account.order_lines.order_by("line_no").values_list("line_no", "revenue")) == [
        (1, Decimal("10")),
        (2, Decimal("-3")),
    ]
    assert AuditEntry.objects.filter(account=account, actor=director).exists()


def test_crash_while_writing_leaves_the_database_as_before_and_a_rerun_completes(
    tmp_path, accounts, monkeypatch
):
    path = write_csv(tmp_path / "o.csv", ORDERS_ZH)

    def crash(account_ids):
        raise RuntimeError("killed")

    monkeypatch.setattr(rollups, "account_days_refresh", crash)
    with pytest.raises(RuntimeError):
        import_file(kind="orders", path=path)
    assert OrderLine.objects.count() == 0 and Product.objects.count() == 0
    monkeypatch.undo()
    assert import_file(kind="orders", path=path).created == 3
    assert AccountDay.objects.count() == 2


def test_account_manager_cannot_import_into_another_portfolio(tmp_path, accounts, am_member):
    rows = [ORDERS_ZH[0], ORDERS_ZH[1], ["B1", "SO-9", "1", "2024-01-01", "", "", "1", "5", ""]]
    report = import_file(kind="orders", path=write_csv(tmp_path / "o.csv", rows), actor=am_member)
    assert not report.written
    assert [(e.row, e.reason) for e in report.errors] == [
        (3, "account 'B1' is not in your portfolio")
    ]


def test_viewer_may_not_import(tmp_path, accounts, viewer):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        import_file(kind="orders", path=write_csv(tmp_path / "o.csv", ORDERS_ZH), actor=viewer)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"account_code,order_no,order_date\nA1,SO-1,2024-01-01\n", "missing required columns"),
        (b"account_code,order_no,order_date,revenue,revenue\n", "duplicate columns"),
        (b"account_code,order_no,order_date,revenue\n", "no data rows"),
        ("account_code,order_no\n".encode("utf-16"), "UTF-16"),
        (b"account_code,order_no,order_date,revenue\nA1,SO-1,2024-01-01,1\nA1,\xff\xfe\xfa,x,1\n",
         "not valid"),
        (b"account_code,order_no,order_date,revenue\nA1,SO-1,2024-01-01," + b"9" * 40000 + b"\n",
         "more than"),
    ],
)  # fmt: skip
def test_unreadable_files_get_one_clear_message_naming_the_file(
    tmp_path, accounts, content, message
):
    path = tmp_path / "upload.csv"
    path.write_bytes(content)
    report = import_file(kind="orders", path=path)
    assert message in report.file_error and "upload.csv" in report.file_error
    assert not report.written and OrderLine.objects.count() == 0


def test_xlsx_with_formulas_or_merged_cells_is_refused(tmp_path, accounts):
    book = Workbook()
    sheet = book.active
    for row in ORDERS_ZH:
        sheet.append(row)
    sheet["H3"] = "=H2*2"
    book.save(tmp_path / "f.xlsx")
    assert "formula in cell H3" in import_file(kind="orders", path=tmp_path / "f.xlsx").file_error
    book = Workbook()
    sheet = book.active
    for row in ORDERS_ZH:
        sheet.append(row)
    sheet.merge_cells("A2:A3")
    book.save(tmp_path / "m.xlsx")
    assert "merged cells" in import_file(kind="orders", path=tmp_path / "m.xlsx").file_error


# ---------------------------------------------------------------- accounts and contacts


def _credit() -> str:
    first = "91310000MA1FL0000"
    return first + credit_code.check_character(first)


def test_accounts_import_validates_like_the_model_and_links_parents(tmp_path, director, am_member):
    rows = [
        ["客户编号", "客户名称", "统一社会信用代码", "区域", "行业", "上级客户编号", "客户经理"],
        ["G1", "集团总部", _credit(), "华东", "物流", "", "am_member"],
        ["G2", "子公司", "", "south", "Logistics", "G1", ""],
        ["G3", "坏代码", "91310000MA1FL00000", "", "", "", ""],
        ["G4", "错区域", "", "火星", "", "", "nobody"],
        ["G5", "孤儿", "", "", "", "NOPE", ""],
    ]
    rows[1][3] = "East China (华东)"
    report = import_file(kind="accounts", path=write_csv(tmp_path / "a.csv", rows), actor=director)
    assert not report.written
    columns = {(e.row, e.column) for e in report.errors}
    assert columns == {(4, "统一社会信用代码"), (5, "区域"), (6, "上级客户编号")}
    report = import_file(
        kind="accounts", path=write_csv(tmp_path / "a.csv", rows), actor=director, skip_invalid=True
    )
    assert report.created == 2
    g1, g2 = Account.objects.get(code="G1"), Account.objects.get(code="G2")
    assert (g1.region, g1.industry, g1.owner, g1.team) == (
        "east",
        "logistics",
        am_member,
        am_member.team,
    )
    assert g2.parent == g1 and g2.region == "south"
    assert AuditEntry.objects.filter(account=g2, action="create").count() == 1


def test_accounts_reimport_updates_only_what_changed_and_audits_it(
    tmp_path, account_make, director
):
    account = account_make(code="K1", legal_name="旧名称有限公司", city="上海")
    rows = [["code", "legal_name", "city"], ["K1", "新名称有限公司", "上海"]]
    report = import_file(kind="accounts", path=write_csv(tmp_path / "a.csv", rows), actor=director)
    assert (report.created, report.updated) == (0, 1)
    account.refresh_from_db()
    assert account.legal_name == "新名称有限公司" and account.city == "上海"
    entry = AuditEntry.objects.filter(account=account, action="update").get()
    assert entry.changes == {"legal_name": ["旧名称有限公司", "新名称有限公司"]}
    assert "a.csv" in entry.message
    again = import_file(kind="accounts", path=write_csv(tmp_path / "a.csv", rows), actor=director)
    assert again.unchanged == 1 and AuditEntry.objects.filter(action="update").count() == 1


def test_account_manager_imports_accounts_into_own_portfolio_only(
    tmp_path, account_make, am_member, am_outsider
):
    account_make(code="OUT", owner=am_outsider)
    rows = [["code", "legal_name"], ["MINE", "我的客户"], ["OUT", "别人的客户"]]
    report = import_file(
        kind="accounts",
        path=write_csv(tmp_path / "a.csv", rows),
        actor=am_member,
        skip_invalid=True,
    )
    assert report.created == 1 and report.errors[0].row == 3
    assert Account.objects.get(code="MINE").owner == am_member


def test_contacts_import_creates_updates_and_links_managers(tmp_path, accounts, director):
    rows = [
        ["客户编号", "姓名", "职务", "上级", "采购角色", "影响力", "邮箱"],
        ["A1", "王总", "总经理", "", "决策者", "5", "wang@example.cn"],
        ["A1", "李经理", "采购经理", "王总", "gatekeeper", "3", ""],
        ["A1", "坏人", "", "", "", "9", ""],
        ["A1", "坏邮箱", "", "", "", "1", "not-an-email"],
    ]
    report = import_file(kind="contacts", path=write_csv(tmp_path / "c.csv", rows), actor=director)
    assert {(e.row, e.column) for e in report.errors} == {(4, "影响力"), (5, "邮箱")}
    report = import_file(
        kind="contacts", path=write_csv(tmp_path / "c.csv", rows[:3]), actor=director
    )
    assert report.created == 2
    li = Contact.objects.get(name="李经理")
    assert li.reports_to.name == "王总" and li.buying_role == "gatekeeper"
    again = import_file(
        kind="contacts", path=write_csv(tmp_path / "c.csv", rows[:3]), actor=director
    )
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)


def test_accounts_import_refuses_a_cycle_in_the_group(tmp_path, account_make, director):
    top = account_make(code="T1")
    account_make(code="T2", parent=top)
    rows = [["code", "legal_name", "parent_code"], ["T1", "顶层", "T2"]]
    report = import_file(kind="accounts", path=write_csv(tmp_path / "a.csv", rows), actor=director)
    assert not report.written and "cycle" in report.errors[0].reason


def test_accounts_and_products_with_order_lines_cannot_be_deleted(tmp_path, accounts):
    # Order lines have no database-level foreign keys (import speed); Django's PROTECT holds.
    import_file(kind="orders", path=write_csv(tmp_path / "orders.csv", ORDERS_ZH))
    with pytest.raises(ProtectedError):
        accounts["A1"].delete()
    with pytest.raises(ProtectedError):
        Product.objects.get(code="P1").delete()
    assert OrderLine.objects.filter(account=accounts["A1"]).count() == 2


def test_a_file_mixing_new_and_known_orders_creates_and_updates_exactly(tmp_path, accounts):
    # New orders only take the bulk path (COPY on PostgreSQL); a known order makes it an upsert.
    import_file(kind="orders", path=write_csv(tmp_path / "first.csv", ORDERS_ZH[:3]))
    mixed = [*ORDERS_ZH, ["A2", "SO-3", "1", "2024-05-02", "", "", "1", "50", ""]]
    mixed[1] = [*mixed[1][:7], "1300", "1000"]
    report = import_file(kind="orders", path=write_csv(tmp_path / "mixed.csv", mixed))
    assert (report.created, report.updated, report.unchanged) == (2, 1, 1)
    assert OrderLine.objects.get(order_no="SO-1", line_no=1).revenue == Decimal("1300")
    assert OrderLine.objects.get(order_no="SO-3").product is None
    assert AccountDay.objects.get(account=accounts["A2"], day="2024-05-02").revenue == Decimal("50")


def test_text_with_commas_quotes_and_line_breaks_survives_the_spool_and_both_write_paths(
    tmp_path, accounts
):
    # Checked lines wait in a spool (marshal batches on PostgreSQL) and become CSV only for
    # COPY: first into the ledger (all orders new), then through the stage (an update).
    header = ["account_code", "order_no", "line_no", "order_date", "product_code",
              "product_name", "revenue", "channel", "sales_rep"]  # fmt: skip
    channel, rep = 'Direct, "key" accounts', "王磊\n(华东)"
    rows = [
        header,
        ["A1", "SO-Q", "1", "2024-06-01", "PQ", 'Gateway, 5" panel', "80", channel, rep],
    ]
    path = tmp_path / "quoted.csv"
    with path.open("w", newline="", encoding="utf-8") as stream:
        csv.writer(stream).writerows(rows)
    assert import_file(kind="orders", path=path).created == 1
    line = OrderLine.objects.get(order_no="SO-Q")
    assert (line.channel, line.sales_rep, line.product.name) == (channel, rep, 'Gateway, 5" panel')
    rows[1][7] = channel + ", again"
    with path.open("w", newline="", encoding="utf-8") as stream:
        csv.writer(stream).writerows(rows)
    assert import_file(kind="orders", path=path).updated == 1
    line.refresh_from_db()
    assert (line.channel, line.sales_rep) == (channel + ", again", rep)


def test_new_orders_without_product_or_cost_are_written_with_empty_values(tmp_path, accounts):
    rows = [ORDERS_ZH[0], ["A1", "SO-9", "1", "2024-06-01", "", "", "", "80", ""]]
    report = import_file(kind="orders", path=write_csv(tmp_path / "bare.csv", rows))
    assert report.created == 1
    line = OrderLine.objects.get(order_no="SO-9")
    assert (line.product, line.cost, line.quantity, line.channel) == (None, None, Decimal(1), "")


def test_currencies_are_kept_as_codes_and_chinese_names_become_cny(tmp_path, accounts):
    header = ["account_code", "order_no", "order_date", "revenue", "currency"]
    plain = [header, ["A1", "C-1", "2024-01-02", "10", "USD"], ["A1", "C-2", "2024-01-02", "5", ""]]
    assert import_file(kind="orders", path=write_csv(tmp_path / "plain.csv", plain)).created == 2
    mixed = [
        header,
        ["A1", "C-3", "2024-01-03", "10", "gbp"],
        ["A1", "C-4", "2024-01-03", "10", "RMB"],
        ["A1", "C-5", "2024-01-03", "10", "人民币"],
        ["A1", "C-6", "2024-01-03", "10", "EUR"],
    ]
    assert import_file(kind="orders", path=write_csv(tmp_path / "mixed.csv", mixed)).created == 4
    currencies = dict(OrderLine.objects.values_list("order_no", "currency"))
    assert currencies == {
        "C-1": "USD", "C-2": "CNY", "C-3": "GBP", "C-4": "CNY", "C-5": "CNY", "C-6": "EUR",
    }  # fmt: skip
