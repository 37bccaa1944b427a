"""Reads of the ledger for one account (callers fetch the account through account_get_for_user)."""

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, Max, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from kam.customers.models import Account
from kam.ledger.models import ImportRun, OrderLine
from kam.users import roles
from kam.users.models import User


def order_lines_of(
    account: Account, *, date_from: date | None = None, date_to: date | None = None
) -> QuerySet[OrderLine]:
    lines = OrderLine.objects.filter(account=account).select_related("product")
    if date_from:
        lines = lines.filter(order_date__gte=date_from)
    if date_to:
        lines = lines.filter(order_date__lte=date_to)
    return lines.order_by("-order_date", "order_no", "line_no")


def _costed_revenue() -> Sum:
    """Revenue of the lines that have a cost: the base of the gross margin."""
    return Sum("revenue", filter=Q(cost__isnull=False))


def monthly_totals(account: Account, *, months: int | None = None) -> list[dict[str, Any]]:
    """Revenue, cost and gross margin per month (margin over the lines that have a cost)."""
    lines = OrderLine.objects.filter(account=account)
    if months:
        lines = lines.filter(order_date__gte=_months_ago(months))
    rows = (
        lines.annotate(month=TruncMonth("order_date"))
        .values("month")
        .annotate(total=Sum("revenue"), total_cost=Sum("cost"), costed=_costed_revenue())
        .order_by("month")
    )
    result = []
    for row in rows:
        cost = row["total_cost"]
        margin = None if cost is None else (row["costed"] or Decimal(0)) - cost
        result.append(
            {
                "month": row["month"].strftime("%Y-%m"),
                "revenue": row["total"] or Decimal(0),
                "cost": cost,
                "margin": margin,
            }
        )
    return result


def _months_ago(months: int) -> date:
    today = timezone.localdate()
    first = today.replace(day=1)
    year, month = divmod(first.year * 12 + first.month - 1 - (months - 1), 12)
    return date(year, month + 1, 1)


def top_products(account: Account, *, limit: int = 10) -> list[dict[str, Any]]:
    rows = (
        OrderLine.objects.filter(account=account, product__isnull=False)
        .values("product__code", "product__name", "product__category")
        .annotate(revenue=Sum("revenue"), quantity=Sum("quantity"), lines=Count("id"))
        .order_by("-revenue")[:limit]
    )
    return [dict(row) for row in rows]


def account_ledger_summary(account: Account) -> dict[str, Any]:
    """Last 12 months' revenue and margin, and the last order date."""
    since = timezone.localdate() - timedelta(days=365)
    totals = OrderLine.objects.filter(account=account).aggregate(
        last_order=Max("order_date"),
    )
    recent = OrderLine.objects.filter(account=account, order_date__gt=since).aggregate(
        total=Sum("revenue"), total_cost=Sum("cost"), costed=_costed_revenue()
    )
    margin = None
    if recent["total_cost"] is not None:
        margin = (recent["costed"] or Decimal(0)) - recent["total_cost"]
    return {
        "last_order": totals["last_order"],
        "revenue": recent["total"] or Decimal(0),
        "margin": margin,
        "margin_rate": (margin / recent["costed"] * 100)
        if margin is not None and recent["costed"]
        else None,
    }


def import_runs_visible_to(user: User) -> QuerySet[ImportRun]:
    runs = ImportRun.objects.select_related("user")
    return runs if roles.is_director(user) else runs.filter(user=user)
