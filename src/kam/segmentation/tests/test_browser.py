"""The dashboard in a real browser: charts draw, filtering by region redraws them."""

import datetime as dt

import pytest

from kam.conftest import browser_login
from kam.segmentation import services
from kam.segmentation.tests.helpers import random_history


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_dashboard_draws_the_charts_and_filters_by_region(
    live_server, browser_page, account_make, director
):
    accounts = [account_make(region="east" if n % 2 else "south") for n in range(20)]
    random_history(accounts, seed=3)
    services.scoring_run(as_of=dt.date(2025, 6, 30))
    page = browser_page
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # Nothing the pages ask for is missing (scripts, styles and data are all served locally).
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    browser_login(page, live_server, "director")
    page.goto(f"{live_server.url}/segmentation/")
    for chart in ("#pareto-chart", "#pyramid-chart", "#matrix-chart"):
        page.wait_for_selector(f"{chart} canvas")
    page.select_option("#id_region", "east")
    page.wait_for_url("**region=east**")
    page.wait_for_selector("#pareto-chart canvas")
    assert "NaN" not in page.locator("#dashboard-body").inner_text()
    assert errors == []
