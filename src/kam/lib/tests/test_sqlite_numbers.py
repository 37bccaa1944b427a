"""Numbers read from SQLite here and by the helper process come out the same."""

import math
import sqlite3

import numpy as np
import pytest

from kam.lib import sqlite_numbers


@pytest.fixture
def database(tmp_path):
    path = tmp_path / "numbers é.sqlite3"  # a path that needs quoting in a file: URI
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, a REAL, b INTEGER)")
    connection.executemany(
        "INSERT INTO t VALUES (?, ?, ?)",
        [(i, None if i % 7 == 0 else i / 3, i * 2) for i in range(1, 120_001)],
    )
    connection.commit()
    connection.close()
    return str(path)


SQL = "SELECT id, a, b FROM t WHERE id >= %(low)s AND b < %(high)s ORDER BY id"


def test_the_helper_reads_what_a_reader_here_reads(database):
    params = {"low": 5, "high": 200_000}
    with sqlite3.connect(database) as connection:
        here = sqlite_numbers.rows_array(
            connection.execute(sqlite_numbers.named_parameters(SQL), params), 3
        )
    helper = sqlite_numbers.helper_start(database, SQL, params, 3)
    there = sqlite_numbers.helper_result(helper, 3)
    assert here.shape == (99_995, 3)  # ids 5 … 99,999 (more than one fetch of rows)
    assert np.array_equal(here, there, equal_nan=True)
    assert math.isnan(there[2, 1]) and there[3, 1] == pytest.approx(8 / 3)  # id 7: NULL


def test_a_failing_helper_raises_its_error(database):
    helper = sqlite_numbers.helper_start(database, "SELECT missing FROM t", {}, 1)
    with pytest.raises(RuntimeError, match="OperationalError: no such column: missing"):
        sqlite_numbers.helper_result(helper, 1)


def test_the_helper_cannot_write(database):
    helper = sqlite_numbers.helper_start(database, "DELETE FROM t RETURNING id", {}, 1)
    with pytest.raises(RuntimeError, match="readonly"):
        sqlite_numbers.helper_result(helper, 1)
    with sqlite3.connect(database) as connection:
        assert connection.execute("SELECT COUNT(*) FROM t").fetchone() == (120_000,)


def test_django_parameters_become_sqlite_ones():
    assert (
        sqlite_numbers.named_parameters("SELECT %(a_1)s, '100%%' WHERE x = %(b)s")
        == "SELECT :a_1, '100%' WHERE x = :b"
    )
