"""SLA deadlines on the configured business calendar: nights, weekends, holidays, 调休, pauses."""

from datetime import timedelta

import pytest
from django.core.management import call_command

from kam.lib.business_calendar import add_working_time
from kam.service import services
from kam.service.calendar import calendar_get
from kam.service.models import DayKind, Status

from .conftest import at, level_set

pytestmark = pytest.mark.django_db


def hours_after(start: str, hours: float) -> str:
    due = add_working_time(calendar_get(), at(start), timedelta(hours=hours))
    return due.isoformat()


def test_default_calendar_has_a_lunch_break_and_skips_the_night() -> None:
    assert hours_after("2026-11-19 11:30", 1) == "2026-11-19T13:30:00+08:00"
    assert hours_after("2026-11-19 17:30", 1) == "2026-11-20T09:30:00+08:00"


def test_deadline_skips_the_weekend() -> None:
    assert hours_after("2026-11-20 17:00", 2) == "2026-11-23T10:00:00+08:00"


def test_deadline_skips_national_day_2026() -> None:
    # Wed 30 Sep 16:00: two hours that day, then 1–7 October off, then Thursday 8 October.
    assert hours_after("2026-09-30 16:00", 8) == "2026-10-08T16:00:00+08:00"


def test_deadline_counts_the_make_up_saturday() -> None:
    # Saturday 10 October 2026 is a make-up working day (调休).
    assert hours_after("2026-10-09 17:00", 3) == "2026-10-10T11:00:00+08:00"


def test_ticket_deadline_moves_by_the_working_time_spent_waiting(ticket_make, agent) -> None:
    level_set("strategic", "repair", "normal", response=0.5, resolution=3)
    ticket = ticket_make(now=at("2026-10-09 17:00"))
    assert ticket.resolution_due == at("2026-10-10 11:00")
    steps = [
        (Status.ACKNOWLEDGED, "2026-10-09 17:10"),
        (Status.IN_PROGRESS, "2026-10-09 17:20"),
        (Status.WAITING, "2026-10-09 17:30"),
        (
            Status.IN_PROGRESS,
            "2026-10-10 09:30",
        ),  # half an hour Friday + half an hour Saturday paused
    ]
    for status, moment in steps:
        ticket = services.ticket_transition(
            ticket=ticket, to_status=status, actor=agent, version=ticket.version, now=at(moment)
        )
    assert ticket.resolution_due == at("2026-10-10 12:00")
    assert ticket.response_due == at("2026-10-09 17:30")


def test_a_holiday_added_by_the_service_manager_moves_deadlines(service_manager) -> None:
    assert hours_after("2026-11-20 17:00", 2) == "2026-11-23T10:00:00+08:00"
    services.calendar_day_set(
        actor=service_manager,
        day=at("2026-11-23 00:00").date(),
        kind=DayKind.HOLIDAY,
        note="company day",
    )
    assert hours_after("2026-11-20 17:00", 2) == "2026-11-24T10:00:00+08:00"


def test_changed_working_hours_apply(service_manager) -> None:
    week = [[["08:00", "20:00"]]] * 7
    services.calendar_update(actor=service_manager, time_zone="Asia/Shanghai", weekly_hours=week)
    assert hours_after("2026-11-21 19:00", 2) == "2026-11-22T09:00:00+08:00"


def test_a_calendar_without_working_time_is_refused(service_manager) -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="no working time"):
        services.calendar_update(
            actor=service_manager, time_zone="Asia/Shanghai", weekly_hours=[[]] * 7
        )


def test_cli_prints_the_deadline_in_iso_8601(capsys) -> None:
    call_command("sla", "deadline", "--start", "2026-09-30 17:00", "--hours", "2")
    assert capsys.readouterr().out.strip() == "2026-10-08T10:00:00+08:00"
