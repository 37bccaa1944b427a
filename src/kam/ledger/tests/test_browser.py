"""The import page in a real browser: upload, watch the progress poll, read the report."""

import pytest

from kam.ledger.models import ImportRun, OrderLine

CSV = (
    "客户编号,订单号,日期,金额\n"
    "W1,SO-1,2024-03-05,100\n"
    "W1,SO-2,2024/13/45,100\n"
    "W1,SO-3,2024-03-07,300\n"
)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_upload_waits_for_the_worker_then_shows_the_skipped_rows(
    live_server, browser_page, account_make, am_member, tmp_path, settings
):
    settings.MEDIA_ROOT = tmp_path  # the default database task backend: no worker runs yet
    account_make(code="W1", owner=am_member)
    upload = tmp_path / "orders.csv"
    upload.write_text(CSV, encoding="gbk")
    page = browser_page
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "am_member")
    page.fill("#id_password", "pw-am_member")
    page.click("#login-form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/ledger/import/")
    page.select_option("#id_kind", "orders")
    page.set_input_files("#id_file", str(upload))
    page.check("#id_skip_invalid")
    page.click("#import-form button[type=submit]")
    page.wait_for_selector("[data-status=queued]")
    assert page.locator("progress").count() == 1

    from kam.ledger.tasks import import_run_task

    import_run_task.call(ImportRun.objects.get().pk)  # what `kam worker` would do
    page.wait_for_selector("[data-status=done]")  # the page polled and stopped
    assert page.locator("#import-errors td").nth(1).inner_text() == "日期"
    assert "2024/13/45" in page.locator("#import-errors").inner_text()
    assert OrderLine.objects.count() == 2
