"""Tier proposals: approval, rejection, bulk, override with reason, history and audit."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import translation

from kam.audit.models import AuditEntry
from kam.customers.models import Account
from kam.segmentation import rules, services
from kam.segmentation.models import ProposalStatus, TierHistory, TierProposal
from kam.segmentation.tests.helpers import orders_add


@pytest.fixture
def proposals(account_make):
    for code, margin in [("BIG", 900), ("MID", 80), ("LOW", 20)]:
        orders_add(account_make(code=code), [("2025-03-01", margin * 2, margin)])
    services.scoring_run(as_of=dt.date(2025, 12, 31), with_clv=False)
    return {p.account.code: p for p in TierProposal.objects.select_related("account")}


def test_approving_a_proposal_sets_the_tier_with_history_and_timeline(proposals, director):
    proposal = proposals["BIG"]
    services.tier_proposal_approve(proposal=proposal, director=director, note="Top margin")
    proposal.refresh_from_db()
    proposal.account.refresh_from_db()
    assert proposal.status == ProposalStatus.APPROVED and proposal.decided_by == director
    assert proposal.account.tier == proposal.to_tier
    entry = TierHistory.objects.get(account=proposal.account)
    assert entry.tier == proposal.to_tier and entry.approved_by == director and entry.until is None
    assert entry.reason == "Top margin"
    assert AuditEntry.objects.filter(
        account=proposal.account, changes__tier=["", proposal.to_tier]
    ).exists()


def test_a_decided_proposal_cannot_be_decided_again(proposals, director):
    services.tier_proposal_reject(proposal=proposals["MID"], director=director, note="Not yet")
    with pytest.raises(ValidationError):
        services.tier_proposal_approve(proposal=proposals["MID"], director=director)
    proposals["MID"].account.refresh_from_db()
    assert proposals["MID"].account.tier == ""


def test_bulk_approval_approves_every_chosen_proposal(proposals, director):
    count = services.tier_proposals_approve_bulk(
        proposals=list(proposals.values()), director=director
    )
    assert count == 3
    assert TierProposal.objects.filter(status=ProposalStatus.APPROVED).count() == 3
    assert TierHistory.objects.count() == 3


def test_account_manager_cannot_approve(proposals, am_lead):
    with pytest.raises(PermissionDenied):
        services.tier_proposal_approve(proposal=proposals["BIG"], director=am_lead)


def test_override_needs_a_reason_and_closes_the_previous_tier(proposals, director):
    account = proposals["LOW"].account
    with pytest.raises(ValidationError) as error:
        services.tier_override(account=account, tier="key", reason="  ", actor=director)
    assert "reason" in error.value.message_dict
    services.tier_proposal_approve(proposal=proposals["LOW"], director=director)
    services.tier_override(
        account=account, tier="key", reason="Flagship of the province", actor=director
    )
    history = list(TierHistory.objects.filter(account=account).order_by("since", "pk"))
    assert [h.tier for h in history] == [proposals["LOW"].to_tier, "key"]
    assert history[0].until is not None and history[1].is_override
    account.refresh_from_db()
    assert account.tier == "key"


def test_override_to_an_unknown_tier_is_refused(proposals, director):
    with pytest.raises(ValidationError) as error:
        services.tier_override(
            account=proposals["LOW"].account, tier="gold", reason="x", actor=director
        )
    assert "tier" in error.value.message_dict


def test_the_tier_stays_until_a_director_approves(proposals):
    for proposal in proposals.values():
        proposal.account.refresh_from_db()
        assert proposal.account.tier == ""


def test_a_person_can_propose_with_a_reason(proposals, am_lead):
    account = proposals["LOW"].account
    proposal = services.tier_propose(
        account=account, tier="key", reason="New group contract", actor=am_lead
    )
    assert proposal.status == ProposalStatus.PENDING and proposal.proposed_by == am_lead


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"tier_rules": [{"tier": "a", "abc": "A"}]}, "tier_rules"),
        ({"tier_rules": [{"tier": "a", "min_value_score": "high"}, {"tier": "b"}]}, "tier_rules"),
        ({"tier_rules": [{"tier": "a", "colour": "red"}, {"tier": "b"}]}, "tier_rules"),
        ({"tier_rules": [{"tier": "a"}, {"tier": "a"}]}, "tier_rules"),
        ({"value_weights": {"margin": -1}}, "value_weights"),
        ({"value_weights": {"luck": 1}}, "value_weights"),
        ({"abc_a_cutoff": 0.9, "abc_b_cutoff": 0.85}, "abc_b_cutoff"),
    ],
)
def test_bad_configuration_is_refused_with_a_clear_field_error(director, data, field):
    with pytest.raises(ValidationError) as error:
        services.scoring_config_update(actor=director, data=data)
    assert field in error.value.message_dict


def many_rules(count: int) -> list[dict]:
    """Valid tier rules: count - 1 with a condition, then the catch-all."""
    return [{"tier": f"t{n}", "min_revenue": 1000 * (count - n)} for n in range(count - 1)] + [
        {"tier": "rest"}
    ]


def test_at_most_a_hundred_tier_rules(director):
    services.scoring_config_update(actor=director, data={"tier_rules": many_rules(100)})
    assert len(services.scoring_config_get().tier_rules) == 100
    with pytest.raises(ValidationError) as error:
        services.scoring_config_update(actor=director, data={"tier_rules": many_rules(101)})
    assert "100" in error.value.message_dict["tier_rules"][0]
    assert len(services.scoring_config_get().tier_rules) == 100


def test_configured_tiers_drive_the_proposals(director, account_make):
    services.scoring_config_update(
        actor=director,
        data={
            "tier_rules": [
                {"tier": "gold", "label_en": "Gold", "label_zh": "金牌", "min_margin": 500},
                {"tier": "silver", "label_en": "Silver", "label_zh": "银牌"},
            ]
        },
    )
    orders_add(account_make(code="G"), [("2025-03-01", 2000, 1000)])
    orders_add(account_make(code="S"), [("2025-03-01", 200, 100)])
    services.scoring_run(as_of=dt.date(2025, 12, 31), with_clv=False)
    tiers = dict(TierProposal.objects.values_list("account__code", "to_tier"))
    assert tiers == {"G": "gold", "S": "silver"}
    reason = TierProposal.objects.get(account__code="G").reason
    with translation.override("en"):
        assert rules.reason_text(reason) == "Rule 1 (gold): margin 1,000.0 ≥ 500"
    with translation.override("zh-hans"):
        assert rules.reason_text(reason) == "规则 1（gold）：毛利 1,000.0 ≥ 500"
        silver = rules.reason_text(TierProposal.objects.get(account__code="S").reason)
        assert silver == "规则 2（silver）：未匹配其他规则"


@pytest.mark.parametrize(
    "stored",
    ["Top margin", "§", "§x|gold", "§1|", "§1|gold|min_margin=abc>=5", "§1|gold|bogus=1>=2"],
)
def test_reasons_people_write_and_unreadable_codes_are_shown_as_they_are(stored):
    assert rules.reason_text(stored) == stored


def test_run_reasons_read_in_the_readers_language_on_pages_api_and_history(
    account_make, director, client_for
):
    services.scoring_config_update(
        actor=director,
        data={
            "tier_rules": [
                {"tier": "gold", "label_en": "Gold", "label_zh": "金牌", "abc": "A"},
                {"tier": "silver", "label_en": "Silver", "label_zh": "银牌"},
            ]
        },
    )
    account = account_make(code="G")
    orders_add(account, [("2025-03-01", 2000, 1000)])
    services.scoring_run(as_of=dt.date(2025, 12, 31), with_clv=False)
    client = client_for(director)
    english = "Rule 1 (gold): ABC class A"
    chinese = "规则 1（gold）：ABC 分类 A"
    page = client.get(reverse("segmentation:proposals"), headers={"accept-language": "en"})
    api = client.get("/api/segmentation/proposals", headers={"accept-language": "zh-hans"})
    assert english in page.text and chinese not in page.text
    assert [row["reason"] for row in api.json()["items"]] == [chinese]
    proposal = TierProposal.objects.get(account=account)
    services.tier_proposal_approve(proposal=proposal, director=director)
    entry = TierHistory.objects.get(account=account)
    assert entry.reason == proposal.reason  # the code, worded when shown
    card = client.get(
        reverse("customers:detail", args=[account.pk]), headers={"accept-language": "en"}
    )
    assert english in card.text and "§" not in card.text
    scores = client.get(f"/api/segmentation/scores/{account.pk}", headers={"accept-language": "en"})
    assert scores.json()["tier_reason"] == english


def test_strategic_criteria_raise_the_value_score(account_make, director):
    plain, strategic = account_make(code="P"), account_make(code="S")
    for account in (plain, strategic):
        orders_add(account, [("2025-03-01", 1000, 500)])
    services.strategic_profile_save(
        account=strategic, data={"strategic_project": 5, "market_influence": 5}, actor=director
    )
    run = services.scoring_run(as_of=dt.date(2025, 12, 31), with_clv=False)
    scores = {s.account_id: s for s in run.scores.all()}
    assert scores[strategic.pk].value_score > scores[plain.pk].value_score
    with pytest.raises(ValidationError):
        services.strategic_profile_save(account=plain, data={"market_influence": 9}, actor=director)


@pytest.fixture
def many_proposals(account_make, am_lead):
    """Six accounts, each with one pending proposal: three to key, three to strategic."""
    proposals = []
    for n in range(6):
        account = account_make(code=f"P{n}")
        tier = "key" if n < 3 else "strategic"
        proposals.append(
            services.tier_propose(account=account, tier=tier, reason=f"why {n}", actor=am_lead)
        )
    return proposals


def test_bulk_approval_in_batches_records_what_one_by_one_approval_does(
    many_proposals, director, monkeypatch
):
    monkeypatch.setattr(services, "DECIDE_BATCH", 4)
    seen = []
    count = services.tier_proposals_approve_bulk(
        proposals=many_proposals, director=director, note="Annual review", progress=seen.append
    )
    assert count == 6 and seen == [4, 6]
    for proposal in many_proposals:
        proposal.refresh_from_db()
        account = proposal.account
        account.refresh_from_db()
        assert proposal.status == ProposalStatus.APPROVED and proposal.decided_by == director
        assert proposal.decision_note == "Annual review" and proposal.decided_at is not None
        assert account.tier == proposal.to_tier
        period = TierHistory.objects.get(account=account)
        assert (period.tier, period.from_tier, period.until) == (proposal.to_tier, "", None)
        assert period.proposal == proposal and period.approved_by == director
        entry = AuditEntry.objects.get(account=account, changes__tier=["", proposal.to_tier])
        assert entry.actor == director and "Annual review" in entry.message


def test_bulk_approval_is_all_or_nothing(many_proposals, director, monkeypatch):
    monkeypatch.setattr(services, "DECIDE_BATCH", 2)
    services.tier_proposal_reject(proposal=many_proposals[5], director=director)
    with pytest.raises(ValidationError):
        services.tier_proposals_approve_bulk(proposals=many_proposals, director=director)
    assert not TierHistory.objects.exists()
    assert not Account.objects.filter(tier__in=["key", "strategic"]).exists()
    assert TierProposal.objects.filter(status=ProposalStatus.APPROVED).count() == 0


def test_bulk_approval_refuses_two_proposals_for_one_account(many_proposals, director, am_lead):
    other = services.tier_propose(
        account=many_proposals[0].account, tier="important", reason="x", actor=am_lead
    )
    with pytest.raises(ValidationError) as error:
        services.tier_proposals_approve_bulk(
            proposals=[many_proposals[0], other], director=director
        )
    assert "proposals" in error.value.message_dict
    assert TierProposal.objects.filter(status=ProposalStatus.PENDING).count() == 7


def test_deciding_every_proposal_to_a_tier(many_proposals, director, am_lead):
    with pytest.raises(PermissionDenied):
        services.tier_proposals_decide_matching(director=am_lead, approve=True, to_tier="key")
    with pytest.raises(ValidationError):
        services.tier_proposals_decide_matching(director=director, approve=True, to_tier="gold")
    approved = services.tier_proposals_decide_matching(
        director=director, approve=True, to_tier="key"
    )
    assert approved == 3
    assert set(Account.objects.filter(tier="key").values_list("code", flat=True)) == {
        "P0",
        "P1",
        "P2",
    }
    rejected = services.tier_proposals_decide_matching(director=director, approve=False)
    assert rejected == 3
    assert not TierProposal.objects.filter(status=ProposalStatus.PENDING).exists()
    assert not Account.objects.filter(tier="strategic").exists()
    rejections = AuditEntry.objects.filter(
        object_type="segmentation.tierproposal", action="event", actor=director
    )
    assert rejections.count() == 3 and all("→" in entry.message for entry in rejections)
