"""Two people (or two checkers) at once: no update lost silently, no stage fired twice."""

import pytest
from django.db import connection

from kam.core.tests.concurrency import in_parallel
from kam.service import services
from kam.service.models import Escalation, Status, Ticket, TicketEvent

from .conftest import at, level_set

# SQLite's in-memory test database (shared cache) answers concurrent writers with "table is
# locked" instead of waiting, so the races run where they matter: on PostgreSQL.
pytestmark = pytest.mark.skipif(
    connection.vendor == "sqlite", reason="concurrent writers need PostgreSQL (KAM_DATABASE_URL)"
)


@pytest.mark.django_db(transaction=True)
def test_two_agents_changing_the_same_ticket_at_once_one_is_told(
    ticket_make, agent, service_manager
):
    ticket = ticket_make()
    first, second = Ticket.objects.get(pk=ticket.pk), Ticket.objects.get(pk=ticket.pk)
    results = in_parallel(
        lambda: services.ticket_transition(
            ticket=first, to_status=Status.ACKNOWLEDGED, actor=agent, version=1
        ),
        lambda: services.ticket_transition(
            ticket=second, to_status=Status.ACKNOWLEDGED, actor=service_manager, version=1
        ),
    )
    conflicts = [result for result in results if isinstance(result, services.TicketConflict)]
    assert len(conflicts) == 1, results
    assert Ticket.objects.get(pk=ticket.pk).version == 2
    assert TicketEvent.objects.filter(ticket=ticket, to_status=Status.ACKNOWLEDGED).count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_checkers_fire_each_stage_once(ticket_make, agent):
    level_set("strategic", "repair", "normal", response=1, resolution=2)
    ticket = ticket_make(assignee=agent, now=at("2026-11-23 09:00"))
    moment = at("2026-11-23 10:30")
    results = in_parallel(
        lambda: services.sla_check(now=moment), lambda: services.sla_check(now=moment)
    )
    assert not any(isinstance(result, Exception) for result in results), results
    fired = sum(len(result) for result in results)
    stored = Escalation.objects.filter(ticket=ticket).count()
    assert fired == stored == 2  # response warn + breach (resolution warns at 10:36)
