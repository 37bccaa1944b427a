"""Director dashboard, score list, tier proposals, configuration and per-account forms."""

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kam.core.forms import add_service_errors
from kam.core.htmx import render_page
from kam.core.http import AuthenticatedHttpRequest
from kam.customers.selectors import account_get_for_user
from kam.segmentation import selectors, services, tasks
from kam.segmentation.forms import (
    ProposalDecisionForm,
    ScoreFilterForm,
    ScoringConfigForm,
    StrategicProfileForm,
    TierForm,
)
from kam.segmentation.models import AccountStrategicProfile, ProposalStatus
from kam.users import roles

PAGE_SIZE = 50
CHART_TEXTS = {
    "accounts": gettext_lazy("share of accounts"),
    "value": gettext_lazy("share of value"),
    "cumulative": gettext_lazy("cumulative share"),
    "revenue": gettext_lazy("revenue"),
    "margin": gettext_lazy("margin"),
    "value_score": gettext_lazy("value score"),
    "potential_score": gettext_lazy("potential score"),
    "q_develop": gettext_lazy("develop: high value, high potential"),
    "q_potential": gettext_lazy("invest: low value, high potential"),
    "q_keep": gettext_lazy("keep: high value, low potential"),
    "q_maintain": gettext_lazy("maintain: low value, low potential"),
}


def _labels() -> dict[str, str]:
    return services.scoring_config_get().tier_labels(get_language() or "zh-hans")


def _director_only(request: AuthenticatedHttpRequest) -> None:
    if not roles.is_director(request.user):
        raise PermissionDenied


def dashboard(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = ScoreFilterForm(request.GET or None)
    filters = form.to_filters()
    run = selectors.run_latest()
    scores = selectors.scores_visible_to(request.user, filters, run)
    labels = _labels()
    pyramid = selectors.tier_pyramid(scores)
    order = {code: index for index, code in enumerate(labels)}
    pyramid.sort(key=lambda row: order.get(row["tier"], len(order)))
    pareto = selectors.pareto_curve(scores)
    charts = {
        "pareto": pareto,
        "pyramid": [
            {**row, "label": labels.get(row["tier"], row["tier"] or "—")} for row in pyramid
        ],
        "matrix": selectors.value_potential_points(scores),
        "labels": labels,
    }
    context: dict[str, Any] = {
        "form": form,
        "run": run,
        "abc_counts": pareto["abc_counts"],
        "pyramid": charts["pyramid"],
        "charts": charts,
        "chart_texts": CHART_TEXTS,
        "movers": selectors.movers(request.user, filters, run),
        "labels": labels,
        "is_director": roles.is_director(request.user),
        "pending_count": selectors.proposals_visible_to(request.user).count(),
    }
    return render_page(
        request, "segmentation/dashboard.html", "segmentation/partials/dashboard_body.html", context
    )


def score_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = ScoreFilterForm(request.GET or None)
    scores = selectors.scores_visible_to(request.user, form.to_filters()).order_by("rank")
    page = Paginator(scores, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "query": query.urlencode(), "labels": _labels()}
    return render_page(
        request, "segmentation/scores.html", "segmentation/partials/score_rows.html", context
    )


def proposal_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    _director_only(request)
    status = request.GET.get("status", ProposalStatus.PENDING)
    if status not in ProposalStatus.values:
        status = ProposalStatus.PENDING
    labels = _labels()
    to_tier = request.GET.get("to_tier", "")
    if to_tier not in labels:
        to_tier = ""
    proposals = selectors.proposals_visible_to(request.user, status, to_tier)
    if request.method == "POST" and request.POST.get("action") in ("approve_all", "reject_all"):
        return _decide_all(request, to_tier)
    page = Paginator(proposals, PAGE_SIZE).get_page(request.GET.get("page"))
    form = ProposalDecisionForm(request.POST or None, proposal_ids=[p.pk for p in page])
    if request.method == "POST" and form.is_valid():
        chosen = list(
            selectors.proposals_visible_to(request.user).filter(
                pk__in=form.cleaned_data["proposals"]
            )
        )
        note = form.cleaned_data["note"]
        try:
            if form.cleaned_data["action"] == "approve":
                count = services.tier_proposals_approve_bulk(
                    proposals=chosen, director=request.user, note=note
                )
                messages.success(request, _("%(count)s tier changes approved.") % {"count": count})
            else:
                count = services.tier_proposals_reject_bulk(
                    proposals=chosen, director=request.user, note=note
                )
                messages.success(request, _("%(count)s tier changes rejected.") % {"count": count})
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return redirect("segmentation:proposals")
    context = {
        "page": page,
        "form": form,
        "status": status,
        "statuses": ProposalStatus.choices,
        "labels": labels,
        "to_tier": to_tier,
    }
    return render(request, "segmentation/proposals.html", context)


def _decide_all(request: AuthenticatedHttpRequest, to_tier: str) -> HttpResponse:
    """Approve or reject every pending proposal (to the chosen tier) as a background task."""
    approve = request.POST["action"] == "approve_all"
    note = request.POST.get("note", "")[:500]
    count = services.proposals_matching(to_tier=to_tier).count()
    tasks.proposals_decide_matching.enqueue(request.user.pk, approve, to_tier, note)
    text = (
        _("Approving %(count)s tier changes in the background; refresh to see them done.")
        if approve
        else _("Rejecting %(count)s tier changes in the background; refresh to see them done.")
    )
    messages.success(request, text % {"count": count})
    url = reverse("segmentation:proposals")
    return redirect(f"{url}?to_tier={to_tier}" if to_tier else url)


def config_edit(request: AuthenticatedHttpRequest) -> HttpResponse:
    _director_only(request)
    config = services.scoring_config_get()
    form = ScoringConfigForm(request.POST or None, instance=config)
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in form.fields}
        config.refresh_from_db()
        try:
            services.scoring_config_update(actor=request.user, data=data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Scoring configuration saved."))
            return redirect("segmentation:config")
    return render(request, "segmentation/config.html", {"form": form})


@require_POST
def score_now(request: AuthenticatedHttpRequest) -> HttpResponse:
    _director_only(request)
    tasks.score_now.enqueue(request.user.pk)
    messages.success(request, _("Scoring started; the results appear when it is done."))
    return redirect("segmentation:dashboard")


def strategic_profile_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    account = account_get_for_user(request.user, pk, for_edit=True)
    profile = AccountStrategicProfile.objects.filter(account=account).first()
    form = StrategicProfileForm(request.POST or None, instance=profile)
    if request.method == "POST" and form.is_valid():
        try:
            services.strategic_profile_save(
                account=account, data=form.cleaned_data, actor=request.user
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Strategic criteria saved; the next scoring uses them."))
            return redirect("customers:detail", pk=account.pk)
    title = _("Strategic criteria of %(account)s") % {"account": account}
    return render(
        request, "segmentation/form.html", {"form": form, "title": title, "account": account}
    )


def tier_override(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    account = account_get_for_user(request.user, pk)
    _director_only(request)
    form = TierForm(request.POST or None, labels=_labels(), initial={"tier": account.tier})
    if request.method == "POST" and form.is_valid():
        try:
            services.tier_override(
                account=account,
                tier=form.cleaned_data["tier"],
                reason=form.cleaned_data["reason"],
                actor=request.user,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Tier set."))
            return redirect("customers:detail", pk=account.pk)
    title = _("Override the tier of %(account)s") % {"account": account}
    return render(
        request, "segmentation/form.html", {"form": form, "title": title, "account": account}
    )
