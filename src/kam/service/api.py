"""JSON API of the service desk: tickets and complaints, with the same permissions as the UI.

Every change carries the `version` the client read; a stale one is a 409 naming who
changed the ticket and when. Bad input is a 422 with field errors.
"""

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from functools import wraps
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from ninja import Field, FilterSchema, Query, Router, Schema
from ninja import Status as Reply
from ninja.pagination import PageNumberPagination, paginate

from kam.core.http import AuthenticatedHttpRequest
from kam.customers.models import Contact
from kam.customers.selectors import accounts_visible_to
from kam.service import selectors, services
from kam.service.models import (
    MAX_DESCRIPTION,
    Channel,
    ComplaintCause,
    Priority,
    RecoveryKind,
    Severity,
    Status,
    Ticket,
    TicketType,
)
from kam.users.models import User

router = Router(tags=["service"])


class TicketOut(Schema):
    id: int
    account_id: int
    contact_id: int | None
    ticket_type: str
    priority: str
    channel: str
    subject: str
    description: str
    status: str
    assignee_id: int | None
    fast_lane: bool
    tier: str
    response_due: datetime | None
    resolution_due: datetime | None
    first_responded_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int
    cause: str | None = None
    severity: str | None = None

    @staticmethod
    def resolve_cause(ticket: Ticket) -> str | None:
        return _complaint(ticket, "cause")

    @staticmethod
    def resolve_severity(ticket: Ticket) -> str | None:
        return _complaint(ticket, "severity")


def _complaint(ticket: Ticket, field: str) -> str | None:
    if not ticket.is_complaint:
        return None
    try:
        return getattr(ticket.complaint, field)
    except Ticket.complaint.RelatedObjectDoesNotExist:
        return None


class TicketIn(Schema):
    account_id: int
    contact_id: int | None = None
    ticket_type: TicketType
    priority: Priority = Priority.NORMAL
    channel: Channel = Channel.HOTLINE
    subject: str = Field(..., min_length=1, max_length=200)
    description: str = Field("", max_length=MAX_DESCRIPTION)
    assignee_id: int | None = None
    fast_lane: bool | None = None
    cause: ComplaintCause | None = None
    severity: Severity | None = None


class TransitionIn(Schema):
    status: Status
    version: int
    note: str = Field("", max_length=MAX_DESCRIPTION)


class MessageIn(Schema):
    body: str = Field(..., min_length=1, max_length=MAX_DESCRIPTION)
    internal: bool = False
    version: int | None = None


class AssignIn(Schema):
    assignee_id: int | None
    version: int


class RecoveryIn(Schema):
    kind: RecoveryKind
    cost: Decimal = Field(Decimal("0"), ge=0, max_digits=14, decimal_places=2)
    note: str = Field("", max_length=500)
    version: int


class RecoveryOut(Schema):
    id: int
    kind: str
    cost: Decimal
    note: str
    created_at: datetime


class CallbackIn(Schema):
    satisfied: bool
    note: str = Field("", max_length=1000)
    version: int


class EventOut(Schema):
    id: int
    at: datetime
    actor_id: int | None
    kind: str
    from_status: str
    to_status: str
    body: str


class ConflictOut(Schema):
    detail: str
    version: int
    updated_by: str
    updated_at: datetime


class PingOut(Schema):
    ok: bool
    user: str


class TicketFilterQuery(FilterSchema):
    tier: str = ""
    ticket_type: str = ""
    status: str = ""
    breached: bool = False
    account: int | None = None
    mine: bool = False


def conflicts_as_409(view: Callable[..., Any]) -> Callable[..., Any]:
    """A stale version becomes 409 with who changed the ticket and when."""

    @wraps(view)
    def wrapper(request: AuthenticatedHttpRequest, *args: Any, **kwargs: Any) -> Any:
        try:
            return view(request, *args, **kwargs)
        except services.TicketConflict as conflict:
            ticket = conflict.ticket
            body = {
                "detail": str(conflict),
                "version": ticket.version,
                "updated_by": str(ticket.updated_by or ""),
                "updated_at": ticket.updated_at,
            }
            return Reply(409, body)

    return wrapper


def _with_complaint(queryset: QuerySet[Ticket]) -> QuerySet[Ticket]:
    return queryset.select_related("complaint")


@router.get("/ping", response=PingOut, summary="A trivial authenticated endpoint")
def ping(request: AuthenticatedHttpRequest) -> dict[str, Any]:
    return {"ok": True, "user": request.user.get_username()}


@router.get("/tickets", response=list[TicketOut], summary="List tickets (the queue order)")
@paginate(PageNumberPagination, page_size=50)
def tickets_list(
    request: AuthenticatedHttpRequest, filters: Query[TicketFilterQuery]
) -> QuerySet[Ticket]:
    chosen = selectors.TicketFilters(**filters.dict())
    return _with_complaint(selectors.ticket_list(request.user, chosen))


@router.get("/tickets/{ticket_id}", response=TicketOut, summary="Get one ticket")
def tickets_get(request: AuthenticatedHttpRequest, ticket_id: int) -> Ticket:
    return selectors.ticket_get_for_user(request.user, ticket_id)


@router.get("/tickets/{ticket_id}/events", response=list[EventOut], summary="A ticket's history")
def tickets_events(request: AuthenticatedHttpRequest, ticket_id: int) -> Any:
    ticket = selectors.ticket_get_for_user(request.user, ticket_id)
    return list(ticket.events.all())


@router.post("/tickets", response={201: TicketOut}, summary="Open a ticket")
def tickets_create(request: AuthenticatedHttpRequest, payload: TicketIn) -> Reply:
    data = payload.dict()
    account = accounts_visible_to(request.user).filter(pk=data.pop("account_id")).first()
    if account is None:
        raise ValidationError({"account_id": f"No account with id {payload.account_id}."})
    contact_id = data.pop("contact_id")
    if contact_id is not None:
        data["contact"] = Contact.objects.filter(pk=contact_id, account=account).first()
        if data["contact"] is None:
            raise ValidationError({"contact_id": f"No contact {contact_id} at this account."})
    assignee_id = data.pop("assignee_id")
    if assignee_id is not None:
        data["assignee"] = User.objects.filter(pk=assignee_id, is_active=True).first()
        if data["assignee"] is None:
            raise ValidationError({"assignee_id": f"No active user with id {assignee_id}."})
    data = {key: value for key, value in data.items() if value is not None or key == "fast_lane"}
    ticket = services.ticket_create(actor=request.user, account=account, data=data)
    return Reply(201, ticket)


@router.post(
    "/tickets/{ticket_id}/transition",
    response={200: TicketOut, 409: ConflictOut},
    summary="Change the status (with the version read)",
)
@conflicts_as_409
def tickets_transition(
    request: AuthenticatedHttpRequest, ticket_id: int, payload: TransitionIn
) -> Any:
    ticket = selectors.ticket_get_for_user(request.user, ticket_id)
    return services.ticket_transition(
        ticket=ticket,
        to_status=payload.status,
        actor=request.user,
        version=payload.version,
        note=payload.note,
    )


@router.post(
    "/tickets/{ticket_id}/assign",
    response={200: TicketOut, 409: ConflictOut},
    summary="Assign the ticket (agents may take unassigned ones)",
)
@conflicts_as_409
def tickets_assign(request: AuthenticatedHttpRequest, ticket_id: int, payload: AssignIn) -> Any:
    ticket = selectors.ticket_get_for_user(request.user, ticket_id)
    assignee = None
    if payload.assignee_id is not None:
        assignee = User.objects.filter(pk=payload.assignee_id).first()
        if assignee is None:
            raise ValidationError({"assignee_id": f"No user with id {payload.assignee_id}."})
    return services.ticket_assign(
        ticket=ticket, assignee=assignee, actor=request.user, version=payload.version
    )


@router.post(
    "/tickets/{ticket_id}/messages",
    response={201: EventOut, 409: ConflictOut},
    summary="Reply to the customer, or add an internal note",
)
@conflicts_as_409
def tickets_message(request: AuthenticatedHttpRequest, ticket_id: int, payload: MessageIn) -> Any:
    ticket = selectors.ticket_get_for_user(request.user, ticket_id)
    write = services.ticket_note if payload.internal else services.ticket_reply
    return Reply(
        201, write(ticket=ticket, actor=request.user, body=payload.body, version=payload.version)
    )


@router.post(
    "/tickets/{ticket_id}/recoveries",
    response={201: RecoveryOut, 409: ConflictOut},
    summary="Record a complaint's recovery action",
)
@conflicts_as_409
def tickets_recovery(request: AuthenticatedHttpRequest, ticket_id: int, payload: RecoveryIn) -> Any:
    ticket = selectors.ticket_get_for_user(request.user, ticket_id)
    recovery = services.complaint_recovery_add(
        ticket=ticket,
        actor=request.user,
        kind=payload.kind,
        cost=payload.cost,
        note=payload.note,
        version=payload.version,
    )
    return Reply(201, recovery)


@router.post(
    "/tickets/{ticket_id}/callback",
    response={200: TicketOut, 409: ConflictOut},
    summary="Record the callback (回访); unsatisfied reopens the ticket",
)
@conflicts_as_409
def tickets_callback(request: AuthenticatedHttpRequest, ticket_id: int, payload: CallbackIn) -> Any:
    ticket = selectors.ticket_get_for_user(request.user, ticket_id)
    services.ticket_callback_record(
        ticket=ticket,
        actor=request.user,
        satisfied=payload.satisfied,
        note=payload.note,
        version=payload.version,
    )
    return selectors.ticket_get_for_user(request.user, ticket_id)
