"""Pages: dashboard with filters, score list, proposals, config, forms; permissions and query counts."""

import datetime as dt

import pytest
from django.urls import reverse

from kam.segmentation import services
from kam.segmentation.models import ProposalStatus, TierProposal
from kam.segmentation.tests.helpers import random_history


@pytest.fixture
def scored(account_make, am_lead, am_outsider, settings):
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    mine = [account_make(owner=am_lead, region="east", code=f"E{n}") for n in range(8)]
    theirs = [account_make(owner=am_outsider, region="south", code=f"S{n}") for n in range(8)]
    random_history(mine + theirs, seed=5)
    run = services.scoring_run(as_of=dt.date(2025, 6, 30))
    return {"mine": mine, "theirs": theirs, "run": run}


def test_dashboard_renders_charts_and_filters(scored, director, client_for):
    client = client_for(director)
    response = client.get(reverse("segmentation:dashboard"))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="pareto-chart"' in body and 'id="segmentation-charts"' in body
    assert "NaN" not in body
    partial = client.get(
        reverse("segmentation:dashboard"), {"region": "east"}, headers={"HX-Request": "true"}
    )
    assert partial.status_code == 200
    assert "<html" not in partial.content.decode()
    assert '"accounts": 8' in partial.content.decode()


def test_account_manager_sees_only_their_portfolio_on_the_dashboard(scored, am_lead, client_for):
    response = client_for(am_lead).get(reverse("segmentation:dashboard"))
    assert response.status_code == 200
    assert '"accounts": 8' in response.content.decode()


def test_score_list_query_count_is_pinned(scored, director, client_for, django_assert_num_queries):
    client = client_for(director)
    client.get(reverse("segmentation:scores"))
    with django_assert_num_queries(7):
        response = client.get(reverse("segmentation:scores"), {"abc_class": "A"})
    assert response.status_code == 200
    assert "E0" in response.content.decode() or "S0" in response.content.decode()


def test_proposals_page_is_for_directors_only(scored, am_lead, client_for):
    assert client_for(am_lead).get(reverse("segmentation:proposals")).status_code == 403
    assert client_for(am_lead).post(reverse("segmentation:score_now")).status_code == 403
    assert client_for(am_lead).get(reverse("segmentation:config")).status_code == 403


def test_proposal_list_query_count_is_pinned(
    scored, director, client_for, django_assert_num_queries
):
    client = client_for(director)
    client.get(reverse("segmentation:proposals"))
    with django_assert_num_queries(5):
        response = client.get(reverse("segmentation:proposals"))
    assert response.status_code == 200


def test_director_bulk_approves_from_the_list(scored, director, client_for):
    ids = list(TierProposal.objects.values_list("pk", flat=True)[:3])
    response = client_for(director).post(
        reverse("segmentation:proposals"), {"action": "approve", "proposals": ids, "note": "ok"}
    )
    assert response.status_code == 302
    assert TierProposal.objects.filter(pk__in=ids, status=ProposalStatus.APPROVED).count() == 3


def test_director_approves_every_proposal_to_a_tier_in_the_background(
    scored, director, am_lead, client_for
):
    services.tier_propose(account=scored["mine"][0], tier="strategic", reason="x", actor=am_lead)
    tier = TierProposal.objects.values_list("to_tier", flat=True).first()
    wanted = set(TierProposal.objects.filter(to_tier=tier).values_list("pk", flat=True))
    others = TierProposal.objects.exclude(to_tier=tier).count()
    client = client_for(director)
    page = client.get(reverse("segmentation:proposals"), {"to_tier": tier}).content.decode()
    assert 'id="decide-all-form"' in page and f"{len(wanted)}" in page
    url = reverse("segmentation:proposals") + f"?to_tier={tier}"
    assert client_for(am_lead).post(url, {"action": "approve_all"}).status_code == 403
    response = client.post(url, {"action": "approve_all", "note": "first tiering"})
    assert response.status_code == 302 and f"to_tier={tier}" in response["Location"]
    approved = TierProposal.objects.filter(status=ProposalStatus.APPROVED)
    assert set(approved.values_list("pk", flat=True)) == wanted
    assert {p.decision_note for p in approved} == {"first tiering"}
    assert TierProposal.objects.filter(status=ProposalStatus.PENDING).count() == others


def test_bulk_decision_without_a_choice_shows_an_error(scored, director, client_for):
    response = client_for(director).post(reverse("segmentation:proposals"), {"action": "approve"})
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()


def test_score_now_runs_the_task(scored, director, client_for):
    from kam.segmentation.models import ScoringRun

    before = ScoringRun.objects.count()
    response = client_for(director).post(reverse("segmentation:score_now"))
    assert response.status_code == 302
    assert ScoringRun.objects.count() == before + 1


def test_config_page_saves_and_shows_errors(scored, director, client_for):
    client = client_for(director)
    page = client.get(reverse("segmentation:config"))
    assert page.status_code == 200
    form = page.context["form"]
    data = {bound.name: bound.value() for bound in form}
    saved = client.post(reverse("segmentation:config"), {**data, "abc_a_cutoff": "0.7"})
    assert saved.status_code == 302
    data["tier_rules"] = '[{"tier": "a", "abc": "A"}]'
    response = client.post(reverse("segmentation:config"), data)
    assert response.status_code == 200
    assert "最后一条规则不能有条件" in response.content.decode()
    from kam.segmentation.services import scoring_config_get

    assert scoring_config_get().abc_a_cutoff == 0.7


def test_profile_panel_and_override_form(scored, director, am_outsider, client_for):
    account = scored["mine"][0]
    detail = client_for(director).get(reverse("customers:detail", args=[account.pk]))
    assert detail.status_code == 200
    assert 'id="segmentation-panel"' in detail.content.decode()
    url = reverse("segmentation:tier_override", args=[account.pk])
    missing = client_for(director).post(url, {"tier": "key", "reason": ""})
    assert missing.status_code == 200 and "errorlist" in missing.content.decode()
    done = client_for(director).post(url, {"tier": "key", "reason": "Flagship"})
    assert done.status_code == 302
    account.refresh_from_db()
    assert account.tier == "key"
    assert client_for(am_outsider).get(url).status_code == 404


def test_strategic_profile_form_for_owner_and_404_for_outsider(
    scored, am_lead, am_outsider, client_for
):
    account = scored["mine"][0]
    url = reverse("segmentation:strategic_profile", args=[account.pk])
    assert client_for(am_outsider).get(url).status_code == 404
    response = client_for(am_lead).post(
        url, {"strategic_project": "4", "market_influence": "", "note": "Group HQ"}
    )
    assert response.status_code == 302
    assert account.strategic_profile.strategic_project == 4
    bad = client_for(am_lead).post(url, {"strategic_project": "7"})
    assert bad.status_code == 200 and "errorlist" in bad.content.decode()
