"""Score rows written in bulk read back exactly (binary COPY on PostgreSQL, multi-row INSERTs on SQLite)."""

import datetime as dt

import numpy as np
import pytest
from django.db import IntegrityError, connection, connections, models, transaction

from kam.segmentation import figures, scoring, services
from kam.segmentation.models import AccountScore, ScoringRun

DAYS = [dt.date(2024, 2, 29), None, dt.date(1999, 12, 31)]  # before PostgreSQL's date zero too
REASONS = ["Rule 2 (key): ABC class A; value score 72.4 ≥ 70", "", "重点客户" * 100]


# (rows per batch, rows per SQLite INSERT): the defaults, and batches and statements that
# end part-way through the rows.
SIZES = [(services.WRITE_BATCH, services.SQLITE_INSERT_ROWS), (2, 2), (3, 2)]


def score_result(accounts):
    """A ScoreResult for ``accounts`` with every column's awkward values, and what reads back."""
    columns: dict[str, np.ndarray] = {"account_id": np.array([a.pk for a in accounts])}
    expected: dict[str, list] = {}
    for name in services.SCORE_COLUMNS[2:-1]:
        field = AccountScore._meta.get_field(name)
        if isinstance(field, models.DateField):
            values = [np.nan if d is None else figures.day_number(d) for d in DAYS]
            expected[name] = DAYS
        elif isinstance(field, models.CharField):
            values = ["key", "", "战略客户"] if field.max_length > 1 else ["A", "", "C"]
            expected[name] = values
            columns[name] = np.array(values, dtype=object)
            continue
        elif isinstance(field, models.FloatField):
            values = [1.5, np.nan if field.null else 0.0, -2.5e9 + 0.125]
            expected[name] = [1.5, None if field.null else 0.0, -2.5e9 + 0.125]
        else:
            values = [3, np.nan if field.null else 0, 32_000]  # smallint holds 32,767
            expected[name] = [3, None if field.null else 0, 32_000]
        columns[name] = np.array(values, dtype=np.float64)
    result = scoring.ScoreResult(columns=columns, reasons=REASONS, summary={}, clv=None)
    return result, expected


def assert_read_back(run, accounts, expected):
    rows = list(AccountScore.objects.filter(run=run).order_by("account_id"))
    assert [row.account_id for row in rows] == [a.pk for a in accounts]
    assert [row.tier_reason for row in rows] == [reason[:300] for reason in REASONS]
    for name, values in expected.items():
        got = [getattr(row, name) for row in rows]
        assert got == values, name


@pytest.mark.parametrize(("batch", "per_statement"), SIZES)
def test_written_score_rows_read_back_with_nulls_dates_and_texts(
    account_make, monkeypatch, batch, per_statement
):
    monkeypatch.setattr(services, "WRITE_BATCH", batch)
    monkeypatch.setattr(services, "SQLITE_INSERT_ROWS", per_statement)
    accounts = [account_make() for _ in range(3)]
    run = ScoringRun.objects.create(as_of=dt.date(2025, 12, 31))
    result, expected = score_result(accounts)

    services._scores_write(run.pk, result)

    assert_read_back(run, accounts, expected)


def test_score_rows_are_keyed_by_run_and_account_alone(account_make):
    """No id column: the (run, account) primary key is the rows' only index."""
    accounts = [account_make() for _ in range(3)]
    run = ScoringRun.objects.create(as_of=dt.date(2025, 12, 31))
    result, _ = score_result(accounts)
    services._scores_write(run.pk, result)
    table = AccountScore._meta.db_table
    with connection.cursor() as cursor:
        columns = {c.name for c in connection.introspection.get_table_description(cursor, table)}
        constraints = connection.introspection.get_constraints(cursor, table)
    assert "id" not in columns
    keys = [c["columns"] for c in constraints.values() if c["primary_key"]]
    assert [sorted(key) for key in keys] == [["account_id", "run_id"]]
    assert not [c for c in constraints.values() if c["unique"] and not c["primary_key"]]
    # (The bulk write goes below Django's wrapper: the driver's own error.)
    refused = (IntegrityError, connection.Database.IntegrityError)
    with pytest.raises(refused), transaction.atomic():
        services._scores_write(run.pk, result)  # the same run and accounts again
    # Django's CASCADE still finds them through the key's two columns.
    accounts[0].delete()
    assert sorted(AccountScore.objects.filter(run=run).values_list("account_id", flat=True)) == [
        accounts[1].pk,
        accounts[2].pk,
    ]
    run.delete()
    assert not AccountScore.objects.exists()


POSTGRESQL_ONLY = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="a second PostgreSQL connection"
)


@POSTGRESQL_ONLY
@pytest.mark.django_db(transaction=True)
def test_postgresql_writes_the_upper_rows_on_a_second_connection(account_make, monkeypatch):
    monkeypatch.setattr(figures, "SPLIT_MIN_ACCOUNTS", 1)
    copies = []  # (rows, server process)
    scores_copy = services._postgresql_scores_copy

    def copy_recorded(cursor, run_id, result, types, rows):
        copies.append((rows, cursor.connection.info.backend_pid))
        scores_copy(cursor, run_id, result, types, rows)

    def on_second():
        here = connection.connection.info.backend_pid
        return sorted((rows.start, rows.stop, pid != here) for rows, pid in copies)

    monkeypatch.setattr(services, "_postgresql_scores_copy", copy_recorded)
    accounts = [account_make() for _ in range(3)]
    run = ScoringRun.objects.create(as_of=dt.date(2025, 12, 31))
    result, expected = score_result(accounts)
    with transaction.atomic():
        services._scores_write(run.pk, result)
        # This transaction's next statements see the second connection's committed rows.
        assert AccountScore.objects.filter(run=run).count() == 3
        assert on_second() == [(0, 1, False), (1, 3, True)]
    assert_read_back(run, accounts, expected)
    # Inside a caller's transaction, or one that sees one snapshot: all here.
    for isolation in ("nested", "repeatable read"):
        AccountScore.objects.filter(run=run).delete()
        copies.clear()
        with transaction.atomic():
            if isolation == "nested":
                with transaction.atomic():
                    services._scores_write(run.pk, result)
            else:
                with connection.cursor() as cursor:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                services._scores_write(run.pk, result)
            assert on_second() == [(0, 3, False)]
        assert_read_back(run, accounts, expected)


@POSTGRESQL_ONLY
@pytest.mark.django_db(transaction=True)
def test_postgresql_writes_here_the_rows_a_refused_connection_could_not(
    account_make, monkeypatch, caplog
):
    monkeypatch.setattr(figures, "SPLIT_MIN_ACCOUNTS", 1)
    params = connection.get_connection_params()
    monkeypatch.setattr(
        type(connections["default"]),
        "get_connection_params",
        lambda self: {**params, "dbname": "kam_no_such_database"},
    )
    accounts = [account_make() for _ in range(3)]
    run = ScoringRun.objects.create(as_of=dt.date(2025, 12, 31))
    result, expected = score_result(accounts)
    with transaction.atomic():
        services._scores_write(run.pk, result)
    assert_read_back(run, accounts, expected)
    assert "Writing rows on a second connection failed" in caplog.text
    assert "kam_no_such_database" in caplog.text
