"""The nightly task, its schedule, `kam score` output and the demo builder."""

import io

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command

from kam.customers.models import Account
from kam.segmentation import tasks
from kam.segmentation.demo import demo_tiers_create
from kam.segmentation.models import RunStatus, ScoringRun, TierHistory, TierProposal
from kam.segmentation.tests.helpers import random_history


@pytest.fixture
def immediate_tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


def test_nightly_scoring_is_scheduled_and_runs(immediate_tasks, account_make):
    config = apps.get_app_config("segmentation")
    assert ("kam.segmentation.tasks.score_nightly", "daily@02:00") in config.periodic_tasks
    random_history([account_make() for _ in range(10)])
    tasks.score_nightly.enqueue()
    assert ScoringRun.objects.get().status == RunStatus.DONE


def test_kam_score_prints_the_summary(account_make):
    random_history([account_make() for _ in range(10)])
    out = io.StringIO()
    call_command("score", "--as-of", "2025-06-30", stdout=out)
    text = out.getvalue()
    assert "Scored 10 accounts as of 2025-06-30" in text
    assert (
        "make 80% of the value" in text
        and "ABC: A" in text
        and "Tier proposals created: 10" in text
    )


def test_kam_score_rejects_a_bad_date(db):
    with pytest.raises(CommandError, match="Not a date"):
        call_command("score", "--as-of", "yesterday")


def test_demo_builder_scores_and_approves_initial_tiers(account_make, director):
    accounts = [account_make() for _ in range(10)]
    random_history(accounts)
    summary = demo_tiers_create(accounts=accounts, seed=1)
    assert "10 initial tiers approved" in summary
    assert TierHistory.objects.filter(approved_by=director).count() == 10


def test_demo_scores_again_once_the_tickets_give_a_cost_to_serve(db):
    from kam.segmentation.models import AccountScore
    from kam.service.models import Ticket

    call_command("demo", "--accounts", "40", "--seed", "3", stdout=io.StringIO())
    first, latest = ScoringRun.objects.order_by("pk")
    assert latest.as_of == first.as_of and latest.status == RunStatus.DONE
    # The first scoring ran before the tickets existed; the latest counts the hours of
    # those resolved by its date.
    served = set(
        Ticket.objects.filter(
            resolved_at__date__lte=latest.as_of, working_hours_spent__gt=0
        ).values_list("account_id", flat=True)
    )
    assert len(served) > 5
    costs = dict(AccountScore.objects.filter(run=latest).values_list("account_id", "cost_to_serve"))
    assert all(costs[account] > 0 for account in served)
    assert not AccountScore.objects.filter(run=first, cost_to_serve__gt=0).exists()
    # Same figures and rules: the tiers stand, nothing new to approve.
    assert latest.proposals_created == 0
    assert not TierProposal.objects.filter(status="pending").exists()


def test_kam_tiers_approves_every_pending_proposal_to_a_tier(account_make, director, am_lead):
    from kam.segmentation import services

    for n, tier in enumerate(["key", "key", "strategic"]):
        services.tier_propose(
            account=account_make(code=f"C{n}"), tier=tier, reason="x", actor=am_lead
        )
    with pytest.raises(CommandError, match="总监"):
        call_command("tiers", "approve", "--as", am_lead.username)
    assert not TierProposal.objects.exclude(status="pending").exists()
    with pytest.raises(CommandError, match="gold"):
        call_command("tiers", "approve", "--as", director.username, "--to-tier", "gold")
    out = io.StringIO()
    call_command("tiers", "approve", "--as", director.username, "--to-tier", "key", stdout=out)
    assert "2 tier proposals approved" in out.getvalue()
    assert set(Account.objects.filter(tier="key").values_list("code", flat=True)) == {"C0", "C1"}
    call_command("tiers", "reject", "--as", director.username, stdout=out)
    assert "1 tier proposals rejected" in out.getvalue()
    assert not TierProposal.objects.filter(status="pending").exists()
