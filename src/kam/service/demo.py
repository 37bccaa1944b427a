"""Demo tickets for `kam demo`: half a year of service history, mostly closed, some open,
a few breached, complaints with recovery actions and callbacks. Bulk-inserted."""

import random
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from kam.customers.models import Account
from kam.lib.business_calendar import add_working_time, next_working_moment, working_time_between
from kam.service.calendar import calendar_get
from kam.service.models import (
    Callback,
    Channel,
    ComplaintCause,
    ComplaintDetail,
    Escalation,
    EventKind,
    Priority,
    RecoveryAction,
    RecoveryKind,
    ServiceLevel,
    ServiceTier,
    Severity,
    Status,
    Ticket,
    TicketEvent,
    TicketType,
)
from kam.users.models import Role, User

SUBJECTS = {
    TicketType.CONSULTATION: ["询问新产品规格", "咨询批量采购价格", "了解保修条款", "询问交货周期"],
    TicketType.INSTALLATION: ["新设备安装调试", "生产线扩容调试", "系统对接调试", "现场安装预约"],
    TicketType.REPAIR: ["设备异响需检修", "控制器报错停机", "传感器读数异常", "备件更换申请"],
    TicketType.DELIVERY: ["到货数量短缺", "包装破损", "发货延迟", "错发型号"],
    TicketType.BILLING: ["发票抬头有误", "对账金额不符", "重复扣款", "申请开具专票"],
    TicketType.COMPLAINT: [
        "交货严重延误投诉",
        "产品质量问题投诉",
        "服务态度投诉",
        "账单错误投诉",
        "安装质量投诉",
    ],
}
TYPE_WEIGHTS = [
    (TicketType.CONSULTATION, 25),
    (TicketType.INSTALLATION, 10),
    (TicketType.REPAIR, 25),
    (TicketType.DELIVERY, 15),
    (TicketType.BILLING, 12),
    (TicketType.COMPLAINT, 13),
]
CAUSE_WEIGHTS = [
    (ComplaintCause.DELIVERY, 30),
    (ComplaintCause.PRODUCT_QUALITY, 25),
    (ComplaintCause.RESPONSE_TIME, 15),
    (ComplaintCause.BILLING, 10),
    (ComplaintCause.SERVICE_ATTITUDE, 8),
    (ComplaintCause.INSTALLATION, 6),
    (ComplaintCause.COMMUNICATION, 4),
    (ComplaintCause.OTHER, 2),
]


def _pick(rng: random.Random, weighted: list[tuple[Any, int]]) -> Any:
    return rng.choices([value for value, _ in weighted], [weight for _, weight in weighted])[0]


def demo_tickets_create(*, accounts: list[Account], seed: int, stdout: Any = None) -> str:
    """About two tickets per account (more for big ones) over the last 180 days."""
    rng = random.Random(seed + 5)
    calendar = calendar_get()
    now = timezone.now()
    staff = list(
        User.objects.filter(role__in=[Role.SERVICE_AGENT, Role.SERVICE_MANAGER], is_active=True)
    )
    manager = next((user for user in staff if user.role == Role.SERVICE_MANAGER), None)
    tiers = dict(Account.objects.filter(pk__in=[a.pk for a in accounts]).values_list("pk", "tier"))
    fast = set(ServiceTier.objects.filter(fast_lane=True).values_list("tier", flat=True))
    levels = {
        (level.tier, level.ticket_type, level.priority): level
        for level in ServiceLevel.objects.all()
    }
    plans: list[dict[str, Any]] = []
    for account in accounts:
        weight = getattr(account, "demo_weight", 1.0)
        count = min(12, int(rng.expovariate(1 / min(4.0, 0.8 + weight / 3))))
        for _ in range(count):
            plans.append(
                _plan(
                    rng,
                    calendar,
                    now,
                    account,
                    tiers.get(account.pk) or "ordinary",
                    levels,
                    fast,
                    staff,
                )
            )
    with transaction.atomic():
        tickets = Ticket.objects.bulk_create([plan["ticket"] for plan in plans], batch_size=500)
        events, complaints, recoveries, callbacks, escalations = [], [], [], [], []
        for plan, ticket in zip(plans, tickets, strict=True):
            for kind, at, from_status, to_status in plan["events"]:
                events.append(
                    TicketEvent(
                        ticket=ticket,
                        at=at,
                        kind=kind,
                        from_status=from_status,
                        to_status=to_status,
                        actor=ticket.assignee or manager,
                    )
                )
            if ticket.ticket_type == TicketType.COMPLAINT:
                complaints.append(
                    ComplaintDetail(
                        ticket=ticket,
                        cause=_pick(rng, CAUSE_WEIGHTS),
                        severity=rng.choice(Severity.values),
                    )
                )
                if ticket.resolved_at:
                    recoveries.extend(_recoveries(rng, ticket))
            if ticket.status in (Status.CALLBACK_DONE, Status.CLOSED):
                assert ticket.resolved_at is not None  # _plan closes only resolved tickets
                callbacks.append(
                    Callback(
                        ticket=ticket,
                        satisfied=True,
                        created_at=ticket.resolved_at + timedelta(days=1),
                        created_by=ticket.assignee,
                    )
                )
            if ticket.resolution_due and (ticket.resolved_at or now) > ticket.resolution_due:
                escalations.append(
                    Escalation(
                        ticket=ticket,
                        target="resolution",
                        level="breach",
                        at=ticket.resolution_due,
                        notified=[],
                    )
                )
        TicketEvent.objects.bulk_create(events, batch_size=1000)
        ComplaintDetail.objects.bulk_create(complaints, batch_size=1000)
        RecoveryAction.objects.bulk_create(recoveries, batch_size=1000)
        Callback.objects.bulk_create(callbacks, batch_size=1000)
        Escalation.objects.bulk_create(escalations, batch_size=1000, ignore_conflicts=True)
    open_count = sum(1 for ticket in tickets if ticket.is_open)
    return (
        f"Created {len(tickets)} tickets ({len(complaints)} complaints, {open_count} open, "
        f"{len(escalations)} breached) with {len(recoveries)} recovery actions."
    )


def _plan(rng, calendar, now, account, tier, levels, fast, staff) -> dict[str, Any]:  # noqa: ANN001
    """One ticket and its history, decided up front so everything is bulk-inserted."""
    ticket_type = _pick(rng, TYPE_WEIGHTS)
    priority = rng.choices(Priority.values, [10, 25, 50, 15])[0]
    level = levels.get((tier, ticket_type, priority))
    first_hours = level.first_response_hours if level else Decimal("8")
    resolution_hours = level.resolution_hours if level else Decimal("32")
    created = next_working_moment(
        calendar,
        now - timedelta(days=rng.uniform(0, 6) if rng.random() < 0.12 else rng.uniform(0, 180)),
    )
    created = min(created, now - timedelta(minutes=5))
    response_due = add_working_time(calendar, created, timedelta(hours=float(first_hours)))
    resolution_due = add_working_time(calendar, created, timedelta(hours=float(resolution_hours)))
    assignee = rng.choice(staff) if staff else None
    ticket = Ticket(
        account=account,
        ticket_type=ticket_type,
        priority=priority,
        channel=rng.choice(Channel.values),
        subject=rng.choice(SUBJECTS[ticket_type]),
        description="",
        assignee=assignee,
        fast_lane=tier in fast,
        tier=tier,
        first_response_hours=first_hours,
        resolution_hours=resolution_hours,
        response_due=response_due,
        resolution_due=resolution_due,
        created_at=created,
        updated_at=created,
        created_by=assignee,
        updated_by=assignee,
    )
    events = [(EventKind.CREATED, created, "", Status.NEW)]
    # Most tickets finish within the target; about one in seven runs late.
    responded = add_working_time(
        calendar, created, timedelta(hours=float(first_hours) * rng.uniform(0.1, 1.05))
    )
    share = rng.uniform(0.15, 1.0) if rng.random() < 0.88 else rng.uniform(1.0, 2.0)
    resolved = add_working_time(calendar, created, timedelta(hours=float(resolution_hours) * share))
    if responded and responded < now:
        ticket.first_responded_at = responded
        ticket.status = Status.IN_PROGRESS
        events += [
            (EventKind.STATUS, responded, Status.NEW, Status.ACKNOWLEDGED),
            (EventKind.STATUS, responded, Status.ACKNOWLEDGED, Status.IN_PROGRESS),
        ]
    if resolved and resolved < now - timedelta(days=2) and ticket.first_responded_at:
        ticket.resolved_at = resolved
        ticket.working_hours_spent = round(
            working_time_between(calendar, created, resolved).total_seconds() / 3600, 2
        )
        ticket.status = Status.CLOSED if rng.random() < 0.9 else Status.RESOLVED
        events.append((EventKind.STATUS, resolved, Status.IN_PROGRESS, Status.RESOLVED))
        if ticket.status == Status.CLOSED:
            ticket.closed_at = resolved + timedelta(days=1, hours=1)
            events.append((EventKind.STATUS, ticket.closed_at, Status.CALLBACK_DONE, Status.CLOSED))
    elif ticket.first_responded_at and rng.random() < 0.15:
        ticket.status = Status.ACKNOWLEDGED
    ticket.updated_at = max(at for _kind, at, _f, _t in events)
    return {"ticket": ticket, "events": events}


def _recoveries(rng: random.Random, ticket: Ticket) -> list[RecoveryAction]:
    at = ticket.resolved_at or ticket.created_at
    actions = [
        RecoveryAction(
            ticket=ticket,
            kind=RecoveryKind.APOLOGY,
            cost=Decimal("0"),
            created_at=at,
            created_by=ticket.assignee,
        )
    ]
    if rng.random() < 0.5:
        kind = rng.choice(
            [RecoveryKind.COMPENSATION, RecoveryKind.CREDIT, RecoveryKind.REPLACEMENT]
        )
        cost = Decimal(rng.choice([500, 800, 1200, 2000, 3500, 5000, 12000]))
        actions.append(
            RecoveryAction(
                ticket=ticket, kind=kind, cost=cost, created_at=at, created_by=ticket.assignee
            )
        )
    return actions
