"""Test data: order lines inserted directly, their rollups kept by the ledger's hook."""

import datetime as dt
import itertools
from collections.abc import Iterable
from decimal import Decimal

from kam.customers.models import Account
from kam.ledger import rollups
from kam.ledger.models import OrderLine

_order_numbers = itertools.count(1)

Line = tuple[dt.date | str, float | Decimal, float | Decimal | None]


def orders_add(account: Account, lines: Iterable[Line]) -> None:
    """One order per (day, revenue, cost) line; rollups refreshed as the importer does."""
    rows = []
    for day, revenue, cost in lines:
        rows.append(
            OrderLine(
                account=account,
                order_no=f"SO{next(_order_numbers):08d}",
                line_no=1,
                order_date=dt.date.fromisoformat(day) if isinstance(day, str) else day,
                revenue=Decimal(str(revenue)),
                cost=None if cost is None else Decimal(str(cost)),
            )
        )
    OrderLine.objects.bulk_create(rows)
    rollups.account_days_refresh([account.pk])


def random_history(
    accounts: list[Account], seed: int = 7, start: str = "2024-01-01", days: int = 540
) -> list:
    """A deterministic purchase history (repeat buyers dropping out at random) for CLV tests."""
    import numpy as np

    rng = np.random.default_rng(seed)
    origin = dt.date.fromisoformat(start)
    history = []
    for account in accounts:
        first = int(rng.integers(0, days // 2))
        rate = rng.gamma(0.8, 1 / 20.0)
        lifetime = rng.exponential(300)
        size = rng.gamma(3.0, 400.0)
        day = first
        lines = []
        while day < days and day - first <= lifetime:
            revenue = round(float(rng.gamma(4.0, size / 4.0)) + 1, 2)
            lines.append((origin + dt.timedelta(days=day), revenue, round(revenue * 0.7, 2)))
            day += 1 + int(rng.exponential(1 / max(rate, 1e-3)))
        orders_add(account, lines)
        history.extend((account.pk, line[0], line[1]) for line in lines)
    return history
