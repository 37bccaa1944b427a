"""Escalation: warning before the deadline, breach, director; each stage exactly once."""

import pytest
from django.core import mail
from django.core.management import call_command

from kam.service import services
from kam.service.models import Escalation, Notification, Status

from .conftest import at, level_set

pytestmark = pytest.mark.django_db


def fired(escalations) -> set[tuple[str, str]]:
    return {(item.target, item.level) for item in escalations}


def test_each_stage_fires_exactly_once(
    ticket_make, agent, service_manager, director, django_capture_on_commit_callbacks
) -> None:
    agent.email = "agent@example.com"
    agent.save()
    level_set("strategic", "repair", "normal", response=1, resolution=10)
    ticket = ticket_make(assignee=agent, now=at("2026-11-23 09:00"))  # Monday
    assert services.sla_check(now=at("2026-11-23 09:40")) == []
    Notification.objects.all().delete()  # forget the assignment notice
    with django_capture_on_commit_callbacks(execute=True):
        warn = services.sla_check(now=at("2026-11-23 09:50"))  # 80% of 1 h is 09:48
    assert fired(warn) == {("response", "warn")}
    assert Notification.objects.filter(user=agent).count() == 1
    assert any("agent@example.com" in message.to for message in mail.outbox)
    assert services.sla_check(now=at("2026-11-23 09:55")) == []
    breach = services.sla_check(now=at("2026-11-23 10:01"))
    assert fired(breach) == {("response", "breach")}
    assert Notification.objects.filter(user=service_manager).count() == 1
    assert services.sla_check(now=at("2026-11-23 10:02")) == []
    # Director 8 working hours after the 10:00 breach: Tuesday 10:00. Resolution (10 h) is due
    # Tuesday 11:00, so its 80% warning (8 h) has come too.
    later = services.sla_check(now=at("2026-11-24 10:01"))
    assert fired(later) == {("response", "director"), ("resolution", "warn")}
    assert Notification.objects.filter(user=director).count() == 1
    assert services.sla_check(now=at("2026-11-24 10:02")) == []
    assert Escalation.objects.filter(ticket=ticket).count() == 4


def test_waiting_tickets_do_not_escalate(ticket_make, agent) -> None:
    level_set("strategic", "repair", "normal", response=1, resolution=2)
    ticket = ticket_make(assignee=agent, now=at("2026-11-23 09:00"))
    for status in (Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.WAITING):
        ticket = services.ticket_transition(
            ticket=ticket,
            to_status=status,
            actor=agent,
            version=ticket.version,
            now=at("2026-11-23 09:05"),
        )
    assert services.sla_check(now=at("2026-11-25 09:00")) == []


def test_a_responded_ticket_does_not_escalate_its_response(ticket_make, agent) -> None:
    level_set("strategic", "repair", "normal", response=1, resolution=10)
    ticket = ticket_make(assignee=agent, now=at("2026-11-23 09:00"))
    services.ticket_reply(ticket=ticket, actor=agent, body="On it")
    assert services.sla_check(now=at("2026-11-23 10:30")) == []


def test_kam_sla_check_runs_the_check_once(ticket_make, agent, capsys) -> None:
    level_set("strategic", "repair", "normal", response=1, resolution=2)
    ticket_make(assignee=agent, now=at("2026-01-05 09:00"))
    call_command("sla", "check")
    out = capsys.readouterr().out
    assert "response breach" in out and "escalation(s) fired" in out
    call_command("sla", "check")
    assert capsys.readouterr().out.strip() == "0 escalation(s) fired"
