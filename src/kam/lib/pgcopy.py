"""PostgreSQL binary COPY data built from NumPy columns, with no Python object per value.

Writing a million 36-column rows with ``copy.write_row`` spends most of its time making
and formatting Python objects; here each column becomes a block of bytes at once and
the rows are cut out of them with one boolean mask (NULLs and texts make rows unequal).

Format (PostgreSQL docs, "COPY", binary format): SIGNATURE, then per row a 16-bit field
count and per field a 32-bit length (-1 for NULL) and the value in network byte order,
then TRAILER. Send SIGNATURE, the blocks and TRAILER with ``Copy.write``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import numpy as np

SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # signature, flags, header extension length
TRAILER = b"\xff\xff"
# Days from 1970-01-01 (our day numbers) to 2000-01-01 (PostgreSQL's date zero).
_POSTGRES_EPOCH_DAY = 10_957
_POSTGRES_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
_FIXED_TYPES = {
    "float8": ">f8",
    "int8": ">i8",
    "int4": ">i4",
    "int2": ">i2",
    "date": ">i4",
    "timestamptz": ">i8",
}
TYPES = {*_FIXED_TYPES, "varchar", "text"}

Field = tuple[np.ndarray, np.ndarray]  # bytes (rows × width) and which of them to keep


def timestamp(moment: dt.datetime) -> int:
    """An aware datetime as a timestamptz value (microseconds since 2000-01-01 UTC)."""
    return (moment - _POSTGRES_EPOCH) // dt.timedelta(microseconds=1)


def _fixed_field(kind: str, values: Any, size: int) -> Field:
    """Numbers (NaN and ±inf are NULL); dates are day numbers since 1970-01-01,
    timestamptz values those of ``timestamp`` (exact as floats until the year 2285)."""
    numbers = np.broadcast_to(np.asarray(values, dtype=np.float64), (size,))
    null = ~np.isfinite(numbers)
    clean = np.where(null, 0.0, numbers)
    if kind == "date":
        clean = clean - _POSTGRES_EPOCH_DAY
    layout = np.dtype([("length", ">i4"), ("value", _FIXED_TYPES[kind])])
    field = np.empty(size, dtype=layout)
    field["length"] = np.where(null, -1, layout["value"].itemsize)
    field["value"] = clean if kind == "float8" else np.rint(clean).astype(np.int64)
    keep = np.ones((size, layout.itemsize), dtype=bool)
    keep[null, 4:] = False
    return field.view(np.uint8).reshape(size, layout.itemsize), keep


def _texts_encoded(values: Sequence[str | None]) -> Field:
    """One field per text: UTF-8, None as NULL."""
    size = len(values)
    encoded = [b"" if value is None else value.encode() for value in values]
    lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=size)
    null = np.fromiter((value is None for value in values), dtype=bool, count=size)
    width = max(1, int(lengths.max(initial=0)))
    text = np.array(encoded, dtype=f"S{width}").view(np.uint8).reshape(size, width)
    prefix = np.where(null, -1, lengths).astype(">i4").view(np.uint8).reshape(size, 4)
    keep = np.arange(width) < lengths[:, None]
    return np.hstack([prefix, text]), np.hstack([np.ones((size, 4), dtype=bool), keep])


class _Codes(dict):
    """Each new key gets the next number (a text's position among the distinct ones)."""

    def __missing__(self, key: Any) -> int:
        self[key] = code = len(self)
        return code


def _text_field(values: str | None | Sequence[str | None], size: int) -> Field:
    """UTF-8 texts, None as NULL.

    A list is encoded text by text. One text (or None) is the same in every row, and an
    object array is taken for texts of a small set (tiers, classes): each distinct one
    is encoded once and the rows pick theirs by number.
    """
    if values is None or isinstance(values, str):
        codes = np.zeros(size, dtype=np.intp)
        distinct: Sequence[str | None] = [values]
    elif isinstance(values, np.ndarray):
        table = _Codes()
        codes = np.fromiter(map(table.__getitem__, values), dtype=np.intp, count=size)
        distinct = list(table)
    else:
        return _texts_encoded(values)
    data, keep = _texts_encoded(distinct)
    return data[codes], keep[codes]


def rows_block(columns: Sequence[tuple[str, Any]], size: int) -> bytes:
    """The binary COPY rows of ``size`` rows; each column is (type, values).

    Types: float8, int8, int4, int2, date (day numbers since 1970-01-01), timestamptz
    (see ``timestamp``), varchar, text. Numbers may be a scalar (the same in every row);
    texts a list of str or None, an object array of them, or one (see _text_field).
    """
    count = np.frombuffer(len(columns).to_bytes(2, "big"), dtype=np.uint8)
    parts = [np.broadcast_to(count, (size, 2))]
    keeps = [np.ones((size, 2), dtype=bool)]
    for kind, values in columns:
        if kind not in TYPES:
            raise ValueError(f"Unsupported type for binary COPY: {kind}")
        data, keep = (
            _text_field(values, size)
            if kind in ("varchar", "text")
            else _fixed_field(kind, values, size)
        )
        parts.append(data)
        keeps.append(keep)
    # Row-major: the kept bytes of row 1, then of row 2, …
    return np.hstack(parts)[np.hstack(keeps)].tobytes()
