"""The service desk API: permissions, happy paths, 422 field errors, 409 on stale versions."""

import pytest

from kam.conftest import user_make
from kam.customers.models import Contact
from kam.service.models import RecoveryAction, Status, Ticket
from kam.users.models import Role

pytestmark = pytest.mark.django_db

URL = "/api/service/tickets"


def post(client, url, data):
    return client.post(url, data, content_type="application/json")


@pytest.fixture
def opened(ticket_make):
    return ticket_make(ticket_type="complaint", cause="delivery")


def test_account_manager_creates_a_ticket_for_their_account(client_for, am_member, account) -> None:
    contact = Contact.objects.create(account=account, name="李强")
    response = post(
        client_for(am_member),
        URL,
        {
            "account_id": account.pk,
            "contact_id": contact.pk,
            "ticket_type": "billing",
            "subject": "Invoice wrong",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "new" and body["version"] == 1 and body["fast_lane"] is True
    assert Ticket.objects.get(pk=body["id"]).created_by == am_member


def test_unknown_account_or_contact_is_a_field_error(
    client_for, service_manager, account, account_make
) -> None:
    client = client_for(service_manager)
    response = post(client, URL, {"account_id": 999999, "ticket_type": "repair", "subject": "x"})
    assert response.status_code == 422
    assert "account_id" in response.json()["errors"]
    other = Contact.objects.create(account=account_make(), name="外人")
    response = post(
        client,
        URL,
        {"account_id": account.pk, "contact_id": other.pk, "ticket_type": "repair", "subject": "x"},
    )
    assert response.status_code == 422
    assert "contact_id" in response.json()["errors"]
    response = post(
        client,
        URL,
        {
            "account_id": account.pk,
            "ticket_type": "repair",
            "subject": "x",
            "description": "长" * 10_001,
        },
    )
    assert response.status_code == 422
    assert not Ticket.objects.exists()


def test_outsider_cannot_create_for_or_see_another_portfolio(
    client_for, am_outsider, account, opened
) -> None:
    client = client_for(am_outsider)
    response = post(
        client, URL, {"account_id": account.pk, "ticket_type": "repair", "subject": "x"}
    )
    assert response.status_code == 422
    assert client.get(f"{URL}/{opened.pk}").status_code == 404
    assert client.get(URL).json()["count"] == 0
    response = post(
        client, f"{URL}/{opened.pk}/transition", {"status": "acknowledged", "version": 1}
    )
    assert response.status_code == 404


def test_agents_see_their_queue_and_the_unassigned_ones(client_for, agent, ticket_make) -> None:
    colleague = user_make("agent2", Role.SERVICE_AGENT)
    mine = ticket_make(assignee=agent)
    free = ticket_make()
    theirs = ticket_make(assignee=colleague)
    ids = {row["id"] for row in client_for(agent).get(URL).json()["items"]}
    assert ids == {mine.pk, free.pk}
    assert client_for(agent).get(f"{URL}/{theirs.pk}").status_code == 404


def test_service_manager_sees_all(client_for, service_manager, ticket_make) -> None:
    ticket_make(assignee=user_make("agent2", Role.SERVICE_AGENT))
    ticket_make()
    assert client_for(service_manager).get(URL).json()["count"] == 2


def test_ticket_list_query_count_is_pinned(
    client_for, service_manager, ticket_make, django_assert_num_queries
) -> None:
    for _ in range(5):
        ticket_make(ticket_type="complaint")
    client = client_for(service_manager)
    client.get(URL)  # warm the session/user caches
    with django_assert_num_queries(4):  # session, user, count, page
        response = client.get(URL + "?status=all")
    assert response.json()["count"] == 5


def test_transition_with_version_and_409_on_a_stale_one(
    client_for, agent, service_manager, opened
) -> None:
    manager, worker = client_for(service_manager), client_for(agent)
    response = post(
        manager, f"{URL}/{opened.pk}/transition", {"status": "acknowledged", "version": 1}
    )
    assert response.status_code == 200 and response.json()["version"] == 2
    stale = post(worker, f"{URL}/{opened.pk}/transition", {"status": "acknowledged", "version": 1})
    assert stale.status_code == 409
    assert "service_manager" in stale.json()["detail"] and stale.json()["version"] == 2
    illegal = post(worker, f"{URL}/{opened.pk}/transition", {"status": "closed", "version": 2})
    assert illegal.status_code == 422 and "status" in illegal.json()["errors"]
    assert Ticket.objects.get(pk=opened.pk).status == Status.ACKNOWLEDGED


def test_complaint_recovery_and_callback_through_the_api(client_for, agent, opened) -> None:
    client = client_for(agent)
    version = 1
    for status in ("acknowledged", "in_progress", "resolved"):
        version = post(
            client, f"{URL}/{opened.pk}/transition", {"status": status, "version": version}
        ).json()["version"]
    negative = post(
        client,
        f"{URL}/{opened.pk}/recoveries",
        {"kind": "credit", "cost": "-1", "version": version},
    )
    assert negative.status_code == 422 and "cost" in negative.json()["errors"]
    made = post(
        client,
        f"{URL}/{opened.pk}/recoveries",
        {"kind": "credit", "cost": "800", "version": version},
    )
    assert made.status_code == 201
    version += 1
    early_close = post(
        client, f"{URL}/{opened.pk}/transition", {"status": "closed", "version": version}
    )
    assert early_close.status_code == 422
    called = post(client, f"{URL}/{opened.pk}/callback", {"satisfied": True, "version": version})
    assert called.status_code == 200 and called.json()["status"] == "callback_done"
    closed = post(
        client,
        f"{URL}/{opened.pk}/transition",
        {"status": "closed", "version": called.json()["version"]},
    )
    assert closed.json()["status"] == "closed" and closed.json()["cause"] == "delivery"
    assert RecoveryAction.objects.count() == 1
    events = client.get(f"{URL}/{opened.pk}/events").json()
    assert [event["kind"] for event in events][:2] == ["created", "status"]


def test_account_manager_may_note_but_not_reply(client_for, am_member, opened) -> None:
    client = client_for(am_member)
    assert (
        post(client, f"{URL}/{opened.pk}/messages", {"body": "VIP", "internal": True}).status_code
        == 201
    )
    assert post(client, f"{URL}/{opened.pk}/messages", {"body": "Hello"}).status_code == 403


def test_agent_takes_an_unassigned_ticket(client_for, agent, opened) -> None:
    response = post(
        client_for(agent), f"{URL}/{opened.pk}/assign", {"assignee_id": agent.pk, "version": 1}
    )
    assert response.status_code == 200 and response.json()["assignee_id"] == agent.pk


def test_ping_needs_authentication(client, client_for, viewer) -> None:
    assert client.get("/api/service/ping").status_code == 401
    assert client_for(viewer).get("/api/service/ping").json()["ok"] is True
