"""Rows of numbers from SQLite into a float array, here or in a helper process.

Python's sqlite3 module turns every value into a Python object and takes the GIL back
after every row, so a second thread reading beside this one mostly waits for it. A helper
process reads on the other core instead: ``helper_start`` sends it the query on stdin
(no Django there, only sqlite3 and NumPy), ``helper_result`` takes the array from its
stdout. Run as ``python -m kam.lib.sqlite_numbers``.
"""

from __future__ import annotations

import itertools
import json
import re
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

FETCH_ROWS = 50_000
HELPER_CACHE_KB = 256 * 1024


def rows_array(cursor: Any, width: int) -> np.ndarray:
    """The rest of an executed cursor's rows as a (rows × width) float array, NULL as NaN."""
    chunks: list[np.ndarray] = []
    while rows := cursor.fetchmany(FETCH_ROWS):
        # (fromiter over the flattened rows: no intermediate nested list; None is NaN.)
        values = itertools.chain.from_iterable(rows)
        chunks.append(
            np.fromiter(values, dtype=np.float64, count=len(rows) * width).reshape(-1, width)
        )
    return np.concatenate(chunks) if chunks else np.zeros((0, width))


def named_parameters(sql: str) -> str:
    """Django's ``%(name)s`` parameters as SQLite's ``:name`` (``%%`` is a plain ``%``)."""
    return re.sub(r"%\((\w+)\)s", r":\1", sql).replace("%%", "%")


def helper_start(database: str, sql: str, params: dict[str, Any], width: int) -> subprocess.Popen:
    """Start reading ``sql`` (Django parameter style) from the database file in a helper."""
    job = {"database": database, "sql": named_parameters(sql), "params": params, "width": width}
    process = subprocess.Popen(
        [sys.executable, "-m", "kam.lib.sqlite_numbers"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdin is not None
    process.stdin.write(json.dumps(job).encode())
    process.stdin.close()
    return process


def helper_result(process: subprocess.Popen, width: int) -> np.ndarray:
    """The helper's array; its error (or its death) raised here."""
    assert process.stdout is not None and process.stderr is not None
    data = process.stdout.read()
    error = process.stderr.read().decode(errors="replace").strip()
    if process.wait() != 0 or len(data) % (8 * width):
        raise RuntimeError(f"The reading helper failed ({process.returncode}): {error[-2000:]}")
    return np.frombuffer(data, dtype=np.float64).reshape(-1, width).copy()


def helper_stop(process: subprocess.Popen) -> None:
    """End a helper whose result is no longer wanted."""
    process.kill()
    process.wait()
    for stream in (process.stdout, process.stderr):
        if stream is not None:
            stream.close()


def _helper_main() -> None:
    job = json.load(sys.stdin)
    # Read only, in one read transaction: it sees what was committed when it began.
    uri = Path(job["database"]).resolve().as_uri() + "?mode=ro"
    connection = sqlite3.connect(uri, uri=True, timeout=20)
    connection.execute(f"PRAGMA cache_size = {-HELPER_CACHE_KB}")
    cursor = connection.execute(job["sql"], job["params"])
    values = rows_array(cursor, int(job["width"]))
    connection.close()
    sys.stdout.buffer.write(np.ascontiguousarray(values, dtype=np.float64).tobytes())


if __name__ == "__main__":
    try:
        _helper_main()
    except Exception as error:  # noqa: BLE001 - reported to the parent, which raises it
        sys.stderr.write(f"{type(error).__name__}: {error}")
        sys.exit(1)
