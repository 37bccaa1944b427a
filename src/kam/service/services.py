"""Writes of the service desk. Each is atomic, audited and records the ticket's history.

Ticket changes carry the `version` the caller read: a stale version raises
TicketConflict ("changed by X at Y, reload") and nothing is written.
"""

import logging
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from kam.audit.models import Action
from kam.audit.services import audit_record
from kam.customers.models import Account, Contact
from kam.customers.selectors import accounts_visible_to
from kam.lib.business_calendar import BusinessCalendar, add_working_time, working_time_between
from kam.service import calendar as calendar_module
from kam.service.defaults import default_targets
from kam.service.models import (
    MAX_ATTACHMENT_BYTES,
    MAX_DESCRIPTION,
    Attachment,
    BusinessCalendarConfig,
    CalendarDay,
    Callback,
    ComplaintCause,
    ComplaintDetail,
    DayKind,
    Escalation,
    EscalationLevel,
    EscalationPolicy,
    EscalationTarget,
    EventKind,
    Notification,
    RecoveryAction,
    RecoveryKind,
    ServiceLevel,
    ServiceTier,
    Severity,
    Status,
    Ticket,
    TicketEvent,
    TicketPause,
    TicketType,
)
from kam.service.selectors import ticket_may_note, ticket_may_work
from kam.users import roles
from kam.users.models import Role, User

logger = logging.getLogger(__name__)

# The status machine, in one place. Reaching CALLBACK_DONE needs a recorded callback.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    Status.NEW: (Status.ACKNOWLEDGED,),
    Status.ACKNOWLEDGED: (Status.IN_PROGRESS,),
    Status.IN_PROGRESS: (Status.WAITING, Status.RESOLVED),
    Status.WAITING: (Status.IN_PROGRESS,),
    Status.RESOLVED: (Status.CALLBACK_DONE, Status.IN_PROGRESS),
    Status.CALLBACK_DONE: (Status.CLOSED,),
    Status.CLOSED: (Status.IN_PROGRESS,),
}
REOPENABLE = (Status.RESOLVED, Status.CLOSED)
WORKER_ROLES = (Role.SERVICE_AGENT, Role.SERVICE_MANAGER, Role.DIRECTOR, Role.ADMINISTRATOR)


class TicketConflict(Exception):
    """The ticket changed since the caller read it; nothing was written."""

    def __init__(self, ticket: Ticket) -> None:
        self.ticket = ticket
        who = str(ticket.updated_by) if ticket.updated_by else _("someone")
        when = timezone.localtime(ticket.updated_at).strftime("%Y-%m-%d %H:%M:%S")
        super().__init__(
            _("Ticket #%(pk)s was changed by %(who)s at %(when)s; reload it and try again.")
            % {"pk": ticket.pk, "who": who, "when": when}
        )


def allowed_transitions(ticket: Ticket) -> tuple[str, ...]:
    """Statuses a user may move the ticket to by hand (callback done comes from a callback)."""
    return tuple(
        status for status in TRANSITIONS.get(ticket.status, ()) if status != Status.CALLBACK_DONE
    )


# ---------------------------------------------------------------- SLA clock


def pauses_of(ticket: Ticket) -> list[tuple[datetime, datetime | None]]:
    return [(pause.started_at, pause.ended_at) for pause in ticket.pauses.all()]


def targets_for(tier: str, ticket_type: str, priority: str) -> tuple[Decimal, Decimal]:
    level = ServiceLevel.objects.filter(
        tier=tier, ticket_type=ticket_type, priority=priority
    ).first()
    if level is None:
        return default_targets(tier, ticket_type, priority)
    return level.first_response_hours, level.resolution_hours


def _hours(value: Decimal | float) -> timedelta:
    return timedelta(hours=float(value))


def _due_recompute(ticket: Ticket, calendar: BusinessCalendar, pauses: list | None = None) -> None:
    """Set both deadlines from creation, targets and pauses (an open pause keeps the old one)."""
    pauses = pauses_of(ticket) if pauses is None else pauses
    ticket.response_due = add_working_time(
        calendar, ticket.created_at, _hours(ticket.first_response_hours)
    )
    due = add_working_time(calendar, ticket.created_at, _hours(ticket.resolution_hours), pauses)
    if due is not None:
        ticket.resolution_due = due


def _lock(ticket: Ticket, version: int | None) -> Ticket:
    """Re-read the ticket under a row lock and refuse a stale version."""
    # of=("self",): lock the ticket row only, not the account joined in for the audit entry.
    fresh = (
        Ticket.objects.select_for_update(of=("self",)).select_related("account").get(pk=ticket.pk)
    )
    if version is not None and fresh.version != int(version):
        updated_by_id = fresh.updated_by_id
        fresh.updated_by = (
            User.objects.filter(pk=updated_by_id).first() if updated_by_id is not None else None
        )
        raise TicketConflict(fresh)
    return fresh


def _touch(ticket: Ticket, actor: User, now: datetime) -> None:
    ticket.version = F("version") + 1
    ticket.updated_by = actor
    ticket.updated_at = now


def _save(ticket: Ticket, fields: Iterable[str]) -> None:
    ticket.save(update_fields=[*fields, "version", "updated_by", "updated_at"])
    ticket.refresh_from_db(fields=["version"])


def _event(
    ticket: Ticket, actor: User | None, kind: str, now: datetime, body: str = "", **extra: Any
) -> TicketEvent:
    return TicketEvent.objects.create(
        ticket=ticket, actor=actor, kind=kind, at=now, body=body, **extra
    )


def _notify(users: Iterable[User], ticket: Ticket, message: str) -> list[str]:
    """In-app notification plus an email (Django's email backend) after commit; returns usernames."""
    recipients = {user.pk: user for user in users if user is not None and user.is_active}
    now = timezone.now()
    Notification.objects.bulk_create(
        [
            Notification(user=user, ticket=ticket, message=message[:500], created_at=now)
            for user in recipients.values()
        ]
    )
    emails = [user.email for user in recipients.values() if user.email]
    if emails:

        def send() -> None:
            try:
                send_mail(f"[KAM] {message[:150]}", message, settings.DEFAULT_FROM_EMAIL, emails)
            except Exception:  # mail trouble must not undo an escalation already recorded
                logger.exception("escalation email failed for ticket %s", ticket.pk)

        transaction.on_commit(send)
    return [user.username for user in recipients.values()]


# ---------------------------------------------------------------- tickets

CREATE_FIELDS = {
    "ticket_type",
    "priority",
    "channel",
    "subject",
    "description",
    "contact",
    "assignee",
    "fast_lane",
    "cause",
    "severity",
}


def _may_create_for(actor: User, account: Account) -> bool:
    if actor.role == Role.READ_ONLY and not actor.is_superuser:
        return False
    return accounts_visible_to(actor).filter(pk=account.pk).exists()


@transaction.atomic
def ticket_create(
    *, actor: User, account: Account, data: Mapping[str, Any], now: datetime | None = None
) -> Ticket:
    """Open a ticket on the account: SLA targets from its tier, deadlines on the business calendar."""
    now = now or timezone.now()
    unknown = sorted(set(data) - CREATE_FIELDS)
    if unknown:
        raise ValidationError({name: _("Unknown field.") for name in unknown})
    if account is None or not _may_create_for(actor, account):
        raise ValidationError({"account": _("Unknown account.")})
    contact = data.get("contact")
    if contact is not None and (
        not isinstance(contact, Contact) or contact.account_id != account.pk
    ):
        raise ValidationError({"contact": _("This contact does not belong to the account.")})
    assignee = data.get("assignee")
    if assignee is not None and assignee.role not in WORKER_ROLES:
        raise ValidationError({"assignee": _("Tickets can only be assigned to service staff.")})
    tier = account.tier or "ordinary"
    options = ServiceTier.objects.filter(tier=tier).select_related("dedicated_agent").first()
    ticket_type = data.get("ticket_type") or ""
    priority = data.get("priority") or "normal"
    first_hours, resolution_hours = targets_for(tier, ticket_type, priority)
    fast_lane = data.get("fast_lane")
    if fast_lane is None:
        fast_lane = bool(options and options.fast_lane)
    if (
        assignee is None
        and options
        and options.dedicated_agent
        and options.dedicated_agent.is_active
    ):
        assignee = options.dedicated_agent
    ticket = Ticket(
        account=account,
        contact=contact,
        ticket_type=ticket_type,
        priority=priority,
        channel=data.get("channel") or "hotline",
        subject=(data.get("subject") or "").strip(),
        description=(data.get("description") or "").strip(),
        assignee=assignee,
        fast_lane=bool(fast_lane),
        tier=tier,
        first_response_hours=first_hours,
        resolution_hours=resolution_hours,
        created_by=actor,
        created_at=now,
        updated_by=actor,
        updated_at=now,
    )
    if len(ticket.description) > MAX_DESCRIPTION:
        raise ValidationError(
            {
                "description": _("The description is too long (%(n)s characters; at most %(max)s).")
                % {"n": len(ticket.description), "max": MAX_DESCRIPTION}
            }
        )
    ticket.full_clean(exclude=["account", "contact", "assignee", "created_by", "updated_by"])
    complaint = None
    if ticket.is_complaint:
        complaint = ComplaintDetail(
            cause=data.get("cause") or ComplaintCause.OTHER,
            severity=data.get("severity") or Severity.MINOR,
        )
        complaint.full_clean(exclude=["ticket"])
    _due_recompute(ticket, calendar_module.calendar_get(), pauses=[])
    ticket.save()
    if complaint is not None:
        complaint.ticket = ticket
        complaint.save()
    _event(ticket, actor, EventKind.CREATED, now, ticket.description, to_status=Status.NEW)
    audit_record(
        actor=actor,
        action=Action.CREATE,
        instance=ticket,
        account=account,
        message=_("Ticket opened: %(subject)s") % {"subject": ticket.subject},
    )
    if assignee is not None and assignee != actor:
        _notify(
            [assignee],
            ticket,
            _("Ticket #%(pk)s was assigned to you: %(subject)s")
            % {"pk": ticket.pk, "subject": ticket.subject},
        )
    return ticket


def _check_work(actor: User, ticket: Ticket) -> None:
    if not ticket_may_work(actor, ticket):
        raise PermissionDenied(_("You may not work on this ticket."))


def _reopen_clock(ticket: Ticket, now: datetime) -> None:
    """Time between resolution and reopening does not count against the SLA."""
    if ticket.resolved_at is not None:
        TicketPause.objects.create(ticket=ticket, started_at=ticket.resolved_at, ended_at=now)
    ticket.resolved_at = None
    ticket.closed_at = None
    ticket.working_hours_spent = None


@transaction.atomic
def ticket_transition(
    *,
    ticket: Ticket,
    to_status: str,
    actor: User,
    version: int,
    note: str = "",
    now: datetime | None = None,
) -> Ticket:
    """Move the ticket along the status machine; illegal moves are refused with a clear message."""
    now = now or timezone.now()
    ticket = _lock(ticket, version)
    _check_work(actor, ticket)
    from_status = ticket.status
    if to_status not in Status.values:
        raise ValidationError({"status": _("Unknown status %(status)s.") % {"status": to_status}})
    if to_status == Status.CALLBACK_DONE and from_status == Status.RESOLVED:
        raise ValidationError(
            {"status": _("Record the callback (回访) to finish the callback step.")}
        )
    if to_status not in TRANSITIONS.get(from_status, ()):
        raise ValidationError(
            {
                "status": _("A ticket cannot go from “%(from)s” to “%(to)s”.")
                % {"from": Status(from_status).label, "to": Status(to_status).label}
            }
        )
    if to_status == Status.CLOSED and ticket.is_complaint:
        last = ticket.callbacks.order_by("-created_at").first()
        if last is None or not last.satisfied:
            raise ValidationError(
                {"status": _("A complaint closes only after a callback with a satisfied customer.")}
            )
    calendar = calendar_module.calendar_get()
    fields = {"status"}
    if ticket.assignee_id is None and actor.role == Role.SERVICE_AGENT:
        ticket.assignee = actor  # taking it from the queue
        fields.add("assignee")
    if to_status == Status.ACKNOWLEDGED and ticket.first_responded_at is None:
        ticket.first_responded_at = now
        fields.add("first_responded_at")
    if to_status == Status.WAITING:
        TicketPause.objects.create(ticket=ticket, started_at=now)
    if from_status == Status.WAITING:
        ticket.pauses.filter(ended_at__isnull=True).update(ended_at=now)
    if from_status in REOPENABLE and to_status == Status.IN_PROGRESS:
        _reopen_clock(ticket, now)
        fields |= {"resolved_at", "closed_at", "working_hours_spent"}
    if from_status == Status.WAITING or from_status in REOPENABLE:
        _due_recompute(ticket, calendar)
        fields |= {"response_due", "resolution_due"}
    if to_status == Status.RESOLVED:
        ticket.resolved_at = now
        spent = working_time_between(calendar, ticket.created_at, now, pauses_of(ticket))
        ticket.working_hours_spent = round(spent.total_seconds() / 3600, 2)
        fields |= {"resolved_at", "working_hours_spent"}
    if to_status == Status.CLOSED:
        ticket.closed_at = now
        fields.add("closed_at")
    ticket.status = to_status
    _touch(ticket, actor, now)
    _save(ticket, fields)
    _event(
        ticket,
        actor,
        EventKind.STATUS,
        now,
        note.strip(),
        from_status=from_status,
        to_status=to_status,
    )
    reopened = from_status in REOPENABLE and to_status == Status.IN_PROGRESS
    audit_record(
        actor=actor,
        action=Action.UPDATE,
        instance=ticket,
        account=ticket.account,
        changes={"status": [from_status, to_status]},
        message=(_("Ticket reopened") if reopened else _("Ticket status changed")),
    )
    return ticket


def ticket_reopen(*, ticket: Ticket, actor: User, version: int, note: str = "") -> Ticket:
    if ticket.status not in REOPENABLE:
        raise ValidationError({"status": _("Only resolved or closed tickets can be reopened.")})
    return ticket_transition(
        ticket=ticket, to_status=Status.IN_PROGRESS, actor=actor, version=version, note=note
    )


@transaction.atomic
def ticket_assign(*, ticket: Ticket, assignee: User | None, actor: User, version: int) -> Ticket:
    """Assign (service manager) or take (an agent, for themselves) the ticket."""
    now = timezone.now()
    ticket = _lock(ticket, version)
    if not roles.is_service_manager(actor) and not (
        actor.role == Role.SERVICE_AGENT
        and assignee == actor
        and ticket.assignee_id in (None, actor.pk)
    ):
        raise PermissionDenied(
            _("Only the service manager assigns tickets; agents may take unassigned ones.")
        )
    if assignee is not None and (assignee.role not in WORKER_ROLES or not assignee.is_active):
        raise ValidationError(
            {"assignee": _("Tickets can only be assigned to active service staff.")}
        )
    before = str(ticket.assignee) if ticket.assignee_id else ""
    ticket.assignee = assignee
    _touch(ticket, actor, now)
    _save(ticket, ["assignee"])
    _event(ticket, actor, EventKind.ASSIGNED, now, str(assignee or ""))
    audit_record(
        actor=actor,
        action=Action.UPDATE,
        instance=ticket,
        account=ticket.account,
        changes={"assignee": [before, str(assignee or "")]},
    )
    if assignee is not None and assignee != actor:
        _notify(
            [assignee],
            ticket,
            _("Ticket #%(pk)s was assigned to you: %(subject)s")
            % {"pk": ticket.pk, "subject": ticket.subject},
        )
    return ticket


def _text(body: str, field: str = "body") -> str:
    body = (body or "").strip()
    if not body:
        raise ValidationError({field: _("Write something first.")})
    if len(body) > MAX_DESCRIPTION:
        raise ValidationError(
            {
                field: _("The text is too long (at most %(max)s characters).")
                % {"max": MAX_DESCRIPTION}
            }
        )
    return body


@transaction.atomic
def ticket_reply(
    *, ticket: Ticket, actor: User, body: str, version: int | None = None
) -> TicketEvent:
    """A reply to the customer; the first one counts as the first response."""
    now = timezone.now()
    body = _text(body)
    ticket = _lock(ticket, version)
    _check_work(actor, ticket)
    fields = []
    if ticket.first_responded_at is None:
        ticket.first_responded_at = now
        fields.append("first_responded_at")
    _touch(ticket, actor, now)
    _save(ticket, fields)
    event = _event(ticket, actor, EventKind.REPLY, now, body)
    audit_record(
        actor=actor,
        action=Action.EVENT,
        instance=ticket,
        account=ticket.account,
        message=_("Reply sent to the customer"),
    )
    return event


@transaction.atomic
def ticket_note(
    *, ticket: Ticket, actor: User, body: str, version: int | None = None
) -> TicketEvent:
    """An internal note, never shown to the customer."""
    now = timezone.now()
    body = _text(body)
    ticket = _lock(ticket, version)
    if not ticket_may_note(actor, ticket):
        raise PermissionDenied(_("You may not add notes to this ticket."))
    _touch(ticket, actor, now)
    _save(ticket, [])
    return _event(ticket, actor, EventKind.NOTE, now, body)


@transaction.atomic
def ticket_attachment_add(*, ticket: Ticket, actor: User, upload: UploadedFile) -> Attachment:
    """Attach a file (at most 10 MB)."""
    if upload is None:
        raise ValidationError({"file": _("Choose a file.")})
    size = upload.size or 0
    if size > MAX_ATTACHMENT_BYTES:
        raise ValidationError(
            {
                "file": _("The file is too large (%(size)s MB; at most %(max)s MB).")
                % {"size": round(size / 1048576, 1), "max": MAX_ATTACHMENT_BYTES // 1048576}
            }
        )
    if not ticket_may_note(actor, ticket):
        raise PermissionDenied(_("You may not add attachments to this ticket."))
    now = timezone.now()
    name = (upload.name or "file")[-200:]
    attachment = Attachment(ticket=ticket, name=name, size=size, uploaded_by=actor, uploaded_at=now)
    attachment.file.save(name, upload, save=False)
    try:
        attachment.save()
    except Exception:
        attachment.file.delete(save=False)
        raise
    _event(ticket, actor, EventKind.ATTACHMENT, now, name)
    return attachment


@transaction.atomic
def complaint_recovery_add(
    *,
    ticket: Ticket,
    actor: User,
    kind: str,
    cost: Decimal | str | int,
    note: str = "",
    version: int,
) -> RecoveryAction:
    """Record a recovery action (apology, compensation, credit, replacement) and its cost."""
    now = timezone.now()
    ticket = _lock(ticket, version)
    _check_work(actor, ticket)
    if not ticket.is_complaint:
        raise ValidationError({"kind": _("Recovery actions belong to complaints.")})
    if kind not in RecoveryKind.values:
        raise ValidationError({"kind": _("Unknown recovery action.")})
    try:
        amount = Decimal(str(cost))
    except InvalidOperation:
        raise ValidationError({"cost": _("The cost must be a number.")}) from None
    if amount < 0 or not amount.is_finite():
        raise ValidationError({"cost": _("The cost cannot be negative.")})
    recovery = RecoveryAction(
        ticket=ticket,
        kind=kind,
        cost=amount,
        note=(note or "").strip(),
        created_by=actor,
        created_at=now,
    )
    recovery.full_clean(exclude=["ticket", "created_by"])
    recovery.save()
    _touch(ticket, actor, now)
    _save(ticket, [])
    _event(
        ticket,
        actor,
        EventKind.RECOVERY,
        now,
        f"{RecoveryKind(kind).label} ¥{amount} {recovery.note}".strip(),
    )
    audit_record(
        actor=actor,
        action=Action.EVENT,
        instance=ticket,
        account=ticket.account,
        changes={"recovery": [None, f"{kind} {amount}"]},
        message=_("Recovery action recorded"),
    )
    return recovery


@transaction.atomic
def ticket_callback_record(
    *, ticket: Ticket, actor: User, satisfied: bool, note: str = "", version: int
) -> Callback:
    """Record the callback (回访) of a resolved ticket: satisfied → callback done, else reopened."""
    now = timezone.now()
    ticket = _lock(ticket, version)
    _check_work(actor, ticket)
    if ticket.status != Status.RESOLVED:
        raise ValidationError({"status": _("Call the customer back once the ticket is resolved.")})
    callback = Callback(
        ticket=ticket,
        satisfied=bool(satisfied),
        note=(note or "").strip(),
        created_by=actor,
        created_at=now,
    )
    callback.full_clean(exclude=["ticket", "created_by"])
    callback.save()
    from_status = ticket.status
    fields = {"status"}
    if satisfied:
        ticket.status = Status.CALLBACK_DONE
    else:
        _reopen_clock(ticket, now)
        _due_recompute(ticket, calendar_module.calendar_get())
        ticket.status = Status.IN_PROGRESS
        fields |= {
            "resolved_at",
            "closed_at",
            "working_hours_spent",
            "response_due",
            "resolution_due",
        }
    _touch(ticket, actor, now)
    _save(ticket, fields)
    verdict = _("satisfied") if satisfied else _("not satisfied: reopened")
    _event(ticket, actor, EventKind.CALLBACK, now, f"{verdict}. {callback.note}".strip())
    _event(
        ticket, actor, EventKind.STATUS, now, "", from_status=from_status, to_status=ticket.status
    )
    audit_record(
        actor=actor,
        action=Action.EVENT,
        instance=ticket,
        account=ticket.account,
        changes={"status": [from_status, ticket.status]},
        message=_("Callback: %(verdict)s") % {"verdict": verdict},
    )
    return callback


# ---------------------------------------------------------------- escalation


def escalation_policy() -> EscalationPolicy:
    return EscalationPolicy.objects.order_by("pk").first() or EscalationPolicy.objects.create()


def _recipients(level: str, ticket: Ticket) -> list[User]:
    # ticket.assignee is None without a query when there is no assignee.
    if level == EscalationLevel.WARN:
        if (assignee := ticket.assignee) is not None:
            return [assignee]
        return list(User.objects.filter(role=Role.SERVICE_MANAGER, is_active=True))
    if level == EscalationLevel.BREACH:
        managers = list(User.objects.filter(role=Role.SERVICE_MANAGER, is_active=True))
        assignee = ticket.assignee
        return managers + ([assignee] if assignee is not None else [])
    return list(User.objects.filter(role=Role.DIRECTOR, is_active=True))


def _due_levels(
    ticket: Ticket, calendar: BusinessCalendar, policy: EscalationPolicy, now: datetime
) -> list[tuple[str, str]]:
    """(target, level) pairs whose moment has come for this ticket."""
    pauses = pauses_of(ticket)
    elapsed: timedelta | None = None
    found: list[tuple[str, str]] = []
    targets: list[tuple[str, Decimal, datetime, list]] = []
    if ticket.first_responded_at is None and ticket.response_due is not None:
        targets.append(
            (EscalationTarget.RESPONSE, ticket.first_response_hours, ticket.response_due, [])
        )
    if ticket.resolution_due is not None:
        targets.append(
            (EscalationTarget.RESOLUTION, ticket.resolution_hours, ticket.resolution_due, pauses)
        )
    for target, hours, due, target_pauses in targets:
        if now >= due:
            found.append((target, EscalationLevel.WARN))
            found.append((target, EscalationLevel.BREACH))
            late = working_time_between(calendar, due, now)
            if late >= _hours(policy.director_after_hours):
                found.append((target, EscalationLevel.DIRECTOR))
            continue
        elapsed = working_time_between(calendar, ticket.created_at, now, target_pauses)
        if elapsed >= _hours(hours) * policy.warn_percent / 100:
            found.append((target, EscalationLevel.WARN))
    return found


LEVEL_MESSAGES: dict[str, str] = {
    EscalationLevel.WARN: gettext_noop(
        "Ticket #%(pk)s (%(account)s) nears its %(target)s deadline %(due)s: %(subject)s"
    ),
    EscalationLevel.BREACH: gettext_noop(
        "Ticket #%(pk)s (%(account)s) missed its %(target)s deadline %(due)s: %(subject)s"
    ),
    EscalationLevel.DIRECTOR: gettext_noop(
        "Ticket #%(pk)s (%(account)s) is still late on its %(target)s deadline %(due)s: %(subject)s"
    ),
}


def sla_check(now: datetime | None = None) -> list[Escalation]:
    """Escalate every open ticket whose stage has come; each (ticket, target, level) fires once.

    Steps: load open, running tickets (waiting ones are paused) with their pauses;
    find the due stages; insert each Escalation in its own savepoint (the unique
    constraint makes a concurrent checker's duplicate a no-op); notify and audit.
    """
    now = now or timezone.now()
    calendar = calendar_module.calendar_get()
    policy = escalation_policy()
    fired: list[Escalation] = []
    done = {
        (ticket_id, target, level)
        for ticket_id, target, level in Escalation.objects.filter(
            ticket__status__in=(Status.NEW, Status.ACKNOWLEDGED, Status.IN_PROGRESS)
        ).values_list("ticket_id", "target", "level")
    }
    tickets = (
        Ticket.objects.filter(status__in=(Status.NEW, Status.ACKNOWLEDGED, Status.IN_PROGRESS))
        .select_related("account", "assignee")
        .prefetch_related("pauses")
    )
    for ticket in tickets.iterator(chunk_size=500):
        for target, level in _due_levels(ticket, calendar, policy, now):
            if (ticket.pk, target, level) in done:
                continue
            escalation = _escalation_fire(ticket, target, level, now)
            if escalation is not None:
                fired.append(escalation)
    return fired


def _escalation_fire(ticket: Ticket, target: str, level: str, now: datetime) -> Escalation | None:
    try:
        with transaction.atomic():
            escalation = Escalation.objects.create(
                ticket=ticket, target=target, level=level, at=now
            )
            due = (
                ticket.response_due
                if target == EscalationTarget.RESPONSE
                else ticket.resolution_due
            )
            message = _(LEVEL_MESSAGES[level]) % {
                "pk": ticket.pk,
                "account": ticket.account,
                "target": EscalationTarget(target).label,
                "due": timezone.localtime(due).strftime("%Y-%m-%d %H:%M"),
                "subject": ticket.subject,
            }
            escalation.notified = _notify(_recipients(level, ticket), ticket, message)
            escalation.save(update_fields=["notified"])
            _event(ticket, None, EventKind.ESCALATED, now, message)
            audit_record(
                actor=None,
                action=Action.EVENT,
                instance=ticket,
                account=ticket.account,
                changes={"escalation": [None, f"{target}/{level}"]},
                message=message,
            )
    except IntegrityError:
        return None  # another checker fired this stage first
    return escalation


# ---------------------------------------------------------------- settings


def _positive_hours(value: Any, field: str) -> Decimal:
    try:
        hours = Decimal(str(value))
    except InvalidOperation:
        raise ValidationError({field: _("Enter a number of working hours.")}) from None
    if not hours.is_finite() or hours <= 0:
        raise ValidationError(
            {field: _("A target must be more than 0 working hours, or it would never be met.")}
        )
    if hours > 10000:
        raise ValidationError({field: _("At most 10,000 working hours.")})
    return hours.quantize(Decimal("0.01"))


@transaction.atomic
def service_level_update(
    *, actor: User, level: ServiceLevel, first_response_hours: Any, resolution_hours: Any
) -> ServiceLevel:
    if not roles.is_service_manager(actor):
        raise PermissionDenied(_("Only the service manager may change service levels."))
    first = _positive_hours(first_response_hours, "first_response_hours")
    resolution = _positive_hours(resolution_hours, "resolution_hours")
    if resolution < first:
        raise ValidationError(
            {"resolution_hours": _("Resolution cannot be due before the first response.")}
        )
    before = [str(level.first_response_hours), str(level.resolution_hours)]
    level.first_response_hours, level.resolution_hours = first, resolution
    level.save()
    audit_record(
        actor=actor,
        action=Action.UPDATE,
        instance=level,
        changes={"targets": [before, [str(first), str(resolution)]]},
    )
    return level


@transaction.atomic
def service_tier_update(*, actor: User, tier: ServiceTier, data: Mapping[str, Any]) -> ServiceTier:
    if not roles.is_service_manager(actor):
        raise PermissionDenied(_("Only the service manager may change service levels."))
    from kam.service.models import Channel

    channels = list(data.get("channels", tier.channels))
    if bad := [channel for channel in channels if channel not in Channel.values]:
        raise ValidationError(
            {"channels": _("Unknown channels: %(list)s") % {"list": ", ".join(bad)}}
        )
    agent = data.get("dedicated_agent", tier.dedicated_agent)
    if agent is not None and agent.role not in WORKER_ROLES:
        raise ValidationError({"dedicated_agent": _("The dedicated agent must be service staff.")})
    tier.channels = channels
    tier.dedicated_agent = agent
    tier.on_site = bool(data.get("on_site", tier.on_site))
    tier.fast_lane = bool(data.get("fast_lane", tier.fast_lane))
    tier.save()
    audit_record(
        actor=actor, action=Action.UPDATE, instance=tier, message=_("Service options changed")
    )
    return tier


@transaction.atomic
def escalation_policy_update(
    *, actor: User, warn_percent: Any, director_after_hours: Any
) -> EscalationPolicy:
    """Change the escalation rule; one that would never fire is refused."""
    if not roles.is_service_manager(actor):
        raise PermissionDenied(_("Only the service manager may change escalation rules."))
    try:
        percent = int(warn_percent)
    except (TypeError, ValueError):
        raise ValidationError({"warn_percent": _("Enter a whole percentage.")}) from None
    if not 0 < percent < 100:
        raise ValidationError(
            {
                "warn_percent": _(
                    "The warning must come between 1%% and 99%% of the target; %(value)s%% would never warn before the deadline."
                )
                % {"value": percent}
            }
        )
    hours = _positive_hours(director_after_hours, "director_after_hours")
    policy = escalation_policy()
    before = [policy.warn_percent, str(policy.director_after_hours)]
    policy.warn_percent, policy.director_after_hours = percent, hours
    policy.save()
    audit_record(
        actor=actor,
        action=Action.UPDATE,
        instance=policy,
        changes={"policy": [before, [percent, str(hours)]]},
    )
    return policy


def _bump_calendar(config: BusinessCalendarConfig) -> None:
    config.revision = F("revision") + 1
    config.save()
    config.refresh_from_db()


@transaction.atomic
def calendar_update(
    *, actor: User, time_zone: str, weekly_hours: list[list[list[str]]]
) -> BusinessCalendarConfig:
    """Change the working week or time zone; a calendar without working time is refused."""
    if not roles.is_service_manager(actor):
        raise PermissionDenied(_("Only the service manager may change the business calendar."))
    try:
        calendar_module.calendar_build(time_zone, weekly_hours, set(), set())
    except ValueError as error:
        raise ValidationError({"weekly_hours": str(error)}) from None
    config = calendar_module.calendar_config()
    before = [config.time_zone, config.weekly_hours]
    config.time_zone, config.weekly_hours = time_zone, weekly_hours
    _bump_calendar(config)
    audit_record(
        actor=actor,
        action=Action.UPDATE,
        instance=config,
        changes={"calendar": [before, [time_zone, weekly_hours]]},
    )
    return config


@transaction.atomic
def calendar_day_set(*, actor: User | None, day: Any, kind: str, note: str = "") -> CalendarDay:
    """Add or change a holiday or make-up working day."""
    if actor is not None and not roles.is_service_manager(actor):
        raise PermissionDenied(_("Only the service manager may change the business calendar."))
    if kind not in DayKind.values:
        raise ValidationError({"kind": _("Choose holiday or make-up working day.")})
    entry, _created = CalendarDay.objects.update_or_create(
        day=day, defaults={"kind": kind, "note": (note or "")[:200]}
    )
    _bump_calendar(calendar_module.calendar_config())
    audit_record(
        actor=actor, action=Action.UPDATE, instance=entry, message=f"{day} {kind} {note}".strip()
    )
    return entry


@transaction.atomic
def calendar_day_remove(*, actor: User, day: Any) -> None:
    if not roles.is_service_manager(actor):
        raise PermissionDenied(_("Only the service manager may change the business calendar."))
    entry = CalendarDay.objects.filter(day=day).first()
    if entry is None:
        raise ValidationError({"day": _("No such day on the calendar.")})
    audit_record(actor=actor, action=Action.ARCHIVE, instance=entry, message=f"{day} removed")
    entry.delete()
    _bump_calendar(calendar_module.calendar_config())


@transaction.atomic
def calendar_years_load(
    *, actor: User | None, years: Iterable[int] | None = None, path: Any = None
) -> int:
    """Load China's holidays and make-up days for `years` from kam.lib's data file (or `path`)."""
    from kam.lib.holidays_cn import load_china_calendar

    try:
        holidays, workdays = load_china_calendar(years, path=path)
    except (ValueError, OSError) as error:
        raise ValidationError({"years": str(error)}) from None
    count = 0
    for days, kind in ((holidays, DayKind.HOLIDAY), (workdays, DayKind.WORKDAY)):
        for day in sorted(days):
            CalendarDay.objects.update_or_create(day=day, defaults={"kind": kind})
            count += 1
    _bump_calendar(calendar_module.calendar_config())
    config = calendar_module.calendar_config()
    audit_record(
        actor=actor,
        action=Action.UPDATE,
        instance=config,
        message=f"loaded {count} holiday/make-up days",
    )
    return count


__all__ = [
    "TRANSITIONS",
    "TicketConflict",
    "TicketType",
    "allowed_transitions",
    "calendar_day_remove",
    "calendar_day_set",
    "calendar_update",
    "calendar_years_load",
    "complaint_recovery_add",
    "escalation_policy_update",
    "service_level_update",
    "service_tier_update",
    "sla_check",
    "ticket_assign",
    "ticket_attachment_add",
    "ticket_callback_record",
    "ticket_create",
    "ticket_note",
    "ticket_reopen",
    "ticket_reply",
    "ticket_transition",
]
