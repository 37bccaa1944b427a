"""Service analytics: SLA compliance, complaint causes (Pareto), repeat complaints, time to
resolve, recovery cost, and whether accounts kept buying after a complaint.

Each figure is one aggregate query over the tickets the user may see; the orders
around complaints come from one query over ledger.AccountDay.
"""

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from statistics import median
from typing import Any, TypedDict

from django.db.models import Avg, Count, F, Q, QuerySet, Sum
from django.utils import timezone

from kam.customers.models import Tier
from kam.ledger.models import AccountDay
from kam.service.models import ComplaintCause, RecoveryAction, RecoveryKind, Ticket, TicketType

WINDOW_DAYS = 90


class RepeatComplaints(TypedDict):
    """One account with two or more complaints (a row of `.values(...).annotate(count=...)`)."""

    account_id: int
    account__code: str
    account__legal_name: str
    count: int


class ComplaintOrders(TypedDict):
    """Orders around one complaint: the 90 days before, the 90 days after, days to the next."""

    ticket: int
    account: str
    day: date
    before: int
    after: int
    next_days: int | None


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def compliance(tickets: QuerySet[Ticket], key: str) -> list[dict[str, Any]]:
    """Share of resolved tickets resolved in time (and first responses in time), per `key`."""
    rows = (
        tickets.filter(resolved_at__isnull=False)
        .values(key)
        .annotate(
            total=Count("pk"),
            met=Count("pk", filter=Q(resolved_at__lte=F("resolution_due"))),
            responded=Count("pk", filter=Q(first_responded_at__isnull=False)),
            response_met=Count("pk", filter=Q(first_responded_at__lte=F("response_due"))),
        )
        .order_by(key)
    )
    return [
        {
            "key": row[key],
            "total": row["total"],
            "met": row["met"],
            "percent": _percent(row["met"], row["total"]),
            "response_percent": _percent(row["response_met"], row["responded"]),
        }
        for row in rows
    ]


def complaint_causes(tickets: QuerySet[Ticket]) -> list[dict[str, Any]]:
    """Causes by count, largest first, with the cumulative share (the Pareto chart)."""
    rows = list(
        tickets.filter(ticket_type=TicketType.COMPLAINT, complaint__isnull=False)
        .values("complaint__cause")
        .annotate(count=Count("pk"))
        .order_by("-count", "complaint__cause")
    )
    total = sum(row["count"] for row in rows)
    running = 0
    result = []
    for row in rows:
        running += row["count"]
        cause = row["complaint__cause"]
        label = ComplaintCause(cause).label if cause in ComplaintCause.values else cause
        result.append(
            {"cause": str(label), "count": row["count"], "cumulative": _percent(running, total)}
        )
    return result


def repeat_complaints(tickets: QuerySet[Ticket], since: date) -> list[RepeatComplaints]:
    return list(
        tickets.filter(ticket_type=TicketType.COMPLAINT, created_at__date__gte=since)
        .values("account_id", "account__code", "account__legal_name")
        .annotate(count=Count("pk"))
        .filter(count__gte=2)
        .order_by("-count", "account__legal_name")[:20]
    )


def time_to_resolve(tickets: QuerySet[Ticket]) -> list[dict[str, Any]]:
    rows = (
        tickets.filter(working_hours_spent__isnull=False)
        .values("ticket_type")
        .annotate(count=Count("pk"), hours=Avg("working_hours_spent"))
        .order_by("ticket_type")
    )
    return [
        {
            "type": str(TicketType(row["ticket_type"]).label),
            "count": row["count"],
            "hours": round(row["hours"] or 0, 1),
        }
        for row in rows
    ]


def recovery_costs(tickets: QuerySet[Ticket]) -> dict[str, Any]:
    recoveries = RecoveryAction.objects.filter(ticket__in=tickets)
    by_kind = (
        recoveries.values("kind").annotate(total=Sum("cost"), count=Count("pk")).order_by("-total")
    )
    return {
        "total": recoveries.aggregate(total=Sum("cost"))["total"] or Decimal("0"),
        "by_kind": [
            {
                "kind": str(RecoveryKind(row["kind"]).label),
                "total": row["total"],
                "count": row["count"],
            }
            for row in by_kind
        ],
    }


def buying_after_complaints(tickets: QuerySet[Ticket], today: date) -> dict[str, Any]:
    """Orders in the 90 days before versus after each complaint, and days to the next order.

    Only complaints at least 90 days old are compared, so every "after" window is complete.
    """
    complaints = list(
        tickets.filter(
            ticket_type=TicketType.COMPLAINT,
            created_at__date__lte=today - timedelta(days=WINDOW_DAYS),
        )
        .order_by("-created_at")
        .values_list("pk", "account_id", "account__legal_name", "created_at")[:500]
    )
    if not complaints:
        return {
            "count": 0,
            "rows": [],
            "before": 0,
            "after": 0,
            "kept_buying": None,
            "median_days": None,
        }
    zone = timezone.get_current_timezone()
    days = [created.astimezone(zone).date() for _pk, _account, _name, created in complaints]
    orders_by_account: dict[int, list[tuple[date, int]]] = defaultdict(list)
    rows = AccountDay.objects.filter(
        account_id__in={account for _pk, account, _name, _created in complaints},
        day__gte=min(days) - timedelta(days=WINDOW_DAYS),
        day__lte=max(days) + timedelta(days=365),
        orders__gt=0,
    ).values_list("account_id", "day", "orders")
    for account_id, day, orders in rows:
        orders_by_account[account_id].append((day, orders))
    table: list[ComplaintOrders] = []
    for (pk, account_id, name, _created), day in zip(complaints, days, strict=True):
        history = orders_by_account.get(account_id, [])
        before = sum(n for d, n in history if day - timedelta(days=WINDOW_DAYS) <= d < day)
        after = sum(n for d, n in history if day <= d < day + timedelta(days=WINDOW_DAYS))
        following = [d for d, _n in history if d > day]
        next_days = (min(following) - day).days if following else None
        table.append(
            {
                "ticket": pk,
                "account": name,
                "day": day,
                "before": before,
                "after": after,
                "next_days": next_days,
            }
        )
    waits = [row["next_days"] for row in table if row["next_days"] is not None]
    return {
        "count": len(table),
        "rows": table[:20],
        "before": sum(row["before"] for row in table),
        "after": sum(row["after"] for row in table),
        "kept_buying": _percent(sum(1 for row in table if row["after"] > 0), len(table)),
        "median_days": median(waits) if waits else None,
    }


def report(tickets: QuerySet[Ticket]) -> dict[str, Any]:
    today = timezone.localdate()
    by_tier = compliance(tickets, "tier")
    by_type = compliance(tickets, "ticket_type")
    for row in by_type:
        row["key"] = str(TicketType(row["key"]).label)
    for row in by_tier:
        row["key"] = str(Tier(row["key"]).label) if row["key"] in Tier.values else row["key"]
    by_agent = compliance(tickets, "assignee__username")
    causes = complaint_causes(tickets)
    after = buying_after_complaints(tickets, today)
    recovery = recovery_costs(tickets)
    return {
        "by_tier": by_tier,
        "by_type": by_type,
        "by_agent": by_agent,
        "causes": causes,
        "repeat": repeat_complaints(tickets, today - timedelta(days=365)),
        "resolve": time_to_resolve(tickets),
        "recovery": recovery,
        "after": after,
        "charts": {
            "tier": {
                "labels": [row["key"] for row in by_tier],
                "values": [row["percent"] for row in by_tier],
            },
            "type": {
                "labels": [row["key"] for row in by_type],
                "values": [row["percent"] for row in by_type],
            },
            "agent": {
                "labels": [row["key"] or "—" for row in by_agent],
                "values": [row["percent"] for row in by_agent],
            },
            "causes": {
                "labels": [row["cause"] for row in causes],
                "counts": [row["count"] for row in causes],
                "cumulative": [row["cumulative"] for row in causes],
            },
            "after": {"before": after["before"], "after": after["after"]},
        },
    }
