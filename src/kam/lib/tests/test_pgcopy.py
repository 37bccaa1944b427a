"""Binary COPY rows built from columns: the short cuts give the bytes of the plain way."""

import datetime as dt

import numpy as np

from kam.lib import pgcopy

TEXTS = ["key", None, "战略客户", "", "key", None]


def field_bytes(text: str | None) -> bytes:
    if text is None:
        return (-1).to_bytes(4, "big", signed=True)
    encoded = text.encode()
    return len(encoded).to_bytes(4, "big") + encoded


def test_texts_as_a_list_read_as_length_and_utf8_per_row():
    block = pgcopy.rows_block([("varchar", TEXTS)], len(TEXTS))
    assert block == b"".join(b"\x00\x01" + field_bytes(text) for text in TEXTS)


def test_an_object_array_of_texts_gives_the_bytes_of_the_list():
    plain = pgcopy.rows_block([("int8", np.arange(6)), ("varchar", TEXTS)], 6)
    coded = pgcopy.rows_block(
        [("int8", np.arange(6)), ("varchar", np.array(TEXTS, dtype=object))], 6
    )
    assert coded == plain


def test_one_text_or_none_is_the_same_in_every_row():
    for text in ("pending", "", None):
        assert pgcopy.rows_block([("varchar", text)], 3) == pgcopy.rows_block(
            [("varchar", [text] * 3)], 3
        )


def test_timestamps_count_microseconds_from_2000_in_utc():
    beijing = dt.timezone(dt.timedelta(hours=8))
    moment = dt.datetime(2000, 1, 1, 8, 0, 1, 250, tzinfo=beijing)  # 00:00:01.000250 UTC
    assert pgcopy.timestamp(moment) == 1_000_250
    before = dt.datetime(1999, 12, 31, 23, 59, 59, tzinfo=dt.UTC)
    assert pgcopy.timestamp(before) == -1_000_000
    block = pgcopy.rows_block([("timestamptz", pgcopy.timestamp(moment))], 2)
    row = b"\x00\x01" + (8).to_bytes(4, "big") + (1_000_250).to_bytes(8, "big")
    assert block == row * 2
    # Today's timestamps stay exact through the float the numbers pass as.
    now = pgcopy.timestamp(dt.datetime(2026, 11, 23, 12, 34, 56, 789_123, tzinfo=dt.UTC))
    decoded = pgcopy.rows_block([("timestamptz", now)], 1)[6:]
    assert int.from_bytes(decoded, "big", signed=True) == now
