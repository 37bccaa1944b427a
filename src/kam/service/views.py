"""Service desk pages: the queue, a ticket and its actions, settings, calendar, analytics."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import wraps
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kam.core.forms import add_service_errors
from kam.core.htmx import render_page
from kam.core.http import AuthenticatedHttpRequest
from kam.customers.models import Contact
from kam.customers.selectors import accounts_visible_to
from kam.lib.business_calendar import working_time_between
from kam.service import analytics, selectors, services
from kam.service.calendar import calendar_config, calendar_get, calendar_years_covered
from kam.service.forms import (
    AssignForm,
    AttachmentForm,
    CalendarDayForm,
    CallbackForm,
    MessageForm,
    PolicyForm,
    QueueFilterForm,
    RecoveryForm,
    TicketForm,
    TierOptionsForm,
    TransitionForm,
    WeekForm,
)
from kam.service.models import (
    CalendarDay,
    EventKind,
    Notification,
    ServiceLevel,
    ServiceTier,
    Status,
    Ticket,
)
from kam.users import roles

PAGE_SIZE = 50


def time_left_label(delta: timedelta) -> str:
    """Working time as '3h 20m' (negative: overdue)."""
    minutes = int(abs(delta.total_seconds()) // 60)
    text = f"{minutes // 60}h {minutes % 60:02d}m"
    return f"-{text}" if delta < timedelta(0) else text


@dataclass
class QueueRow:
    """A ticket of the queue page with its working time left ('' when no clock runs)."""

    ticket: Ticket
    time_left: str = ""
    breached: bool = False


def queue(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = QueueFilterForm(request.GET or None)
    tickets = selectors.ticket_list(request.user, form.to_filters())
    page = Paginator(tickets, PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    calendar = calendar_get()
    rows = []
    for ticket in page:
        row = QueueRow(ticket)
        due = ticket.resolution_due
        if due and ticket.is_open and ticket.status != Status.WAITING:
            left = working_time_between(calendar, now, due)
            row.time_left = time_left_label(left)
            row.breached = left < timedelta(0)
        rows.append(row)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "rows": rows,
        "query": query.urlencode(),
        "may_manage": selectors.may_manage_service(request.user),
    }
    return render_page(request, "service/queue.html", "service/partials/queue_rows.html", context)


def ticket_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    accounts = accounts_visible_to(request.user)
    initial = {"account": request.GET.get("account")} if request.GET.get("account") else {}
    form = TicketForm(request.POST or None, accounts=accounts, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            ticket = services.ticket_create(
                actor=request.user, account=form.cleaned_data["account"], data=form.service_data()
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Ticket #%(pk)s opened.") % {"pk": ticket.pk})
            return redirect("service:detail", pk=ticket.pk)
    return render(request, "service/form.html", {"form": form, "title": _("New ticket")})


def contact_options(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The contact <select> options of the chosen account (HTMX on the new-ticket form)."""
    account = accounts_visible_to(request.user).filter(pk=request.GET.get("account") or 0).first()
    contacts = (
        Contact.objects.filter(account=account, archived=False)
        if account
        else Contact.objects.none()
    )
    return render(request, "service/partials/contact_options.html", {"contacts": contacts})


def ticket_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    ticket = selectors.ticket_get_for_user(request.user, pk)
    may_work = selectors.ticket_may_work(request.user, ticket)
    version = {"version": ticket.version}
    context = {
        "ticket": ticket,
        "may_work": may_work,
        "may_note": selectors.ticket_may_note(request.user, ticket),
        "may_assign": roles.is_service_manager(request.user),
        "may_take": may_work
        and ticket.assignee_id is None
        and request.user.role == "service_agent",
        "transitions": [
            (status, Status(status).label) for status in services.allowed_transitions(ticket)
        ],
        "events": ticket.events.select_related("actor"),
        "attachments": ticket.attachments.all(),
        "recoveries": ticket.recoveries.select_related("created_by"),
        "callbacks": ticket.callbacks.select_related("created_by"),
        "escalations": ticket.escalations.all(),
        "message_form": MessageForm(initial=version),
        "recovery_form": RecoveryForm(initial=version),
        "callback_form": CallbackForm(initial=version),
        "assign_form": AssignForm(initial={**version, "assignee": ticket.assignee_id}),
        "attachment_form": AttachmentForm(),
        "reply_kind": EventKind.REPLY,
    }
    return render(request, "service/detail.html", context)


def ticket_action(view: Callable[..., None]) -> Callable[..., HttpResponse]:
    """POST-only ticket action: errors and stale versions become messages, then back to the ticket."""

    @require_POST
    @wraps(view)
    def wrapper(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
        ticket = selectors.ticket_get_for_user(request.user, pk)
        try:
            view(request, ticket)
        except services.TicketConflict as conflict:
            messages.error(request, str(conflict))
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        except PermissionDenied as error:
            messages.error(request, str(error) or _("You may not do that."))
        return redirect("service:detail", pk=pk)

    return wrapper


def _valid(form: Any) -> dict[str, Any]:
    if not form.is_valid():
        errors = [f"{field}: {' '.join(texts)}" for field, texts in form.errors.items()]
        raise ValidationError("; ".join(errors))
    return form.cleaned_data


@ticket_action
def ticket_transition(request: AuthenticatedHttpRequest, ticket: Ticket) -> None:
    data = _valid(TransitionForm(request.POST))
    services.ticket_transition(
        ticket=ticket,
        to_status=data["status"],
        actor=request.user,
        version=data["version"],
        note=data["note"],
    )
    messages.success(request, _("Status: %(status)s.") % {"status": Status(data["status"]).label})


@ticket_action
def ticket_message(request: AuthenticatedHttpRequest, ticket: Ticket) -> None:
    data = _valid(MessageForm(request.POST))
    write = services.ticket_note if data["internal"] else services.ticket_reply
    write(ticket=ticket, actor=request.user, body=data["body"], version=data["version"])
    messages.success(request, _("Note added.") if data["internal"] else _("Reply sent."))


@ticket_action
def ticket_assign(request: AuthenticatedHttpRequest, ticket: Ticket) -> None:
    form = AssignForm(request.POST)
    data = _valid(form)
    assignee = request.user if request.POST.get("take") else data["assignee"]
    services.ticket_assign(
        ticket=ticket, assignee=assignee, actor=request.user, version=data["version"]
    )
    messages.success(request, _("Assigned to %(user)s.") % {"user": assignee or "—"})


@ticket_action
def ticket_recovery(request: AuthenticatedHttpRequest, ticket: Ticket) -> None:
    data = _valid(RecoveryForm(request.POST))
    services.complaint_recovery_add(
        ticket=ticket,
        actor=request.user,
        kind=data["kind"],
        cost=data["cost"],
        note=data["note"],
        version=data["version"],
    )
    messages.success(request, _("Recovery action recorded."))


@ticket_action
def ticket_callback(request: AuthenticatedHttpRequest, ticket: Ticket) -> None:
    data = _valid(CallbackForm(request.POST))
    services.ticket_callback_record(
        ticket=ticket,
        actor=request.user,
        satisfied=data["satisfied"],
        note=data["note"],
        version=data["version"],
    )
    messages.success(request, _("Callback recorded."))


@ticket_action
def ticket_attachment(request: AuthenticatedHttpRequest, ticket: Ticket) -> None:
    form = AttachmentForm(request.POST, request.FILES)
    data = _valid(form)
    services.ticket_attachment_add(ticket=ticket, actor=request.user, upload=data["file"])
    messages.success(request, _("File attached."))


def attachment_download(
    request: AuthenticatedHttpRequest, pk: int, attachment_id: int
) -> HttpResponseBase:
    from django.http import FileResponse

    ticket = selectors.ticket_get_for_user(request.user, pk)
    attachment = get_object_or_404(ticket.attachments, pk=attachment_id)
    return FileResponse(attachment.file.open("rb"), as_attachment=True, filename=attachment.name)


def service_settings(request: AuthenticatedHttpRequest) -> HttpResponse:
    selectors.require_service_manager(request.user)
    if request.method == "POST":
        _settings_save(request)
        return redirect("service:settings")
    levels = ServiceLevel.objects.all()
    tiers = list(ServiceTier.objects.select_related("dedicated_agent"))
    tier_forms = [
        (
            tier,
            TierOptionsForm(
                initial={
                    "channels": tier.channels,
                    "dedicated_agent": tier.dedicated_agent_id,
                    "on_site": tier.on_site,
                    "fast_lane": tier.fast_lane,
                },
                prefix=f"tier{tier.pk}",
            ),
        )
        for tier in tiers
    ]
    policy = services.escalation_policy()
    policy_form = PolicyForm(
        initial={
            "warn_percent": policy.warn_percent,
            "director_after_hours": policy.director_after_hours,
        }
    )
    context = {"levels": levels, "tier_forms": tier_forms, "policy_form": policy_form}
    return render(request, "service/settings.html", context)


def _settings_save(request: AuthenticatedHttpRequest) -> None:
    try:
        if "level" in request.POST:
            level = get_object_or_404(ServiceLevel, pk=request.POST["level"])
            services.service_level_update(
                actor=request.user,
                level=level,
                first_response_hours=request.POST.get("first_response_hours"),
                resolution_hours=request.POST.get("resolution_hours"),
            )
        elif "tier" in request.POST:
            tier = get_object_or_404(ServiceTier, pk=request.POST["tier"])
            data = _valid(TierOptionsForm(request.POST, prefix=f"tier{tier.pk}"))
            services.service_tier_update(actor=request.user, tier=tier, data=data)
        else:
            data = _valid(PolicyForm(request.POST))
            services.escalation_policy_update(actor=request.user, **data)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Saved."))


def service_calendar(request: AuthenticatedHttpRequest) -> HttpResponse:
    selectors.require_service_manager(request.user)
    config = calendar_config()
    week_form = WeekForm(
        request.POST or None,
        weekly_hours=config.weekly_hours,
        initial={"time_zone": config.time_zone},
    )
    day_form = CalendarDayForm()
    if request.method == "POST":
        if "remove" in request.POST:
            _calendar_try(
                request,
                lambda: services.calendar_day_remove(
                    actor=request.user, day=request.POST["remove"]
                ),
            )
            return redirect("service:calendar")
        if "kind" in request.POST:
            day_form = CalendarDayForm(request.POST)
            if day_form.is_valid():
                _calendar_try(
                    request,
                    lambda: services.calendar_day_set(actor=request.user, **day_form.cleaned_data),
                )
                return redirect("service:calendar")
        elif week_form.is_valid():
            try:
                services.calendar_update(
                    actor=request.user,
                    time_zone=week_form.cleaned_data["time_zone"],
                    weekly_hours=week_form.cleaned_data["weekly_hours"],
                )
            except ValidationError as error:
                add_service_errors(week_form, error)
            else:
                messages.success(request, _("Working hours saved."))
                return redirect("service:calendar")
    this_year = timezone.localdate().year
    missing = [year for year in (this_year, this_year + 1) if year not in calendar_years_covered()]
    context = {
        "week_form": week_form,
        "day_form": day_form,
        "days": CalendarDay.objects.filter(day__year__gte=this_year - 1),
        "missing_years": missing,
    }
    return render(request, "service/calendar.html", context)


def _calendar_try(request: AuthenticatedHttpRequest, write: Callable[[], Any]) -> None:
    try:
        write()
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Calendar saved."))


def service_analytics(request: AuthenticatedHttpRequest) -> HttpResponse:
    if not selectors.sees_analytics(request.user):
        raise PermissionDenied
    report = analytics.report(selectors.tickets_visible_to(request.user))
    context = {"report": report, "charts": report["charts"]}
    return render(request, "service/analytics.html", context)


def notifications(request: AuthenticatedHttpRequest) -> HttpResponse:
    items = Notification.objects.filter(user=request.user).select_related("ticket")
    if request.method == "POST":
        items.filter(read=False).update(read=True)
        return redirect("service:notifications")
    return render(request, "service/notifications.html", {"items": items[:100]})
