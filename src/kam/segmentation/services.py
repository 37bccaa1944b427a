"""Writes of the segmentation app: scoring runs, tier proposals and decisions, profiles, config."""

from __future__ import annotations

import datetime as dt
import gc
import logging
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import numpy as np
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Field, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from kam.audit.services import (
    Action,
    audit_record,
    audit_records_bulk,
    changes_between,
    snapshot,
)
from kam.customers.models import Account
from kam.lib import pgcopy
from kam.segmentation import costs, figures, rules, scoring, selectors
from kam.segmentation.models import (
    AccountScore,
    AccountStrategicProfile,
    ProposalStatus,
    RunStatus,
    ScoringConfig,
    ScoringRun,
    TierHistory,
    TierProposal,
)
from kam.users import roles
from kam.users.models import User

logger = logging.getLogger(__name__)

# Scoring runs whose per-account rows are kept (older runs keep only their summary).
KEEP_RUN_SCORES = 7
# PostgreSQL advisory lock held by a run's writing transaction (any fixed 64-bit number).
SCORING_LOCK = 0x6B616D73636F7265  # "kamscore"
WRITE_BATCH = 20_000

Progress = Callable[[str], None]

# Columns of AccountScore written by the scoring, in the order of the rows built below.
SCORE_COLUMNS = [
    "run_id",
    "account_id",
    "revenue",
    "margin",
    "value",
    "orders",
    "purchase_days",
    "first_order",
    "last_order",
    "revenue_12m",
    "growth_12m",
    "r_score",
    "f_score",
    "m_score",
    "share_of_wallet",
    "rank",
    "cumulative_share",
    "abc_class",
    "previous_abc",
    "monetary",
    "p_alive",
    "expected_purchases",
    "expected_order_value",
    "clv",
    "value_score",
    "potential_score",
    "cost_to_serve",
    "current_tier",
    "proposed_tier",
    "tier_reason",
]
_DATE_COLUMNS = {"first_order", "last_order"}
# Columns of TierProposal a run writes by COPY (_postgresql_proposals_copy), in order.
PROPOSAL_COLUMNS = [
    "account_id",
    "from_tier",
    "to_tier",
    "reason",
    "run_id",
    "created_at",
    "status",
    "decision_note",
]


def scoring_config_get() -> ScoringConfig:
    """The scoring configuration (created with the defaults on first use)."""
    config, _created = ScoringConfig.objects.get_or_create(pk=1)
    return config


CONFIG_FIELDS = [
    "abc_a_cutoff",
    "abc_b_cutoff",
    "pareto_share",
    "value_weights",
    "potential_weights",
    "tier_rules",
    "clv_period",
    "clv_horizon_months",
    "clv_annual_discount_rate",
    "cost_per_visit",
    "cost_per_service_hour",
    "discount_rate",
]


@transaction.atomic
def scoring_config_update(*, actor: User, data: dict[str, Any]) -> ScoringConfig:
    """Change the scoring configuration (directors only); every field is validated."""
    if not roles.is_director(actor):
        raise PermissionDenied(_("Only directors change the scoring configuration."))
    config = scoring_config_get()
    before = snapshot(config, CONFIG_FIELDS)
    for name in CONFIG_FIELDS:
        if name in data:
            setattr(config, name, data[name])
    config.value_weights = rules.weights_validate(
        config.value_weights,
        rules.VALUE_FIGURES + rules.STRATEGIC_CRITERIA,
        "value_weights",
    )
    config.potential_weights = rules.weights_validate(
        config.potential_weights,
        rules.POTENTIAL_FIGURES + rules.POTENTIAL_CRITERIA,
        "potential_weights",
    )
    config.tier_rules = rules.tier_rules_validate(config.tier_rules)
    config.full_clean()
    if not config.abc_a_cutoff < config.abc_b_cutoff:
        raise ValidationError({"abc_b_cutoff": _("Classes A+B must hold more value than class A.")})
    config.updated_by = actor
    config.save()
    audit_record(
        actor=actor,
        action=Action.UPDATE,
        instance=config,
        changes=changes_between(before, snapshot(config, CONFIG_FIELDS)),
    )
    return config


# --------------------------------------------------------------------------
# Scoring run
# --------------------------------------------------------------------------


# The SQLite values: numbers (NaN binds as NULL; INTEGER columns store 3.0 as 3; dates as
# day numbers the INSERT turns into ISO text), then the texts, then the reason.
_SQLITE_TEXTS = ["abc_class", "previous_abc", "current_tier", "proposed_tier"]
_SQLITE_NUMBERS = [name for name in SCORE_COLUMNS[1:-1] if name not in _SQLITE_TEXTS]
_SQLITE_NAMES = [*_SQLITE_NUMBERS, *_SQLITE_TEXTS, "tier_reason"]
# Rows per INSERT statement (fewer where the driver binds fewer values per statement).
SQLITE_INSERT_ROWS = 1000


def _sqlite_insert_sql(run_id: int, rows: int) -> str:
    """An INSERT of ``rows`` score rows in one VALUES list, "?" parameters (_sqlite_values)."""
    values = ", ".join(
        "date(? * 86400, 'unixepoch')" if name in _DATE_COLUMNS else "?" for name in _SQLITE_NAMES
    )
    row = f"({int(run_id)}, {values})"
    return (
        f"INSERT INTO {AccountScore._meta.db_table} (run_id, {', '.join(_SQLITE_NAMES)}) "
        f"VALUES {', '.join([row] * rows)}"
    )


def _reasons(
    result: scoring.ScoreResult, start: int, stop: int, rows: np.ndarray | None = None
) -> list[str]:
    """Reasons start:stop (of ``rows``, if given) cut to the columns' length (run reasons
    are codes: rarely cut)."""
    if rows is None:
        reasons = result.reasons[start:stop]
    else:
        reasons = [result.reasons[row] for row in rows[start:stop].tolist()]
    limit = min(
        AccountScore._meta.get_field("tier_reason").max_length or 0,
        TierProposal._meta.get_field("reason").max_length or 0,
    )
    if reasons and max(map(len, reasons)) > limit:
        return [reason[:limit] for reason in reasons]
    return reasons


def _sqlite_values(result: scoring.ScoreResult, start: int, stop: int) -> list[Any]:
    """The values of rows start:stop, row after row, in the order of _SQLITE_NAMES.

    One flat list filled column by column through an object array: no list per row.
    """
    columns = result.columns
    block = np.empty((stop - start, len(_SQLITE_NAMES)), dtype=object)
    numbers = len(_SQLITE_NUMBERS)
    block[:, :numbers] = np.column_stack(
        [columns[name][start:stop].astype(np.float64) for name in _SQLITE_NUMBERS]
    )
    for position, name in enumerate(_SQLITE_TEXTS, start=numbers):
        block[:, position] = columns[name][start:stop].tolist()
    block[:, -1] = _reasons(result, start, stop)
    return block.ravel().tolist()


def _sqlite_scores_write(run_id: int, result: scoring.ScoreResult) -> None:
    """Insert the score rows a thousand to a statement.

    Row by row (executemany) a million rows took 6.2-7.3 s, in statements of a thousand
    rows 4.0-4.7 s: one step of the statement and one call into the driver per thousand
    rows instead of per row. The statements go to the sqlite3 connection itself, below
    Django's rewriting of every statement's %s (60 KB of SQL each).
    """
    database = connection.connection
    width = len(_SQLITE_NAMES)
    per_statement = min(
        SQLITE_INSERT_ROWS, database.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // width
    )
    full = _sqlite_insert_sql(run_id, per_statement)
    cursor = database.cursor()
    try:
        total = len(result.reasons)
        for start in range(0, total, WRITE_BATCH):
            stop = min(start + WRITE_BATCH, total)
            values = _sqlite_values(result, start, stop)
            for first in range(0, stop - start, per_statement):
                rows = min(per_statement, stop - start - first)
                sql = full if rows == per_statement else _sqlite_insert_sql(run_id, rows)
                cursor.execute(sql, values[first * width : (first + rows) * width])
    finally:
        cursor.close()


def _score_columns(run_id: int, result: scoring.ScoreResult, start: int, stop: int) -> list[Any]:
    """The values of SCORE_COLUMNS for rows start:stop as arrays (texts as lists), for COPY."""
    columns: list[Any] = []
    for name in SCORE_COLUMNS:
        if name == "run_id":
            columns.append(run_id)
        elif name == "tier_reason":
            columns.append(_reasons(result, start, stop))
        else:
            # (Text columns are object arrays of a few distinct texts: pgcopy codes them.)
            columns.append(result.columns[name][start:stop])
    return columns


def _copy_types(model: type[Any] = AccountScore, columns: list[str] = SCORE_COLUMNS) -> list[str]:
    """PostgreSQL type names of a model's columns, for the binary COPY."""
    names = {
        "bigint": "int8",
        "integer": "int4",
        "smallint": "int2",
        "double precision": "float8",
        "timestamp with time zone": "timestamptz",
    }
    types = []
    for column in columns:
        field = model._meta.get_field(column.removesuffix("_id"))
        assert isinstance(field, Field)
        db_type = field.rel_db_type(connection) if field.is_relation else field.db_type(connection)
        db_type = db_type or ""
        types.append("varchar" if db_type.startswith("varchar") else names.get(db_type, db_type))
    return types


def _postgresql_scores_copy(
    cursor: Any, run_id: int, result: scoring.ScoreResult, types: list[str], rows: range
) -> None:
    """Binary COPY of the score rows ``rows`` on a psycopg cursor."""
    names = ", ".join(SCORE_COLUMNS)
    with cursor.copy(
        f"COPY {AccountScore._meta.db_table} ({names}) FROM STDIN (FORMAT BINARY)"
    ) as copy:
        copy.write(pgcopy.SIGNATURE)
        for start in range(rows.start, rows.stop, WRITE_BATCH):
            stop = min(start + WRITE_BATCH, rows.stop)
            columns = _score_columns(run_id, result, start, stop)
            copy.write(pgcopy.rows_block(list(zip(types, columns, strict=True)), stop - start))
        copy.write(pgcopy.TRAILER)


def _changed_rows(result: scoring.ScoreResult) -> np.ndarray:
    """Positions of the accounts whose proposed tier is not their current one."""
    columns = result.columns
    return np.flatnonzero(columns["proposed_tier_index"] != columns["current_tier_index"])


def _postgresql_proposals_copy(
    cursor: Any, run_id: int, result: scoring.ScoreResult, changed: np.ndarray, now: dt.datetime
) -> None:
    """Binary COPY of a pending proposal for each of the ``changed`` rows (_changed_rows).

    The rows the INSERT of _proposals_write makes from the score rows, made here from
    the run's arrays instead, so that they need not wait for the score rows.
    """
    types = _copy_types(TierProposal, PROPOSAL_COLUMNS)
    stamp = pgcopy.timestamp(now)
    columns = result.columns
    names = ", ".join(PROPOSAL_COLUMNS)
    with cursor.copy(
        f"COPY {TierProposal._meta.db_table} ({names}) FROM STDIN (FORMAT BINARY)"
    ) as copy:
        copy.write(pgcopy.SIGNATURE)
        for start in range(0, changed.size, WRITE_BATCH):
            stop = min(start + WRITE_BATCH, changed.size)
            rows = changed[start:stop]
            values = [
                columns["account_id"][rows],
                columns["current_tier"][rows],
                columns["proposed_tier"][rows],
                _reasons(result, start, stop, changed),
                run_id,
                stamp,
                str(ProposalStatus.PENDING),
                "",
            ]
            copy.write(pgcopy.rows_block(list(zip(types, values, strict=True)), rows.size))
        copy.write(pgcopy.TRAILER)


class _SecondConnection:
    """A second PostgreSQL connection writing part of a large run's rows at the same time.

    The server's work of a COPY or an INSERT is one core's; the machine has more. Its
    statements run one after another on one worker thread (psycopg waits for the server
    without the GIL), in a transaction of its own that commits only when the run asks
    (see _proposals_write) and otherwise rolls back in ``close``.
    """

    def __init__(self, params: dict[str, Any]) -> None:
        self._params = params
        self._pool = ThreadPoolExecutor(max_workers=1)
        self._connection: Any = None
        self._copy: Future[None] | None = None
        self._closed = False

    def _connect(self) -> Any:
        import psycopg

        if self._connection is None:
            self._connection = psycopg.connect(**self._params)
            # As the run's own transaction: a crash may lose the run, not corrupt it.
            self._connection.execute("SET synchronous_commit = off")
        return self._connection

    def copy_start(self, write: Callable[[Any], Any]) -> None:
        """Start ``write(cursor)`` (a COPY) there; ``copied`` waits for it."""

        def copy() -> None:
            with self._connect().cursor() as cursor:
                write(cursor)

        self._copy = self._pool.submit(copy)

    def copied(self) -> bool:
        """Wait for the COPY; False if the connection failed (nothing of it is kept).

        The other connection is only another core: when the server refuses it (e.g. no
        connection slot left), the run writes those rows itself, more slowly.
        """
        import psycopg

        assert self._copy is not None
        try:
            self._copy.result()
        except psycopg.Error as error:
            logger.warning("Writing rows on a second connection failed, writing here: %s", error)
            self.close()
            return False
        return True

    def commit(self) -> None:
        self._pool.submit(lambda: self._connect().commit()).result()

    def close(self) -> None:
        """Roll back whatever is not committed and let the connection go."""
        if self._closed:
            return
        self._closed = True

        def close() -> None:
            if self._connection is not None:
                self._connection.close()  # (psycopg rolls back an open transaction)
                self._connection = None

        self._pool.submit(close).result()
        self._pool.shutdown()


def _postgresql_split_possible() -> bool:
    """Whether rows a second connection commits now are seen by this transaction's next
    statements: a READ COMMITTED transaction of the run's own."""
    if len(connection.atomic_blocks) != 1:
        return False
    with connection.cursor() as cursor:
        cursor.execute("SHOW transaction_isolation")
        return cursor.fetchone()[0] == "read committed"


@contextmanager
def _scores_written(run_id: int, result: scoring.ScoreResult) -> Iterator[_SecondConnection | None]:
    """Insert the run's AccountScore rows: binary COPY on PostgreSQL, multi-row INSERTs on SQLite.

    (Binary COPY is about ten times faster than text COPY, whose cost is formatting every
    float as text; its rows are built from the arrays by kam.lib.pgcopy, not row by row.)
    On PostgreSQL a large run's upper half goes in on a second connection at the same
    time. It is yielded, its rows not yet committed: the caller commits it (after it has
    inserted those accounts' proposals too, see _proposals_write) before reading the rows
    back and before its own commit; it is rolled back if the block fails.
    """
    if connection.vendor != "postgresql":
        _sqlite_scores_write(run_id, result)
        yield None
        return
    total = len(result.reasons)
    types = _copy_types()
    middle = total // 2 if total >= figures.SPLIT_MIN_ACCOUNTS else total
    with connection.cursor() as cursor:
        if middle == total or not _postgresql_split_possible():
            _postgresql_scores_copy(cursor.cursor, run_id, result, types, range(0, total))
            yield None
            return
        second = _SecondConnection(connection.get_connection_params())
        try:
            upper = range(middle, total)
            second.copy_start(
                lambda cursor: _postgresql_scores_copy(cursor, run_id, result, types, upper)
            )
            _postgresql_scores_copy(cursor.cursor, run_id, result, types, range(0, middle))
            if second.copied():
                yield second
                return
            _postgresql_scores_copy(cursor.cursor, run_id, result, types, range(middle, total))
            yield None
        finally:
            second.close()


def _scores_write(run_id: int, result: scoring.ScoreResult) -> None:
    """_scores_written, every row committed or seen by this transaction when it returns."""
    with _scores_written(run_id, result) as second:
        if second is not None:
            second.commit()


def _open_proposals_sql(proposal_table: str, to_tier: str, from_tier: str) -> str:
    """Proposals that stop a run from proposing the same change again.

    Pending ones (a person's or a run's), and standing rejections: an account's latest
    run proposal, rejected by a director. A run does not propose that change again (same
    tier, from the same current tier) until it has proposed something else in between.
    Columns: account_id, to_tier, from a run (0/1), rejected (0/1), from_tier; the
    tier expressions are given in SQL of ``p`` (a proposal row).
    """
    return f"""SELECT p.account_id, {to_tier}, CASE WHEN p.run_id IS NULL THEN 0 ELSE 1 END,
      0, {from_tier}
    FROM {proposal_table} p WHERE p.status = %(pending)s
    UNION ALL
    SELECT p.account_id, {to_tier}, 1, 1, {from_tier}
    FROM {proposal_table} p WHERE p.status = %(rejected)s AND p.run_id IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM {proposal_table} later WHERE later.account_id = p.account_id
        AND later.run_id IS NOT NULL AND later.id > p.id)"""


_OPEN_PARAMS = {"pending": ProposalStatus.PENDING, "rejected": ProposalStatus.REJECTED}


def _open_proposals_query(tier_codes: list[str]) -> figures.Query:
    """_open_proposals_sql as numbers: account, to tier, from a run, rejected, from tier.

    Tiers as positions in the rules: -1 none, -2 a current tier not in the rules, and -3 a
    proposal's tier not in them (never equal to any of the run's).
    """
    from_index = figures.tier_index_sql("p.from_tier", tier_codes, other=-3)
    from_tier = f"CASE WHEN p.from_tier = '' THEN -1 ELSE {from_index} END"
    sql = _open_proposals_sql(
        TierProposal._meta.db_table, figures.tier_index_sql("p.to_tier", tier_codes), from_tier
    )
    return sql, {**_OPEN_PARAMS, **figures.tier_params(tier_codes)}, 5


def _proposal_work(
    result: scoring.ScoreResult, open_rows: Callable[[], np.ndarray]
) -> tuple[bool, bool, bool]:
    """Whether a run supersedes proposals, leaves open ones, proposes new ones (NumPy).

    The open proposals (``open_rows``: the rows of _open_proposals_query) are compared
    with the run's tiers in memory, so the statements of _proposals_write run only when
    they have something to do: a nightly run that changes nothing skips them (1,000,000
    accounts with a pending proposal each: SQLite ≈ 3.7 s of look-ups, PostgreSQL ≈ 3 s
    with the standing rejections, against ≈ 0.5–1.3 s for this read, which large runs do
    beside the score rows' insert).
    """
    ids = result.columns["account_id"]
    proposed = result.columns["proposed_tier_index"]
    current = result.columns["current_tier_index"]
    changed = proposed != current
    rows = open_rows()
    if not rows.shape[0] or not ids.size:
        return False, False, bool(changed.any())
    account = rows[:, 0].astype(np.int64)
    positions = np.minimum(np.searchsorted(ids, account), ids.size - 1)
    scored = ids[positions] == account  # archived accounts are not scored
    same = scored & (proposed[positions] == rows[:, 1])
    rejected = rows[:, 3] > 0
    outdated = scored & ~same & (rows[:, 2] > 0) & ~rejected
    blocks = same & (~rejected | (current[positions] == rows[:, 4]))
    covered = np.zeros(ids.size, dtype=bool)
    covered[positions[blocks]] = True
    return bool(outdated.any()), not outdated.all(), bool((changed & ~covered).any())


def _proposals_write(
    run: ScoringRun,
    result: scoring.ScoreResult,
    now: dt.datetime,
    open_rows: Callable[[], np.ndarray],
    second: _SecondConnection | None = None,
) -> int:
    """Supersede outdated pending run proposals, then propose every changed tier once.

    A change stays unproposed while the same one is pending or was the account's latest
    run proposal and rejected (see _open_proposals_sql). ``second`` holds the upper
    accounts' uncommitted score rows (see _scores_written); this commits it.
    """
    outdated, still_open, new = _proposal_work(result, open_rows)
    proposal_table = TierProposal._meta.db_table
    score_table = AccountScore._meta.db_table
    stamp = connection.ops.adapt_datetimefield_value(now)
    params: dict[str, Any] = {
        **_OPEN_PARAMS,
        "run": run.pk,
        "stamp": stamp,
        "status": ProposalStatus.PENDING,
    }
    insert = f"""INSERT INTO {proposal_table} (account_id, from_tier, to_tier, reason,
          run_id, created_at, status, decision_note)
        SELECT s.account_id, s.current_tier, s.proposed_tier, s.tier_reason, %(run)s,
          %(stamp)s, %(status)s, ''
        FROM {score_table} s"""
    where = "WHERE s.run_id = %(run)s AND s.proposed_tier <> s.current_tier"
    if second is not None:
        # The statements below read its rows back. (A reader may see its half of the
        # rows some milliseconds before the other.)
        second.commit()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and (outdated or new):
            # Fresh statistics, so the statements below plan for the run's million score
            # rows, not a guess: of the columns they use only (0.3 s instead of 0.8 s for a
            # million rows; the autovacuum daemon analyses the rest after such an insert
            # anyway). A run with nothing to propose or supersede skips it.
            cursor.execute(
                f"ANALYZE {score_table} (run_id, account_id, current_tier, proposed_tier)"
            )
        if outdated:
            cursor.execute(
                f"""UPDATE {proposal_table} SET status = %s, decided_at = %s,
                decision_note = %s
                WHERE status = %s AND run_id IS NOT NULL AND EXISTS (
                  SELECT 1 FROM {score_table} s WHERE s.run_id = %s
                  AND s.account_id = {proposal_table}.account_id
                  AND s.proposed_tier <> {proposal_table}.to_tier)""",
                [
                    ProposalStatus.SUPERSEDED,
                    stamp,
                    f"superseded by scoring run {run.pk}",
                    ProposalStatus.PENDING,
                    run.pk,
                ],
            )
        if not new:
            return 0
        if still_open:
            # The open proposals are read once (materialised) before inserting into the
            # same table, so the anti-join never rescans the rows being inserted.
            open_sql = _open_proposals_sql(proposal_table, "p.to_tier", "p.from_tier")
            insert = f"""WITH open_proposals (account_id, to_tier, from_run, rejected, from_tier)
              AS MATERIALIZED ({open_sql})
            {insert}
            LEFT JOIN open_proposals o ON o.account_id = s.account_id AND o.to_tier = s.proposed_tier
              AND (o.rejected = 0 OR o.from_tier = s.current_tier)
            {where} AND o.account_id IS NULL"""
        else:
            insert = f"{insert} {where}"
        cursor.execute(insert, params)
        if connection.vendor != "sqlite":
            return cursor.rowcount
        # (The SQLite driver does not report the rowcount of WITH … INSERT.)
        cursor.execute("SELECT changes()")
        return int(cursor.fetchone()[0])


def _proposals_all_new_possible() -> bool:
    """Whether every changed tier becomes a proposal, written beside the score rows.

    PostgreSQL, in a READ COMMITTED transaction of the run's own (see
    _postgresql_split_possible), with no open proposal (_open_proposals_sql): nothing
    stops a change from being proposed (e.g. a first run, or one after every proposal
    was decided). Asked after the run's lock is taken, so no other run writes meanwhile.
    """
    if connection.vendor != "postgresql" or not _postgresql_split_possible():
        return False
    open_sql = _open_proposals_sql(TierProposal._meta.db_table, "p.to_tier", "p.from_tier")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT EXISTS ({open_sql})", _OPEN_PARAMS)
        return not cursor.fetchone()[0]


def _scores_and_proposals_copied(
    run: ScoringRun, result: scoring.ScoreResult, now: dt.datetime, step: Progress
) -> int:
    """Score rows here and the proposals (from the run's arrays) on a second connection,
    at the same time; returns the number of proposals.

    Each COPY is one server process's work: side by side they take ≈ 2.9 s for a
    million accounts where the score rows in two halves and then the proposals from
    them took ≈ 3.8 s (two inserts into the same indexes wait on each other). The second
    connection commits first, as in _proposals_write; if it fails before, the proposals
    are written here.
    """
    changed = _changed_rows(result)
    second = _SecondConnection(connection.get_connection_params())
    try:
        second.copy_start(
            lambda cursor: _postgresql_proposals_copy(cursor, run.pk, result, changed, now)
        )
        total = len(result.reasons)
        with connection.cursor() as cursor:
            _postgresql_scores_copy(cursor.cursor, run.pk, result, _copy_types(), range(total))
        step("proposals")
        if second.copied():
            second.commit()
        else:
            with connection.cursor() as cursor:
                _postgresql_proposals_copy(cursor.cursor, run.pk, result, changed, now)
    finally:
        second.close()
    return int(changed.size)


OLD_RUNS_BATCH = 500


def _old_scores_delete(run: ScoringRun) -> None:
    """Drop the score rows of all but the latest KEEP_RUN_SCORES runs.

    By the runs' ids, which the (run, account) index finds: "every row not of the kept
    runs" read every kept row (7,000,000 at a million accounts) to delete none.
    """
    keep = [
        run.pk,
        *selectors.runs_done()
        .exclude(pk=run.pk)
        .values_list("pk", flat=True)[: KEEP_RUN_SCORES - 1],
    ]
    old = list(ScoringRun.objects.exclude(pk__in=keep).order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(old), OLD_RUNS_BATCH):
        AccountScore.objects.filter(run_id__in=old[start : start + OLD_RUNS_BATCH]).delete()


def _scoring_compute_and_write(
    run: ScoringRun, as_of: dt.date, config: ScoringConfig, with_clv: bool, step: Progress
) -> tuple[scoring.ScoreResult, int]:
    """Figures, computation and the bulk writes of one run; returns the result and proposals."""
    step("figures")
    if with_clv:
        scoring.models_preload()
    tier_codes = [rule["tier"] for rule in config.tier_rules]
    # This run is not done yet: the latest done one holds the previous classes.
    previous = selectors.runs_done().values_list("pk", flat=True).first()
    account_figures = figures.account_figures(as_of, tier_codes, previous)
    step("costs")
    service_costs = costs.cost_to_serve_sources(as_of)
    step("models")
    result = scoring.scores_compute(
        account_figures, config=config, service_costs=service_costs, with_clv=with_clv
    )
    future = account_figures.future_days
    if future:
        result.summary["messages"].append(
            f"{future} account-days dated after {as_of} were left out."
        )
    del account_figures
    now = timezone.now()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # A crash may lose this run (the database stays consistent; run it again),
            # so its commit need not wait for the WAL flush.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit = off")
                # One run writes at a time, as SQLite's write lock has it: a run that read
                # the open proposals while another was still writing its own would
                # propose the same changes again (e.g. the nightly run and "Score now").
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SCORING_LOCK])
        step("scores")
        large = len(result.reasons) >= figures.SPLIT_MIN_ACCOUNTS
        if large and _proposals_all_new_possible():
            return result, _scores_and_proposals_copied(run, result, now, step)
        # Large runs read the open proposals on the other core while the rows go in.
        open_query = _open_proposals_query(tier_codes)
        with (
            figures.numbers_beside(*open_query, beside=large) as open_rows,
            _scores_written(run.pk, result) as second,
        ):
            step("proposals")
            created = _proposals_write(run, result, now, open_rows, second)
    return result, created


SQLITE_CACHE_KB = 256 * 1024


@contextmanager
def _database_tuned() -> Iterator[None]:
    """Session settings for the run's few big statements, restored afterwards.

    SQLite: a 256 MB page cache (allocated only as pages are touched); with the default
    2 MB, the transaction writing a score row and a proposal per account
    spills and re-reads index pages (measured 0.2-1 s less per 100,000 accounts).
    PostgreSQL: no JIT; compiling these one-off queries cost more than it saved
    (figures query on 300,000 accounts: 5.4 s with JIT, 2.9 s without).
    """
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET jit = off")
        elif connection.vendor == "sqlite":
            cursor.execute("PRAGMA cache_size")
            (before,) = cursor.fetchone()
            cursor.execute(f"PRAGMA cache_size = {-SQLITE_CACHE_KB}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("RESET jit")
            elif connection.vendor == "sqlite":
                cursor.execute(f"PRAGMA cache_size = {int(before)}")


@contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a run builds millions of short-lived rows.

    The rows hold no cycles, yet every few hundred new lists start a collection that
    walks the ones still alive (building the SQLite rows of 1,000,000 accounts: 3.7 s
    with collections, 1.6 s without). Reference counting still frees them.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def scoring_run(
    *,
    as_of: dt.date | None = None,
    with_clv: bool = True,
    actor: User | None = None,
    progress: Progress | None = None,
) -> ScoringRun:
    """Score every account as of a date and propose tier changes; returns the finished run.

    Steps: read the per-account figures from the daily rollups (SQL); compute
    Pareto, ABC, RFM, CLV, scores, return rate and proposed tiers (NumPy); write
    the AccountScore rows and the proposals (bulk SQL); accounts read their ABC class,
    scores and CLV from the latest run (selectors.accounts_with_scores).
    A failure is stored on the run (status failed, message) and raised again.
    """
    as_of = as_of or timezone.localdate()
    step = progress or (lambda _name: None)
    config = scoring_config_get()
    run = ScoringRun.objects.create(as_of=as_of, started_by=actor)
    started = time.monotonic()
    try:
        with _database_tuned(), _gc_paused():
            result, created = _scoring_compute_and_write(run, as_of, config, with_clv, step)
        summary = result.summary
        run.accounts = summary["accounts"]
        run.head_count = summary["head_count"]
        run.head_account_share = summary["head_account_share"]
        run.value_total = summary["value_total"]
        run.value_basis = summary["value_basis"]
        run.proposals_created = created
        run.parameters = {
            **summary,
            "config": {name: getattr(config, name) for name in CONFIG_FIELDS},
            "seconds": round(time.monotonic() - started, 2),
        }
        run.message = "\n".join(summary["messages"])
        run.status = RunStatus.DONE
        run.finished_at = timezone.now()
        run.save()
        step("cleanup")
        _old_scores_delete(run)
    except Exception as error:
        run.status = RunStatus.FAILED
        run.message = f"{type(error).__name__}: {error}"
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "message", "finished_at"])
        raise
    if actor is not None:
        audit_record(
            actor=actor,
            action=Action.EVENT,
            instance=run,
            message=f"Scoring as of {as_of}: {run.accounts} accounts, {created} proposals",
        )
    return run


# --------------------------------------------------------------------------
# Tier proposals, decisions and history
# --------------------------------------------------------------------------


def _require_director(user: User) -> None:
    if not roles.is_director(user):
        raise PermissionDenied(_("Only a director may decide tier changes."))


def tier_check(tier: str) -> None:
    codes = [rule["tier"] for rule in scoring_config_get().tier_rules]
    if tier not in codes:
        raise ValidationError(
            {
                "tier": _("Unknown tier %(tier)s; choose one of %(codes)s.")
                % {"tier": tier, "codes": ", ".join(codes)}
            }
        )


def _tier_set(
    *,
    account: Account,
    tier: str,
    reason: str,
    actor: User,
    proposal: TierProposal | None,
    is_override: bool,
) -> TierHistory:
    now = timezone.now()
    previous = account.tier
    TierHistory.objects.filter(account=account, until__isnull=True).update(until=now)
    entry = TierHistory.objects.create(
        account=account,
        tier=tier,
        from_tier=previous,
        since=now,
        approved_by=actor,
        reason=reason[:500],
        proposal=proposal,
        is_override=is_override,
    )
    Account.objects.filter(pk=account.pk).update(tier=tier)
    account.tier = tier
    audit_record(
        actor=actor,
        action=Action.UPDATE,
        instance=account,
        account=account,
        changes={"tier": [previous, tier]},
        message=(
            _("Tier override: %(reason)s") if is_override else _("Tier change approved: %(reason)s")
        )
        % {"reason": rules.reason_text(reason)},
    )
    return entry


@transaction.atomic
def tier_propose(*, account: Account, tier: str, reason: str, actor: User) -> TierProposal:
    """A person proposes a tier change for a director to decide (reason required)."""
    tier_check(tier)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the tier should change.")})
    if tier == account.tier:
        raise ValidationError({"tier": _("The account already has this tier.")})
    proposal = TierProposal.objects.create(
        account=account,
        from_tier=account.tier,
        to_tier=tier,
        reason=reason[:300],
        proposed_by=actor,
    )
    audit_record(
        actor=actor,
        action=Action.CREATE,
        instance=proposal,
        account=account,
        message=_("Tier change proposed: %(from)s → %(to)s")
        % {"from": account.tier or "—", "to": tier},
    )
    return proposal


def _decide_check(proposal: TierProposal) -> None:
    if proposal.status != ProposalStatus.PENDING:
        raise ValidationError(
            {
                "status": _("This proposal is already %(status)s.")
                % {"status": proposal.get_status_display()}
            }
        )


@transaction.atomic
def tier_proposal_approve(
    *, proposal: TierProposal, director: User, note: str = ""
) -> TierProposal:
    """Approve a pending proposal: the account gets the tier, history and timeline record it."""
    _require_director(director)
    proposal = (
        TierProposal.objects.select_for_update().select_related("account").get(pk=proposal.pk)
    )
    _decide_check(proposal)
    proposal.status = ProposalStatus.APPROVED
    proposal.decided_by = director
    proposal.decided_at = timezone.now()
    proposal.decision_note = note[:500]
    proposal.save()
    _tier_set(
        account=proposal.account,
        tier=proposal.to_tier,
        reason=note or proposal.reason,
        actor=director,
        proposal=proposal,
        is_override=False,
    )
    return proposal


@transaction.atomic
def tier_proposal_reject(*, proposal: TierProposal, director: User, note: str = "") -> TierProposal:
    """Reject a pending proposal; the account keeps its tier."""
    _require_director(director)
    proposal = (
        TierProposal.objects.select_for_update().select_related("account").get(pk=proposal.pk)
    )
    _decide_check(proposal)
    proposal.status = ProposalStatus.REJECTED
    proposal.decided_by = director
    proposal.decided_at = timezone.now()
    proposal.decision_note = note[:500]
    proposal.save()
    audit_record(
        actor=director,
        action=Action.EVENT,
        instance=proposal,
        account=proposal.account,
        message=_("Tier change %(from)s → %(to)s rejected")
        % {"from": proposal.from_tier or "—", "to": proposal.to_tier}
        + (f": {note}" if note else ""),
    )
    return proposal


DECIDE_BATCH = 2_000


def _approve_batch(ids: Sequence[int], director: User, note: str) -> int:
    """Approve pending proposals ``ids`` with a few set-based statements (one per table).

    The same records as one tier_proposal_approve per proposal: decision on the proposal,
    the previous tier period closed, a new TierHistory period, the account's tier and an
    audit entry on its timeline.
    """
    proposals = list(
        TierProposal.objects.select_for_update()
        .filter(pk__in=ids)
        .select_related("account")
        .order_by("pk")
    )
    for proposal in proposals:
        _decide_check(proposal)
    accounts = [proposal.account_id for proposal in proposals]
    if len(set(accounts)) != len(accounts):
        twice = next(p.account for p in proposals if accounts.count(p.account_id) > 1)
        raise ValidationError(
            {
                "proposals": _(
                    "Several of the chosen proposals are for %(account)s; decide them one by one."
                )
                % {"account": twice}
            }
        )
    now = timezone.now()
    TierProposal.objects.filter(pk__in=[p.pk for p in proposals]).update(
        status=ProposalStatus.APPROVED,
        decided_by=director,
        decided_at=now,
        decision_note=note[:500],
    )
    TierHistory.objects.filter(account_id__in=accounts, until__isnull=True).update(until=now)
    TierHistory.objects.bulk_create(
        TierHistory(
            account_id=p.account_id,
            tier=p.to_tier,
            from_tier=p.account.tier,
            since=now,
            approved_by=director,
            reason=(note or p.reason)[:500],
            proposal=p,
            is_override=False,
        )
        for p in proposals
    )
    by_tier: dict[str, list[int]] = {}
    for p in proposals:
        by_tier.setdefault(p.to_tier, []).append(p.account_id)
    for tier, tier_accounts in by_tier.items():
        Account.objects.filter(pk__in=tier_accounts).update(tier=tier)
    template = _("Tier change approved: %(reason)s")
    audit_records_bulk(
        actor=director,
        action=Action.UPDATE,
        entries=[
            (
                p.account,
                p.account,
                {"tier": [p.account.tier, p.to_tier]},
                template % {"reason": rules.reason_text(note or p.reason)},
            )
            for p in proposals
        ],
    )
    return len(proposals)


@transaction.atomic
def tier_proposals_approve_bulk(
    *,
    proposals: Iterable[TierProposal | int],
    director: User,
    note: str = "",
    progress: Callable[[int], None] | None = None,
) -> int:
    """Approve many pending proposals at once (all or none); returns how many.

    Set-based, a few thousand at a time, so a first scoring's hundreds of thousands of
    proposals can be approved in one go (``progress`` gets the count after each batch).
    """
    _require_director(director)
    ids = [p if isinstance(p, int) else p.pk for p in proposals]
    count = 0
    for start in range(0, len(ids), DECIDE_BATCH):
        count += _approve_batch(ids[start : start + DECIDE_BATCH], director, note)
        if progress:
            progress(count)
    return count


@transaction.atomic
def tier_proposals_reject_bulk(
    *,
    proposals: Iterable[TierProposal | int],
    director: User,
    note: str = "",
    progress: Callable[[int], None] | None = None,
) -> int:
    """Reject many pending proposals at once (all or none); accounts keep their tiers."""
    _require_director(director)
    ids = [p if isinstance(p, int) else p.pk for p in proposals]
    count = 0
    for start in range(0, len(ids), DECIDE_BATCH):
        batch = list(
            TierProposal.objects.select_for_update()
            .filter(pk__in=ids[start : start + DECIDE_BATCH])
            .select_related("account")
        )
        for proposal in batch:
            _decide_check(proposal)
        TierProposal.objects.filter(pk__in=[p.pk for p in batch]).update(
            status=ProposalStatus.REJECTED,
            decided_by=director,
            decided_at=timezone.now(),
            decision_note=note[:500],
        )
        template = _("Tier change %(from)s → %(to)s rejected")
        audit_records_bulk(
            actor=director,
            action=Action.EVENT,
            entries=[
                (
                    p,
                    p.account,
                    {},
                    template % {"from": p.from_tier or "—", "to": p.to_tier}
                    + (f": {note}" if note else ""),
                )
                for p in batch
            ],
        )
        count += len(batch)
        if progress:
            progress(count)
    return count


def proposals_matching(
    *, to_tier: str = "", from_tier: str | None = None
) -> QuerySet[TierProposal]:
    """The pending proposals to a tier (and from a tier; '' is "no tier yet")."""
    pending = TierProposal.objects.filter(status=ProposalStatus.PENDING)
    if to_tier:
        pending = pending.filter(to_tier=to_tier)
    if from_tier is not None:
        pending = pending.filter(from_tier=from_tier)
    return pending


def tier_proposals_decide_matching(
    *,
    director: User,
    approve: bool,
    to_tier: str = "",
    from_tier: str | None = None,
    note: str = "",
    progress: Callable[[int], None] | None = None,
) -> int:
    """Approve (or reject) every pending proposal to ``to_tier`` (all tiers when empty)."""
    _require_director(director)
    if to_tier:
        tier_check(to_tier)
    ids = list(
        proposals_matching(to_tier=to_tier, from_tier=from_tier)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    decide = tier_proposals_approve_bulk if approve else tier_proposals_reject_bulk
    return decide(proposals=ids, director=director, note=note, progress=progress)


@transaction.atomic
def tier_override(*, account: Account, tier: str, reason: str, actor: User) -> TierHistory:
    """A director sets a tier directly; the reason is required and kept in the history."""
    _require_director(actor)
    tier_check(tier)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("A manual tier override needs a reason.")})
    TierProposal.objects.filter(account=account, status=ProposalStatus.PENDING).update(
        status=ProposalStatus.SUPERSEDED,
        decided_by=actor,
        decided_at=timezone.now(),
        decision_note="superseded by a manual override",
    )
    return _tier_set(
        account=account, tier=tier, reason=reason, actor=actor, proposal=None, is_override=True
    )


# --------------------------------------------------------------------------
# Strategic profile
# --------------------------------------------------------------------------


@transaction.atomic
def strategic_profile_save(
    *, account: Account, data: dict[str, Any], actor: User
) -> AccountStrategicProfile:
    """Set the person-judged criteria (0-5 or empty) of an account; used by the next scoring."""
    profile, _created = AccountStrategicProfile.objects.get_or_create(account=account)
    fields: Sequence[str] = [*AccountStrategicProfile.CRITERIA, "note"]
    before = snapshot(profile, fields)
    for name in fields:
        if name in data:
            setattr(profile, name, data[name])
    profile.full_clean(exclude=["account", "updated_by"])
    profile.updated_by = actor
    profile.save()
    audit_record(
        actor=actor,
        action=Action.UPDATE,
        instance=profile,
        account=account,
        changes=changes_between(before, snapshot(profile, fields)),
        message=_("Strategic criteria updated"),
    )
    return profile
