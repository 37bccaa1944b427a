"""`kam import` and `kam export` on the command line."""

import io

import pytest
from django.core.management import call_command

from kam.ledger.models import ImportRun, ImportStatus, OrderLine

GOOD = "account_code,order_no,order_date,revenue\nC1,SO-1,2024-01-02,10\n"
BAD = GOOD + 'C1,SO-2,2024/13/45,10\nC1,SO-3,2024-01-02,"1,234.5元"\n'


@pytest.fixture(autouse=True)
def english(settings):
    """The command line speaks LANGUAGE_CODE; these tests read English."""
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def account(account_make):
    return account_make(code="C1")


def _run(*args, **options):
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import", *args, stdout=out, stderr=err, **options)
        code = 0
    except SystemExit as exit:
        code = exit.code
    return code, out.getvalue()


def test_import_command_writes_and_records_the_run(tmp_path, account):
    path = tmp_path / "o.csv"
    path.write_text(GOOD, encoding="utf-8")
    code, out = _run("orders", str(path))
    assert code == 0 and "1 created" in out
    run = ImportRun.objects.get()
    assert (run.status, run.created, run.user) == (ImportStatus.DONE, 1, None)


def test_import_command_reports_errors_writes_nothing_and_exits_1(tmp_path, account):
    path = tmp_path / "o.csv"
    path.write_text(BAD, encoding="utf-8")
    code, out = _run("orders", str(path))
    assert code == 1 and OrderLine.objects.count() == 0
    assert "row 3, column order_date: not a real date" in out
    assert "Nothing was written" in out


def test_import_command_dry_run_and_skip_invalid(tmp_path, account):
    path = tmp_path / "o.csv"
    path.write_text(BAD.replace('"1,234.5元"', "5"), encoding="utf-8")
    code, out = _run("orders", str(path), dry_run=True)
    assert code == 0 and "Dry run" in out and OrderLine.objects.count() == 0
    code, out = _run("orders", str(path), skip_invalid=True)
    assert code == 0 and "2 created" in out and "1 rows skipped" in out
    assert ImportRun.objects.first().skipped == 1


def test_import_command_as_an_account_manager_stays_in_the_portfolio(tmp_path, account, am_member):
    path = tmp_path / "o.csv"
    path.write_text(GOOD, encoding="utf-8")
    code, out = _run("orders", str(path), username="am_member")
    assert code == 1 and "not in your portfolio" in out


def test_import_command_names_a_missing_file(tmp_path, db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="no such file"):
        call_command("import", "orders", str(tmp_path / "nope.csv"))


def test_import_command_words_the_reasons_in_language_code(tmp_path, account, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    path = tmp_path / "o.csv"
    path.write_text(BAD, encoding="utf-8")
    code, out = _run("orders", str(path))
    assert code == 1
    assert "第 3 行，列 order_date：不是有效的日期：'2024/13/45'（月份必须在 1 到 12 之间）" in out
    assert "金额 '1,234.5元' 带有单位或货币符号" in out
    # The summary lines speak the same language as the reasons.
    assert "o.csv：读取" in out and "未写入任何数据。请修正以上各行" in out
    assert "rows read" not in out and "Nothing was written" not in out
    run = ImportRun.objects.get()
    assert run.language == "zh-hans" and run.errors[0][2].startswith("不是有效的日期")
