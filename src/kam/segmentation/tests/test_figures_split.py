"""The figures read in two account ranges at once equal the figures read in one."""

import datetime as dt
import sqlite3

import numpy as np
import pytest
from django.db import connection, connections

from kam.core.tests.concurrency import in_parallel
from kam.customers.models import Account
from kam.lib import sqlite_numbers
from kam.segmentation import figures
from kam.segmentation.tests.helpers import orders_add

AS_OF = dt.date(2025, 6, 30)
TIERS = ["strategic", "key"]


def accounts_with_orders(account_make, count=7):
    accounts = [account_make(code=f"S{i}") for i in range(count)]
    for i, account in enumerate(accounts):
        orders_add(
            account,
            [("2024-03-01", 100 + i, 60), ("2025-02-01", 40 * i, None), ("2025-08-01", 9, 1)][
                : 1 + i % 3
            ],
        )
    return accounts


def read(monkeypatch, split_min):
    """The figures, read in parts from ``split_min`` accounts (restored after the test)."""
    monkeypatch.setattr(figures, "SPLIT_MIN_ACCOUNTS", split_min)
    return figures.account_figures(AS_OF, TIERS)


def assert_same(one, two):
    assert one.columns.keys() == two.columns.keys()
    for name in one.columns:
        assert np.array_equal(one[name], two[name], equal_nan=True), name
    assert one.future_days == two.future_days


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite helper process")
@pytest.mark.django_db
def test_sqlite_reads_the_upper_accounts_in_a_helper_process(account_make, monkeypatch, tmp_path):
    accounts_with_orders(account_make)
    # The helper opens a file: here a copy of the in-memory test database (dumped by the
    # connection of the test's transaction: the backup API waits for it to end).
    copy = tmp_path / "copy.sqlite3"
    with sqlite3.connect(copy) as target:
        target.executescript("\n".join(connection.connection.iterdump()))
    monkeypatch.setattr(figures, "_sqlite_file", lambda: str(copy))
    started = []
    start = sqlite_numbers.helper_start

    def helper_start(*args):
        started.append(args[2].get("id_from"))
        return start(*args)

    monkeypatch.setattr(sqlite_numbers, "helper_start", helper_start)
    whole = read(monkeypatch, 10**9)
    assert started == []
    parts = read(monkeypatch, 2)
    ids = sorted(Account.objects.values_list("pk", flat=True))
    # Helpers read the upper half of the accounts and the days after the date.
    assert started == [ids[len(ids) // 2], None]
    assert parts.size == len(ids) == 7
    assert_same(whole, parts)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite helper process")
@pytest.mark.django_db
def test_sqlite_memory_database_or_no_write_lock_reads_in_one_part(account_make, monkeypatch):
    accounts_with_orders(account_make, 3)
    monkeypatch.setattr(figures, "SPLIT_MIN_ACCOUNTS", 1)
    assert figures._sqlite_file() is None  # the test database lives in memory
    assert figures._split_possible(True) is False


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a second PostgreSQL connection")
@pytest.mark.django_db(transaction=True)
def test_postgresql_second_connection_sees_the_same_snapshot(account_make, monkeypatch):
    accounts = accounts_with_orders(account_make)
    whole = read(monkeypatch, 10**9)
    upper, lower = accounts[-1], accounts[0]
    statement = figures._copy_statement
    committed = []

    def commit_then_statement(*args):
        # After the snapshot is exported and before the other connections read, another
        # import commits an order of an upper account and a later one of a lower account:
        # neither may be seen.
        if not committed:
            committed.extend(
                in_parallel(
                    lambda: orders_add(Account.objects.get(pk=upper.pk), [("2025-01-05", 5000, 1)]),
                    lambda: orders_add(Account.objects.get(pk=lower.pk), [("2025-09-05", 700, 1)]),
                )
            )
        return statement(*args)

    monkeypatch.setattr(figures, "_copy_statement", commit_then_statement)
    elsewhere = []
    read_elsewhere = figures._postgresql_read_elsewhere
    monkeypatch.setattr(
        figures,
        "_postgresql_read_elsewhere",
        lambda *args: elsewhere.append(args[2:]) or read_elsewhere(*args),
    )
    parts = read(monkeypatch, 2)
    assert committed == [None, None]
    assert len(elsewhere) == 2  # the upper accounts and the later days
    # The later days plan without parallel workers beside the halves (run for real above).
    settings = {"ft.last_day" in statement: given for statement, _width, given in elsewhere}
    assert settings[False] == ()
    assert "SET LOCAL max_parallel_workers_per_gather = 0" in settings[True]
    assert_same(whole, parts)
    # Read again in one part, both new orders count.
    again = read(monkeypatch, 10**9)
    position = again["account_id"].tolist().index(upper.pk)
    assert again["revenue"][position] == whole["revenue"][position] + 5000
    assert again.future_days == whole.future_days + 1


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite helper process")
@pytest.mark.django_db
def test_sqlite_reads_here_what_a_failed_helper_could_not(
    account_make, monkeypatch, tmp_path, caplog
):
    accounts_with_orders(account_make)
    whole = read(monkeypatch, 10**9)
    # The helpers are pointed at a file that does not exist: they fail, the rows come anyway.
    monkeypatch.setattr(figures, "_sqlite_file", lambda: str(tmp_path / "missing.sqlite3"))
    parts = read(monkeypatch, 2)
    assert_same(whole, parts)
    assert caplog.text.count("Reading in a helper process failed") == 2
    assert "unable to open database file" in caplog.text


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a second PostgreSQL connection")
@pytest.mark.django_db(transaction=True)
def test_postgresql_reads_here_what_a_refused_connection_could_not(
    account_make, monkeypatch, caplog
):
    accounts_with_orders(account_make)
    whole = read(monkeypatch, 10**9)
    params = connection.get_connection_params()
    # The server refuses the other connections (here: a database that does not exist).
    monkeypatch.setattr(
        type(connections["default"]),
        "get_connection_params",
        lambda self: {**params, "dbname": "kam_no_such_database"},
    )
    parts = read(monkeypatch, 2)
    assert_same(whole, parts)
    assert caplog.text.count("Reading on a second connection failed") == 2
    assert "kam_no_such_database" in caplog.text


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite helper process")
@pytest.mark.django_db
def test_sqlite_reads_here_when_no_helper_can_start(account_make, monkeypatch, tmp_path, caplog):
    accounts_with_orders(account_make)
    whole = read(monkeypatch, 10**9)
    # Under a server embedding Python, sys.executable may be no Python at all.
    monkeypatch.setattr(figures, "_sqlite_file", lambda: str(tmp_path / "any.sqlite3"))
    monkeypatch.setattr(sqlite_numbers.sys, "executable", str(tmp_path / "no-python"))
    parts = read(monkeypatch, 2)
    assert_same(whole, parts)
    assert caplog.text.count("A helper process could not start") == 2
