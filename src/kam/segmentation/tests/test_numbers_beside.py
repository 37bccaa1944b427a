"""A query read on the other core while the scoring writes (figures.numbers_beside)."""

import sqlite3

import numpy as np
import pytest
from django.db import connection, transaction

from kam.lib import sqlite_numbers
from kam.segmentation import figures, services
from kam.segmentation.models import ProposalStatus, TierProposal

TIERS = ["strategic", "key", "ordinary"]


@pytest.fixture
def open_proposals(account_make):
    """Pending and rejected proposals of three accounts; returns the open-proposals query."""
    accounts = [account_make(code=f"B{i}") for i in range(3)]
    for account, tier, status in zip(
        accounts,
        ["key", "strategic", "gold"],
        [ProposalStatus.PENDING, ProposalStatus.REJECTED, ProposalStatus.PENDING],
        strict=True,
    ):
        TierProposal.objects.create(account=account, to_tier=tier, reason="r", status=status)
    return services._open_proposals_query(TIERS)


def database_copy(tmp_path):
    """A file copy of the in-memory test database, which a helper process can open."""
    copy = tmp_path / "copy.sqlite3"
    with sqlite3.connect(copy) as target:
        target.executescript("\n".join(connection.connection.iterdump()))
    return str(copy)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite helper process")
@pytest.mark.django_db
def test_sqlite_reads_beside_in_a_helper_process(open_proposals, monkeypatch, tmp_path):
    here = figures.numbers_fetch(*open_proposals)
    assert here.shape == (2, 5)  # the pending ones: the rejected one is no run's
    copy = database_copy(tmp_path)
    monkeypatch.setattr(figures, "_sqlite_file", lambda: copy)
    started = []
    start = sqlite_numbers.helper_start
    monkeypatch.setattr(
        sqlite_numbers, "helper_start", lambda *args: started.append(args[1]) or start(*args)
    )
    with transaction.atomic(), figures.numbers_beside(*open_proposals) as rows:
        beside = rows()
    assert started == [open_proposals[0]]
    assert np.array_equal(here, beside, equal_nan=True)
    # A small run starts no helper: the rows are read here.
    with transaction.atomic(), figures.numbers_beside(*open_proposals, beside=False) as rows:
        assert np.array_equal(here, rows(), equal_nan=True)
    assert len(started) == 1


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite helper process")
@pytest.mark.django_db
def test_sqlite_helper_whose_rows_are_not_asked_for_is_stopped(
    open_proposals, monkeypatch, tmp_path
):
    copy = database_copy(tmp_path)
    monkeypatch.setattr(figures, "_sqlite_file", lambda: copy)
    helpers = []
    start = sqlite_numbers.helper_start
    monkeypatch.setattr(
        sqlite_numbers, "helper_start", lambda *args: helpers.append(start(*args)) or helpers[-1]
    )
    with (
        pytest.raises(RuntimeError),
        transaction.atomic(),
        figures.numbers_beside(*open_proposals),
    ):
        raise RuntimeError("the insert beside failed")
    assert len(helpers) == 1 and helpers[0].returncode is not None


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a second PostgreSQL connection")
@pytest.mark.django_db(transaction=True)
def test_postgresql_reads_beside_on_a_second_connection_in_its_own_transaction_only(
    open_proposals, monkeypatch
):
    here = figures.numbers_fetch(*open_proposals)
    calls = []
    read_elsewhere = figures._postgresql_read_elsewhere
    monkeypatch.setattr(
        figures,
        "_postgresql_read_elsewhere",
        lambda *args: calls.append(args[1]) or read_elsewhere(*args),
    )
    with transaction.atomic(), figures.numbers_beside(*open_proposals) as rows:
        # Written here and not committed: the other connection does not see it, and the
        # caller promised not to write what it reads before asking for the rows.
        TierProposal.objects.filter(status=ProposalStatus.PENDING).delete()
        beside = rows()
    assert calls == [None]  # a second connection, no snapshot to import
    assert np.array_equal(here, beside, equal_nan=True)
    # Inside a caller's transaction, whose rows a second connection would not see: here.
    with (
        transaction.atomic(),
        transaction.atomic(),
        figures.numbers_beside(*open_proposals) as rows,
    ):
        assert rows().shape == (0, 5)
    assert calls == [None]
