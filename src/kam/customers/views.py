"""Account list, profile card and the edit forms of the customer master."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kam.core.forms import add_service_errors
from kam.core.htmx import render_page
from kam.core.http import AuthenticatedHttpRequest
from kam.customers import selectors, services
from kam.customers.forms import AccountFilterForm, AccountForm, CompetitorPresenceForm, ContactForm
from kam.customers.orgchart import org_chart_data
from kam.customers.profile import profile_sections
from kam.users import roles

PAGE_SIZE = 50


def account_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = AccountFilterForm(request.GET or None)
    accounts = selectors.account_list(request.user, form.to_filters())
    page = Paginator(accounts, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "may_create": roles.may_edit_customers(request.user),
    }
    return render_page(request, "customers/list.html", "customers/partials/results.html", context)


def account_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    account = selectors.account_get_for_user(request.user, pk)
    context = profile_sections(request.user, account)
    context["org_chart"] = org_chart_data(account, context["contacts"])
    return render(request, "customers/detail.html", context)


def account_timeline(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    account = selectors.account_get_for_user(request.user, pk)
    entries = account.audit_entries.select_related("actor")
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    return render(request, "customers/partials/timeline.html", {"account": account, "page": page})


def account_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    if not roles.may_edit_customers(request.user):
        raise PermissionDenied
    visible = selectors.accounts_visible_to(request.user)
    form = AccountForm(request.POST or None, visible_accounts=visible)
    if request.method == "POST" and form.is_valid():
        try:
            account = services.account_create(actor=request.user, data=form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Account created."))
            return redirect("customers:detail", pk=account.pk)
    return render(request, "customers/form.html", {"form": form, "title": _("New account")})


def account_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    account = selectors.account_get_for_user(request.user, pk, for_edit=True)
    visible = selectors.accounts_visible_to(request.user).exclude(pk=account.pk)
    form = AccountForm(request.POST or None, instance=account, visible_accounts=visible)
    if request.method == "POST" and form.is_valid():
        try:
            services.account_update(actor=request.user, account=account, data=form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Account saved."))
            return redirect("customers:detail", pk=account.pk)
    context = {"form": form, "account": account, "title": _("Edit %(name)s") % {"name": account}}
    return render(request, "customers/form.html", context)


@require_POST
def account_archive(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    account = selectors.account_get_for_user(request.user, pk, for_edit=True)
    archived = request.POST.get("restore") != "1"
    services.account_archive(actor=request.user, account=account, archived=archived)
    messages.success(request, _("Account archived.") if archived else _("Account restored."))
    return redirect("customers:detail", pk=account.pk)


def contact_create(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    account = selectors.account_get_for_user(request.user, pk, for_edit=True)
    form = ContactForm(request.POST or None, account=account)
    if request.method == "POST" and form.is_valid():
        try:
            services.contact_create(actor=request.user, account=account, data=form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Contact added."))
            return redirect("customers:detail", pk=account.pk)
    context = {"form": form, "account": account, "title": _("New contact")}
    return render(request, "customers/form.html", context)


def contact_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    contact = selectors.contact_get_for_user(request.user, pk, for_edit=True)
    form = ContactForm(request.POST or None, instance=contact, account=contact.account)
    if request.method == "POST" and form.is_valid():
        try:
            services.contact_update(actor=request.user, contact=contact, data=form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Contact saved."))
            return redirect("customers:detail", pk=contact.account_id)
    context = {
        "form": form,
        "account": contact.account,
        "title": _("Edit %(name)s") % {"name": contact.name},
    }
    return render(request, "customers/form.html", context)


@require_POST
def contact_archive(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    contact = selectors.contact_get_for_user(request.user, pk, for_edit=True)
    services.contact_archive(actor=request.user, contact=contact)
    messages.success(request, _("Contact removed from the card (kept in the history)."))
    return redirect("customers:detail", pk=contact.account_id)


def _presence_data(form: CompetitorPresenceForm) -> dict:
    data = {k: v for k, v in form.cleaned_data.items() if k != "competitor_name"}
    data["competitor"] = services.competitor_get_or_create(
        name=form.cleaned_data["competitor_name"]
    )
    return data


def competitor_create(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    account = selectors.account_get_for_user(request.user, pk, for_edit=True)
    form = CompetitorPresenceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.competitor_presence_create(
                actor=request.user, account=account, data=_presence_data(form)
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Competitor added."))
            return redirect("customers:detail", pk=account.pk)
    context = {"form": form, "account": account, "title": _("Competitor at this account")}
    return render(request, "customers/form.html", context)


def competitor_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    presence = selectors.competitor_presence_get_for_user(request.user, pk, for_edit=True)
    form = CompetitorPresenceForm(request.POST or None, instance=presence)
    if request.method == "POST" and form.is_valid():
        try:
            services.competitor_presence_update(
                actor=request.user, presence=presence, data=_presence_data(form)
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Competitor saved."))
            return redirect("customers:detail", pk=presence.account_id)
    context = {"form": form, "account": presence.account, "title": _("Competitor at this account")}
    return render(request, "customers/form.html", context)


@require_POST
def competitor_archive(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    presence = selectors.competitor_presence_get_for_user(request.user, pk, for_edit=True)
    services.competitor_presence_archive(actor=request.user, presence=presence)
    messages.success(request, _("Competitor removed from the card (kept in the history)."))
    return redirect("customers:detail", pk=presence.account_id)
