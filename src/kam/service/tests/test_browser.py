"""In a real browser: an agent takes a fast-lane complaint from the queue, records a recovery
and a callback, and closes it."""

import pytest

from kam.conftest import browser_login
from kam.service import services
from kam.service.models import RecoveryAction, Status, Ticket


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_agent_takes_a_fast_lane_complaint_records_recovery_and_callback_and_closes_it(
    live_server, browser_page, account_make, am_member, agent, service_manager
):
    ordinary = account_make(owner=am_member, tier="ordinary", legal_name="武汉鼎盛能源有限公司")
    strategic = account_make(owner=am_member, tier="strategic", legal_name="宁波海润物流有限公司")
    services.ticket_create(
        actor=service_manager,
        account=ordinary,
        data={"ticket_type": "repair", "priority": "urgent", "subject": "Pump noise"},
    )
    complaint = services.ticket_create(
        actor=service_manager,
        account=strategic,
        data={
            "ticket_type": "complaint",
            "priority": "high",
            "subject": "Shipment arrived damaged",
            "cause": "delivery",
        },
    )
    page = browser_page
    browser_login(page, live_server, "agent")

    page.goto(f"{live_server.url}/service/")
    first_row = page.locator("#queue-table tbody tr").first
    assert first_row.get_attribute("data-ticket") == str(complaint.pk)  # fast lane jumps the queue
    assert "fast lane" in first_row.inner_text()
    first_row.locator("a", has_text="Shipment arrived damaged").click()
    page.wait_for_selector("#ticket-status")

    page.click("[data-testid=take]")
    page.wait_for_selector("#ticket-assignee:has-text('agent')")
    for status in ("acknowledged", "in_progress"):
        page.click(f"[data-testid=to-{status}]")
        page.wait_for_selector(f"#ticket-status[data-status={status}]")

    page.select_option("#recovery-form select[name=kind]", "compensation")
    page.fill("#recovery-form input[name=cost]", "1200")
    page.fill("#recovery-form input[name=note]", "Replacement freight refunded")
    page.click("#recovery-form button[type=submit]")
    page.wait_for_selector("#recovery td:has-text('Replacement freight refunded')")

    page.click("[data-testid=to-resolved]")
    page.wait_for_selector("#ticket-status[data-status=resolved]")
    assert page.locator("[data-testid=to-closed]").count() == 0  # no closing without a callback

    page.select_option("#callback-form select[name=satisfied]", "yes")
    page.fill("#callback-form input[name=note]", "Customer thanked us")
    page.click("#callback-form button[type=submit]")
    page.wait_for_selector("#ticket-status[data-status=callback_done]")

    page.click("[data-testid=to-closed]")
    page.wait_for_selector("#ticket-status[data-status=closed]")
    assert "Closed" in page.locator("#ticket-status").inner_text()

    ticket = Ticket.objects.get(pk=complaint.pk)
    assert ticket.status == Status.CLOSED and ticket.assignee == agent
    assert RecoveryAction.objects.get(ticket=ticket).cost == 1200
