"""Demo data: score the demo ledger once and approve the first proposals as the demo director."""

from typing import Any

from django.utils import timezone

from kam.customers.models import Account
from kam.segmentation import figures, selectors, services
from kam.segmentation.models import ProposalStatus, TierProposal
from kam.users.models import Role, User


def demo_tiers_create(*, accounts: list[Account], seed: int, stdout: Any = None) -> str:
    """Run the scoring as of the last demo order and approve its proposals (director)."""
    last = figures.last_order_day()
    if last is None:
        return "Segmentation: no orders, no scoring."
    director = User.objects.filter(role=Role.DIRECTOR, is_active=True).order_by("pk").first()
    run = services.scoring_run(as_of=min(last, timezone.localdate()), actor=director)
    approved = 0
    if director is not None:
        pending = TierProposal.objects.filter(
            run=run, status=ProposalStatus.PENDING
        ).select_related("account")
        approved = services.tier_proposals_approve_bulk(
            proposals=list(pending), director=director, note="Initial tiering from the demo history"
        )
    return (
        f"Segmentation: scored {run.accounts} accounts, {run.head_count} make 80% of the value; "
        f"{approved} initial tiers approved."
    )


def demo_rescore(*, seed: int, stdout: Any = None) -> str:
    """Score again on the same date once the other apps' demo data (tickets, visits) exist.

    The first scoring ran before there were tickets, so its return rates had no cost to
    serve; the tiers come out the same, so this run proposes nothing new.
    """
    scored = selectors.runs_done().first()  # the latest: demo_tiers_create's
    if scored is None:
        return ""
    run = services.scoring_run(as_of=scored.as_of, actor=scored.started_by)
    return (
        f"Segmentation: scored again with the cost to serve; {run.proposals_created} new proposals."
    )
