import json

import pytest
from django.test import Client

from kam.customers import services
from kam.customers.models import Account
from kam.users.services import api_token_create


@pytest.fixture
def portfolio(account_make, am_member, am_outsider):
    mine = account_make(owner=am_member, legal_name="南京金桥重工股份有限公司", region="east")
    theirs = account_make(owner=am_outsider, legal_name="广州顺达商贸有限公司", region="south")
    return mine, theirs


def bearer(user):
    _token, raw = api_token_create(user=user, name="test")
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def test_openapi_and_docs_are_readable_without_login(client):
    schema = client.get("/api/openapi.json")
    assert schema.status_code == 200 and "/api/customers/accounts" in schema.json()["paths"]
    docs = client.get("/api/docs")
    assert docs.status_code == 200 and "/static/ninja/swagger-ui-bundle.js" in docs.text
    assert "cdn" not in docs.text.lower() and '"url": "/api/openapi.json"' in docs.text
    # Served from Ninja's package (not an installed app) by the static files finders.
    bundle = client.get("/static/ninja/swagger-ui-bundle.js")
    assert bundle.status_code == 200 and b"SwaggerUI" in b"".join(bundle.streaming_content)


def test_api_requires_authentication(client, portfolio):
    assert client.get("/api/customers/accounts").status_code == 401


def test_token_lists_only_the_portfolio_with_filters(am_member, portfolio):
    api = bearer(am_member)
    body = api.get("/api/customers/accounts").json()
    assert [item["legal_name"] for item in body["items"]] == ["南京金桥重工股份有限公司"]
    assert body["count"] == 1
    assert api.get("/api/customers/accounts", {"region": "south"}).json()["count"] == 0


def test_list_query_count_is_fixed(
    director, account_make, am_member, django_assert_max_num_queries
):
    for _ in range(20):
        account_make(owner=am_member)
    api = bearer(director)
    with django_assert_max_num_queries(5):
        body = api.get("/api/customers/accounts").json()
    assert body["count"] == 20


def test_outsider_gets_404_through_the_api(am_member, portfolio):
    _, theirs = portfolio
    api = bearer(am_member)
    assert api.get(f"/api/customers/accounts/{theirs.pk}").status_code == 404
    response = api.patch(
        f"/api/customers/accounts/{theirs.pk}",
        json.dumps({"city": "X"}),
        content_type="application/json",
    )
    assert response.status_code == 404
    assert Account.objects.get(pk=theirs.pk).city == ""


def test_read_only_user_gets_403_on_update(viewer, portfolio):
    mine, _ = portfolio
    response = bearer(viewer).patch(
        f"/api/customers/accounts/{mine.pk}",
        json.dumps({"city": "X"}),
        content_type="application/json",
    )
    assert response.status_code == 403


def test_create_update_and_archive(director):
    api = bearer(director)
    created = api.post(
        "/api/customers/accounts",
        json.dumps({"code": "API1", "legal_name": "天津正大能源有限公司", "region": "north"}),
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    updated = api.patch(
        f"/api/customers/accounts/{pk}",
        json.dumps({"city": "天津"}),
        content_type="application/json",
    )
    assert updated.json()["city"] == "天津"
    archived = api.post(f"/api/customers/accounts/{pk}/archive")
    assert archived.json()["archived"] is True


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"code": "E1", "legal_name": "X", "credit_code": "91350100M000100Y44"}, "credit_code"),
        ({"code": "E1", "legal_name": "X", "region": "atlantis"}, "region"),
        ({"code": "E1", "legal_name": "X" * 201}, "legal_name"),
        ({"code": "E1", "legal_name": "X", "parent_id": 999999}, "parent_id"),
        ({"legal_name": "X"}, "code"),
        ({"code": "E1", "legal_name": "X", "wallet_size": "-5"}, "wallet_size"),
    ],
)
def test_invalid_input_gives_422_with_the_field(director, payload, field):
    response = bearer(director).post(
        "/api/customers/accounts", json.dumps(payload), content_type="application/json"
    )
    assert response.status_code == 422, response.content
    assert field in response.json()["errors"]
    assert not Account.objects.filter(code="E1").exists()


def test_malformed_json_is_a_4xx_not_a_500(director):
    response = bearer(director).post(
        "/api/customers/accounts", "{not json", content_type="application/json"
    )
    assert 400 <= response.status_code < 500


def test_contacts_and_competitors_through_the_api(am_member, portfolio):
    mine, theirs = portfolio
    api = bearer(am_member)
    boss = api.post(
        f"/api/customers/accounts/{mine.pk}/contacts",
        json.dumps({"name": "周总", "buying_role": "decision_maker", "influence": 5}),
        content_type="application/json",
    )
    assert boss.status_code == 201
    report = api.post(
        f"/api/customers/accounts/{mine.pk}/contacts",
        json.dumps({"name": "小吴", "reports_to_id": boss.json()["id"]}),
        content_type="application/json",
    )
    assert report.json()["reports_to_id"] == boss.json()["id"]
    cycle = api.patch(
        f"/api/customers/contacts/{boss.json()['id']}",
        json.dumps({"reports_to_id": report.json()["id"]}),
        content_type="application/json",
    )
    assert cycle.status_code == 422 and "reports_to" in cycle.json()["errors"]
    bad_influence = api.post(
        f"/api/customers/accounts/{mine.pk}/contacts",
        json.dumps({"name": "X", "influence": 9}),
        content_type="application/json",
    )
    assert bad_influence.status_code == 422 and "influence" in bad_influence.json()["errors"]
    competitor = api.post(
        f"/api/customers/accounts/{mine.pk}/competitors",
        json.dumps({"competitor": "华为企业业务", "share_of_wallet": "35"}),
        content_type="application/json",
    )
    assert competitor.status_code == 201 and competitor.json()["competitor"] == "华为企业业务"
    assert api.get(f"/api/customers/accounts/{theirs.pk}/contacts").status_code == 404
    other = services.contact_create(actor=theirs.owner, account=theirs, data={"name": "外部"})
    assert api.get(f"/api/customers/contacts/{other.pk}").status_code == 404


def test_session_auth_requires_csrf_for_writes(client_for, director):
    client = Client(enforce_csrf_checks=True)
    client.force_login(director)
    response = client.post(
        "/api/customers/accounts",
        json.dumps({"code": "C1", "legal_name": "X"}),
        content_type="application/json",
    )
    assert response.status_code in (401, 403)
    assert not Account.objects.filter(code="C1").exists()
