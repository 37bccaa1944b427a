"""The profile card in a real browser: sign in, switch to 中文, search, edit a contact."""

import pytest

from kam.conftest import browser_login
from kam.customers import services


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_edit_a_contact_on_the_profile_card_and_see_it_on_the_timeline(
    live_server, browser_page, account_make, am_member, director
):
    account = account_make(
        owner=am_member, legal_name="宁波海润物流有限公司", english_name="Hairun Logistics"
    )
    account_make(owner=am_member, legal_name="武汉鼎盛能源有限公司")
    contact = services.contact_create(
        actor=director,
        account=account,
        data={"name": "陈静", "title": "采购经理", "attitude": "neutral"},
    )
    page = browser_page
    browser_login(page, live_server, "am_member")
    assert page.locator("html").get_attribute("lang") == "en"

    page.click("[data-testid=language-zh-hans]")
    page.wait_for_selector("html[lang=zh-hans]")
    page.click('nav.menu a[href="/customers/"]')
    page.fill("#id_q", "海润")
    page.locator("#account-filters button[type=submit]").click()
    page.wait_for_function("document.querySelectorAll('#account-table tbody tr').length === 1")
    page.click("text=宁波海润物流有限公司")
    page.wait_for_selector("#decision-makers")
    assert "关键决策人" in page.content()
    page.wait_for_selector("#org-chart canvas")  # ECharts, served locally, drew the org chart

    page.click(f"[data-testid=edit-contact-{contact.pk}]")
    page.fill("#id_title", "采购总监")
    page.select_option("#id_attitude", "supporter")
    page.click("form.stacked button[type=submit]")
    page.wait_for_selector("#timeline")
    timeline = page.locator("#timeline").inner_text()
    assert "采购经理" in timeline and "采购总监" in timeline
    assert "支持" in page.locator("#contacts").inner_text()
