"""Permission-checked reads of tickets, and the figures the service desk reports.

Who sees what: the service manager, directors, administrators and read-only users
see every ticket; agents see the tickets assigned to them plus the unassigned
queue; account managers see the tickets of the accounts they may see.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db.models import Case, F, IntegerField, Q, QuerySet, Sum, Value, When
from django.http import Http404
from django.utils import timezone

from kam.service.models import OPEN_STATUSES, RecoveryAction, Ticket
from kam.users import roles
from kam.users.models import Role, User


def sees_all_tickets(user: User) -> bool:
    return roles.is_service_manager(user) or user.role == Role.READ_ONLY


def sees_analytics(user: User) -> bool:
    """Service analytics: whoever sees all tickets, and account managers (their portfolio)."""
    return sees_all_tickets(user) or user.role == Role.ACCOUNT_MANAGER


def tickets_visible_to(user: User) -> QuerySet[Ticket]:
    tickets = Ticket.objects.all()
    if not user.is_authenticated or not user.is_active:
        return tickets.none()
    if sees_all_tickets(user):
        return tickets
    if user.role == Role.SERVICE_AGENT:
        return tickets.filter(Q(assignee=user) | Q(assignee__isnull=True))
    scope = roles.account_scope(user, prefix="account__")
    return tickets if scope is None else tickets.filter(scope)


def ticket_may_work(user: User, ticket: Ticket) -> bool:
    """Whether the user may change the ticket's status, reply, assign, record recovery or callbacks."""
    if roles.is_service_manager(user):
        return True
    return user.role == Role.SERVICE_AGENT and ticket.assignee_id in (None, user.pk)


def ticket_may_note(user: User, ticket: Ticket) -> bool:
    """Account managers may add internal notes to their accounts' tickets."""
    return ticket_may_work(user, ticket) or user.role == Role.ACCOUNT_MANAGER


def ticket_get_for_user(user: User, pk: int, *, for_edit: bool = False) -> Ticket:
    """The ticket if the user may see it (404 otherwise); 403 if asked to change and not allowed."""
    try:
        ticket = (
            tickets_visible_to(user)
            .select_related("account", "contact", "assignee", "updated_by", "complaint")
            .get(pk=pk)
        )
    except (Ticket.DoesNotExist, ValueError, TypeError):
        raise Http404("No such ticket") from None
    if for_edit and not ticket_may_work(user, ticket):
        raise PermissionDenied("You may not work on this ticket")
    return ticket


@dataclass(frozen=True)
class TicketFilters:
    """What the queue can be filtered by."""

    tier: str = ""
    ticket_type: str = ""
    status: str = ""  # a status, "open" (default queue) or "all"
    breached: bool = False
    account: int | None = None
    mine: bool = False


def ticket_list(
    user: User, filters: TicketFilters, now: datetime | None = None
) -> QuerySet[Ticket]:
    """The queue: fast-lane first, then by the nearest deadline (waiting tickets last)."""
    now = now or timezone.now()
    tickets = tickets_visible_to(user).select_related("account", "assignee", "contact")
    if filters.status in ("", "open"):
        tickets = tickets.filter(status__in=OPEN_STATUSES)
    elif filters.status != "all":
        tickets = tickets.filter(status=filters.status)
    if filters.tier:
        tickets = tickets.filter(account__tier=filters.tier)
    if filters.ticket_type:
        tickets = tickets.filter(ticket_type=filters.ticket_type)
    if filters.account:
        tickets = tickets.filter(account_id=filters.account)
    if filters.mine:
        tickets = tickets.filter(assignee=user)
    if filters.breached:
        tickets = tickets.filter(
            Q(resolution_due__lt=now, resolved_at__isnull=True)
            | Q(resolved_at__isnull=False, resolution_due__lt=F("resolved_at"))
        )
    return tickets.order_by("-fast_lane", F("resolution_due").asc(nulls_last=True), "pk")


def account_tickets(user: User, account_id: int, limit: int = 20) -> list[Ticket]:
    """An account's tickets for its profile card: open ones first, then the latest."""
    return list(
        tickets_visible_to(user)
        .filter(account_id=account_id)
        .select_related("assignee")
        .annotate(
            open_first=Case(
                When(status__in=OPEN_STATUSES, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("open_first", "-created_at")[:limit]
    )


def service_costs_by_account(as_of: date) -> dict[int, tuple[float, Decimal]]:
    """account_id → (service working hours, recovery cost) over the 365 days up to `as_of`.

    Hours are the working time from creation to resolution of tickets resolved in
    the window (pauses excluded), the cost-to-serve estimate for the return rate.
    """
    zone = timezone.get_default_timezone()
    end = datetime.combine(as_of + timedelta(days=1), time(0), zone)
    start = end - timedelta(days=365)
    result: dict[int, tuple[float, Decimal]] = {}
    hours = (
        Ticket.objects.filter(
            resolved_at__gte=start, resolved_at__lt=end, working_hours_spent__isnull=False
        )
        .values("account_id")
        .annotate(total=Sum("working_hours_spent"))
    )
    for row in hours:
        result[row["account_id"]] = (float(row["total"] or 0), Decimal("0"))
    costs = (
        RecoveryAction.objects.filter(created_at__gte=start, created_at__lt=end)
        .values("ticket__account_id")
        .annotate(total=Sum("cost"))
    )
    for cost in costs:
        account_id = cost["ticket__account_id"]
        spent = result.get(account_id, (0.0, Decimal("0")))[0]
        result[account_id] = (spent, cost["total"] or Decimal("0"))
    return result


def may_manage_service(user: User) -> bool:
    return roles.is_service_manager(user)


def require_service_manager(user: User) -> None:
    if not may_manage_service(user):
        raise PermissionDenied("Only the service manager may change service settings")
