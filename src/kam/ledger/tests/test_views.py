"""Ledger pages and API: per-account orders, monthly chart, import upload, templates, export."""

import io
import itertools
import json
import os
import re
import socket
import subprocess
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from openpyxl import load_workbook

from kam.ledger import services
from kam.ledger.importing import import_file
from kam.ledger.models import ImportRun, ImportStatus, OrderLine

CSV = (
    "客户编号,订单号,行号,日期,产品编码,产品名称,数量,金额,成本\n"
    "A1,SO-1,1,2024-03-05,P1,工业网关,2,1200,1000\n"
    "A1,SO-1,2,2024-03-05,P2,配电柜,1,100,\n"
    "A1,SO-3,1,2024-04-02,P1,工业网关,1,600,450\n"
    "A1,CN-1,1,2024-04-20,P1,工业网关,-1,-600,-450\n"
)


@pytest.fixture(autouse=True)
def immediate_tasks(settings, tmp_path):
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def account(account_make, am_member, tmp_path):
    account = account_make(code="A1", owner=am_member)
    path = tmp_path / "o.csv"
    path.write_text(CSV, encoding="utf-8")
    assert import_file(kind="orders", path=path).written
    return account


def test_orders_page_lists_lines_with_chart_and_top_products(client_for, am_member, account):
    response = client_for(am_member).get(f"/ledger/accounts/{account.pk}/orders/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "SO-1" in body and "CN-1" in body and "monthly-chart" in body
    # The chart's data reaches its script as an object (not a JSON string inside JSON).
    match = re.search(r'<script id="monthly-data" type="application/json">(.*?)</script>', body)
    assert match
    data = json.loads(match.group(1))
    assert set(data) == {"months", "revenue", "margin"} and data["months"]
    assert len(data["revenue"]) == len(data["months"])
    assert response.context["top_products"][0]["product__code"] == "P1"


def test_orders_page_filters_by_date_and_rejects_a_reversed_range(client_for, am_member, account):
    client = client_for(am_member)
    response = client.get(f"/ledger/accounts/{account.pk}/orders/?date_from=2024-04-01")
    assert [line.order_no for line in response.context["page"]] == ["CN-1", "SO-3"]
    response = client.get(
        f"/ledger/accounts/{account.pk}/orders/?date_from=2024-05-01&date_to=2024-01-01"
    )
    assert response.status_code == 200
    assert response.context["form"].errors
    assert response.context["page"].paginator.count == 4  # invalid filter: unfiltered


def test_orders_page_query_count_does_not_grow_with_lines(
    client_for, am_member, account, django_assert_num_queries
):
    client = client_for(am_member)
    url = f"/ledger/accounts/{account.pk}/orders/"
    client.get(url)
    # session, user, led teams, account, count, page, monthly totals, top products
    with django_assert_num_queries(8):
        client.get(url)


def test_outsider_gets_404_on_orders_page_and_api(client_for, am_outsider, account):
    client = client_for(am_outsider)
    assert client.get(f"/ledger/accounts/{account.pk}/orders/").status_code == 404
    assert client.get(f"/api/ledger/accounts/{account.pk}/orders").status_code == 404
    assert client.get(f"/api/ledger/accounts/{account.pk}/monthly").status_code == 404


def test_api_lists_orders_paginated_and_monthly_totals(client_for, am_member, account):
    client = client_for(am_member)
    data = client.get(f"/api/ledger/accounts/{account.pk}/orders?date_to=2024-03-31").json()
    assert data["count"] == 2
    assert {item["order_no"] for item in data["items"]} == {"SO-1"}
    months = client.get(f"/api/ledger/accounts/{account.pk}/monthly").json()
    assert [(m["month"], Decimal(m["revenue"])) for m in months] == [
        ("2024-03", Decimal("1300")),
        ("2024-04", Decimal("0")),
    ]
    assert Decimal(months[0]["margin"]) == Decimal("200")


def test_api_rejects_a_bad_date(client_for, am_member, account):
    response = client_for(am_member).get(
        f"/api/ledger/accounts/{account.pk}/orders?date_from=2024-13-45"
    )
    assert response.status_code == 422


def test_profile_card_shows_the_orders_panel(client_for, am_member, account):
    body = client_for(am_member).get(f"/customers/{account.pk}/").content.decode()
    assert f"/ledger/accounts/{account.pk}/orders/" in body


def test_upload_runs_the_import_and_shows_the_report(
    client_for, am_member, account_make, django_capture_on_commit_callbacks
):
    account_make(code="A1", owner=am_member)
    client = client_for(am_member)
    upload = SimpleUploadedFile("orders.csv", CSV.encode("gbk"))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/ledger/import/", {"kind": "orders", "file": upload})
    run = ImportRun.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/ledger/import/{run.pk}/"
    assert run.status == ImportStatus.DONE and run.created == 4 and run.user == am_member
    assert OrderLine.objects.count() == 4
    page = client.get(response["Location"])
    assert page.status_code == 200 and 'data-status="done"' in page.content.decode()
    assert "every 1s" not in page.content.decode()  # finished: polling stops


def test_upload_with_errors_writes_nothing_and_lists_them(
    client_for, am_member, account_make, django_capture_on_commit_callbacks
):
    account_make(code="A1", owner=am_member)
    bad = CSV.replace("2024-04-02", "2024/13/45")
    client = client_for(am_member)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/ledger/import/",
            {"kind": "orders", "file": SimpleUploadedFile("bad.csv", bad.encode())},
        )
    run = ImportRun.objects.get()
    assert run.status == ImportStatus.REJECTED and OrderLine.objects.count() == 0
    assert run.errors[0][:2] == [4, "日期"]
    body = client.get(f"/ledger/import/{run.pk}/").content.decode()
    assert "2024/13/45" in body


def test_upload_form_rejects_other_file_types(client_for, am_member):
    response = client_for(am_member).post(
        "/ledger/import/",
        {"kind": "orders", "file": SimpleUploadedFile("orders.pdf", b"%PDF")},
    )
    assert response.status_code == 200 and response.context["form"].errors["file"]
    assert not ImportRun.objects.exists()


def test_viewer_may_not_import_and_others_runs_are_404(client_for, viewer, am_member, am_outsider):
    assert client_for(viewer).get("/ledger/import/").status_code == 403
    run = ImportRun.objects.create(user=am_member, kind="orders", file_name="x.csv")
    assert client_for(am_outsider).get(f"/ledger/import/{run.pk}/").status_code == 404


@pytest.mark.parametrize("lang", ["", "zh"])
def test_templates_download_with_english_or_chinese_headers(client_for, am_member, lang):
    response = client_for(am_member).get(f"/ledger/templates/orders.xlsx?lang={lang}")
    sheet = load_workbook(io.BytesIO(response.getvalue())).active
    first = [cell.value for cell in next(sheet.iter_rows())]
    assert first[0] == ("客户编号" if lang else "account_code")
    csv = b"".join(client_for(am_member).get("/ledger/templates/contacts.csv").streaming_content)
    assert csv.decode("utf-8-sig").startswith("account_code,name,")
    assert client_for(am_member).get("/ledger/templates/nope.csv").status_code == 404


def test_export_follows_the_account_list_filters_and_visibility(
    client_for, am_member, am_outsider, account_make, account
):
    account_make(code="E2", owner=am_member, region="south")
    account_make(code="OUT", owner=am_outsider)
    client = client_for(am_member)
    body = b"".join(client.get("/ledger/export/accounts.csv").streaming_content).decode("utf-8-sig")
    codes = [line.split(",")[0] for line in body.splitlines()[1:]]
    assert sorted(codes) == ["A1", "E2"]
    body = b"".join(
        client.get("/ledger/export/accounts.csv?region=south").streaming_content
    ).decode("utf-8-sig")
    assert [line.split(",")[0] for line in body.splitlines()[1:]] == ["E2"]
    orders = client.get("/ledger/export/orders.xlsx")
    rows = list(load_workbook(io.BytesIO(orders.getvalue())).active.iter_rows(values_only=True))
    assert len(rows) == 5 and rows[0][0] == "account_code"


def test_a_run_whose_process_died_shows_as_failed_and_a_live_one_keeps_going(client_for, am_member):
    dead = subprocess.Popen(["true"])  # a process that has ended: its pid is free
    dead.wait()
    host = socket.gethostname()
    stale = ImportRun.objects.create(
        user=am_member, kind="orders", file_name="x.csv", status=ImportStatus.WRITING,
        worker=f"{host}:{dead.pid}",
    )  # fmt: skip
    alive = ImportRun.objects.create(
        user=am_member, kind="orders", file_name="y.csv", status=ImportStatus.VALIDATING,
        worker=f"{host}:{os.getpid()}",
    )  # fmt: skip
    elsewhere = ImportRun.objects.create(
        user=am_member, kind="orders", file_name="z.csv", status=ImportStatus.VALIDATING,
        worker=f"other-{host}:{dead.pid}",
    )  # fmt: skip
    client = client_for(am_member)
    response = client.get(f"/ledger/import/{stale.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    assert "Nothing was written" in response.content.decode()
    stale.refresh_from_db()
    assert stale.status == ImportStatus.FAILED and stale.finished_at is not None
    for run in (alive, elsewhere):
        client.get(f"/ledger/import/{run.pk}/")
        run.refresh_from_db()
        assert run.status == ImportStatus.VALIDATING


def test_a_run_on_another_host_whose_heartbeat_is_old_shows_as_failed(client_for, am_member):
    old = timezone.now() - services.HEARTBEAT_STALE_AFTER - timedelta(seconds=5)
    silent = ImportRun.objects.create(
        user=am_member, kind="orders", file_name="x.csv", status=ImportStatus.WRITING,
        worker=f"other-{socket.gethostname()}:{os.getpid()}", heartbeat_at=old, language="en",
    )  # fmt: skip
    page = client_for(am_member).get(f"/ledger/import/{silent.pk}/").content.decode()
    assert "has not reported for over 10 minutes" in page
    silent.refresh_from_db()
    assert silent.status == ImportStatus.FAILED and silent.finished_at is not None
    assert f"other-{socket.gethostname()}" in silent.message


def test_a_run_on_another_host_with_a_recent_heartbeat_keeps_going(client_for, am_member):
    # Started long ago, but beating: a big file still being checked on another machine.
    recent = timezone.now() - services.HEARTBEAT_STALE_AFTER + timedelta(minutes=1)
    busy = ImportRun.objects.create(
        user=am_member, kind="orders", file_name="x.csv", status=ImportStatus.VALIDATING,
        worker="other-host:1", heartbeat_at=recent,
    )  # fmt: skip
    ImportRun.objects.filter(pk=busy.pk).update(created_at=timezone.now() - timedelta(hours=2))
    client_for(am_member).get(f"/ledger/import/{busy.pk}/")
    busy.refresh_from_db()
    assert busy.status == ImportStatus.VALIDATING and busy.finished_at is None


def test_a_run_from_before_heartbeats_on_another_host_counts_from_its_start(am_member):
    run = ImportRun.objects.create(
        user=am_member, kind="orders", file_name="x.csv", status=ImportStatus.VALIDATING,
        worker="other-host:1",
    )  # fmt: skip
    assert not services.import_run_stale_fail(run)
    ImportRun.objects.filter(pk=run.pk).update(created_at=timezone.now() - timedelta(hours=1))
    run.refresh_from_db()
    assert services.import_run_stale_fail(run) and run.status == ImportStatus.FAILED


def test_a_running_import_beats_as_it_reports_progress(
    tmp_path, account_make, am_member, monkeypatch
):
    monkeypatch.setattr(services, "PROGRESS_SECONDS", 0)  # store every progress report
    account_make(code="A1", owner=am_member)
    path = tmp_path / "o.csv"
    rows = "".join(f"A1,SO-{n},1,2024-03-05,P1,x,1,{n},\n" for n in range(12_000))
    path.write_text(CSV.splitlines(keepends=True)[0] + rows, encoding="utf-8")
    run = services.import_run_create(user=am_member, kind="orders", file_name="o.csv")
    beats = []

    def progress(rows):
        beats.append(ImportRun.objects.get(pk=run.pk).heartbeat_at)

    started = timezone.now()
    services.import_run_execute(run=run, path=path, progress_callback=progress)
    run.refresh_from_db()
    assert run.status == ImportStatus.DONE and run.created == 12_000
    # One beat per batch of rows read (the first from the start), each later than the last.
    assert len(beats) >= 3 and started <= beats[0]
    assert all(earlier < later for earlier, later in itertools.pairwise(beats))
    assert beats[-1] <= run.heartbeat_at <= timezone.now()


def test_a_run_queued_for_long_says_the_worker_may_be_missing(client_for, am_member):
    run = ImportRun.objects.create(user=am_member, kind="orders", file_name="x.csv")
    client = client_for(am_member)
    assert 'id="import-waiting"' not in client.get(f"/ledger/import/{run.pk}/").content.decode()
    ImportRun.objects.filter(pk=run.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    assert 'id="import-waiting"' in client.get(f"/ledger/import/{run.pk}/").content.decode()
