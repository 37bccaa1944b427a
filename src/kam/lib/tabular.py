"""Stream rows from the CSV and XLSX files companies export from ERPs and Excel.

Reading: ``open_table(path, specs)`` yields ``Row`` objects one at a time with
constant memory; ``parse_row(row, specs)`` turns the raw cells into typed values
and a list of ``RowError`` ("row 17, column 金额: not a number: '12a'").
Problems that make the whole file unusable (wrong encoding, missing columns,
formulas, merged cells, oversize cells) raise ``TableError`` and stop the read.
Messages are English ``%(name)s`` templates with their values, so an app can
show them translated (``error.text(translate)``, ``parse_row(..., translate)``).

Writing: ``write_table(path, headers, rows)`` streams CSV (UTF-8 with BOM, so
Excel shows Chinese correctly) or XLSX, and what it writes reads back to equal
values. No Django import: this module is tested on plain files.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import operator
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from io import BufferedIOBase
from itertools import batched, chain, islice, repeat
from pathlib import Path
from types import TracebackType
from typing import IO, Any, NamedTuple

__all__ = [
    "DEFAULT_MAX_CELL_SIZE",
    "CellError",
    "ColumnSpec",
    "EmptyFileError",
    "HeaderError",
    "Row",
    "RowError",
    "TableError",
    "TableReader",
    "choice_parser",
    "decimal_parser",
    "open_table",
    "parse_date",
    "parse_datetime",
    "parse_decimal",
    "parse_int",
    "parse_row",
    "parse_text",
    "text_parser",
    "write_table",
]

# Excel's own limit for one cell; anything bigger did not come from Excel.
# Counted in characters so a sheet passes or fails the same in GBK and UTF-8.
DEFAULT_MAX_CELL_SIZE = 32_767
SAMPLE_BYTES = 64 * 1024
_MERGE_REPORT_LIMIT = 10

_ZIP_MAGIC = b"PK\x03\x04"
_GZIP_MAGIC = b"\x1f\x8b"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # legacy .xls (and encrypted .xlsx)


# ---------------------------------------------------------------- errors


class _Worded:
    """A message for the uploader: an English ``%(name)s`` template and its values.

    Apps show it in the user's language with ``text(translate)``, ``translate``
    giving a template's translation (the ledger's catalogue holds these templates).
    """

    template: str
    params: dict[str, Any]

    def text(self, translate: Callable[[str], str] = str) -> str:
        return translate(self.template) % self.params


class TableError(_Worded, Exception):
    """The file as a whole cannot be read; the message is meant for the uploader."""

    def __init__(
        self, template: str, /, *, row: int | None = None, column: str | None = None, **params: Any
    ) -> None:
        self.template = template
        self.params = {"row": row, "column": column, **params}
        super().__init__(template % self.params)
        self.row = row
        self.column = column


class EmptyFileError(TableError):
    """The file has no bytes, or only blank lines."""


class HeaderError(TableError):
    """The header row lacks required columns or names a column twice."""

    def __init__(
        self,
        template: str,
        /,
        *,
        missing: Sequence[str] = (),
        duplicates: Sequence[str] = (),
        **params: Any,
    ) -> None:
        super().__init__(template, row=None, **params)
        self.missing = list(missing)
        self.duplicates = list(duplicates)


class CellError(_Worded, ValueError):
    """Raised by a value parser; ``parse_row`` adds the row and column."""

    def __init__(self, template: str, /, **params: Any) -> None:
        self.template = template
        self.params = params
        self.reason = template % params  # in English
        super().__init__(self.reason)


@dataclass(frozen=True, slots=True)
class RowError:
    """One bad cell, named as the user sees it: file row number and header text."""

    row: int
    column: str
    reason: str

    def __str__(self) -> str:
        return f"row {self.row}, column {self.column}: {self.reason}"


# ---------------------------------------------------------------- rows and specs


REQUIRED = "a value is required"


class Row(NamedTuple):
    """One data row. ``number`` is the 1-based file row (header = row 1 normally).

    ``values`` maps the canonical column name (or the header as written, when no
    specs were given) to the raw cell: ``str`` for CSV, the cell's native value
    (str, int, float, datetime, bool) for XLSX. ``columns`` maps the same keys to
    the header as written, shared by all rows, so errors can quote it.
    """

    number: int
    values: dict[str, Any]
    columns: Mapping[str, str]


Parser = Callable[[Any], Any]
# Rows read together: their file row numbers and their wanted cells, alike in length.
Batch = tuple[Sequence[int], Sequence[tuple[Any, ...]]]


def _show(value: object, limit: int = 40) -> str:
    """Quote a cell for an error message without pasting a 30 KB cell into it."""
    text = str(value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return repr(text)


def _number_text(value: int | float) -> str:
    """How Excel shows a plain number: 1001.0 is '1001'."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def parse_text(value: Any) -> str:
    """Any non-blank cell as text; XLSX numbers become their plain digits."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return _number_text(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    return str(value)


def text_parser(max_length: int) -> Parser:
    """Text of at most ``max_length`` characters."""

    def parse(value: Any) -> str:
        text = parse_text(value)
        if len(text) > max_length:
            raise CellError(
                "text has %(length)s characters; at most %(limit)s allowed",
                length=len(text),
                limit=max_length,
            )
        return text

    return parse


def choice_parser(options: Mapping[str, Any] | Iterable[str]) -> Parser:
    """One of ``options``, matched ignoring case and spaces.

    A mapping maps accepted spellings to the stored value, e.g.
    ``{"A": "a", "A类": "a", "战略": "strategic"}``; an iterable accepts itself.
    """
    mapping = (
        dict(options) if isinstance(options, Mapping) else {option: option for option in options}
    )
    lookup = {_normalize(key): value for key, value in mapping.items()}
    listed = ", ".join(mapping)

    def parse(value: Any) -> Any:
        if value in mapping:  # exact spelling: the common case, no normalizing
            return mapping[value]
        try:
            return lookup[_normalize(parse_text(value))]
        except KeyError:
            raise CellError(
                "%(value)s is not one of: %(options)s", value=_show(value), options=listed
            ) from None

    return parse


_GROUPED_NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+")
_SCIENTIFIC = re.compile(r"\d+(?:\.\d*)?[eE][-+]?\d+")
_DECIMAL_COMMA = re.compile(r"\d{1,3}(?:\.\d{3})*,\d{1,2}|\d+,\d{1,2}")
_NUMBER_LIKE = re.compile(r"[-+(]?\s*[\d,.]*\d[\d,.]*\s*\)?")
# Currency and units people type next to amounts, in China and abroad.
_UNITS = re.compile(r"(?i)US\$|HK\$|RMB|CNY|USD|EUR|HKD|JPY|GBP|人民币|千元|元|块|[$¥￥€£₩₹%]")
_LOOKALIKES = str.maketrans({"−": "-", "－": "-", "（": "(", "）": ")", "，": ","})


def parse_decimal(value: Any) -> Decimal:
    """An exact amount. Accepts ``1234.5``, ``-1,234.50``, ``(1,234.50)``.

    Rejected with a specific message: currency symbols and units (``¥1,234.5``,
    ``1,234.5元``), 万 (a factor of 10,000 is too easy to drop), decimal commas
    (``1234,50``) and scientific notation (Excel's display of long numbers,
    which has already lost digits).
    """
    if isinstance(value, str):
        # Fast path for "1234.50" / "-7": three C string calls instead of a regex.
        if value.removeprefix("-").replace(".", "", 1).isdecimal():
            return Decimal(value)
        return _parse_decimal_text(value)
    if isinstance(value, bool):
        raise CellError("not a number: %(value)s", value=_show(value))
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        # repr() is the shortest text that round-trips, i.e. what Excel displays.
        return Decimal(repr(value))
    if isinstance(value, Decimal) and value.is_finite():
        return value
    raise CellError("not a number: %(value)s", value=_show(value))


def _parse_decimal_text(value: str) -> Decimal:
    """The slow path of ``parse_decimal``: signs, separators, worded errors."""
    text = value.strip().translate(_LOOKALIKES)
    body, negative = text, False
    if body.startswith("(") and body.endswith(")"):
        body, negative = body[1:-1].strip(), True
    elif body[:1] in ("+", "-"):
        body, negative = body[1:].strip(), body[0] == "-"
    if _GROUPED_NUMBER.fullmatch(body):
        number = Decimal(body.replace(",", ""))
        return -number if negative else number
    if _SCIENTIFIC.fullmatch(body):
        raise CellError(
            "amount %(value)s is in scientific notation; "
            "format the column as a number and export again",
            value=_show(value),
        )
    if "万" in text and re.search(r"\d", text):
        raise CellError(
            "amount %(value)s uses 万; write the full number (12万 is 120000)", value=_show(value)
        )
    bare = _UNITS.sub("", text).strip()
    if bare != text and _NUMBER_LIKE.fullmatch(bare):
        raise CellError(
            "amount %(value)s has a unit/currency symbol; put the bare number", value=_show(value)
        )
    if _DECIMAL_COMMA.fullmatch(body):
        raise CellError(
            "amount %(value)s uses a decimal comma; write a point: 1234.50", value=_show(value)
        )
    if _NUMBER_LIKE.fullmatch(text):
        raise CellError(
            "amount %(value)s has misplaced separators; write 1,234.50 or 1234.50",
            value=_show(value),
        )
    raise CellError("not a number: %(value)s", value=_show(value))


def decimal_parser(max_places: int) -> Parser:
    """An amount with at most ``max_places`` decimals, so nothing is rounded silently."""

    def parse(value: Any) -> Decimal:
        number = parse_decimal(value)
        if isinstance(value, str):
            dot = value.rfind(".")
            if dot < 0 or len(value) - dot - 1 <= max_places:
                return number  # the text shows few enough places: skip Decimal maths
        # normalize() drops trailing zeros: 1.2300 has two places that matter.
        exponent = number.normalize().as_tuple().exponent
        if isinstance(exponent, int) and exponent < -max_places:
            raise CellError(
                "amount %(value)s has more than %(places)s decimal places",
                value=_show(value),
                places=max_places,
            )
        return number

    return parse


def parse_int(value: Any) -> int:
    """A whole number; ``1,234`` and ``12.00`` are accepted, ``12.5`` is not."""
    if isinstance(value, str) and value.isdecimal():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    try:
        number = parse_decimal(value)
    except CellError:
        raise CellError("not a whole number: %(value)s", value=_show(value)) from None
    if number != number.to_integral_value():
        raise CellError("not a whole number: %(value)s", value=_show(value))
    return int(number)


# ---------------------------------------------------------------- dates

_DATE_TIME = re.compile(
    r"(?:(?P<y>\d{4})(?P<sep>[-/.])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})"
    r"|(?P<cy>\d{4})\s*年\s*(?P<cm>\d{1,2})\s*月\s*(?P<cd>\d{1,2})\s*日)"
    r"(?:(?:T|\s+)(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:[.,](?P<f>\d{1,6}))?)?"
    r"\s*(?:(?P<z>Z)|(?P<zs>[+-])(?P<zh>\d{2}):?(?P<zm>\d{2}))?)?"
)
_DAY_FIRST = re.compile(r"\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}(?:\s.*)?")
_COMPACT_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})")
# Five-digit Excel day numbers only (1927-05-18 .. 2173-10-14): a bare 2024 is
# far likelier a year than 1905-07-16.
_SERIAL = re.compile(r"\d{5}(?:\.\d+)?")
_EXCEL_EPOCH = datetime(1899, 12, 30)  # day 0, given Excel's phantom 1900-02-29


def _from_serial(serial: float, original: Any) -> datetime:
    """Excel day number to datetime, rounded to the millisecond Excel keeps."""
    if not 10_000 <= serial < 100_000:
        raise CellError("not a date: %(value)s; write YYYY-MM-DD", value=_show(original))
    return _EXCEL_EPOCH + timedelta(milliseconds=round(serial * 86_400_000))


def _parse_moment(value: Any) -> datetime | date:
    """Parse a date or datetime cell; returns ``date`` when no time was given."""
    if isinstance(value, datetime | date):
        return value
    if isinstance(value, bool):
        raise CellError("not a date: %(value)s", value=_show(value))
    if isinstance(value, int | float):
        return _from_serial(float(value), value)
    text = str(value).strip()
    match = _DATE_TIME.fullmatch(text)
    if match is None:
        if compact := _COMPACT_DATE.fullmatch(text):  # 20240305, as SAP and many ERPs write
            return _make_date(text, compact[1], compact[2], compact[3])
        if _SERIAL.fullmatch(text):
            return _from_serial(float(text), text)
        if _DAY_FIRST.fullmatch(text):
            raise CellError(
                "ambiguous date %(value)s: day and month order cannot be guessed; write YYYY-MM-DD",
                value=_show(text),
            )
        raise CellError("not a date: %(value)s; write YYYY-MM-DD", value=_show(text))
    if match["y"]:
        day = _make_date(text, match["y"], match["m"], match["d"])
    else:
        day = _make_date(text, match["cy"], match["cm"], match["cd"])
    if match["H"] is None:
        return day
    zone = None
    if match["z"]:
        zone = UTC
    elif match["zs"]:
        offset = timedelta(hours=int(match["zh"]), minutes=int(match["zm"]))
        zone = timezone(-offset if match["zs"] == "-" else offset)
    try:
        clock = time(
            int(match["H"]),
            int(match["M"]),
            int(match["S"] or 0),
            int((match["f"] or "0").ljust(6, "0")),
            zone,
        )
    except ValueError as error:
        raise CellError(
            "not a real time: %(value)s (%(error)s)", value=_show(text), error=str(error)
        ) from None
    return datetime.combine(day, clock)


def _make_date(text: str, year: str, month: str, day: str) -> date:
    try:
        return date(int(year), int(month), int(day))
    except ValueError as error:
        # Python's own wording for the usual two, as our templates, so they translate.
        if int(year) < 1:
            raise CellError(
                "not a real date: %(value)s (%(error)s)", value=_show(text), error=str(error)
            ) from None
        if not 1 <= int(month) <= 12:
            raise CellError(
                "not a real date: %(value)s (month must be in 1..12)", value=_show(text)
            ) from None
        raise CellError(
            "not a real date: %(value)s (day is out of range for month)", value=_show(text)
        ) from None


def parse_date(value: Any) -> date:
    """A calendar date: ``2024-03-05``, ``2024/3/5``, ``2024.03.05``, ``2024年3月5日``,
    ``20240305``, an Excel day number or an XLSX date cell. A time of 00:00 is
    dropped; any other time is an error rather than silently cut off.
    """
    if isinstance(value, str) and len(value) == 10 and value[4] == "-":
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass  # the slow path words the error
    moment = _parse_moment(value)
    if isinstance(moment, datetime):
        if moment.time() != time(0) or moment.tzinfo is not None:
            raise CellError("expected a date without a time: %(value)s", value=_show(value))
        return moment.date()
    return moment


def parse_datetime(value: Any) -> datetime:
    """A date and time; ISO forms with ``T`` or a space, an optional offset
    (``Z``, ``+08:00``), the date forms of ``parse_date`` (meaning midnight), an
    Excel day number with fraction, or an XLSX datetime cell. Without an offset
    the result is naive: the caller applies the company's time zone.
    """
    moment = _parse_moment(value)
    if isinstance(moment, datetime):
        return moment
    return datetime.combine(moment, time(0))


# ---------------------------------------------------------------- column specs


def _normalize(name: str) -> str:
    """Header comparison key: no BOM, case-folded, '_' as space, runs of space as one."""
    return " ".join(name.replace("\ufeff", "").replace("_", " ").split()).casefold()


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    """An expected column: canonical name, other accepted headers, parser.

    ``required`` means the header must be present and every row needs a value;
    an optional column may be absent or blank and then parses to ``None``.
    """

    name: str
    aliases: tuple[str, ...] = ()
    required: bool = False
    parser: Parser = parse_text
    keys: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "aliases", tuple(self.aliases))
        object.__setattr__(
            self, "keys", frozenset(_normalize(n) for n in (self.name, *self.aliases))
        )


def parse_row(
    row: Row, specs: Sequence[ColumnSpec], translate: Callable[[str], str] = str
) -> tuple[dict[str, Any], list[RowError]]:
    """Parse a row read with the same ``specs``: canonical name -> value, errors.

    Cells are stripped of surrounding spaces; blank cells give ``None`` (or an
    error when the column is required). Every bad cell is reported, not just
    the first, so the uploader can fix the file in one go. Reasons are worded
    by ``translate`` (see ``CellError.text``); English by default.
    """
    values = row.values
    parsed: dict[str, Any] = {}
    errors: list[RowError] = []
    for spec in specs:
        name = spec.name
        raw = values.get(name)
        if raw.__class__ is str:
            raw = raw.strip()
        if raw is None or raw == "":
            parsed[name] = None
            if spec.required:
                errors.append(
                    RowError(row.number, row.columns.get(name, name), translate(REQUIRED))
                )
            continue
        try:
            parsed[name] = spec.parser(raw)
        except CellError as error:
            parsed[name] = None
            errors.append(RowError(row.number, row.columns.get(name, name), error.text(translate)))
    return parsed, errors


@dataclass(slots=True)
class _Header:
    """The header row resolved against specs: which cell index feeds which key."""

    headers: list[str]
    keys: list[str]
    indexes: list[int]
    columns: dict[str, str]
    unknown: list[str]


def _resolve_header(cells: Sequence[Any], specs: Sequence[ColumnSpec] | None) -> _Header:
    """Match header cells to specs; raise one HeaderError naming every problem."""
    headers = ["" if cell is None else str(cell).replace("\ufeff", "").strip() for cell in cells]
    if not any(headers):
        raise HeaderError("no header row: the first non-blank row has no column names")
    if specs is None:
        seen: dict[str, list[str]] = {}
        for header in headers:
            if header:
                seen.setdefault(_normalize(header), []).append(header)
        duplicates = [names[0] for names in seen.values() if len(names) > 1]
        if duplicates:
            raise HeaderError(
                "duplicate column names: %(columns)s",
                duplicates=duplicates,
                columns=", ".join(duplicates),
            )
        pairs = [(header, index) for index, header in enumerate(headers) if header]
        return _Header(
            headers, [k for k, _ in pairs], [i for _, i in pairs], {k: k for k, _ in pairs}, []
        )

    by_key = {key: spec for spec in specs for key in spec.keys}
    found: dict[str, list[int]] = {}
    unknown: list[str] = []
    for index, header in enumerate(headers):
        if not header:
            continue
        spec = by_key.get(_normalize(header))
        if spec is None:
            unknown.append(header)
        else:
            found.setdefault(spec.name, []).append(index)
    if not found and specs:
        expected = ", ".join(" / ".join((spec.name, *spec.aliases)) for spec in specs[:4])
        raise HeaderError(
            "the first row does not look like a header: none of the expected columns found "
            "(expected e.g. %(expected)s)",
            missing=[spec.name for spec in specs if spec.required],
            expected=expected,
        )
    missing = [spec.name for spec in specs if spec.required and spec.name not in found]
    duplicates = [
        " / ".join(headers[i] for i in indexes) for indexes in found.values() if len(indexes) > 1
    ]
    if missing or duplicates:
        if not duplicates:
            template = "missing required columns: %(required)s"
        elif not missing:
            template = "duplicate columns: %(duplicated)s"
        else:
            template = "missing required columns: %(required)s; duplicate columns: %(duplicated)s"
        raise HeaderError(
            template,
            missing=missing,
            duplicates=duplicates,
            required=", ".join(_describe(spec) for spec in specs if spec.name in missing),
            duplicated="; ".join(duplicates),
        )
    keys = list(found)
    indexes = [found[key][0] for key in keys]
    return _Header(headers, keys, indexes, {key: headers[found[key][0]] for key in keys}, unknown)


def _describe(spec: ColumnSpec) -> str:
    return f"{spec.name} ({' / '.join(spec.aliases)})" if spec.aliases else spec.name


# ---------------------------------------------------------------- reader


class TableReader:
    """An open table: header facts as attributes, rows by iteration (once)."""

    format: str
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    header_row: int
    headers: list[str]
    columns: dict[str, str]
    unknown_columns: list[str]

    def __init__(
        self,
        rows: Iterator[Row],
        header: _Header,
        header_row: int,
        closer: Callable[[], None],
        batches: Callable[[int], Iterator[Batch]] | None = None,
    ) -> None:
        self._rows = rows
        self._batches = batches
        self._close = closer
        self.header_row = header_row
        self.headers = header.headers
        self.columns = header.columns
        self.keys = header.keys
        self.unknown_columns = header.unknown

    def __iter__(self) -> Iterator[Row]:
        return self._rows

    def cell_batches(self, size: int) -> Iterator[Batch]:
        """The rows in batches of (row numbers, cells in ``keys`` order), no dict per row.

        For bulk checks that work column by column. Read the rows either this way
        or by iterating the table, once.
        """
        if self._batches is not None:
            return self._batches(size)
        keys = self.keys
        rows = ((row.number, tuple(row.values[key] for key in keys)) for row in self._rows)
        return (tuple(zip(*batch, strict=True)) for batch in batched(rows, size))  # type: ignore[misc]

    def close(self) -> None:
        self._close()

    def __enter__(self) -> TableReader:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


def open_table(
    path: str | Path,
    specs: Sequence[ColumnSpec] | None = None,
    *,
    sheet: str | None = None,
    max_cell_size: int = DEFAULT_MAX_CELL_SIZE,
) -> TableReader:
    """Open a CSV, gzip-compressed CSV or XLSX file and read its header.

    The format comes from the file's first bytes, not its name, because uploads
    are often misnamed. Header problems raise ``HeaderError`` here; problems
    further down raise ``TableError`` from the iteration, naming the row.
    """
    path = Path(path)
    with path.open("rb") as probe:
        magic = probe.read(4)
    if magic == _ZIP_MAGIC:
        return _open_xlsx(path, specs, sheet, max_cell_size)
    if magic == _OLE_MAGIC:
        raise TableError(
            "this is an old .xls workbook (or a password-protected one); "
            "save it as .xlsx or CSV UTF-8"
        )
    if magic.startswith(_GZIP_MAGIC):
        return _open_csv(gzip.open(path, "rb"), specs, max_cell_size)
    return _open_csv(path.open("rb"), specs, max_cell_size)


def _detect_encoding(sample: bytes, complete: bool) -> str:
    """UTF-8 (with or without BOM) if the sample decodes as such, else GB18030.

    The sample is decoded incrementally so a multibyte character cut by the end
    of the sample is not mistaken for invalid UTF-8. GB18030 is a superset of
    GBK and GB2312, which is what Chinese Excel writes for "CSV (逗号分隔)".
    When neither fits the sample we still pick the likelier one; the row-level
    decoder then reports the exact row.
    """
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise TableError("the file is UTF-16 (Excel's 'Unicode Text'); save it as 'CSV UTF-8'")
    positions: dict[str, int] = {}
    for encoding in ("utf-8", "gb18030"):
        try:
            codecs.getincrementaldecoder(encoding)().decode(sample, final=complete)
            return encoding
        except UnicodeDecodeError as error:
            positions[encoding] = error.start
    return max(positions, key=positions.__getitem__)


def _sniff_delimiter(first_line: str) -> str:
    """Comma, semicolon or tab, whichever the header line uses most (comma on ties)."""
    counts = {delimiter: first_line.count(delimiter) for delimiter in ",;\t"}
    best = max(counts, key=counts.__getitem__)
    return best if counts[best] > counts[","] else ","


def _open_csv(
    raw: BufferedIOBase, specs: Sequence[ColumnSpec] | None, max_cell_size: int
) -> TableReader:
    """Detect encoding and delimiter, read the header, hand back a row stream."""
    try:
        sample = raw.read(SAMPLE_BYTES)
        if sample.startswith(codecs.BOM_UTF8):
            sample, encoding = sample[len(codecs.BOM_UTF8) :], "utf-8"
        else:
            encoding = _detect_encoding(sample, complete=len(sample) < SAMPLE_BYTES)
        if b"\r" in sample and b"\n" not in sample:
            # Old Mac Excel ends lines with CR only; we split lines on LF.
            raise TableError("the file uses old Mac line endings (CR); save it as 'CSV UTF-8'")
        delimiter = _sniff_delimiter(sample.split(b"\n", 1)[0].decode(encoding, errors="replace"))
        # csv holds at most one field of this many characters in memory. The
        # limit is process-wide, so it is only ever raised, never lowered.
        if csv.field_size_limit() <= max_cell_size:
            csv.field_size_limit(max_cell_size + 1)
        reader = csv.reader(_decoded_lines(sample, raw, encoding), delimiter=delimiter)
        number = 0
        try:
            for cells in reader:
                number += 1
                if any(cell.strip() for cell in cells):
                    break
            else:
                raise EmptyFileError("the file is empty")
        except (UnicodeDecodeError, csv.Error) as error:
            raise _csv_failure(error, number + 1, encoding, max_cell_size) from None
        header = _resolve_header(cells, specs)
    except BaseException:
        raw.close()
        raise
    keys, columns = header.keys, header.columns
    rows = _csv_rows(
        reader, header, number, encoding, max_cell_size,
        lambda row_number, cells: Row(row_number, dict(zip(keys, cells, strict=True)), columns),
    )  # fmt: skip
    table = TableReader(
        rows, header, number, raw.close,
        lambda size: _csv_batches(reader, header, number, encoding, max_cell_size, size),
    )  # fmt: skip
    table.format, table.encoding, table.delimiter = "csv", encoding, delimiter
    return table


def _decoded_lines(sample: bytes, raw: BufferedIOBase, encoding: str) -> Iterator[str]:
    """Decode line by line, not through TextIOWrapper, so a bad byte names its row.

    Byte 0x0A never occurs inside a UTF-8, GBK or GB18030 character, so
    splitting the bytes on newlines before decoding is safe.
    """
    *lines, partial = sample.split(b"\n")
    for line in lines:
        yield (line + b"\n").decode(encoding)
    if partial:  # the sample ended mid-line: finish that line from the stream
        yield (partial + raw.readline()).decode(encoding)
    # map() keeps the per-line cost in C: no Python frame per line.
    yield from map(bytes.decode, raw, repeat(encoding))


def _csv_failure(error: Exception, number: int, encoding: str, limit: int) -> TableError:
    """Word a decode or csv error for the uploader, naming the row."""
    if isinstance(error, UnicodeDecodeError):
        name = "UTF-8" if encoding == "utf-8" else "GBK/GB18030"
        return TableError(
            "row %(row)s: the text is not valid %(encoding)s "
            "(the encoding found at the start of the file); "
            "save the whole file again as 'CSV UTF-8'",
            row=number,
            encoding=name,
        )
    if "field larger than field limit" in str(error):
        return TableError(
            "row %(row)s: a cell has more than %(limit)s characters (an unclosed quote?)",
            row=number,
            limit=limit,
        )
    return TableError("row %(row)s: unreadable CSV (%(error)s)", row=number, error=str(error))


def _csv_rows(
    reader: Iterator[list[str]],
    header: _Header,
    number: int,
    encoding: str,
    limit: int,
    make: Callable[[int, tuple[str, ...]], Any],
) -> Iterator[Any]:
    """The hot loop: a list from csv, two length checks, ``make(number, wanted cells)``."""
    width = len(header.headers)
    pick = _picker(header.indexes)
    try:
        for cells in reader:
            number += 1
            if len(cells) != width:
                if not any(cells):
                    continue
                cells = _fit(cells, width, number)
            if max(map(len, cells)) > limit:
                index = max(range(width), key=lambda i: len(cells[i]))
                name = header.headers[index] or f"#{index + 1}"
                raise TableError(
                    "row %(row)s, column %(column)s: the cell has more than %(limit)s characters",
                    row=number,
                    column=name,
                    limit=limit,
                )
            if any(cells):
                yield make(number, pick(cells))
    except (UnicodeDecodeError, csv.Error) as error:
        raise _csv_failure(error, number + 1, encoding, limit) from None


def _csv_batches(
    reader: Iterator[list[str]], header: _Header, number: int, encoding: str, limit: int, size: int
) -> Iterator[Batch]:
    """Rows in batches; a regular batch (full-width rows, none blank or oversize) in C loops.

    Other batches go through `_csv_rows`, which pads, skips and words the errors.
    """
    width = len(header.headers)
    pick = _picker(header.indexes)
    while True:
        chunk: list[list[str]] = []
        append = chunk.append
        try:
            for cells in islice(reader, size):
                append(cells)
        except (UnicodeDecodeError, csv.Error) as error:
            raise _csv_failure(error, number + len(chunk) + 1, encoding, limit) from None
        if not chunk:
            return
        first = number + 1
        number += len(chunk)
        if (
            set(map(len, chunk)) == {width}
            and all(map(any, chunk))
            # Whole rows first: one len per row instead of one per cell, usually enough.
            and (
                max(map(len, map("".join, chunk))) <= limit
                or max(map(len, chain.from_iterable(chunk))) <= limit
            )
        ):
            yield range(first, number + 1), list(map(pick, chunk))
        else:
            rows = list(_csv_rows(iter(chunk), header, first - 1, encoding, limit, _pair))
            if rows:
                yield tuple(zip(*rows, strict=True))  # type: ignore[misc]


def _pair(number: int, cells: tuple[str, ...]) -> tuple[int, tuple[str, ...]]:
    return number, cells


def _picker(indexes: list[int]) -> Callable[[list[str]], tuple[str, ...]]:
    """The wanted cells of a row, as a tuple, in C."""
    if len(indexes) > 1:
        return operator.itemgetter(*indexes)
    index = indexes[0]
    return lambda cells: (cells[index],)


def _fit(cells: list[str], width: int, number: int) -> list[str]:
    """Pad short rows; a row wider than the header means cells shifted (unquoted comma?)."""
    if len(cells) < width:
        return cells + [""] * (width - len(cells))
    if any(cells[width:]):
        raise TableError(
            "row %(row)s has %(cells)s cells but the header has %(width)s; "
            "a value probably contains "
            "an unquoted delimiter (e.g. 1,234.50 without quotes)",
            row=number,
            cells=len(cells),
            width=width,
        )
    return cells[:width]


# ---------------------------------------------------------------- xlsx


_MERGE_CELL = re.compile(rb"<(?:\w+:)?mergeCell\s[^>]*?ref=\"([A-Z]+\d+(?::[A-Z]+\d+)?)\"")


def _merged_ranges(path: Path, member: str) -> list[str]:
    """Merged ranges of one sheet, found by scanning its XML in 1 MiB chunks.

    openpyxl's read-only mode does not expose merges and the full mode loads
    the whole sheet, so we stream the raw XML once: decompression plus a byte
    search, far cheaper than openpyxl's own parse and constant in memory.
    """
    found: dict[bytes, None] = {}
    tail = b""
    with zipfile.ZipFile(path) as archive, archive.open(member) as source:
        while chunk := source.read(1 << 20):
            buffer = tail + chunk
            if b"mergeCell" in buffer:
                for match in _MERGE_CELL.finditer(buffer):
                    found[match[1]] = None
                if len(found) >= _MERGE_REPORT_LIMIT:
                    break
            tail = buffer[-200:]
    return [ref.decode() for ref in found][:_MERGE_REPORT_LIMIT]


def _open_xlsx(
    path: Path, specs: Sequence[ColumnSpec] | None, sheet: str | None, max_cell_size: int
) -> TableReader:
    """Read the first (or named) sheet with openpyxl's streaming read-only mode."""
    from openpyxl import load_workbook  # imported here: CSV-only callers need no openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(path, read_only=True, data_only=False)
    except (InvalidFileException, zipfile.BadZipFile, KeyError) as error:
        raise TableError("not a readable .xlsx workbook (%(error)s)", error=str(error)) from None
    try:
        if sheet is None:
            worksheet = workbook.worksheets[0]
        elif sheet in workbook.sheetnames:
            worksheet = workbook[sheet]
        else:
            raise TableError(
                "no sheet named %(sheet)s; the workbook has: %(sheets)s",
                sheet=repr(sheet),
                sheets=", ".join(workbook.sheetnames),
            )
        member = getattr(worksheet, "_worksheet_path", None)
        if member:
            merged = _merged_ranges(path, member)
            if merged:
                raise TableError(
                    "merged cells in sheet %(sheet)s: %(cells)s; unmerge them and fill every cell",
                    sheet=repr(worksheet.title),
                    cells=", ".join(merged),
                )
        # Trust no <dimension>: some ERP writers get it wrong and rows vanish.
        worksheet.reset_dimensions()
        rows = enumerate(worksheet.iter_rows(), start=1)
        for number, cells in rows:  # noqa: B007 - number is used after the loop
            if any(cell.value is not None and cell.value != "" for cell in cells):
                break
        else:
            raise EmptyFileError("sheet %(sheet)s is empty", sheet=repr(worksheet.title))
        _check_cells(cells, number, max_cell_size)
        header = _resolve_header([cell.value for cell in cells], specs)
    except BaseException:
        workbook.close()
        raise
    table = TableReader(_xlsx_rows(rows, header, max_cell_size), header, number, workbook.close)
    table.format, table.sheet = "xlsx", worksheet.title
    return table


def _check_cells(cells: Sequence[Any], number: int, limit: int) -> None:
    """Formulas and oversize cells are errors naming the cell."""
    for cell in cells:
        if cell.data_type == "f":
            raise TableError(
                "formula in cell %(cell)s; paste values "
                "(Copy, then Paste Special › Values) and upload again",
                row=number,
                cell=cell.coordinate,
            )
        if isinstance(cell.value, str) and len(cell.value) > limit:
            raise TableError(
                "cell %(cell)s has more than %(limit)s characters",
                row=number,
                cell=cell.coordinate,
                limit=limit,
            )


def _xlsx_rows(
    rows: Iterator[tuple[int, tuple[Any, ...]]], header: _Header, limit: int
) -> Iterator[Row]:
    keys, indexes, columns = header.keys, header.indexes, header.columns
    for number, cells in rows:
        if all(cell.value is None or cell.value == "" for cell in cells):
            continue  # blank rows, including the trailing ones Excel keeps
        wanted = [cells[i] if i < len(cells) else None for i in indexes]
        values = [None if cell is None else cell.value for cell in wanted]
        _check_cells([cell for cell in wanted if cell is not None], number, limit)
        yield Row(number, dict(zip(keys, values, strict=True)), columns)


# ---------------------------------------------------------------- writer


def write_table(
    path: str | Path,
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    sheet: str = "Sheet1",
) -> int:
    """Stream rows to ``.csv``, ``.csv.gz`` or ``.xlsx`` (by extension); return the row count.

    CSV is UTF-8 with BOM; Decimals are written in plain notation. XLSX keeps
    numbers and dates native when Excel can hold them exactly, and falls back
    to text otherwise (aware datetimes, Decimals a float cannot hold, integers
    past 15 digits), so ``open_table`` + the parsers give back equal values.
    Text starting with '=' stays text in XLSX, never a formula.
    """
    path = Path(path)
    name = path.name.lower()
    if name.endswith(".xlsx"):
        return _write_xlsx(path, headers, rows, sheet)
    if name.endswith(".csv.gz"):
        with gzip.open(path, "wt", encoding="utf-8-sig", newline="") as stream:
            return _write_csv(stream, headers, rows)
    if name.endswith(".csv"):
        with path.open("w", encoding="utf-8-sig", newline="") as stream:
            return _write_csv(stream, headers, rows)
    raise ValueError(f"cannot write {path.name}: use .csv, .csv.gz or .xlsx")


def _write_csv(stream: IO[str], headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    writer = csv.writer(stream)
    writer.writerow(headers)
    count = 0
    for row in rows:
        # Only Decimal needs help: str() may use exponents (1E+3). csv writes
        # None as '' and str() of dates/datetimes is already ISO with a space.
        writer.writerow([format(v, "f") if v.__class__ is Decimal else v for v in row])
        count += 1
    return count


def _write_xlsx(
    path: Path, headers: Sequence[str], rows: Iterable[Sequence[Any]], sheet: str
) -> int:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    workbook = Workbook(write_only=True)
    worksheet = workbook.create_sheet(sheet)

    def cell(value: Any) -> Any:
        if isinstance(value, str):
            # Control characters cannot be stored in XLSX at all; drop them.
            value = ILLEGAL_CHARACTERS_RE.sub("", value)
            if value.startswith("="):
                text = WriteOnlyCell(worksheet, value)
                text.data_type = "s"
                return text
            return value
        if isinstance(value, Decimal):
            if value.is_finite() and Decimal(repr(float(value))) == value:
                number = WriteOnlyCell(worksheet, value)
                exponent = value.as_tuple().exponent
                if isinstance(exponent, int) and exponent < 0:
                    number.number_format = "0." + "0" * -exponent
                return number
            return format(value, "f")
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and abs(value) >= 10**15:
            return str(value)
        if isinstance(value, datetime) and (value.tzinfo is not None or value.microsecond % 1000):
            return value.isoformat(sep=" ")
        return value

    worksheet.append([cell(header) for header in headers])
    count = 0
    for row in rows:
        worksheet.append([cell(value) for value in row])
        count += 1
    workbook.save(path)
    return count
