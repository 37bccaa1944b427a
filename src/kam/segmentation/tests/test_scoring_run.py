"""A scoring run end to end: Pareto, ABC, RFM, bad input and the fallbacks."""

import datetime as dt
import gc
import math

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from kam.customers.models import Account
from kam.lib import clv as clv_model
from kam.segmentation import figures, rules, selectors, services
from kam.segmentation.models import (
    AccountScore,
    ProposalStatus,
    RunStatus,
    ScoringRun,
    TierProposal,
)
from kam.segmentation.tests.helpers import orders_add, random_history

AS_OF = dt.date(2025, 12, 31)


def scores_by_code(run) -> dict[str, AccountScore]:
    return {
        s.account.code: s for s in AccountScore.objects.filter(run=run).select_related("account")
    }


@pytest.fixture
def five_accounts(account_make):
    """Margins 500, 300, 100, 60, 40 (total 1000): cumulative 50%, 80%, 90%, 96%, 100%."""
    accounts = []
    for code, margin in [("M500", 500), ("M300", 300), ("M100", 100), ("M060", 60), ("M040", 40)]:
        account = account_make(code=code)
        orders_add(
            account, [("2025-03-01", margin * 2, margin), ("2025-09-01", margin, margin / 2)]
        )
        accounts.append(account)
    return accounts


def test_pareto_and_abc_classes_on_hand_made_margins(five_accounts):
    run = services.scoring_run(as_of=AS_OF, with_clv=False)
    scores = scores_by_code(run)
    assert run.value_basis == "margin"
    assert run.value_total == pytest.approx(1000 * 1.5)
    assert [scores[c].abc_class for c in ["M500", "M300", "M100", "M060", "M040"]] == list("AABBC")
    assert [scores[c].rank for c in ["M500", "M300", "M100", "M060", "M040"]] == [1, 2, 3, 4, 5]
    assert scores["M300"].cumulative_share == pytest.approx(0.8)
    assert run.head_count == 2 and run.head_account_share == pytest.approx(0.4)
    scored = selectors.accounts_with_scores(Account.objects.filter(code="M500")).get()
    assert (scored.abc_class, scored.scored_at) == ("A", run.finished_at)
    assert scored.value_score == scores["M500"].value_score


def test_accounts_read_the_latest_run_and_its_classes_become_the_previous_ones(five_accounts):
    services.scoring_run(as_of=AS_OF, with_clv=False)
    # M040 grows past everyone: the next run moves it from C to A.
    orders_add(five_accounts[4], [("2025-10-01", 4000, 1000)])
    second = services.scoring_run(as_of=AS_OF, with_clv=False)
    score = AccountScore.objects.get(run=second, account__code="M040")
    assert (score.previous_abc, score.abc_class) == ("C", "A")
    accounts = selectors.accounts_with_scores(Account.objects.all())
    assert accounts.get(code="M040").abc_class == "A"
    assert set(accounts.filter(abc_class="A").values_list("code", flat=True)) == {"M040", "M500"}


def test_pareto_curve_and_bands_of_the_dashboard(five_accounts, director, account_make):
    orders_add(account_make(code="NEG", region="south"), [("2025-03-01", -400, -200)])
    run = services.scoring_run(as_of=AS_OF, with_clv=False)
    everyone = selectors.scores_visible_to(director, selectors.ScoreFilters(), run)
    pareto = selectors.pareto_curve(everyone)
    # Values 750, 450, 150, 90, 60 and -100 (counted as 0): 1500 in all.
    assert pareto["accounts"] == 6 and pareto["total"] == pytest.approx(1500)
    assert [x for x, _y in pareto["curve"]] == [16.67, 33.33, 50.0, 66.67, 83.33, 100.0]
    assert [y for _x, y in pareto["curve"]] == [50.0, 80.0, 90.0, 96.0, 100.0, 100.0]
    assert pareto["abc_counts"] == {"A": 2, "B": 2, "C": 2}
    assert pareto["bands"] == pytest.approx({"A": 100 / 3, "B": 200 / 3, "C": 100.0})
    sampled = selectors.pareto_curve(everyone, points=4)
    assert sampled["curve"] == [
        [16.67, 50.0],
        [33.33, 80.0],
        [50.0, 90.0],
        [66.67, 96.0],
        [83.33, 100.0],
        [100.0, 100.0],
    ]
    south = selectors.ScoreFilters(region="south")
    only_negative = selectors.pareto_curve(selectors.scores_visible_to(director, south, run))
    assert only_negative["curve"] == [[100.0, 0.0]] and only_negative["total"] == 0
    nothing = selectors.pareto_curve(AccountScore.objects.none())
    assert nothing["curve"] == [] and nothing["accounts"] == 0


def test_abc_thresholds_come_from_the_configuration(five_accounts, director):
    services.scoring_config_update(actor=director, data={"abc_a_cutoff": 0.5, "abc_b_cutoff": 0.9})
    run = services.scoring_run(as_of=AS_OF, with_clv=False)
    scores = scores_by_code(run)
    assert [scores[c].abc_class for c in ["M500", "M300", "M100", "M060", "M040"]] == list("ABBCC")


def test_rfm_scores_are_quintiles(account_make):
    for n in range(10):
        account = account_make(code=f"R{n}")
        orders_add(
            account,
            [
                (dt.date(2025, 1, 1) + dt.timedelta(days=30 * k + n), 100 * (n + 1), None)
                for k in range(n + 1)
            ],
        )
    run = services.scoring_run(as_of=AS_OF, with_clv=False)
    scores = scores_by_code(run)
    assert scores["R9"].rfm == "555"
    assert scores["R0"].m_score == 1 and scores["R0"].f_score == 1
    assert sorted(s.m_score for s in scores.values()) == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]


def test_without_cost_data_accounts_are_ranked_by_revenue(account_make):
    for code, revenue in [("BIG", 900), ("SMALL", 100)]:
        orders_add(account_make(code=code), [("2025-05-05", revenue, None)])
    run = services.scoring_run(as_of=AS_OF, with_clv=False)
    scores = scores_by_code(run)
    assert run.value_basis == "revenue"
    assert scores["BIG"].margin is None and scores["BIG"].value == 900
    assert scores["BIG"].abc_class == "A"


def test_zero_negative_single_order_and_future_lines_score_without_nan(account_make):
    orders_add(account_make(code="ONE"), [("2025-06-01", 1000, 400)])
    orders_add(account_make(code="ZERO"), [("2025-06-01", 0, 0)])
    orders_add(account_make(code="NEG"), [("2025-06-01", 100, 50), ("2025-06-02", -500, -250)])
    orders_add(account_make(code="FUTURE"), [("2026-06-01", 99999, 1)])
    account_make(code="NONE")
    random_history([account_make(code=f"H{n}") for n in range(30)])
    run = services.scoring_run(as_of=AS_OF)
    assert run.status == RunStatus.DONE
    assert "account-days dated after 2025-12-31 were left out" in run.message
    scores = scores_by_code(run)
    assert scores["FUTURE"].revenue == 0 and scores["FUTURE"].abc_class == "C"
    assert scores["ZERO"].abc_class == "C" and scores["NEG"].abc_class == "C"
    assert scores["NEG"].value == -200  # revenue -400, cost -200
    one = scores["ONE"]
    assert one.frequency == 0 and one.p_alive == 1.0
    assert one.expected_order_value is not None and one.clv is not None
    for score in scores.values():
        for field in (
            "value_score",
            "potential_score",
            "clv",
            "p_alive",
            "share",
            "cumulative_share",
        ):
            value = getattr(score, field)
            assert value is None or math.isfinite(value), (score.account.code, field)
    assert scores["NONE"].clv is None and scores["NONE"].proposed_tier == "ordinary"


def test_a_model_that_does_not_converge_leaves_clv_empty_with_a_message(account_make, monkeypatch):
    random_history([account_make() for _ in range(20)])

    def never_converges(*args, **kwargs):
        raise clv_model.ModelFitError("did not converge (test)")

    monkeypatch.setattr(clv_model, "fit_bgnbd", never_converges)
    run = services.scoring_run(as_of=AS_OF)
    assert run.status == RunStatus.DONE
    assert "BG/NBD did not converge" in run.message
    assert not AccountScore.objects.filter(run=run, clv__isnull=False).exists()
    assert not AccountScore.objects.filter(run=run, value_score__isnull=True).exists()


def test_rescoring_keeps_one_pending_proposal_per_change(five_accounts):
    first = services.scoring_run(as_of=AS_OF, with_clv=False)
    assert first.proposals_created == 5
    second = services.scoring_run(as_of=AS_OF, with_clv=False)
    assert second.proposals_created == 0
    assert TierProposal.objects.filter(status=ProposalStatus.PENDING).count() == 5
    reason = TierProposal.objects.get(account__code="M500").reason
    with translation.override("en"):
        assert rules.reason_text(reason).startswith("Rule 1 (strategic): ABC class A")


def test_a_changed_proposal_supersedes_the_pending_one_and_pending_tiers_are_not_proposed_again(
    five_accounts, director
):
    def rules_set(tier):
        services.scoring_config_update(actor=director, data={"tier_rules": [{"tier": tier}]})

    manual = services.tier_propose(
        account=five_accounts[3], tier="strategic", reason="Group contract", actor=director
    )
    rules_set("strategic")
    first = services.scoring_run(as_of=AS_OF, with_clv=False)
    # M060 already waits for "strategic" (the manual proposal): not proposed again.
    assert first.proposals_created == 4
    rules_set("ordinary")
    second = services.scoring_run(as_of=AS_OF, with_clv=False)
    assert second.proposals_created == 5
    superseded = TierProposal.objects.filter(status=ProposalStatus.SUPERSEDED)
    assert sorted(superseded.values_list("account__code", flat=True)) == [
        "M040", "M100", "M300", "M500",
    ]  # fmt: skip
    assert {p.decision_note for p in superseded} == {f"superseded by scoring run {second.pk}"}
    manual.refresh_from_db()
    assert manual.status == ProposalStatus.PENDING  # a person's proposal stays
    pending = TierProposal.objects.filter(status=ProposalStatus.PENDING, run=second)
    assert sorted(pending.values_list("to_tier", flat=True)) == ["ordinary"] * 5
    # Nothing changed: nothing is proposed or superseded.
    third = services.scoring_run(as_of=AS_OF, with_clv=False)
    assert third.proposals_created == 0
    assert TierProposal.objects.filter(status=ProposalStatus.PENDING).count() == 6
    assert superseded.count() == 4


def test_a_run_that_changes_nothing_writes_no_proposal_statement(five_accounts):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    services.scoring_run(as_of=AS_OF, with_clv=False)
    with CaptureQueriesContext(connection) as queries:
        assert services.scoring_run(as_of=AS_OF, with_clv=False).proposals_created == 0
    table = TierProposal._meta.db_table
    writes = [
        q["sql"] for q in queries.captured_queries
        if table in q["sql"] and ("UPDATE" in q["sql"] or "INSERT" in q["sql"])
    ]  # fmt: skip
    assert writes == []


# Runs read the open proposals here, or (PostgreSQL, from SPLIT_MIN_ACCOUNTS accounts) on a
# second connection while the score rows go in: committed tables (transaction=True), since
# that connection sees only what is committed.
POSTGRESQL_ONLY = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="a second PostgreSQL connection"
)
READINGS = [
    "here",
    pytest.param("beside", marks=[pytest.mark.django_db(transaction=True), POSTGRESQL_ONLY]),
]


@pytest.mark.parametrize("reading", READINGS)
def test_a_rejected_change_is_not_proposed_again_until_the_run_proposes_something_else(
    five_accounts, director, monkeypatch, reading
):
    beside = []
    if reading == "beside":
        monkeypatch.setattr(figures, "SPLIT_MIN_ACCOUNTS", 1)
        read_elsewhere = figures._postgresql_read_elsewhere

        def read_recorded(*args):
            beside.append(TierProposal._meta.db_table in args[2])
            return read_elsewhere(*args)

        monkeypatch.setattr(figures, "_postgresql_read_elsewhere", read_recorded)

    def rules_set(tier):
        services.scoring_config_update(actor=director, data={"tier_rules": [{"tier": tier}]})

    def proposals_of(code):
        return list(
            TierProposal.objects.filter(account__code=code)
            .order_by("pk")
            .values_list("to_tier", "status")
        )

    rules_set("key")
    services.scoring_run(as_of=AS_OF, with_clv=False)
    first = TierProposal.objects.get(account__code="M500")
    services.tier_proposal_reject(proposal=first, director=director, note="Not yet")
    # The director said no: the nightly runs do not ask again.
    assert services.scoring_run(as_of=AS_OF, with_clv=False).proposals_created == 0
    assert services.scoring_run(as_of=AS_OF, with_clv=False).proposals_created == 0
    assert proposals_of("M500") == [("key", "rejected")]
    # The figures say something else, then "key" again: both are new proposals.
    rules_set("important")
    assert services.scoring_run(as_of=AS_OF, with_clv=False).proposals_created == 5
    rules_set("key")
    assert services.scoring_run(as_of=AS_OF, with_clv=False).proposals_created == 5
    assert proposals_of("M500") == [
        ("key", "rejected"), ("important", "superseded"), ("key", "pending"),
    ]  # fmt: skip
    # A rejection from another current tier does not stop the proposal.
    services.tier_proposal_reject(
        proposal=TierProposal.objects.get(account__code="M300", status="pending"),
        director=director,
    )
    services.scoring_config_update(
        actor=director,
        data={"tier_rules": [{"tier": "strategic", "min_revenue": 10**9}, {"tier": "key"}]},
    )
    services.tier_override(
        account=five_accounts[1], tier="strategic", reason="Group contract", actor=director
    )
    assert services.scoring_run(as_of=AS_OF, with_clv=False).proposals_created == 1
    assert proposals_of("M300")[-1] == ("key", "pending")
    # Six runs: all but the first, which had no open proposal to read (see
    # test_a_first_runs_proposals_go_in_beside_its_score_rows), read them on a second
    # connection.
    assert beside.count(True) == (5 if reading == "beside" else 0)


def copies_recorded(monkeypatch):
    """The COPYs of score rows and proposals a run makes: (table, on the main thread)."""
    import threading

    copies = []

    def recorder(original, table):
        def recorded(*args):
            copies.append((table, threading.current_thread() is threading.main_thread()))
            return original(*args)

        return recorded

    for name, model in [
        ("_postgresql_scores_copy", AccountScore),
        ("_postgresql_proposals_copy", TierProposal),
    ]:
        monkeypatch.setattr(services, name, recorder(getattr(services, name), model._meta.db_table))
    return copies


def assert_proposals_match_score_rows(run):
    proposals = TierProposal.objects.filter(run=run)
    scores = {s.account_id: s for s in AccountScore.objects.filter(run=run)}
    stamps = set()
    for proposal in proposals:
        score = scores[proposal.account_id]
        assert (proposal.from_tier, proposal.to_tier, proposal.reason) == (
            score.current_tier,
            score.proposed_tier,
            score.tier_reason,
        )
        assert (proposal.status, proposal.decision_note) == (ProposalStatus.PENDING, "")
        assert proposal.proposed_by_id is None and proposal.decided_at is None
        stamps.add(proposal.created_at)
    assert len(stamps) == 1 and run.started_at <= stamps.pop() <= run.finished_at


@pytest.mark.parametrize("large", [False, pytest.param(True, marks=POSTGRESQL_ONLY)])
@pytest.mark.usefixtures("five_accounts")
@pytest.mark.django_db(transaction=True)
def test_a_first_runs_proposals_go_in_beside_its_score_rows(monkeypatch, large):
    """PostgreSQL, large runs with no open proposal: the proposals are copied from the
    run's arrays on a second connection while the score rows go in here."""
    if large:
        monkeypatch.setattr(figures, "SPLIT_MIN_ACCOUNTS", 1)
    copies = copies_recorded(monkeypatch)
    run = services.scoring_run(as_of=AS_OF, with_clv=False)
    assert run.proposals_created == 5
    proposals = TierProposal.objects.filter(run=run, status=ProposalStatus.PENDING)
    assert sorted(proposals.values_list("account__code", flat=True)) == [
        "M040", "M060", "M100", "M300", "M500",
    ]  # fmt: skip
    assert_proposals_match_score_rows(run)
    if not large:
        assert TierProposal._meta.db_table not in {table for table, _ in copies}
        return
    assert sorted(copies) == [
        (AccountScore._meta.db_table, True),
        (TierProposal._meta.db_table, False),
    ]
    # Now one is open: the next run reads it and proposes nothing twice, by SQL.
    copies.clear()
    assert services.scoring_run(as_of=AS_OF, with_clv=False).proposals_created == 0
    assert TierProposal._meta.db_table not in {table for table, _ in copies}


@POSTGRESQL_ONLY
@pytest.mark.usefixtures("five_accounts")
@pytest.mark.django_db(transaction=True)
def test_proposals_a_refused_second_connection_could_not_copy_are_copied_here(monkeypatch, caplog):
    monkeypatch.setattr(figures, "SPLIT_MIN_ACCOUNTS", 1)
    params = connection.get_connection_params()
    monkeypatch.setattr(
        type(connections["default"]), "get_connection_params", lambda self: {**params, "port": 1}
    )
    copies = copies_recorded(monkeypatch)
    run = services.scoring_run(as_of=AS_OF, with_clv=False)
    assert run.proposals_created == 5 == TierProposal.objects.filter(run=run).count()
    assert_proposals_match_score_rows(run)
    assert (TierProposal._meta.db_table, True) in copies
    assert "Writing rows on a second connection failed" in caplog.text


@POSTGRESQL_ONLY
@pytest.mark.parametrize("failing", ["second copy", "second commit"])
@pytest.mark.usefixtures("five_accounts")
@pytest.mark.django_db(transaction=True)
def test_a_run_failing_before_the_second_connection_commits_leaves_nothing(monkeypatch, failing):
    monkeypatch.setattr(figures, "SPLIT_MIN_ACCOUNTS", 1)
    if failing == "second copy":
        # Not the connection failing (that is written here) but the rows: raised.
        def fail(*args):
            raise ValueError("no such rows")

        monkeypatch.setattr(services, "_postgresql_proposals_copy", fail)
    else:

        def fail(self):
            raise RuntimeError("lost before the commit")

        monkeypatch.setattr(services._SecondConnection, "commit", fail)
    with pytest.raises(Exception, match="no such rows|lost before the commit"):
        services.scoring_run(as_of=AS_OF, with_clv=False)
    run = ScoringRun.objects.get()
    assert run.status == RunStatus.FAILED
    assert not TierProposal.objects.exists() and not AccountScore.objects.exists()


@POSTGRESQL_ONLY
@pytest.mark.usefixtures("five_accounts")
@pytest.mark.django_db(transaction=True)
def test_a_run_waits_for_another_runs_writes_and_then_proposes_nothing_twice():
    import threading

    import psycopg

    other = psycopg.connect(**connection.get_connection_params())
    other.execute("SELECT pg_advisory_xact_lock(%s)", [services.SCORING_LOCK])  # "another run"
    results = []

    def score():
        try:
            results.append(services.scoring_run(as_of=AS_OF, with_clv=False))
        finally:
            connections.close_all()

    first = threading.Thread(target=score)
    first.start()
    first.join(timeout=2)
    # Still waiting for the other run's transaction: nothing of its own written yet.
    assert first.is_alive() and not TierProposal.objects.exists()
    other.commit()
    other.close()
    first.join(timeout=60)
    assert not first.is_alive() and results[0].proposals_created == 5
    assert services.scoring_run(as_of=AS_OF, with_clv=False).proposals_created == 0


def test_return_rate_uses_service_costs_and_discounts(five_accounts, director, monkeypatch):
    from kam.segmentation import costs

    ids = {a.code: a.pk for a in five_accounts}
    monkeypatch.setattr(
        costs, "cost_to_serve_sources", lambda as_of: {ids["M500"]: (2.0, 10.0, 500.0)}
    )
    services.scoring_config_update(
        actor=director,
        data={"cost_per_visit": 100.0, "cost_per_service_hour": 50.0, "discount_rate": 0.01},
    )
    run = services.scoring_run(as_of=AS_OF, with_clv=False)
    score = scores_by_code(run)["M500"]
    # 2 visits × 100 + 10 h × 50 + 500 recovery + 1% of 1500 revenue
    assert score.cost_to_serve == pytest.approx(200 + 500 + 500 + 15)
    assert score.return_rate == pytest.approx(750 / 1215)


def test_a_failed_run_is_recorded_with_its_error(five_accounts, monkeypatch):
    from kam.segmentation import scoring

    monkeypatch.setattr(scoring, "scores_compute", lambda *a, **k: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        services.scoring_run(as_of=AS_OF)
    from kam.segmentation.models import ScoringRun

    run = ScoringRun.objects.get()
    assert run.status == RunStatus.FAILED and "ZeroDivisionError" in run.message
    # The run pauses the cyclic garbage collector while it works, and resumes it even so.
    assert gc.isenabled()


def test_a_run_pauses_the_cyclic_garbage_collector_and_resumes_it(five_accounts, monkeypatch):
    from kam.segmentation import scoring

    compute = scoring.scores_compute
    seen = []
    monkeypatch.setattr(
        scoring, "scores_compute", lambda *a, **k: seen.append(gc.isenabled()) or compute(*a, **k)
    )
    services.scoring_run(as_of=AS_OF, with_clv=False)
    assert seen == [False] and gc.isenabled()


def test_a_failed_spend_model_falls_back_to_each_accounts_mean_spend(account_make, monkeypatch):
    random_history([account_make() for _ in range(20)])

    def never_converges(*args, **kwargs):
        raise clv_model.ModelFitError("did not converge (test)")

    monkeypatch.setattr(clv_model, "fit_gamma_gamma", never_converges)
    run = services.scoring_run(as_of=AS_OF)
    assert "own mean spend" in run.message
    # Repeat buyers: more than one purchase day.
    scores = list(AccountScore.objects.filter(run=run, purchase_days__gt=1))
    assert scores and all(s.clv is not None and s.clv >= 0 for s in scores)
    assert all(s.expected_order_value == pytest.approx(s.monetary) for s in scores)


@pytest.mark.parametrize("period", ["week", "day"])
def test_figures_computed_on_read_equal_the_runs_own(account_make, monkeypatch, period):
    """Share, recency, CLV frequency/recency/T and return rate are not stored but derived."""
    accounts = [account_make(code=f"D{n}") for n in range(25)]
    random_history(accounts)
    orders_add(account_make(code="NEG"), [("2025-06-01", -50, -20)])
    account_make(code="NONE")
    config = services.scoring_config_get()
    config.clv_period = period
    config.cost_per_visit = 100.0
    config.save()
    monkeypatch.setattr(
        services.costs, "cost_to_serve_sources", lambda as_of: {accounts[0].pk: (2.0, 1.0, 0.0)}
    )
    computed = {}
    compute = services.scoring.scores_compute

    def keep(*args, **kwargs):
        result = compute(*args, **kwargs)
        computed.update(result.columns)
        return result

    monkeypatch.setattr(services.scoring, "scores_compute", keep)
    run = services.scoring_run(as_of=AS_OF)
    position = {int(i): n for n, i in enumerate(computed["account_id"])}
    scores = AccountScore.objects.filter(run=run).select_related("run")
    assert scores.count() == 27
    for score in scores:
        n = position[score.account_id]
        for name in ("share", "recency_days", "frequency", "recency", "age", "return_rate"):
            expected = float(computed[name][n])
            value = getattr(score, name)
            if math.isnan(expected):
                assert value is None, (score.account.code, name)
            else:
                assert value == pytest.approx(expected, rel=1e-12), (score.account.code, name)
    assert scores.get(account=accounts[0]).return_rate is not None


def test_only_the_latest_runs_keep_their_score_rows(five_accounts, monkeypatch):
    monkeypatch.setattr(services, "KEEP_RUN_SCORES", 2)
    first = services.scoring_run(as_of=AS_OF, with_clv=False)
    failed = services.ScoringRun.objects.create(as_of=AS_OF, status=RunStatus.FAILED)
    second = services.scoring_run(as_of=AS_OF, with_clv=False)
    assert AccountScore.objects.filter(run=first).count() == 5  # two runs kept so far
    with CaptureQueriesContext(connection) as queries:
        third = services.scoring_run(as_of=AS_OF, with_clv=False)
    assert AccountScore.objects.filter(run=first).count() == 0
    assert AccountScore.objects.filter(run__in=[second, third]).count() == 10
    deletes = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("DELETE")]
    # By the old runs' ids (an index look-up each), not "all rows but the kept runs'".
    assert len(deletes) == 1 and " NOT " not in deletes[0]
    assert f"IN ({first.pk}, {failed.pk})" in deletes[0]
