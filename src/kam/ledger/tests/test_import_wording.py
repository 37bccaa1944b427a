"""Import reports in the user's language: every reason and file message, English and Chinese."""

import ast
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from kam.ledger import importing
from kam.ledger.importing import import_file
from kam.ledger.models import ImportRun, ImportStatus
from kam.ledger.tabular_messages import TABULAR_MESSAGES
from kam.lib import tabular

BAD = (
    "account_code,order_no,line_no,order_date,revenue\n"
    "A1,SO-1,1,2024/13/45,10\n"
    "ZZ,SO-2,1,2024-01-02,10\n"
    "A1,SO-3,1,2024-01-02,abc\n"
    "A1,SO-4,1,2024-01-02,5\n"
    "A1,SO-4,1,2024-01-02,5\n"
)


@pytest.fixture
def account(account_make):
    return account_make(code="A1")


@pytest.fixture
def bad_file(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(BAD, encoding="utf-8")
    return path


def _reasons(path: Path, language: str, **options) -> dict[tuple[int, str], str]:
    with translation.override(language):
        report = import_file(kind="orders", path=path, **options)
    return {(error.row, error.column): error.reason for error in report.errors}


def test_reasons_follow_the_active_language(bad_file, account):
    chinese = _reasons(bad_file, "zh-hans")
    assert chinese == {
        (2, "order_date"): "不是有效的日期：'2024/13/45'（月份必须在 1 到 12 之间）",
        (3, "account_code"): "未知客户 'ZZ'（请先导入客户，或选择创建未知客户）",
        (4, "revenue"): "不是数字：'abc'",
        (6, "order_no"): "重复的订单行：订单 SO-4 第 1 行已在第 5 行出现",
    }
    english = _reasons(bad_file, "en")
    assert english == {
        (2, "order_date"): "not a real date: '2024/13/45' (month must be in 1..12)",
        (3, "account_code"): (
            "unknown account 'ZZ' (import accounts first, or ask to create unknown accounts)"
        ),
        (4, "revenue"): "not a number: 'abc'",
        (6, "order_no"): "duplicate line: order SO-4 line 1 is already on row 5",
    }


def test_an_account_manager_is_told_in_chinese_what_is_outside_the_portfolio(
    tmp_path, account_make, am_member, am_outsider
):
    account_make(code="MINE", owner=am_member)
    account_make(code="OUT", owner=am_outsider)
    path = tmp_path / "o.csv"
    path.write_text(
        "客户编号,订单号,日期,金额\nMINE,SO-1,2024-01-02,1\nOUT,SO-2,2024-01-02,1\n",
        encoding="utf-8",
    )
    assert _reasons(path, "zh-hans", actor=am_member) == {
        (3, "客户编号"): "客户 'OUT' 不在您负责的客户范围内"
    }


@pytest.mark.parametrize(
    ("content", "english", "chinese"),
    [
        (b"", "the file is empty", "文件为空"),
        (
            b"account_code,order_no,order_date\n",
            "missing required columns: revenue",
            "缺少必需的列",
        ),
        (b"account_code,order_no,order_date,revenue\n", "no data rows", "没有数据行"),
    ],
)
def test_file_messages_follow_the_active_language(tmp_path, db, content, english, chinese):
    path = tmp_path / "upload.csv"
    path.write_bytes(content)
    for language, expected in (("en", english), ("zh-hans", chinese)):
        with translation.override(language):
            message = import_file(kind="orders", path=path).file_error
        assert message.startswith("upload.csv: ") and expected in message


def test_each_message_template_is_translated_once_per_import(bad_file, account, monkeypatch):
    rows = "".join(f"A1,SO-{n},2024/13/{n % 28 + 1},abc\n" for n in range(200))
    bad_file.write_text("account_code,order_no,order_date,revenue\n" + rows, encoding="utf-8")
    looked_up: list[str] = []

    def gettext(message: str) -> str:
        looked_up.append(message)
        return translation.gettext(message)

    monkeypatch.setattr(importing, "gettext", gettext)
    with translation.override("zh-hans"):
        report = import_file(kind="orders", path=bad_file)
    assert report.error_count == 400
    assert sorted(looked_up) == sorted(
        [
            "not a number: %(value)s",
            "not a real date: %(value)s (month must be in 1..12)",
        ]
    )


def _tabular_templates() -> set[str]:
    """Every message template kam.lib.tabular can raise or report, read from its source."""
    tree = ast.parse(Path(tabular.__file__).read_text(encoding="utf-8"))
    errors = {"CellError", "TableError", "HeaderError", "EmptyFileError"}
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) in errors:
            if isinstance(node.args[0], ast.Constant):
                found.add(node.args[0].value)
        elif (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Constant)
            and {getattr(target, "id", None) for target in node.targets} & {"template", "REQUIRED"}
        ):
            found.add(node.value.value)
    return found


def test_every_tabular_message_is_in_the_ledger_catalogue_in_chinese():
    templates = _tabular_templates()
    assert len(templates) > 30
    assert templates == set(TABULAR_MESSAGES)
    with translation.override("zh-hans"):
        untranslated = [t for t in templates if translation.gettext(t) == t]
    assert untranslated == []


@pytest.fixture
def immediate_tasks(settings, tmp_path):
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.mark.parametrize(
    ("accept", "reason"),
    [("en", "not a number: 'abc'"), ("zh-CN", "不是数字：'abc'")],
)
def test_an_upload_is_reported_in_the_uploaders_language(
    client_for, am_member, account_make, immediate_tasks, django_capture_on_commit_callbacks,
    accept, reason,
):  # fmt: skip
    account_make(code="A1", owner=am_member)
    client = client_for(am_member)
    upload = SimpleUploadedFile(
        "bad.csv", b"account_code,order_no,order_date,revenue\nA1,S,2024-01-02,abc\n"
    )
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/ledger/import/", {"kind": "orders", "file": upload}, HTTP_ACCEPT_LANGUAGE=accept
        )
    run = ImportRun.objects.get()
    assert run.status == ImportStatus.REJECTED and run.errors == [[2, "revenue", reason]]
    # The stored report reads the same whoever opens it.
    page = client.get(f"/ledger/import/{run.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert reason.replace("'", "&#x27;") in page
