"""Test data: order lines and their AccountDay rollups, inserted directly."""

import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from kam.customers.models import Account
from kam.ledger.models import AccountDay, OrderLine

_order_numbers = itertools.count(1)

Line = tuple[dt.date | str, float | Decimal, float | Decimal | None]


def orders_add(account: Account, lines: Iterable[Line]) -> None:
    """One order per (day, revenue, cost) line; rollups per day like the importer keeps them."""
    rows = []
    days: dict[dt.date, dict[str, Decimal | int]] = defaultdict(
        lambda: {
            "revenue": Decimal(0),
            "cost": Decimal(0),
            "cost_lines": 0,
            "lines": 0,
            "orders": 0,
        }
    )
    for day, revenue, cost in lines:
        day = dt.date.fromisoformat(day) if isinstance(day, str) else day
        revenue = Decimal(str(revenue))
        cost_value = None if cost is None else Decimal(str(cost))
        rows.append(
            OrderLine(
                account=account,
                order_no=f"SO{next(_order_numbers):08d}",
                line_no=1,
                order_date=day,
                revenue=revenue,
                cost=cost_value,
            )
        )
        total = days[day]
        total["revenue"] += revenue
        total["lines"] += 1
        total["orders"] += 1
        if cost_value is not None:
            total["cost"] += cost_value
            total["cost_lines"] += 1
    OrderLine.objects.bulk_create(rows)
    for day, total in days.items():
        existing = AccountDay.objects.filter(account=account, day=day).first()
        if existing is None:
            AccountDay.objects.create(account=account, day=day, **total)
        else:
            for name, value in total.items():
                setattr(existing, name, getattr(existing, name) + value)
            existing.save()
