"""Ledger pages: per-account orders and chart, import with progress, templates, export."""

import tempfile
from pathlib import Path

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from kam.core.htmx import render_page
from kam.core.http import AuthenticatedHttpRequest
from kam.customers.forms import AccountFilterForm
from kam.customers.selectors import account_get_for_user, account_list
from kam.ledger import selectors, services
from kam.ledger.columns import headers
from kam.ledger.exporting import csv_chunks, export_rows
from kam.ledger.forms import DateRangeForm, ImportForm
from kam.lib.tabular import write_table
from kam.users import roles

PAGE_SIZE = 50
KINDS = ("accounts", "contacts", "orders")


def account_orders(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    account = account_get_for_user(request.user, pk)
    form = DateRangeForm(request.GET or None)
    dates = form.cleaned_data if form.is_valid() else {}
    lines = selectors.order_lines_of(
        account, date_from=dates.get("date_from"), date_to=dates.get("date_to")
    )
    page = Paginator(lines, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    monthly = selectors.monthly_totals(account)
    chart = {
        "months": [m["month"] for m in monthly],
        "revenue": [float(m["revenue"]) for m in monthly],
        "margin": [None if m["margin"] is None else float(m["margin"]) for m in monthly],
    }
    context = {
        "account": account,
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "chart": chart,
        "top_products": selectors.top_products(account),
    }
    return render_page(request, "ledger/orders.html", "ledger/partials/order_rows.html", context)


def import_start(request: AuthenticatedHttpRequest) -> HttpResponse:
    if not roles.may_edit_customers(request.user):
        raise PermissionDenied
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        run = services.import_upload_start(
            user=request.user,
            upload=data["file"],
            kind=data["kind"],
            dry_run=data["dry_run"],
            skip_invalid=data["skip_invalid"],
            create_accounts=data["create_accounts"],
        )
        return redirect("ledger:import_detail", pk=run.pk)
    runs = selectors.import_runs_visible_to(request.user)[:20]
    return render(request, "ledger/import.html", {"form": form, "runs": runs, "kinds": KINDS})


def import_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(selectors.import_runs_visible_to(request.user), pk=pk)
    services.import_run_stale_fail(run)
    return render_page(
        request, "ledger/import_detail.html", "ledger/partials/import_progress.html", {"run": run}
    )


def template_download(request: AuthenticatedHttpRequest, kind: str, fmt: str) -> HttpResponseBase:
    if kind not in KINDS or fmt not in ("csv", "xlsx"):
        raise Http404
    chinese = request.GET.get("lang") == "zh"
    names = headers(kind, chinese=chinese)
    response: HttpResponseBase
    if fmt == "csv":
        response = StreamingHttpResponse(csv_chunks(names, []), content_type="text/csv")
    else:
        response = _xlsx_response(names, [])
    name = f"kam-{kind}-template{'-zh' if chinese else ''}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def export_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = AccountFilterForm(request.GET or None)
    query = request.GET.urlencode()
    return render(request, "ledger/export.html", {"form": form, "query": query, "kinds": KINDS})


def export_download(request: AuthenticatedHttpRequest, kind: str, fmt: str) -> HttpResponseBase:
    if kind not in KINDS or fmt not in ("csv", "xlsx"):
        raise Http404
    accounts = account_list(request.user, AccountFilterForm(request.GET or None).to_filters())
    header, rows = export_rows(kind, accounts)
    response: HttpResponseBase
    if fmt == "csv":
        response = StreamingHttpResponse(csv_chunks(header, rows), content_type="text/csv")
    else:
        response = _xlsx_response(header, rows)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="kam-{kind}-{stamp}.{fmt}"'
    return response


def _xlsx_response(header: list[str], rows: object) -> FileResponse:
    """XLSX cannot be streamed as it is written: build it in a temporary file, then send it."""
    spool = tempfile.NamedTemporaryFile(suffix=".xlsx", delete=False)  # noqa: SIM115
    spool.close()
    path = Path(spool.name)
    write_table(path, header, rows)  # type: ignore[arg-type]
    stream = path.open("rb")
    path.unlink()  # the open handle keeps the data until the response closes it
    return FileResponse(
        stream,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
