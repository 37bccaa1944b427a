"""The account list, API and export show each account's ABC class, scores and CLV of the latest run."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.urls import reverse

from kam.segmentation import services
from kam.segmentation.models import AccountScore
from kam.segmentation.tests.helpers import random_history


@pytest.fixture
def scored(account_make, am_lead):
    accounts = [account_make(owner=am_lead, code=f"K{n}") for n in range(10)]
    random_history(accounts, seed=11)
    run = services.scoring_run(as_of=dt.date(2025, 6, 30))
    return {score.account.code: score for score in run.scores.select_related("account")}


def test_account_list_filters_and_sorts_by_the_latest_scores(scored, am_lead, client_for):
    client = client_for(am_lead)
    a_class = sorted(code for code, score in scored.items() if score.abc_class == "A")
    response = client.get(reverse("customers:list"), {"abc_class": "A", "sort": "-value_score"})
    body = response.content.decode()
    shown = [code for code in scored if f">{code}<" in body]
    assert sorted(shown) == a_class
    # (Find the cell, not the bare code: it may also occur in the page's random CSRF token.)
    in_page = sorted(shown, key=lambda code: body.index(f">{code}<"))
    in_page_order = [scored[code].value_score for code in in_page]
    assert in_page_order == sorted(in_page_order, reverse=True)


def test_account_api_returns_the_latest_scores(scored, am_lead, client_for):
    client = client_for(am_lead)
    rows = client.get("/api/customers/accounts", {"sort": "-clv"}).json()["items"]
    clvs = [row["clv"] for row in rows]
    assert clvs == sorted(clvs, reverse=True)
    top = scored[rows[0]["code"]]
    assert (rows[0]["abc_class"], rows[0]["clv"]) == (top.abc_class, pytest.approx(top.clv))
    one = client.get(f"/api/customers/accounts/{top.account_id}").json()
    assert one["value_score"] == pytest.approx(top.value_score)
    assert one["scored_at"] is not None


def test_unscored_accounts_have_empty_scores_and_a_new_run_replaces_them(
    scored, account_make, am_lead, client_for
):
    fresh = account_make(owner=am_lead, code="NEW")
    client = client_for(am_lead)
    row = client.get(f"/api/customers/accounts/{fresh.pk}").json()
    assert (row["abc_class"], row["value_score"], row["clv"]) == ("", None, None)
    run = services.scoring_run(as_of=dt.date(2025, 7, 31))
    row = client.get(f"/api/customers/accounts/{fresh.pk}").json()
    assert row["abc_class"] == AccountScore.objects.get(run=run, account=fresh).abc_class == "C"


def test_export_carries_the_latest_scores(scored, tmp_path):
    path = tmp_path / "accounts.csv"
    call_command("export", "accounts", output=str(path))
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    header = lines[0].split(",")
    rows = {line.split(",")[0]: line.split(",") for line in lines[1:]}
    abc = header.index("abc_class") if "abc_class" in header else header.index("ABC分类")
    assert {code: row[abc] for code, row in rows.items()} == {
        code: score.abc_class for code, score in scored.items()
    }
