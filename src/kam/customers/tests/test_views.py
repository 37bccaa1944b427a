import json
import re

import pytest
from django.urls import reverse

from kam.audit.models import AuditEntry
from kam.customers import services
from kam.customers.models import Account, Contact


@pytest.fixture
def portfolio(account_make, am_member, am_outsider):
    mine = account_make(
        owner=am_member,
        legal_name="杭州星河物流有限公司",
        english_name="Xinghe Logistics",
        region="east",
    )
    theirs = account_make(owner=am_outsider, legal_name="深圳汇丰通信有限公司", region="south")
    return mine, theirs


def script_json(page: str, element_id: str):
    """The JSON a page hands its scripts in <script id=... type="application/json">."""
    match = re.search(
        rf'<script id="{element_id}" type="application/json">(.*?)</script>', page, re.S
    )
    assert match, element_id
    return json.loads(match.group(1))


def test_login_is_required(client, portfolio):
    response = client.get(reverse("customers:list"))
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_account_manager_lists_only_own_portfolio(client_for, am_member, portfolio):
    response = client_for(am_member).get(reverse("customers:list"))
    assert "杭州星河物流有限公司" in response.text
    assert "深圳汇丰通信有限公司" not in response.text


def test_team_lead_sees_the_team_portfolio_but_not_other_teams(client_for, am_lead, portfolio):
    response = client_for(am_lead).get(reverse("customers:list"))
    assert "杭州星河物流有限公司" in response.text
    assert "深圳汇丰通信有限公司" not in response.text


def test_director_sees_all(client_for, director, portfolio):
    response = client_for(director).get(reverse("customers:list"))
    assert "杭州星河物流有限公司" in response.text and "深圳汇丰通信有限公司" in response.text


def test_search_by_chinese_and_english_name_and_filter(client_for, director, portfolio):
    client = client_for(director)
    assert "杭州星河" in client.get(reverse("customers:list"), {"q": "星河"}).text
    found = client.get(reverse("customers:list"), {"q": "xinghe"}).text
    assert "杭州星河" in found and "深圳汇丰" not in found
    south = client.get(reverse("customers:list"), {"region": "south"}).text
    assert "深圳汇丰" in south and "杭州星河" not in south
    # Every filter's empty choice reads the same ("All"), the team and manager ones too.
    page = client.get(reverse("customers:list")).text
    for name in ("region", "owner", "team"):
        select = page.split(f'name="{name}"', 1)[1].split("</select>", 1)[0]
        assert '<option value="" selected>全部</option>' in select, name


def test_htmx_request_gets_only_the_results_partial(client_for, director, portfolio):
    response = client_for(director).get(
        reverse("customers:list"), {"q": "星河"}, HTTP_HX_REQUEST="true"
    )
    assert "<html" not in response.text and "account-table" in response.text


def test_account_list_query_count_does_not_grow_with_rows(
    client_for, director, account_make, am_member, django_assert_max_num_queries
):
    for _ in range(30):
        account_make(owner=am_member)
    client = client_for(director)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("customers:list"))
    assert response.status_code == 200 and response.text.count("/customers/") >= 30


def test_outsider_gets_404_on_another_portfolio(client_for, am_member, portfolio):
    _mine, theirs = portfolio
    client = client_for(am_member)
    assert client.get(reverse("customers:detail", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("customers:edit", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("customers:archive", args=[theirs.pk])).status_code == 404


def test_read_only_user_sees_but_gets_403_on_edit(client_for, viewer, portfolio):
    mine, _theirs = portfolio
    client = client_for(viewer)
    assert client.get(reverse("customers:detail", args=[mine.pk])).status_code == 200
    assert client.get(reverse("customers:edit", args=[mine.pk])).status_code == 403


def test_profile_card_shows_company_contacts_competitors_and_timeline(
    client_for, am_member, director, portfolio
):
    mine, _ = portfolio
    boss = services.contact_create(
        actor=director,
        account=mine,
        data={"name": "王建国", "title": "总经理", "attitude": "supporter"},
    )
    services.contact_create(actor=director, account=mine, data={"name": "李娜", "reports_to": boss})
    services.competitor_presence_create(
        actor=director,
        account=mine,
        data={
            "competitor": services.competitor_get_or_create(name="京东物流"),
            "share_of_wallet": 20,
        },
    )
    page = client_for(am_member).get(reverse("customers:detail", args=[mine.pk])).text
    for text in ("王建国", "李娜", "京东物流", "org-chart-data", 'id="timeline"'):
        assert text in page
    (boss_node,) = script_json(page, "org-chart-data")["children"]
    assert boss_node["name"] == "王建国\n总经理"
    assert [child["name"] for child in boss_node["children"]] == ["李娜"]  # under the boss


def test_org_chart_data_cannot_end_its_script_tag(client_for, director, portfolio):
    mine, _ = portfolio
    name = "</script><script>alert(1)</script>"
    services.contact_create(actor=director, account=mine, data={"name": name})
    page = client_for(director).get(reverse("customers:detail", args=[mine.pk])).text
    assert "<script>alert(1)" not in page
    assert [node["name"] for node in script_json(page, "org-chart-data")["children"]] == [name]


def test_edit_contact_through_the_form_shows_on_timeline(
    client_for, am_member, director, portfolio
):
    mine, _ = portfolio
    contact = services.contact_create(
        actor=director, account=mine, data={"name": "赵敏", "title": "采购经理"}
    )
    client = client_for(am_member)
    response = client.post(
        reverse("customers:contact_edit", args=[contact.pk]),
        {"name": "赵敏", "title": "采购总监", "attitude": "supporter", "influence": 4},
    )
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.title == "采购总监" and contact.influence == 4
    page = client.get(reverse("customers:detail", args=[mine.pk])).text
    assert "采购经理" in page and "采购总监" in page  # old → new on the timeline


def test_form_shows_the_field_error_and_saves_nothing(client_for, director):
    response = client_for(director).post(
        reverse("customers:create"),
        {
            "code": "B1",
            "legal_name": "错误代码公司",
            "credit_code": "91350100M000100Y44",
            "sales_stage": "customer",
            "status": "active",
            "financial_health": "unknown",
        },
    )
    assert response.status_code == 200
    assert "check character" in response.text
    assert not Account.objects.filter(code="B1").exists()


def test_create_account_through_the_form(client_for, director):
    response = client_for(director).post(
        reverse("customers:create"),
        {
            "code": "B2",
            "legal_name": "成都博远科技有限公司",
            "sales_stage": "potential",
            "status": "active",
            "financial_health": "unknown",
        },
    )
    account = Account.objects.get(code="B2")
    assert response["Location"] == reverse("customers:detail", args=[account.pk])
    assert AuditEntry.objects.filter(account=account, action="create").exists()


def test_unknown_url_is_a_404_page(client_for, director):
    response = client_for(director).get("/no-such-page/")
    assert response.status_code == 404 and "<html" in response.text


def test_contact_from_another_portfolio_is_404(client_for, am_member, director, portfolio):
    _, theirs = portfolio
    contact = services.contact_create(actor=director, account=theirs, data={"name": "X"})
    assert (
        client_for(am_member).get(reverse("customers:contact_edit", args=[contact.pk])).status_code
        == 404
    )
    assert Contact.objects.get(pk=contact.pk).name == "X"


def test_tier_shows_its_configured_name_in_each_language(
    client_for, director, account_make, am_member
):
    account_make(owner=am_member, tier="strategic")
    client = client_for(director)
    assert "战略客户" in client.get(reverse("customers:list"), HTTP_ACCEPT_LANGUAGE="zh-CN").text
    assert ">Strategic<" in client.get(reverse("customers:list"), HTTP_ACCEPT_LANGUAGE="en").text
