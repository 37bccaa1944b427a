"""The /api/segmentation/ endpoints: happy paths, validation failures, 403 and 404."""

import datetime as dt

import pytest

from kam.segmentation import services
from kam.segmentation.models import ProposalStatus, TierProposal
from kam.segmentation.tests.helpers import random_history

API = "/api/segmentation"


@pytest.fixture
def scored(account_make, am_lead, am_outsider):
    mine = [account_make(owner=am_lead, region="east") for _ in range(6)]
    theirs = [account_make(owner=am_outsider, region="south") for _ in range(6)]
    random_history(mine + theirs, seed=9)
    services.scoring_run(as_of=dt.date(2025, 6, 30))
    return {"mine": mine, "theirs": theirs}


def test_score_list_is_paginated_filtered_and_scoped(
    scored, am_lead, director, client_for, django_assert_num_queries
):
    client = client_for(director)
    client.get(f"{API}/scores")
    with django_assert_num_queries(5):
        response = client.get(f"{API}/scores", {"region": "south"})
    body = response.json()
    assert response.status_code == 200 and body["count"] == 6
    assert {"abc_class", "clv", "p_alive", "value_score", "tier", "account_code"} <= set(
        body["items"][0]
    )
    assert client_for(am_lead).get(f"{API}/scores").json()["count"] == 6


def test_score_list_rejects_a_bad_filter(scored, director, client_for):
    response = client_for(director).get(f"{API}/scores", {"abc_class": "Z"})
    assert response.status_code == 422 and "abc_class" in response.json()["errors"]


def test_outsider_gets_404_for_another_portfolio_score(scored, am_outsider, am_lead, client_for):
    account = scored["mine"][0]
    assert client_for(am_outsider).get(f"{API}/scores/{account.pk}").status_code == 404
    assert client_for(am_lead).get(f"{API}/scores/{account.pk}").status_code == 200


def test_pareto_summary(scored, director, client_for):
    body = client_for(director).get(f"{API}/pareto").json()
    assert body["accounts"] == 12 and sum(body["abc_counts"].values()) == 12
    assert 0 < body["head_account_share"] <= 1 and body["curve"][-1][1] == pytest.approx(100.0)


def test_director_approves_and_rejects_through_the_api(scored, director, client_for):
    client = client_for(director)
    pending = client.get(f"{API}/proposals").json()
    assert pending["count"] == 12
    first, second, *rest = [item["id"] for item in pending["items"]]
    approved = client.post(
        f"{API}/proposals/{first}/approve", {"note": "ok"}, content_type="application/json"
    )
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    again = client.post(f"{API}/proposals/{first}/approve", {}, content_type="application/json")
    assert again.status_code == 422
    rejected = client.post(f"{API}/proposals/{second}/reject", {}, content_type="application/json")
    assert rejected.json()["status"] == "rejected"
    bulk = client.post(f"{API}/proposals/approve", {"ids": rest}, content_type="application/json")
    assert bulk.json() == {"approved": 10}
    assert (
        client.post(
            f"{API}/proposals/approve", {"ids": []}, content_type="application/json"
        ).status_code
        == 422
    )


def test_account_manager_cannot_decide(scored, am_lead, am_outsider, client_for):
    proposal = TierProposal.objects.filter(account=scored["mine"][0]).get()
    response = client_for(am_lead).post(
        f"{API}/proposals/{proposal.pk}/approve", {}, content_type="application/json"
    )
    assert response.status_code == 403
    assert client_for(am_lead).get(f"{API}/proposals").status_code == 403
    outsider = client_for(am_outsider).post(
        f"{API}/proposals/{proposal.pk}/approve", {}, content_type="application/json"
    )
    assert outsider.status_code == 404
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.PENDING


def test_override_needs_a_reason(scored, director, am_outsider, client_for):
    account = scored["mine"][0]
    url = f"{API}/accounts/{account.pk}/tier"
    client = client_for(director)
    missing = client.post(url, {"tier": "key", "reason": ""}, content_type="application/json")
    assert missing.status_code == 422 and "reason" in missing.json()["errors"]
    done = client.post(url, {"tier": "key", "reason": "Flagship"}, content_type="application/json")
    assert done.status_code == 200 and done.json()["is_override"] is True
    other = client_for(am_outsider).post(
        url, {"tier": "key", "reason": "x"}, content_type="application/json"
    )
    assert other.status_code == 404


def test_director_decides_every_matching_proposal_through_the_api(
    scored, director, am_lead, client_for, settings
):
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    url = f"{API}/proposals/decide-matching"
    assert (
        client_for(am_lead)
        .post(url, {"approve": True}, content_type="application/json")
        .status_code
        == 403
    )
    client = client_for(director)
    bad = client.post(url, {"approve": True, "to_tier": "gold"}, content_type="application/json")
    assert bad.status_code == 422 and "tier" in bad.json()["errors"]
    pending = TierProposal.objects.filter(status=ProposalStatus.PENDING).count()
    response = client.post(
        url, {"approve": False, "note": "later"}, content_type="application/json"
    )
    assert response.status_code == 202 and response.json() == {"queued": pending}
    assert TierProposal.objects.filter(status=ProposalStatus.REJECTED).count() == pending
