"""Tests for kam.lib.tabular on real files written to tmp_path."""

from __future__ import annotations

import gzip
import tracemalloc
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from kam.lib.tabular import (
    SAMPLE_BYTES,
    CellError,
    ColumnSpec,
    EmptyFileError,
    HeaderError,
    RowError,
    TableError,
    choice_parser,
    decimal_parser,
    open_table,
    parse_date,
    parse_datetime,
    parse_decimal,
    parse_int,
    parse_row,
    text_parser,
    write_table,
)

SPECS = [
    ColumnSpec("account_code", ("客户编号",), required=True),
    ColumnSpec("amount", ("金额",), required=True, parser=parse_decimal),
    ColumnSpec("order_date", ("下单日期",), parser=parse_date),
    ColumnSpec("note", ("备注",), parser=text_parser(10)),
]

CHINESE_CSV = (
    '客户编号,金额,下单日期,备注\nC001,"1,234.50",2024年3月5日,华东大客户\nC002,-7,2024/03/06,\n'
)


def read_all(
    path: Path, specs: list[ColumnSpec] = SPECS, **options: Any
) -> list[tuple[int, dict[str, Any], list[RowError]]]:
    """Every row as (number, parsed values, errors)."""
    with open_table(path, specs, **options) as table:
        return [(row.number, *parse_row(row, specs)) for row in table]


def write_bytes(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# ------------------------------------------------------------------ CSV encodings


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8"), ("gbk", "gb18030"), ("gb18030", "gb18030")],
)
def test_chinese_csv_reads_the_same_in_every_encoding(
    tmp_path: Path, encoding: str, expected: str
) -> None:
    path = write_bytes(tmp_path, "orders.csv", CHINESE_CSV.encode(encoding))

    with open_table(path, SPECS) as table:
        assert table.encoding == expected
        assert table.columns == {
            "account_code": "客户编号",
            "amount": "金额",
            "order_date": "下单日期",
            "note": "备注",
        }
        rows = [(row.number, *parse_row(row, SPECS)) for row in table]

    assert rows == [
        (
            2,
            {
                "account_code": "C001",
                "amount": Decimal("1234.50"),
                "order_date": date(2024, 3, 5),
                "note": "华东大客户",
            },
            [],
        ),
        (
            3,
            {
                "account_code": "C002",
                "amount": Decimal("-7"),
                "order_date": date(2024, 3, 6),
                "note": None,
            },
            [],
        ),
    ]


def test_gzip_compressed_csv_is_read_by_content_not_name(tmp_path: Path) -> None:
    path = write_bytes(tmp_path, "orders.csv.gz", gzip.compress(CHINESE_CSV.encode("gbk")))

    rows = read_all(path)

    assert [row[1]["account_code"] for row in rows] == ["C001", "C002"]


def test_utf8_character_cut_by_the_sample_boundary_is_not_taken_for_gbk(tmp_path: Path) -> None:
    head = b"account_code,note\n"
    filler = b"C0,x\n" * ((SAMPLE_BYTES - len(head) - 10) // 5)
    pad = b"C1," + b"a" * (SAMPLE_BYTES - 1 - len(head) - len(filler) - 3)
    # "客" is three bytes in UTF-8; the sample ends after its first byte.
    data = head + filler + pad + "客户\n".encode()
    assert data[SAMPLE_BYTES - 1 : SAMPLE_BYTES + 2] == "客".encode()
    specs = [ColumnSpec("account_code", required=True), ColumnSpec("note")]

    with open_table(write_bytes(tmp_path, "boundary.csv", data), specs) as table:
        assert table.encoding == "utf-8"
        last = list(table)[-1]

    assert last.values["note"].endswith("客户")


def test_a_bad_byte_late_in_the_file_names_its_row(tmp_path: Path) -> None:
    lines = [b"account_code,note\n"] + [b"C%06d,ok\n" % n for n in range(20_000)]
    lines.insert(15_000, "C-GBK,华东\n".encode("gbk"))  # file row 15001
    path = write_bytes(tmp_path, "mixed.csv", b"".join(lines))

    with pytest.raises(TableError, match=r"row 15001: the text is not valid UTF-8") as caught:
        read_all(path, [ColumnSpec("account_code"), ColumnSpec("note")])

    assert caught.value.row == 15001


def test_utf16_files_get_a_clear_error(tmp_path: Path) -> None:
    path = write_bytes(tmp_path, "unicode.txt", "客户编号\tamount\n".encode("utf-16"))

    with pytest.raises(TableError, match="UTF-16"):
        open_table(path, SPECS)


def test_legacy_xls_gets_a_clear_error(tmp_path: Path) -> None:
    path = write_bytes(tmp_path, "old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)

    with pytest.raises(TableError, match=r"old \.xls"):
        open_table(path, SPECS)


def test_cr_only_line_endings_get_a_clear_error(tmp_path: Path) -> None:
    path = write_bytes(tmp_path, "mac.csv", b"account_code,amount\rC1,1\r")

    with pytest.raises(TableError, match="old Mac line endings"):
        open_table(path, SPECS)


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_semicolon_and_tab_delimiters_are_sniffed(tmp_path: Path, delimiter: str) -> None:
    text = CHINESE_CSV.replace(",", delimiter).replace('"1' + delimiter + '234.50"', "1234.50")
    path = write_bytes(tmp_path, "orders.csv", text.encode())

    with open_table(path, SPECS) as table:
        assert table.delimiter == delimiter
        assert [parse_row(row, SPECS)[0]["amount"] for row in table] == [
            Decimal("1234.50"),
            Decimal("-7"),
        ]


def test_quoted_newlines_count_as_one_spreadsheet_row(tmp_path: Path) -> None:
    text = 'account_code,amount,note\nC1,1,"two\nlines"\nC2,x,\n'
    path = write_bytes(tmp_path, "multi.csv", text.encode())

    rows = read_all(path)

    assert rows[0][1]["note"] == "two\nlines"
    assert rows[1][2] == [RowError(3, "amount", "not a number: 'x'")]


def test_blank_rows_are_skipped_and_numbering_stays_true_to_the_file(tmp_path: Path) -> None:
    text = "\n\naccount_code,amount\n\nC1,1\n,\n\nC2,2\n\n\n"
    path = write_bytes(tmp_path, "gaps.csv", text.encode())

    with open_table(path, SPECS) as table:
        assert table.header_row == 3
        assert [(row.number, row.values["account_code"]) for row in table] == [(5, "C1"), (8, "C2")]


def test_short_rows_are_padded(tmp_path: Path) -> None:
    path = write_bytes(tmp_path, "short.csv", b"account_code,amount,note\nC1,5\n")

    assert read_all(path)[0][1] == {
        "account_code": "C1",
        "amount": Decimal(5),
        "order_date": None,
        "note": None,
    }


def test_a_row_wider_than_the_header_is_reported(tmp_path: Path) -> None:
    path = write_bytes(tmp_path, "shifted.csv", b"account_code,amount\nC1,5\nC2,1,234.50\n")

    with pytest.raises(TableError, match=r"row 3 has 3 cells but the header has 2; .*unquoted"):
        read_all(path)


# ------------------------------------------------------------------ headers


def test_headers_match_ignoring_case_spaces_underscores_and_bom(tmp_path: Path) -> None:
    text = "\ufeff  ACCOUNT Code ,Amount,  下单日期 ,Region\nC1,1,2024-01-02,East\n"
    path = write_bytes(tmp_path, "en.csv", text.encode())

    with open_table(path, SPECS) as table:
        assert table.columns == {
            "account_code": "ACCOUNT Code",
            "amount": "Amount",
            "order_date": "下单日期",
        }
        assert table.unknown_columns == ["Region"]
        (row,) = table

    assert row.values == {"account_code": "C1", "amount": "1", "order_date": "2024-01-02"}


@pytest.mark.parametrize("data", [b"", b"\n\n  \n", b"\xef\xbb\xbf"])
def test_empty_file_is_reported(tmp_path: Path, data: bytes) -> None:
    with pytest.raises(EmptyFileError, match="the file is empty"):
        open_table(write_bytes(tmp_path, "empty.csv", data), SPECS)


def test_a_file_without_header_is_reported(tmp_path: Path) -> None:
    path = write_bytes(tmp_path, "data.csv", b"C1,1234.50,2024-03-05\n")

    with pytest.raises(HeaderError, match="does not look like a header"):
        open_table(path, SPECS)


def test_all_missing_required_columns_are_named(tmp_path: Path) -> None:
    specs = [*SPECS, ColumnSpec("currency", ("币种",), required=True)]
    path = write_bytes(tmp_path, "partial.csv", "客户编号,备注\nC1,x\n".encode())

    with pytest.raises(HeaderError) as caught:
        open_table(path, specs)

    assert caught.value.missing == ["amount", "currency"]
    assert "missing required columns: amount (金额), currency (币种)" in str(caught.value)


def test_duplicate_columns_are_named_even_under_different_aliases(tmp_path: Path) -> None:
    path = write_bytes(
        tmp_path, "dup.csv", "客户编号,金额,account_code,备注,备注\nC1,1,C1,x,y\n".encode()
    )

    with pytest.raises(
        HeaderError, match="duplicate columns: 客户编号 / account_code; 备注 / 备注"
    ):
        open_table(path, SPECS)


def test_duplicate_unknown_columns_are_ignored_with_specs_but_not_without(tmp_path: Path) -> None:
    path = write_bytes(tmp_path, "dup.csv", "客户编号,金额,Extra,extra\nC1,1,a,b\n".encode())

    with open_table(path, SPECS) as table:
        assert table.unknown_columns == ["Extra", "extra"]
    with pytest.raises(HeaderError, match="duplicate column names: Extra"):
        open_table(path)


def test_without_specs_rows_are_keyed_by_the_header_as_written(tmp_path: Path) -> None:
    path = write_bytes(tmp_path, "raw.csv", "客户编号, Amount \nC1,1\n".encode())

    with open_table(path) as table:
        assert [row.values for row in table] == [{"客户编号": "C1", "Amount": "1"}]


# ------------------------------------------------------------------ parse_row


def test_reasons_are_templates_the_caller_can_translate(tmp_path: Path) -> None:
    path = write_bytes(tmp_path, "bad.csv", "客户编号,金额,下单日期\n ,12a,2024/02/30\n".encode())
    wording = {
        "a value is required": "必填",
        "not a number: %(value)s": "不是数字：%(value)s",
        "not a real date: %(value)s (day is out of range for month)": "日期不存在：%(value)s",
    }
    with open_table(path, SPECS) as table:
        ((_values, errors),) = [parse_row(row, SPECS, wording.__getitem__) for row in table]
    assert [error.reason for error in errors] == [
        "必填",
        "不是数字：'12a'",
        "日期不存在：'2024/02/30'",
    ]
    with pytest.raises(TableError) as caught:
        open_table(write_bytes(tmp_path, "u16.csv", "a,b\n".encode("utf-16")))
    assert caught.value.text({caught.value.template: "UTF-16 文件"}.__getitem__) == "UTF-16 文件"
    assert str(caught.value) == caught.value.text() and "UTF-16" in str(caught.value)


def test_parse_row_reports_every_bad_cell_with_row_and_written_header(tmp_path: Path) -> None:
    text = "客户编号,金额,下单日期,备注\n ,12a,2024/13/45,这段备注超过了十个字符的长度\n"
    path = write_bytes(tmp_path, "bad.csv", text.encode())

    ((number, values, errors),) = read_all(path)

    assert number == 2
    assert values == {"account_code": None, "amount": None, "order_date": None, "note": None}
    assert [str(error) for error in errors] == [
        "row 2, column 客户编号: a value is required",
        "row 2, column 金额: not a number: '12a'",
        "row 2, column 下单日期: not a real date: '2024/13/45' (month must be in 1..12)",
        "row 2, column 备注: text has 14 characters; at most 10 allowed",
    ]


def test_cells_are_stripped_and_blank_optional_cells_are_none(tmp_path: Path) -> None:
    path = write_bytes(tmp_path, "spaces.csv", b"account_code,amount,order_date\n  C1  , 5 ,  \n")

    assert read_all(path)[0][1:] == (
        {"account_code": "C1", "amount": Decimal(5), "order_date": None, "note": None},
        [],
    )


# ------------------------------------------------------------------ value parsers


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1234.5", Decimal("1234.5")),
        ("1,234.50", Decimal("1234.50")),
        ("-1,234.50", Decimal("-1234.50")),
        ("(1,234.50)", Decimal("-1234.50")),
        ("−3", Decimal("-3")),
        ("+0.10", Decimal("0.10")),
        (".5", Decimal("0.5")),
        (1234, Decimal(1234)),
        (0.1, Decimal("0.1")),
        ("12345678901234567890.123456789", Decimal("12345678901234567890.123456789")),
    ],
)
def test_amounts_are_exact(raw: Any, expected: Decimal) -> None:
    value = parse_decimal(raw)
    assert value == expected and str(value) == str(expected)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("1,234.5元", "amount '1,234.5元' has a unit/currency symbol; put the bare number"),
        ("¥1,234.50", "amount '¥1,234.50' has a unit/currency symbol; put the bare number"),
        ("USD 99", "amount 'USD 99' has a unit/currency symbol; put the bare number"),
        ("15%", "amount '15%' has a unit/currency symbol; put the bare number"),
        ("12万", "amount '12万' uses 万; write the full number (12万 is 120000)"),
        ("1234,50", "amount '1234,50' uses a decimal comma; write a point: 1234.50"),
        ("1.234,50", "amount '1.234,50' uses a decimal comma; write a point: 1234.50"),
        ("1,23.4", "amount '1,23.4' has misplaced separators; write 1,234.50 or 1234.50"),
        (
            "1.23457E+15",
            "amount '1.23457E+15' is in scientific notation; "
            "format the column as a number and export again",
        ),
        ("12a", "not a number: '12a'"),
        ("NaN", "not a number: 'NaN'"),
        (True, "not a number: 'True'"),
    ],
)
def test_bad_amounts_get_a_clear_reason(raw: Any, reason: str) -> None:
    with pytest.raises(CellError) as caught:
        parse_decimal(raw)
    assert caught.value.reason == reason


def test_decimal_parser_refuses_to_round_silently() -> None:
    parse = decimal_parser(2)
    assert parse("1.2300") == Decimal("1.2300")
    with pytest.raises(CellError, match="more than 2 decimal places"):
        parse("1.234")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("42", 42), ("1,234", 1234), ("12.00", 12), (7, 7), (7.0, 7), ("-3", -3), ("１２", 12)],
)
def test_whole_numbers(raw: Any, expected: int) -> None:
    assert parse_int(raw) == expected


@pytest.mark.parametrize("raw", ["12.5", "abc", 1.5])
def test_fractions_are_not_whole_numbers(raw: Any) -> None:
    with pytest.raises(CellError, match="not a whole number"):
        parse_int(raw)


@pytest.mark.parametrize(
    "raw",
    [
        "2024-03-05",
        "2024/03/05",
        "2024/3/5",
        "2024.03.05",
        "2024年3月5日",
        "2024 年 3 月 5 日",
        "20240305",
        "2024-03-05 00:00:00",
        "45356",
        45356,
        datetime(2024, 3, 5),
        date(2024, 3, 5),
    ],
)
def test_accepted_date_forms(raw: Any) -> None:
    assert parse_date(raw) == date(2024, 3, 5)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("2024/13/45", "not a real date: '2024/13/45' (month must be in 1..12)"),
        ("2024-02-30", "not a real date: '2024-02-30' (day is out of range for month)"),
        (
            "05/03/2024",
            "ambiguous date '05/03/2024': day and month order cannot be guessed; write YYYY-MM-DD",
        ),
        (
            "05/03/2024 14:30",
            "ambiguous date '05/03/2024 14:30': "
            "day and month order cannot be guessed; write YYYY-MM-DD",
        ),
        ("2024-03/05", "not a date: '2024-03/05'; write YYYY-MM-DD"),
        ("2024", "not a date: '2024'; write YYYY-MM-DD"),
        ("soon", "not a date: 'soon'; write YYYY-MM-DD"),
        ("2024-03-05 14:30", "expected a date without a time: '2024-03-05 14:30'"),
        (datetime(2024, 3, 5, 9, 0), "expected a date without a time: '2024-03-05 09:00:00'"),
    ],
)
def test_bad_dates_get_a_clear_reason(raw: Any, reason: str) -> None:
    with pytest.raises(CellError) as caught:
        parse_date(raw)
    assert caught.value.reason == reason


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-03-05 14:30", datetime(2024, 3, 5, 14, 30)),
        ("2024/3/5 9:05:07", datetime(2024, 3, 5, 9, 5, 7)),
        ("2024-03-05T14:30:00.250", datetime(2024, 3, 5, 14, 30, 0, 250_000)),
        ("2024-03-05T06:30:00Z", datetime(2024, 3, 5, 6, 30, tzinfo=UTC)),
        (
            "2024-03-05 14:30:00+08:00",
            datetime(2024, 3, 5, 14, 30, tzinfo=timezone(timedelta(hours=8))),
        ),
        ("2024年3月5日 14:30", datetime(2024, 3, 5, 14, 30)),
        ("2024-03-05", datetime(2024, 3, 5)),
        ("45356.604166667", datetime(2024, 3, 5, 14, 30)),
        (45356.5, datetime(2024, 3, 5, 12, 0)),
    ],
)
def test_accepted_datetime_forms(raw: Any, expected: datetime) -> None:
    assert parse_datetime(raw) == expected


def test_impossible_time_is_reported() -> None:
    with pytest.raises(
        CellError, match=r"not a real time: '2024-03-05 25:00' \(hour must be in 0..23\)"
    ):
        parse_datetime("2024-03-05 25:00")


def test_choices_match_ignoring_case_and_map_to_stored_values() -> None:
    parse = choice_parser({"Strategic": "strategic", "战略": "strategic", "Key": "key"})
    assert parse(" strategic ") == "strategic"
    assert parse("战略") == "strategic"
    with pytest.raises(CellError, match="'Gold' is not one of: Strategic, 战略, Key"):
        parse("Gold")


def test_text_from_xlsx_numbers_is_the_digits_excel_shows() -> None:
    assert text_parser(20)(1001.0) == "1001"
    assert text_parser(20)(12.5) == "12.5"


# ------------------------------------------------------------------ oversize cells


def test_a_cell_over_the_size_limit_names_row_and_column(tmp_path: Path) -> None:
    data = "客户编号,备注\nC1,short\nC2,{}\n".format("长" * 2_000).encode()
    path = write_bytes(tmp_path, "huge.csv", data)

    with pytest.raises(
        TableError, match="row 3, column 备注: the cell has more than 1000 characters"
    ):
        read_all(path, [ColumnSpec("account_code", ("客户编号",))], max_cell_size=1000)


def test_an_unclosed_quote_is_an_error_not_a_crash(tmp_path: Path) -> None:
    data = b'account_code,note\nC1,"never closed\n' + b"more text\n" * 20_000
    path = write_bytes(tmp_path, "quote.csv", data)

    with pytest.raises(
        TableError, match=r"row 2: a cell has more than 32767 characters \(an unclosed quote\?\)"
    ):
        read_all(path, [ColumnSpec("account_code")])


# ------------------------------------------------------------------ XLSX


def make_xlsx(path: Path, rows: list[list[Any]], *, title: str = "Orders") -> Workbook:
    """A workbook whose first sheet holds ``rows``, saved to ``path`` by the caller."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = title
    for row in rows:
        sheet.append(row)
    return workbook


XLSX_ROWS: list[list[Any]] = [
    ["客户编号", "金额", "下单日期", "备注"],
    ["C001", 1234.5, datetime(2024, 3, 5), "华东"],
    [1002, 7, "2024/03/06", None],
]


def test_xlsx_native_cells_parse_like_their_text(tmp_path: Path) -> None:
    path = tmp_path / "orders.xlsx"
    workbook = make_xlsx(path, XLSX_ROWS)
    sheet = workbook.active
    assert sheet is not None
    sheet["A40"].number_format = "0.00"  # Excel keeps formatted empty rows at the end
    workbook.save(path)

    with open_table(path, SPECS) as table:
        assert (table.format, table.sheet) == ("xlsx", "Orders")
        rows = [(row.number, *parse_row(row, SPECS)) for row in table]

    assert rows == [
        (
            2,
            {
                "account_code": "C001",
                "amount": Decimal("1234.5"),
                "order_date": date(2024, 3, 5),
                "note": "华东",
            },
            [],
        ),
        (
            3,
            {
                "account_code": "1002",
                "amount": Decimal(7),
                "order_date": date(2024, 3, 6),
                "note": None,
            },
            [],
        ),
    ]


def test_xlsx_named_sheet_and_missing_sheet(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    workbook = make_xlsx(path, [["说明"], ["请看第二页"]], title="README")
    second = workbook.create_sheet("订单")
    for row in XLSX_ROWS:
        second.append(row)
    workbook.save(path)

    assert [row[1]["account_code"] for row in read_all(path, sheet="订单")] == ["C001", "1002"]
    with pytest.raises(TableError, match="no sheet named 'Sales'; the workbook has: README, 订单"):
        open_table(path, SPECS, sheet="Sales")


def test_xlsx_formula_cell_is_named(tmp_path: Path) -> None:
    path = tmp_path / "formula.xlsx"
    rows: list[list[Any]] = [
        ["客户编号", "数量", "单价", "金额"],
        ["C1", 2, 3, 6],
        ["C2", 2, 4, "=B3*C3"],
    ]
    make_xlsx(path, rows).save(path)

    with pytest.raises(TableError, match=r"formula in cell D3; paste values") as caught:
        read_all(path)
    assert caught.value.row == 3


def test_xlsx_formula_in_an_ignored_column_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "helper.xlsx"
    make_xlsx(path, [["客户编号", "金额", "check"], ["C1", 6, "=B2*2"]]).save(path)

    assert read_all(path)[0][1]["amount"] == Decimal(6)


def test_xlsx_merged_ranges_are_named(tmp_path: Path) -> None:
    path = tmp_path / "merged.xlsx"
    workbook = make_xlsx(path, [*XLSX_ROWS, ["C3", 1, None, None], ["", 2, None, None]])
    sheet = workbook.active
    assert sheet is not None
    sheet.merge_cells("A4:A5")
    sheet.merge_cells("C2:D2")
    workbook.save(path)

    with pytest.raises(
        TableError, match=r"merged cells in sheet 'Orders': (A4:A5, C2:D2|C2:D2, A4:A5); unmerge"
    ):
        open_table(path, SPECS)


def test_xlsx_oversize_cell_is_named(tmp_path: Path) -> None:
    path = tmp_path / "huge.xlsx"
    make_xlsx(path, [["客户编号", "金额", "备注"], ["C1", 1, "x" * 500]]).save(path)

    with pytest.raises(TableError, match="cell C2 has more than 100 characters"):
        read_all(path, max_cell_size=100)


def test_xlsx_empty_sheet_and_missing_columns(tmp_path: Path) -> None:
    empty = tmp_path / "empty.xlsx"
    make_xlsx(empty, []).save(empty)
    partial = tmp_path / "partial.xlsx"
    make_xlsx(partial, [["Account Code", "Note"], ["C1", "x"]]).save(partial)

    with pytest.raises(EmptyFileError, match="sheet 'Orders' is empty"):
        open_table(empty, SPECS)
    with pytest.raises(HeaderError, match="missing required columns: amount"):
        open_table(partial, SPECS)


# ------------------------------------------------------------------ round trip

ROUND_TRIP_SPECS = [
    ColumnSpec("code", ("客户编号",), required=True),
    ColumnSpec("amount", ("金额",), parser=parse_decimal),
    ColumnSpec("day", ("日期",), parser=parse_date),
    ColumnSpec("at", ("时间",), parser=parse_datetime),
    ColumnSpec("count", ("数量",), parser=parse_int),
]
ROUND_TRIP_ROWS: list[list[Any]] = [
    ["华东-001", Decimal("1234.50"), date(2024, 3, 5), datetime(2024, 3, 5, 14, 30, 1, 123000), 3],
    [
        "=1+1",
        Decimal("-0.01"),
        date(1999, 12, 31),
        datetime(2024, 3, 5, 14, 30, tzinfo=timezone(timedelta(hours=8))),
        0,
    ],
    [
        "big",
        Decimal("12345678901234567890.12"),
        date(2024, 1, 1),
        datetime(2024, 1, 1, 0, 0, 0, 1),
        12345678901234567,
    ],
    ["1E+3", Decimal("1E+3"), None, datetime(2024, 3, 5, 6, 30, tzinfo=UTC), None],
]


@pytest.mark.parametrize("name", ["out.csv", "out.csv.gz", "out.xlsx"])
def test_written_tables_read_back_to_equal_values(tmp_path: Path, name: str) -> None:
    path = tmp_path / name

    count = write_table(path, ["客户编号", "金额", "日期", "时间", "数量"], ROUND_TRIP_ROWS)

    assert count == len(ROUND_TRIP_ROWS)
    rows = read_all(path, ROUND_TRIP_SPECS)
    assert [errors for _, _, errors in rows] == [[]] * len(ROUND_TRIP_ROWS)
    assert [list(values.values()) for _, values, _ in rows] == ROUND_TRIP_ROWS


def test_csv_is_written_with_a_bom_for_excel(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    write_table(path, ["客户编号"], [["C1"]])
    assert path.read_bytes().startswith("\ufeff客户编号".encode())


def test_unknown_extension_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="use .csv, .csv.gz or .xlsx"):
        write_table(tmp_path / "out.ods", ["a"], [])


# ------------------------------------------------------------------ streaming


def test_reading_a_large_csv_keeps_memory_flat(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8") as stream:
        stream.write("客户编号,金额,下单日期,备注\n")
        for n in range(200_000):
            stream.write(f"C{n:07d},{n}.50,2024-03-05,华东大客户\n")

    tracemalloc.start()
    try:
        total = Decimal(0)
        with open_table(path, SPECS) as table:
            for row in table:
                values, errors = parse_row(row, SPECS)
                total += values["amount"]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert total == sum(Decimal(f"{n}.50") for n in range(200_000))
    # The whole file is ~9 MB; holding it, or a list of rows, would be far more.
    assert peak < 1_000_000, peak
