"""The import page in a real browser: upload, watch the progress poll, read the report."""

import pytest

from kam.conftest import browser_login
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
    browser_login(page, live_server, "am_member")
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


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_orders_page_draws_the_monthly_chart(
    live_server, browser_page, account_make, am_member, tmp_path
):
    from kam.ledger.importing import import_file

    account = account_make(code="W1", owner=am_member)
    path = tmp_path / "orders.csv"
    path.write_text(CSV.replace("2024/13/45", "2024-04-02"), encoding="utf-8")
    assert import_file(kind="orders", path=path).written
    page = browser_page
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    browser_login(page, live_server, "am_member")
    page.goto(f"{live_server.url}/ledger/accounts/{account.pk}/orders/")
    page.wait_for_selector("#monthly-chart canvas")
    drawn = page.evaluate(
        """() => {
          const option = echarts.getInstanceByDom(document.getElementById("monthly-chart")).getOption();
          return {months: option.xAxis[0].data, revenue: option.series[0].data};
        }"""
    )
    assert drawn == {"months": ["2024-03", "2024-04"], "revenue": [400, 100]}
    assert errors == []
