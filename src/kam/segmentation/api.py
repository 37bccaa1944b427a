"""JSON API of key account identification (same permission checks as the pages)."""

import datetime as dt

from django.core.exceptions import PermissionDenied
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import PageNumberPagination, paginate

from kam.core.http import AuthenticatedHttpRequest
from kam.customers.selectors import account_get_for_user
from kam.segmentation import selectors, services, tasks
from kam.segmentation.models import AccountScore, ProposalStatus, TierHistory, TierProposal
from kam.segmentation.rules import reason_text
from kam.users import roles

router = Router(tags=["segmentation"])


class ScoreOut(Schema):
    account_id: int
    account_code: str = Field(..., alias="account.code")
    tier: str = Field(..., alias="account.tier")
    run_id: int
    revenue: float
    margin: float | None
    value: float
    orders: int
    first_order: dt.date | None
    last_order: dt.date | None
    revenue_12m: float
    growth_12m: float | None
    recency_days: int | None
    r_score: int | None
    f_score: int | None
    m_score: int | None
    share_of_wallet: float | None
    rank: int
    share: float
    cumulative_share: float
    abc_class: str
    frequency: float | None
    recency: float | None
    age: float | None = Field(..., description="T in the CLV unit")
    monetary: float | None
    p_alive: float | None
    expected_purchases: float | None
    expected_order_value: float | None
    clv: float | None
    value_score: float | None
    potential_score: float | None
    cost_to_serve: float
    return_rate: float | None
    proposed_tier: str
    tier_reason: str = Field(..., description="why the tier: the rule and the figures")

    @staticmethod
    def resolve_tier_reason(score: AccountScore) -> str:
        return reason_text(score.tier_reason)


class ScoreFiltersIn(Schema):
    region: str = ""
    industry: str = ""
    team: int | None = None
    abc_class: str = Field("", pattern="^[ABC]?$")
    tier: str = ""


class ParetoOut(Schema):
    run_id: int | None
    as_of: dt.date | None
    value_basis: str
    accounts: int
    head_account_share: float | None
    abc_counts: dict[str, int]
    curve: list[list[float]]


class ProposalOut(Schema):
    id: int
    account_id: int
    account_code: str = Field(..., alias="account.code")
    from_tier: str
    to_tier: str
    reason: str
    run_id: int | None

    @staticmethod
    def resolve_reason(proposal: TierProposal) -> str:
        return reason_text(proposal.reason)

    status: str
    created_at: dt.datetime
    decided_by_id: int | None
    decided_at: dt.datetime | None
    decision_note: str


class DecisionIn(Schema):
    note: str = Field("", max_length=500)


class BulkDecisionIn(Schema):
    ids: list[int] = Field(..., min_length=1)
    note: str = Field("", max_length=500)


class OverrideIn(Schema):
    tier: str = Field(..., max_length=32)
    reason: str = Field(..., max_length=500)


class TierHistoryOut(Schema):
    account_id: int
    tier: str
    from_tier: str
    since: dt.datetime
    approved_by_id: int | None
    reason: str
    is_override: bool

    @staticmethod
    def resolve_reason(entry: TierHistory) -> str:
        return reason_text(entry.reason)


def _filters(query: ScoreFiltersIn) -> selectors.ScoreFilters:
    return selectors.ScoreFilters(**query.dict())


def _director(request: AuthenticatedHttpRequest) -> None:
    if not roles.is_director(request.user):
        raise PermissionDenied("Only directors decide tier changes.")


@router.get("/scores", response=list[ScoreOut])
@paginate(PageNumberPagination, page_size=100)
def score_list(request: AuthenticatedHttpRequest, filters: Query[ScoreFiltersIn]):  # noqa: ANN201
    return selectors.scores_visible_to(request.user, _filters(filters)).order_by("rank")


@router.get("/scores/{account_id}", response=ScoreOut)
def score_detail(request: AuthenticatedHttpRequest, account_id: int):  # noqa: ANN201
    return selectors.score_get_for_user(request.user, account_id)


@router.get("/pareto", response=ParetoOut)
def pareto_summary(request: AuthenticatedHttpRequest, filters: Query[ScoreFiltersIn]):  # noqa: ANN201
    run = selectors.run_latest()
    scores = selectors.scores_visible_to(request.user, _filters(filters), run)
    curve = selectors.pareto_curve(scores)
    head = None
    if curve["accounts"]:
        head = next((x / 100 for x, y in curve["curve"] if y >= 80.0 - 1e-9), 1.0)
    return {
        "run_id": run.pk if run else None,
        "as_of": run.as_of if run else None,
        "value_basis": run.value_basis if run else "",
        "accounts": curve["accounts"],
        "head_account_share": head,
        "abc_counts": curve["abc_counts"],
        "curve": curve["curve"],
    }


@router.get("/proposals", response=list[ProposalOut])
@paginate(PageNumberPagination, page_size=100)
def proposal_list(request: AuthenticatedHttpRequest, status: str = ProposalStatus.PENDING):  # noqa: ANN201
    _director(request)
    return selectors.proposals_visible_to(request.user, status)


@router.post("/proposals/approve", response=dict[str, int])
def proposals_approve(request: AuthenticatedHttpRequest, payload: BulkDecisionIn):  # noqa: ANN201
    _director(request)
    proposals = [selectors.proposal_get_for_user(request.user, pk) for pk in payload.ids]
    count = services.tier_proposals_approve_bulk(
        proposals=proposals, director=request.user, note=payload.note
    )
    return {"approved": count}


class MatchingDecisionIn(Schema):
    approve: bool
    to_tier: str = Field(
        "", max_length=32, description="only proposals to this tier; all when empty"
    )
    note: str = Field("", max_length=500)


@router.post("/proposals/decide-matching", response={202: dict[str, int]})
def proposals_decide_matching(request: AuthenticatedHttpRequest, payload: MatchingDecisionIn):  # noqa: ANN201
    """Approve or reject every pending proposal (to a tier) in the background.

    For a first scoring's many proposals; the answer says how many were queued.
    """
    _director(request)
    if payload.to_tier:
        services.tier_check(payload.to_tier)
    count = services.proposals_matching(to_tier=payload.to_tier).count()
    tasks.proposals_decide_matching.enqueue(
        request.user.pk, payload.approve, payload.to_tier, payload.note
    )
    return Status(202, {"queued": count})


@router.post("/proposals/{proposal_id}/approve", response=ProposalOut)
def proposal_approve(request: AuthenticatedHttpRequest, proposal_id: int, payload: DecisionIn):  # noqa: ANN201
    proposal = selectors.proposal_get_for_user(request.user, proposal_id)
    _director(request)
    return services.tier_proposal_approve(
        proposal=proposal, director=request.user, note=payload.note
    )


@router.post("/proposals/{proposal_id}/reject", response=ProposalOut)
def proposal_reject(request: AuthenticatedHttpRequest, proposal_id: int, payload: DecisionIn):  # noqa: ANN201
    proposal = selectors.proposal_get_for_user(request.user, proposal_id)
    _director(request)
    return services.tier_proposal_reject(
        proposal=proposal, director=request.user, note=payload.note
    )


@router.post("/accounts/{account_id}/tier", response=TierHistoryOut)
def tier_override(request: AuthenticatedHttpRequest, account_id: int, payload: OverrideIn):  # noqa: ANN201
    account = account_get_for_user(request.user, account_id)
    _director(request)
    return services.tier_override(
        account=account, tier=payload.tier, reason=payload.reason, actor=request.user
    )
