"""Queries of numbers read into float arrays (figures.numbers_fetch; PostgreSQL as arrays)."""

import struct

import numpy as np
import pytest
from django.db import connection

from kam.lib import pgcopy
from kam.segmentation import figures

ROWS_SQL = """SELECT n, CASE WHEN n = 2 THEN NULL ELSE n * 1.5 END, -n
FROM ({values}) AS v WHERE n >= %(least)s ORDER BY n"""


def values_sql(numbers):
    first, *rest = numbers
    return " UNION ALL ".join([f"SELECT {first} AS n", *(f"SELECT {n}" for n in rest)])


@pytest.mark.django_db
def test_rows_come_back_in_order_with_null_as_nan():
    sql = ROWS_SQL.format(values=values_sql([3, 1, 2, 5, 4]))
    values = figures.numbers_fetch(sql, {"least": 2}, 3)
    assert values.shape == (4, 3)
    assert values[:, 0].tolist() == [2, 3, 4, 5]
    assert np.isnan(values[0, 1])
    assert values[1:, 1].tolist() == [4.5, 6.0, 7.5]
    assert values[:, 2].tolist() == [-2, -3, -4, -5]


@pytest.mark.django_db
def test_no_rows_are_an_empty_array_of_the_width():
    sql = ROWS_SQL.format(values=values_sql([1, 2]))
    values = figures.numbers_fetch(sql, {"least": 10}, 3)
    assert values.shape == (0, 3)


@pytest.mark.django_db
def test_many_rows_and_big_numbers_come_back_exactly():
    count = 70_000  # more than a COPY message buffer's worth of array elements
    sql = "SELECT n, n * 1e12 + 0.5, %(least)s FROM generate_series(1, 70000) AS g(n)"
    if connection.vendor == "sqlite":
        sql = (
            "WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 70000) "
            "SELECT n, n * 1e12 + 0.5, %(least)s FROM g"
        )
    values = figures.numbers_fetch(sql, {"least": -7}, 3)
    numbers = np.arange(1, count + 1, dtype=np.float64)
    assert np.array_equal(values[:, 0], numbers)
    assert np.array_equal(values[:, 1], numbers * 1e12 + 0.5)
    assert set(values[:, 2].tolist()) == {-7.0}


def copy_of_arrays(columns):
    """Binary COPY data of one row of float8 arrays, as PostgreSQL sends it."""
    row = struct.pack(">h", len(columns))
    for column in columns:
        array = struct.pack(">iiIii", 1, 0, 701, len(column), 1)
        array += b"".join(struct.pack(">id", 8, value) for value in column)
        row += struct.pack(">i", len(array)) + array
    return pgcopy.SIGNATURE + row + pgcopy.TRAILER


def test_arrays_the_server_built_out_of_order_are_put_in_order():
    data = copy_of_arrays([[3.0, 1.0, 2.0], [30.0, 10.0, 20.0]])
    values = figures.copied_columns(data, 2)
    assert values.tolist() == [[1.0, 10.0], [2.0, 20.0], [3.0, 30.0]]


def test_unexpected_copy_data_is_refused():
    good = copy_of_arrays([[1.0], [2.0]])
    with pytest.raises(ValueError, match="Unexpected"):
        figures.copied_columns(good[:-2], 2)  # no trailer
    with pytest.raises(ValueError, match="one row of arrays"):
        figures.copied_columns(good, 3)
    nulls = bytearray(good)
    nulls[len(pgcopy.SIGNATURE) + 2 + 4 + 7] = 1  # the first array's has-nulls flag
    with pytest.raises(ValueError, match="plain array"):
        figures.copied_columns(bytes(nulls), 2)
