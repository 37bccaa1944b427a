"""Service desk pages: the queue, a ticket's actions, settings and calendar, permissions."""

import pytest

from kam.conftest import user_make
from kam.service.models import CalendarDay, EscalationPolicy, RecoveryAction, Status, Ticket
from kam.users.models import Role

from .conftest import at

pytestmark = pytest.mark.django_db


def test_queue_shows_fast_lane_first_then_the_nearest_deadline(
    client_for, agent, ticket_make, account_make, am_member
) -> None:
    ordinary = account_make(owner=am_member, tier="ordinary")
    slow = ticket_make(target=ordinary, priority="low", subject="ordinary low")
    urgent_ordinary = ticket_make(target=ordinary, priority="urgent", subject="ordinary urgent")
    fast = ticket_make(priority="low", subject="strategic low")
    response = client_for(agent).get("/service/")
    assert response.status_code == 200
    rows = response.context["page"].object_list
    assert [ticket.pk for ticket in rows] == [fast.pk, urgent_ordinary.pk, slow.pk]
    assert all(row.time_left for row in response.context["rows"])
    # Tiers are named as everywhere else (the configured labels), not by their codes.
    english = client_for(agent).get("/service/", headers={"accept-language": "en"}).text
    assert ">Strategic</span>" in english and ">Ordinary</span>" in english
    assert ">strategic</span>" not in english


def test_queue_query_count_is_pinned(
    client_for, agent, ticket_make, django_assert_num_queries
) -> None:
    for _ in range(6):
        ticket_make()
    client = client_for(agent)
    client.get("/service/")
    # session, user, count, page, calendar config, the tier labels (scoring configuration)
    with django_assert_num_queries(6):
        client.get("/service/?tier=strategic&ticket_type=repair")


def test_queue_filters_breached_tickets(client_for, service_manager, ticket_make) -> None:
    late = ticket_make(now=at("2026-01-05 09:00"), subject="late one")
    ticket_make(subject="fresh one")
    response = client_for(service_manager).get("/service/?breached=on", HTTP_HX_REQUEST="true")
    assert [ticket.pk for ticket in response.context["page"]] == [late.pk]
    assert b"<html" not in response.content  # the HTMX partial


def test_ticket_page_offers_only_allowed_transitions(client_for, agent, ticket_make) -> None:
    ticket = ticket_make()
    content = client_for(agent).get(f"/service/{ticket.pk}/").content.decode()
    assert 'data-testid="to-acknowledged"' in content
    assert 'data-testid="to-closed"' not in content


def test_stale_form_is_told_and_nothing_is_written(
    client_for, agent, service_manager, ticket_make
) -> None:
    ticket = ticket_make()
    client_for(service_manager).post(
        f"/service/{ticket.pk}/transition/", {"status": "acknowledged", "version": 1}
    )
    response = client_for(agent).post(
        f"/service/{ticket.pk}/transition/", {"status": "acknowledged", "version": 1}, follow=True
    )
    text = response.content.decode()
    assert "service_manager" in text
    assert Ticket.objects.get(pk=ticket.pk).version == 2


def test_illegal_transition_from_the_ui_is_refused(client_for, agent, ticket_make) -> None:
    ticket = ticket_make()
    response = client_for(agent).post(
        f"/service/{ticket.pk}/transition/", {"status": "closed", "version": 1}, follow=True
    )
    assert response.status_code == 200
    assert Ticket.objects.get(pk=ticket.pk).status == Status.NEW
    assert list(response.context["messages"])


def test_negative_recovery_cost_from_the_ui_is_refused(client_for, agent, ticket_make) -> None:
    ticket = ticket_make(ticket_type="complaint")
    client_for(agent).post(
        f"/service/{ticket.pk}/recovery/", {"kind": "credit", "cost": "-10", "version": 1}
    )
    assert not RecoveryAction.objects.exists()


def test_new_ticket_form_creates_a_ticket(client_for, am_member, account) -> None:
    response = client_for(am_member).post(
        "/service/new/",
        {
            "account": account.pk,
            "ticket_type": "consultation",
            "priority": "normal",
            "channel": "email",
            "subject": "How to order?",
        },
    )
    ticket = Ticket.objects.get()
    assert response.status_code == 302 and response.url == f"/service/{ticket.pk}/"


def test_new_ticket_form_refuses_an_account_outside_the_portfolio(
    client_for, am_outsider, account
) -> None:
    response = client_for(am_outsider).post(
        "/service/new/",
        {
            "account": account.pk,
            "ticket_type": "repair",
            "priority": "normal",
            "channel": "email",
            "subject": "x",
        },
    )
    assert response.status_code == 200 and "account" in response.context["form"].errors
    assert not Ticket.objects.exists()


def test_outsider_gets_404_on_a_ticket(client_for, am_outsider, ticket_make) -> None:
    ticket = ticket_make()
    assert client_for(am_outsider).get(f"/service/{ticket.pk}/").status_code == 404
    assert (
        client_for(am_outsider)
        .post(f"/service/{ticket.pk}/transition/", {"status": "acknowledged", "version": 1})
        .status_code
        == 404
    )


def test_agent_gets_404_on_a_colleagues_ticket(client_for, agent, ticket_make) -> None:
    ticket = ticket_make(assignee=user_make("agent2", Role.SERVICE_AGENT))
    assert client_for(agent).get(f"/service/{ticket.pk}/").status_code == 404


def test_account_profile_lists_its_tickets(client_for, am_member, account, ticket_make) -> None:
    ticket = ticket_make(subject="Conveyor jammed")
    content = client_for(am_member).get(f"/customers/{account.pk}/").content.decode()
    assert "Conveyor jammed" in content and f"/service/{ticket.pk}/" in content


def test_settings_are_for_the_service_manager_only(client_for, agent, service_manager) -> None:
    assert client_for(agent).get("/service/settings/").status_code == 403
    client = client_for(service_manager)
    assert client.get("/service/settings/").status_code == 200
    client.post("/service/settings/", {"warn_percent": "100", "director_after_hours": "8"})
    assert (
        EscalationPolicy.objects.get().warn_percent == 80
    )  # a rule that would never fire is refused
    client.post("/service/settings/", {"warn_percent": "70", "director_after_hours": "4"})
    assert EscalationPolicy.objects.get().warn_percent == 70


def test_calendar_page_adds_and_removes_a_day(client_for, service_manager) -> None:
    client = client_for(service_manager)
    assert client.get("/service/calendar/").status_code == 200
    client.post("/service/calendar/", {"day": "2026-12-24", "kind": "holiday", "note": "company"})
    assert CalendarDay.objects.filter(day="2026-12-24").exists()
    client.post("/service/calendar/", {"remove": "2026-12-24"})
    assert not CalendarDay.objects.filter(day="2026-12-24").exists()


def test_calendar_page_refuses_a_week_without_working_time(client_for, service_manager) -> None:
    data = {"time_zone": "Asia/Shanghai", **{f"day{i}": "" for i in range(7)}}
    response = client_for(service_manager).post("/service/calendar/", data)
    assert response.status_code == 200 and response.context["week_form"].errors


def test_analytics_page_renders(client_for, service_manager, ticket_make, agent) -> None:
    ticket = ticket_make(ticket_type="complaint", cause="billing")
    for status in ("acknowledged", "in_progress", "resolved"):
        client_for(agent).post(
            f"/service/{ticket.pk}/transition/",
            {"status": status, "version": Ticket.objects.get(pk=ticket.pk).version},
        )
    response = client_for(service_manager).get("/service/analytics/")
    assert response.status_code == 200
    assert response.context["report"]["causes"][0]["count"] == 1
    assert response.context["report"]["by_tier"][0]["total"] == 1
