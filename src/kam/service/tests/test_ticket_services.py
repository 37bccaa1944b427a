"""Tickets through the services: status machine, complaints and callbacks, bad input, conflicts."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from kam.audit.models import AuditEntry
from kam.customers.models import Contact
from kam.service import services
from kam.service.models import (
    MAX_ATTACHMENT_BYTES,
    Attachment,
    Callback,
    ComplaintDetail,
    EventKind,
    RecoveryAction,
    ServiceTier,
    Status,
    Ticket,
    TicketEvent,
)

pytestmark = pytest.mark.django_db


def move(ticket: Ticket, actor, *statuses: str) -> Ticket:
    for status in statuses:
        ticket = services.ticket_transition(
            ticket=ticket, to_status=status, actor=actor, version=ticket.version
        )
    return ticket


def test_ticket_takes_targets_and_fast_lane_from_the_account_tier(ticket_make, account) -> None:
    ticket = ticket_make()
    assert ticket.fast_lane is True
    assert ticket.tier == "strategic"
    assert ticket.resolution_due > ticket.response_due > ticket.created_at
    assert AuditEntry.objects.filter(account=account, object_type="service.ticket").exists()


def test_dedicated_agent_gets_new_tickets_of_the_tier(ticket_make, agent) -> None:
    ServiceTier.objects.filter(tier="strategic").update(dedicated_agent=agent)
    assert ticket_make().assignee == agent


def test_full_life_of_a_ticket_through_callback(ticket_make, agent) -> None:
    ticket = move(
        ticket_make(),
        agent,
        Status.ACKNOWLEDGED,
        Status.IN_PROGRESS,
        Status.WAITING,
        Status.IN_PROGRESS,
        Status.RESOLVED,
    )
    assert ticket.assignee == agent  # taken from the queue
    assert ticket.first_responded_at is not None and ticket.working_hours_spent is not None
    services.ticket_callback_record(
        ticket=ticket, actor=agent, satisfied=True, version=ticket.version
    )
    ticket.refresh_from_db()
    assert ticket.status == Status.CALLBACK_DONE
    ticket = move(ticket, agent, Status.CLOSED)
    assert ticket.closed_at is not None
    ticket = services.ticket_reopen(
        ticket=ticket, actor=agent, version=ticket.version, note="again"
    )
    assert (
        ticket.status == Status.IN_PROGRESS
        and ticket.resolved_at is None
        and ticket.closed_at is None
    )


@pytest.mark.parametrize(
    ("path", "illegal"),
    [
        ((), Status.RESOLVED),
        ((), Status.CLOSED),
        ((Status.ACKNOWLEDGED,), Status.WAITING),
        ((Status.ACKNOWLEDGED, Status.IN_PROGRESS), Status.CLOSED),
        ((Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.RESOLVED), Status.CLOSED),
        ((Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.RESOLVED), Status.CALLBACK_DONE),
        ((Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.WAITING), Status.RESOLVED),
    ],
)
def test_illegal_transitions_are_refused_and_nothing_changes(
    ticket_make, agent, path, illegal
) -> None:
    ticket = move(ticket_make(), agent, *path)
    events = TicketEvent.objects.count()
    with pytest.raises(ValidationError) as error:
        services.ticket_transition(
            ticket=ticket, to_status=illegal, actor=agent, version=ticket.version
        )
    assert "status" in error.value.message_dict
    fresh = Ticket.objects.get(pk=ticket.pk)
    assert (fresh.status, fresh.version) == (ticket.status, ticket.version)
    assert TicketEvent.objects.count() == events


def test_reopen_only_from_resolved_or_closed(ticket_make, agent) -> None:
    ticket = move(ticket_make(), agent, Status.ACKNOWLEDGED)
    with pytest.raises(ValidationError):
        services.ticket_reopen(ticket=ticket, actor=agent, version=ticket.version)


def test_complaint_cannot_close_without_a_callback(ticket_make, agent) -> None:
    ticket = ticket_make(ticket_type="complaint", cause="delivery", severity="major")
    assert ComplaintDetail.objects.get(ticket=ticket).cause == "delivery"
    ticket = move(ticket, agent, Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.RESOLVED)
    with pytest.raises(ValidationError):
        services.ticket_transition(
            ticket=ticket, to_status=Status.CLOSED, actor=agent, version=ticket.version
        )
    assert Ticket.objects.get(pk=ticket.pk).status == Status.RESOLVED


def test_unsatisfied_callback_reopens_the_complaint(ticket_make, agent) -> None:
    ticket = ticket_make(ticket_type="complaint")
    ticket = move(ticket, agent, Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.RESOLVED)
    services.ticket_callback_record(
        ticket=ticket, actor=agent, satisfied=False, note="still broken", version=ticket.version
    )
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS and ticket.resolved_at is None
    assert ticket.pauses.filter(ended_at__isnull=False).count() == 1  # resolved time did not count
    ticket = move(ticket, agent, Status.RESOLVED)
    services.ticket_callback_record(
        ticket=ticket, actor=agent, satisfied=True, version=ticket.version
    )
    ticket.refresh_from_db()
    ticket = move(ticket, agent, Status.CLOSED)
    assert ticket.status == Status.CLOSED
    assert list(Callback.objects.filter(ticket=ticket).values_list("satisfied", flat=True)) == [
        False,
        True,
    ]


def test_recovery_cost_cannot_be_negative(ticket_make, agent) -> None:
    ticket = ticket_make(ticket_type="complaint")
    with pytest.raises(ValidationError) as error:
        services.complaint_recovery_add(
            ticket=ticket, actor=agent, kind="credit", cost="-5", version=ticket.version
        )
    assert "cost" in error.value.message_dict
    assert not RecoveryAction.objects.exists()
    services.complaint_recovery_add(
        ticket=ticket, actor=agent, kind="credit", cost="500.50", version=ticket.version
    )
    assert RecoveryAction.objects.get().cost == Decimal("500.50")


def test_recovery_belongs_to_complaints_only(ticket_make, agent) -> None:
    ticket = ticket_make()
    with pytest.raises(ValidationError):
        services.complaint_recovery_add(
            ticket=ticket, actor=agent, kind="apology", cost=0, version=ticket.version
        )


def test_contact_of_another_account_is_refused(ticket_make, account_make, am_member) -> None:
    other = account_make(owner=am_member)
    stranger = Contact.objects.create(account=other, name="王芳")
    with pytest.raises(ValidationError) as error:
        ticket_make(contact=stranger)
    assert "contact" in error.value.message_dict
    assert not Ticket.objects.exists()


def test_account_outside_the_portfolio_is_an_unknown_account(
    ticket_make, account_make, am_outsider, am_member
) -> None:
    with pytest.raises(ValidationError) as error:
        ticket_make(actor=am_outsider)
    assert "account" in error.value.message_dict
    assert not Ticket.objects.exists()


def test_oversized_description_is_refused(ticket_make) -> None:
    with pytest.raises(ValidationError) as error:
        ticket_make(description="很" * 10_001)
    assert "description" in error.value.message_dict
    assert not Ticket.objects.exists()


def test_oversized_attachment_is_refused(ticket_make, agent, settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path
    ticket = ticket_make()
    big = SimpleUploadedFile("scan.pdf", b"x" * (MAX_ATTACHMENT_BYTES + 1))
    with pytest.raises(ValidationError) as error:
        services.ticket_attachment_add(ticket=ticket, actor=agent, upload=big)
    assert "file" in error.value.message_dict
    assert not Attachment.objects.exists() and not any(tmp_path.rglob("*.pdf"))
    small = SimpleUploadedFile("scan.pdf", b"%PDF-1.4 small")
    assert services.ticket_attachment_add(ticket=ticket, actor=agent, upload=small).size == 14


def test_stale_version_is_refused_and_names_who_changed_it(
    ticket_make, agent, service_manager
) -> None:
    ticket = ticket_make()
    read_by_agent = Ticket.objects.get(pk=ticket.pk)
    read_by_manager = Ticket.objects.get(pk=ticket.pk)
    services.ticket_transition(
        ticket=read_by_manager,
        to_status=Status.ACKNOWLEDGED,
        actor=service_manager,
        version=read_by_manager.version,
    )
    with pytest.raises(services.TicketConflict) as error:
        services.ticket_transition(
            ticket=read_by_agent,
            to_status=Status.ACKNOWLEDGED,
            actor=agent,
            version=read_by_agent.version,
        )
    assert "service_manager" in str(error.value)
    assert TicketEvent.objects.filter(ticket=ticket, kind=EventKind.STATUS).count() == 1
    with pytest.raises(services.TicketConflict):
        services.ticket_reply(
            ticket=read_by_agent, actor=agent, body="hello", version=read_by_agent.version
        )
    assert not TicketEvent.objects.filter(kind=EventKind.REPLY).exists()


def test_agent_cannot_work_a_colleagues_ticket(ticket_make, agent, service_manager) -> None:
    from kam.conftest import user_make
    from kam.users.models import Role

    colleague = user_make("agent2", Role.SERVICE_AGENT)
    ticket = ticket_make(assignee=colleague)
    with pytest.raises(PermissionDenied):
        services.ticket_transition(
            ticket=ticket, to_status=Status.ACKNOWLEDGED, actor=agent, version=ticket.version
        )


def test_account_manager_may_add_a_note_but_not_change_status(ticket_make, am_member) -> None:
    ticket = ticket_make(actor=am_member)
    services.ticket_note(
        ticket=ticket, actor=am_member, body="Customer is a VIP", version=ticket.version
    )
    with pytest.raises(PermissionDenied):
        services.ticket_reply(ticket=ticket, actor=am_member, body="hi")
    with pytest.raises(PermissionDenied):
        services.ticket_transition(
            ticket=ticket,
            to_status=Status.ACKNOWLEDGED,
            actor=am_member,
            version=ticket.version + 1,
        )


def test_escalation_rule_that_would_never_fire_is_refused(service_manager) -> None:
    for value in (0, 100, 150):
        with pytest.raises(ValidationError) as error:
            services.escalation_policy_update(
                actor=service_manager, warn_percent=value, director_after_hours=8
            )
        assert "warn_percent" in error.value.message_dict
    with pytest.raises(ValidationError):
        services.escalation_policy_update(
            actor=service_manager, warn_percent=80, director_after_hours=0
        )


def test_service_level_targets_must_be_positive(service_manager) -> None:
    from kam.service.models import ServiceLevel

    level = ServiceLevel.objects.first()
    with pytest.raises(ValidationError):
        services.service_level_update(
            actor=service_manager, level=level, first_response_hours=0, resolution_hours=4
        )
    with pytest.raises(ValidationError):
        services.service_level_update(
            actor=service_manager, level=level, first_response_hours=2, resolution_hours=1
        )
    services.service_level_update(
        actor=service_manager, level=level, first_response_hours="1.5", resolution_hours=6
    )
    level.refresh_from_db()
    assert level.first_response_hours == Decimal("1.50")
