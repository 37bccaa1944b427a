"""Background scoring: nightly, and on a director's "Score now"."""

from django.tasks import task

from kam.segmentation import services
from kam.users.models import User


@task
def score_nightly() -> int:
    """Score all accounts as of today; returns the run id."""
    return services.scoring_run().pk


@task
def score_now(user_id: int | None = None) -> int:
    """Score all accounts as of today for the director who asked."""
    actor = User.objects.filter(pk=user_id).first() if user_id else None
    return services.scoring_run(actor=actor).pk


@task
def proposals_decide_matching(
    user_id: int, approve: bool, to_tier: str = "", note: str = ""
) -> int:
    """Approve or reject every pending proposal to a tier (all tiers when empty)."""
    director = User.objects.get(pk=user_id)
    return services.tier_proposals_decide_matching(
        director=director, approve=approve, to_tier=to_tier, note=note
    )
