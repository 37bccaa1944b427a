"""The SQL figures against a plain-Python computation of the same order lines."""

import datetime as dt
import io
import random

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from kam.ledger.models import AccountTotal
from kam.segmentation import figures
from kam.segmentation.tests.helpers import orders_add

AS_OF = dt.date(2025, 6, 30)


def margin_expected(lines: list) -> float:
    """Revenue less the cost scaled up to every line (NaN when no line has a cost)."""
    costs = [cost for _day, _revenue, cost in lines if cost is not None]
    if not costs:
        return float("nan")
    return sum(r for _d, r, _c in lines) - sum(costs) * len(lines) / len(costs)


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
            "margin": margin_expected(kept),
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
            assert result[name][position] == pytest.approx(value, abs=0.01, nan_ok=True), (
                account_id,
                name,
            )


def test_accounts_without_orders_get_zero_figures_and_current_tier(account_make):
    account = account_make(tier="key")
    result = figures.account_figures(AS_OF, ["strategic", "key"])
    assert result["has_orders"].tolist() == [0.0]
    assert result.current_tiers().tolist() == ["key"]
    assert result["revenue"].tolist() == [0.0]
    assert account.pk == result["account_id"][0]


def test_packed_figures_come_back_exact_at_their_extremes(account_make):
    """The small whole numbers read packed into one value unpack to what they were."""
    extremes = {
        "has_orders": [0, 1],
        "previous_abc_index": [-1, 2],
        "tier_index": [-1, 1000],
        "too_big": [0, 1],
        "cost_lines": [0, 2**26 - 1],
        "lines": [0, 2**27 - 1],
        "purchase_days": [0, 2**20 - 1],
        "orders": [0, 2**33 - 1],
        "first_purchase": [-1, 2**20 - 2],
        "last_purchase": [-1, 2**20 - 2],
    }
    for pack, parts in figures.PACKS.items():
        names = [name for name, _bits in parts]
        for position in (0, 1):
            sql_parts = {name: str(extremes[name][position]) for name in names}
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT {figures._pack_sql(sql_parts, pack)}")
                (packed,) = cursor.fetchone()
            assert float(packed) < 2**53
            unpacked = figures._unpack(np.array([float(packed)]), pack)
            assert {name: unpacked[name][0] for name in names} == {
                name: extremes[name][position] for name in names
            }


def test_counts_too_big_to_pack_are_an_error_not_wrong_figures(account_make):
    account = account_make()
    orders_add(account, [("2025-01-05", 100, None)])
    AccountTotal.objects.filter(account=account).update(lines=2**26, cost_lines=0)
    with pytest.raises(figures.FiguresError, match=f"Account id {account.pk} has more order"):
        figures.account_figures(AS_OF, ["key"])
    with pytest.raises(CommandError, match="Scoring failed: Account id"):
        call_command("score", "--as-of", AS_OF.isoformat(), stdout=io.StringIO())
