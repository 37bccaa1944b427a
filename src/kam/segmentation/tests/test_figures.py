"""The SQL figures against a plain-Python computation of the same order lines."""

import datetime as dt
import random

import pytest

from kam.segmentation import figures
from kam.segmentation.tests.helpers import orders_add

AS_OF = dt.date(2025, 6, 30)


# As of: the usual case (some lines after it), before most lines, a 29 February, after
# every line, before every line.
@pytest.mark.parametrize(
    "as_of",
    [AS_OF, dt.date(2023, 9, 1), dt.date(2024, 2, 29), dt.date(2026, 1, 1), dt.date(2022, 1, 1)],
)
def test_sql_figures_match_a_plain_python_computation(account_make, as_of):
    rng = random.Random(3)
    accounts = [account_make() for _ in range(6)]
    expected = {}
    for account in accounts:
        lines = []
        for _ in range(rng.randint(1, 25)):
            day = dt.date(2023, 1, 1) + dt.timedelta(days=rng.randint(0, 1000))  # some after AS_OF
            revenue = round(rng.uniform(-200, 5000), 2)
            cost = None if rng.random() < 0.3 else round(revenue * 0.6, 2)
            lines.append((day, revenue, cost))
        orders_add(account, lines)
        kept = [line for line in lines if line[0] <= as_of]
        by_day: dict = {}
        for day, revenue, _cost in kept:
            by_day[day] = by_day.get(day, 0) + revenue
        purchase_days = sorted(day for day, total in by_day.items() if total > 0)
        year_ago = figures._years_back(as_of, 1)
        two_years_ago = figures._years_back(as_of, 2)
        expected[account.pk] = {
            "revenue": sum(r for _d, r, _c in kept),
            "cost": sum(c for _d, _r, c in kept if c is not None),
            "cost_lines": sum(1 for *_x, c in kept if c is not None),
            "lines": len(kept),
            "orders": len(kept),
            "has_orders": 1 if kept else 0,
            "revenue_12m": sum(r for d, r, _c in kept if d > year_ago),
            "revenue_prev_12m": sum(r for d, r, _c in kept if two_years_ago < d <= year_ago),
            "purchase_days": len(purchase_days),
            "first_purchase": figures.day_number(purchase_days[0]) if purchase_days else -1,
            "last_purchase": figures.day_number(purchase_days[-1]) if purchase_days else -1,
            "first_day": figures.day_number(purchase_days[0]) if purchase_days else -1,
            "last_day": figures.day_number(purchase_days[-1]) if purchase_days else -1,
            "purchase_revenue": sum(by_day[d] for d in purchase_days),
            "first_purchase_revenue": by_day[purchase_days[0]] if purchase_days else 0,
        }
    result = figures.account_figures(as_of, ["strategic", "key"])
    assert result["account_id"].tolist() == sorted(expected)
    for position, account_id in enumerate(result["account_id"].tolist()):
        for name, value in expected[account_id].items():
            assert result[name][position] == pytest.approx(value, abs=0.01), (account_id, name)


def test_accounts_without_orders_get_zero_figures_and_current_tier(account_make):
    account = account_make(tier="key")
    result = figures.account_figures(AS_OF, ["strategic", "key"])
    assert result["has_orders"].tolist() == [0.0]
    assert result.current_tiers().tolist() == ["key"]
    assert result["revenue"].tolist() == [0.0]
    assert account.pk == result["account_id"][0]
