"""Tests of the business calendar and China's holiday data, on plain datetimes."""

import json
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kam.lib.business_calendar import (
    BusinessCalendar,
    add_working_time,
    is_working_moment,
    next_working_moment,
    working_time_between,
)
from kam.lib.holidays_cn import available_years, china_business_calendar, load_china_calendar

SHANGHAI = ZoneInfo("Asia/Shanghai")
OFFICE = BusinessCalendar()
CHINA = china_business_calendar()


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A Shanghai wall-clock moment."""
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def hours(value: float) -> timedelta:
    return timedelta(hours=value)


# 2026-11-23 is a Monday; 2026-11-27 a Friday.


def test_defaults_are_shanghai_office_hours() -> None:
    assert OFFICE.time_zone == "Asia/Shanghai"
    assert OFFICE.periods_on(date(2026, 11, 23)) == ((time(9), time(12)), (time(13), time(18)))
    assert OFFICE.periods_on(date(2026, 11, 28)) == ()


def test_deadline_within_one_period() -> None:
    assert add_working_time(OFFICE, at(2026, 11, 23, 10), hours(1)) == at(2026, 11, 23, 11)


def test_deadline_skips_lunch_break() -> None:
    assert add_working_time(OFFICE, at(2026, 11, 23, 11), hours(2)) == at(2026, 11, 23, 14)


def test_deadline_runs_across_the_night() -> None:
    assert add_working_time(OFFICE, at(2026, 11, 23, 17), hours(2)) == at(2026, 11, 24, 10)


def test_deadline_skips_the_weekend() -> None:
    assert add_working_time(OFFICE, at(2026, 11, 27, 17), hours(2)) == at(2026, 11, 30, 10)


def test_deadline_may_fall_on_the_end_of_a_period() -> None:
    assert add_working_time(OFFICE, at(2026, 11, 23, 17), hours(1)) == at(2026, 11, 23, 18)
    assert add_working_time(OFFICE, at(2026, 11, 23, 11), hours(1)) == at(2026, 11, 23, 12)


def test_start_at_closing_time_counts_from_next_morning() -> None:
    assert add_working_time(OFFICE, at(2026, 11, 23, 18), hours(1)) == at(2026, 11, 24, 10)


def test_start_at_noon_counts_from_after_lunch() -> None:
    assert add_working_time(OFFICE, at(2026, 11, 23, 12), hours(1)) == at(2026, 11, 23, 14)
    assert add_working_time(OFFICE, at(2026, 11, 23, 12, 30), hours(1)) == at(2026, 11, 23, 14)


@pytest.mark.parametrize(
    "start",
    [
        at(2026, 11, 23, 22),  # evening
        at(2026, 11, 24, 3),  # night
        at(2026, 11, 24, 8, 59),  # just before opening
    ],
)
def test_start_outside_working_hours_counts_from_next_opening(start: datetime) -> None:
    assert add_working_time(OFFICE, start, hours(1)) == at(2026, 11, 24, 10)


def test_start_on_weekend_counts_from_monday() -> None:
    assert add_working_time(OFFICE, at(2026, 11, 28, 22), hours(1)) == at(2026, 11, 30, 10)


def test_zero_duration_returns_start() -> None:
    assert add_working_time(OFFICE, at(2026, 11, 28, 22), timedelta(0)) == at(2026, 11, 28, 22)


def test_deadline_skips_national_day() -> None:
    # 2026-10-01 to 10-07 are off; 10-08 (Thursday) is a normal working day.
    assert add_working_time(CHINA, at(2026, 9, 30, 17), hours(2)) == at(2026, 10, 8, 10)


def test_start_on_public_holiday_counts_from_end_of_break() -> None:
    assert add_working_time(CHINA, at(2026, 10, 3, 10), hours(1)) == at(2026, 10, 8, 10)


def test_deadline_uses_make_up_saturday() -> None:
    # 2026-10-10 is a Saturday worked to make up for National Day.
    assert add_working_time(CHINA, at(2026, 10, 9, 17), hours(2)) == at(2026, 10, 10, 10)
    assert add_working_time(OFFICE, at(2026, 10, 9, 17), hours(2)) == at(2026, 10, 12, 10)


def test_deadline_uses_make_up_sunday() -> None:
    # 2026-09-20 is a Sunday worked, 09-19 a normal Saturday off.
    assert add_working_time(CHINA, at(2026, 9, 19, 10), hours(1)) == at(2026, 9, 20, 10)


def test_deadline_spans_spring_festival() -> None:
    # Friday 02-13 17:00: one hour left that day, Saturday 02-14 is worked (8 h),
    # 02-15 to 02-23 are off, so the last hour falls on Tuesday 02-24.
    assert add_working_time(CHINA, at(2026, 2, 13, 17), hours(10)) == at(2026, 2, 24, 10)


def test_long_duration_runs_for_months() -> None:
    # 400 h = 50 working days from Monday 2026-01-05 09:00 on the plain office calendar.
    assert add_working_time(OFFICE, at(2026, 1, 5, 9), hours(400)) == at(2026, 3, 13, 18)


def test_very_long_duration_is_consistent() -> None:
    start = at(2026, 1, 1)
    deadline = add_working_time(CHINA, start, hours(5000))
    assert deadline is not None
    assert working_time_between(CHINA, start, deadline) == hours(5000)


def test_closed_pause_stops_the_clock() -> None:
    pauses = [(at(2026, 11, 23, 10), at(2026, 11, 23, 11))]
    assert add_working_time(OFFICE, at(2026, 11, 23, 9), hours(4), pauses) == at(2026, 11, 23, 15)


def test_pause_outside_working_hours_changes_nothing() -> None:
    pauses = [
        (at(2026, 11, 23, 18), at(2026, 11, 24, 9)),
        (at(2026, 11, 20, 9), at(2026, 11, 20, 18)),
    ]
    assert add_working_time(OFFICE, at(2026, 11, 23, 17), hours(2), pauses) == at(2026, 11, 24, 10)


def test_pause_over_several_days_pushes_deadline() -> None:
    pauses = [(at(2026, 11, 23, 14), at(2026, 11, 25, 16))]
    assert add_working_time(OFFICE, at(2026, 11, 23, 13), hours(3), pauses) == at(2026, 11, 25, 18)


def test_overlapping_pauses_are_not_counted_twice() -> None:
    pauses = [
        (at(2026, 11, 23, 10), at(2026, 11, 23, 11)),
        (at(2026, 11, 23, 10, 30), at(2026, 11, 23, 11, 30)),
    ]
    assert working_time_between(OFFICE, at(2026, 11, 23, 9), at(2026, 11, 23, 12), pauses) == hours(
        1.5
    )


def test_open_pause_before_deadline_leaves_no_deadline() -> None:
    pauses = [(at(2026, 11, 23, 10), None)]
    assert add_working_time(OFFICE, at(2026, 11, 23, 9), hours(2), pauses) is None


def test_open_pause_after_deadline_keeps_deadline() -> None:
    pauses = [(at(2026, 11, 23, 14), None)]
    assert add_working_time(OFFICE, at(2026, 11, 23, 9), hours(2), pauses) == at(2026, 11, 23, 11)


def test_elapsed_time_stops_at_open_pause() -> None:
    pauses = [(at(2026, 11, 23, 10), None)]
    assert working_time_between(OFFICE, at(2026, 11, 23, 9), at(2026, 11, 30, 9), pauses) == hours(
        1
    )


def test_elapsed_time_counts_working_hours_only() -> None:
    assert working_time_between(OFFICE, at(2026, 11, 27, 16), at(2026, 11, 30, 10)) == hours(3)
    assert working_time_between(CHINA, at(2026, 9, 30, 9), at(2026, 10, 8, 9)) == hours(8)


def test_elapsed_time_is_negative_when_end_is_before_start() -> None:
    assert working_time_between(OFFICE, at(2026, 11, 24, 10), at(2026, 11, 23, 17)) == -hours(2)


def test_elapsed_time_inside_non_working_time_is_zero() -> None:
    assert working_time_between(OFFICE, at(2026, 11, 23, 12), at(2026, 11, 23, 13)) == timedelta(0)


def test_other_time_zone_inputs_are_converted() -> None:
    start = datetime(2026, 11, 23, 1, tzinfo=UTC)  # 09:00 in Shanghai
    deadline = add_working_time(OFFICE, start, hours(1))
    assert deadline == datetime(2026, 11, 23, 2, tzinfo=UTC)
    assert deadline is not None and deadline.tzinfo == SHANGHAI
    berlin = datetime(2026, 11, 23, 10, tzinfo=ZoneInfo("Europe/Berlin"))  # 17:00 in Shanghai
    assert add_working_time(OFFICE, berlin, hours(2)) == at(2026, 11, 24, 10)
    assert working_time_between(OFFICE, start, berlin) == hours(7)


def test_calendar_in_dst_zone_counts_real_elapsed_time() -> None:
    # Berlin springs forward on 2026-03-29 (a Sunday): a 24-hour Sunday lasts 23 hours.
    whole_day = ((time(0), time(0)),)
    calendar = BusinessCalendar(time_zone="Europe/Berlin", weekly_periods=((),) * 6 + (whole_day,))
    berlin = ZoneInfo("Europe/Berlin")
    start = datetime(2026, 3, 28, 12, tzinfo=berlin)
    assert working_time_between(calendar, start, start + timedelta(days=2)) == hours(23)


def test_round_the_clock_calendar() -> None:
    calendar = BusinessCalendar(weekly_periods=(((time(0), time(0)),),) * 7)
    assert add_working_time(calendar, at(2026, 11, 28, 23), hours(30)) == at(2026, 11, 30, 5)
    assert is_working_moment(calendar, at(2026, 11, 29, 0))


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (at(2026, 11, 23, 9), True),
        (at(2026, 11, 23, 11, 59), True),
        (at(2026, 11, 23, 12), False),
        (at(2026, 11, 23, 13), True),
        (at(2026, 11, 23, 18), False),
        (at(2026, 11, 28, 10), False),  # Saturday
        (at(2026, 10, 5, 10), False),  # National Day
        (at(2026, 10, 10, 10), True),  # make-up Saturday
    ],
)
def test_is_working_moment(moment: datetime, expected: bool) -> None:
    assert is_working_moment(CHINA, moment) is expected


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (at(2026, 11, 23, 10, 15), at(2026, 11, 23, 10, 15)),
        (at(2026, 11, 23, 12), at(2026, 11, 23, 13)),
        (at(2026, 11, 27, 18), at(2026, 11, 30, 9)),
        (at(2026, 9, 30, 18), at(2026, 10, 8, 9)),
        (at(2026, 10, 9, 18), at(2026, 10, 10, 9)),
    ],
)
def test_next_working_moment(moment: datetime, expected: datetime) -> None:
    assert next_working_moment(CHINA, moment) == expected


def test_naive_datetime_is_rejected() -> None:
    with pytest.raises(ValueError, match="start must be timezone-aware"):
        add_working_time(OFFICE, datetime(2026, 11, 23, 9), hours(1))
    with pytest.raises(ValueError, match="end must be timezone-aware"):
        working_time_between(OFFICE, at(2026, 11, 23, 9), datetime(2026, 11, 23, 10))
    with pytest.raises(ValueError, match="pause #0 start must be timezone-aware"):
        add_working_time(OFFICE, at(2026, 11, 23, 9), hours(1), [(datetime(2026, 11, 23, 9), None)])


def test_negative_duration_is_rejected() -> None:
    with pytest.raises(ValueError, match="duration must not be negative"):
        add_working_time(OFFICE, at(2026, 11, 23, 9), -hours(1))


def test_inverted_pause_is_rejected() -> None:
    with pytest.raises(ValueError, match="pause #0 ends"):
        add_working_time(
            OFFICE, at(2026, 11, 23, 9), hours(1), [(at(2026, 11, 23, 11), at(2026, 11, 23, 10))]
        )


def test_calendar_without_working_time_is_rejected() -> None:
    with pytest.raises(ValueError, match="never be reached"):
        BusinessCalendar(weekly_periods=((),) * 7)


def test_years_of_holidays_never_fire() -> None:
    first = date(2026, 1, 1)
    holidays = frozenset(first + timedelta(days=offset) for offset in range(4 * 366))
    calendar = BusinessCalendar(holidays=holidays)
    with pytest.raises(ValueError, match="no working time in the 1098 days"):
        add_working_time(calendar, at(2026, 1, 1), hours(1))


@pytest.mark.parametrize(
    ("periods", "message"),
    [
        (((time(18), time(9)),), "ends before it starts"),
        (((time(9), time(9)),), "ends before it starts"),
        (((time(9), time(13)), (time(12), time(18))), "overlap"),
        (((time(9),),), "two naive datetime.time"),
    ],
)
def test_bad_working_periods_are_rejected(periods: tuple[Any, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BusinessCalendar(weekly_periods=(periods,) * 5 + ((), ()))


def test_touching_and_unsorted_periods_are_accepted() -> None:
    day = ((time(13), time(18)), (time(9), time(13)))
    calendar = BusinessCalendar(weekly_periods=(day,) * 5 + ((), ()))
    assert calendar.periods_on(date(2026, 11, 23)) == ((time(9), time(13)), (time(13), time(18)))
    assert add_working_time(calendar, at(2026, 11, 23, 12), hours(2)) == at(2026, 11, 23, 14)


def test_bad_calendar_settings_are_rejected() -> None:
    with pytest.raises(ValueError, match="unknown time zone"):
        BusinessCalendar(time_zone="Mars/Olympus")
    with pytest.raises(ValueError, match="7 entries"):
        BusinessCalendar(weekly_periods=((),) * 5)
    with pytest.raises(ValueError, match="both holidays and make-up"):
        BusinessCalendar(
            holidays=frozenset({date(2026, 10, 10)}), workdays=frozenset({date(2026, 10, 10)})
        )


def test_calendar_accepts_lists_and_sets_and_stays_hashable() -> None:
    loose: dict[str, Any] = {
        "holidays": {date(2026, 10, 1)},
        "weekly_periods": [[(time(9), time(17))]] * 7,
    }
    calendar = BusinessCalendar(**loose)
    strict = BusinessCalendar(
        holidays=frozenset({date(2026, 10, 1)}), weekly_periods=(((time(9), time(17)),),) * 7
    )
    assert isinstance(calendar.holidays, frozenset)
    assert calendar == strict
    assert hash(calendar) == hash(strict)


# Properties: round trip and agreement with a minute-by-minute reference.

moments = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2026, 12, 1), timezones=st.just(SHANGHAI)
)


@settings(max_examples=300, deadline=None)
@given(start=moments, duration=st.timedeltas(min_value=timedelta(0), max_value=hours(800)))
def test_round_trip_without_pauses(start: datetime, duration: timedelta) -> None:
    deadline = add_working_time(CHINA, start, duration)
    assert deadline is not None
    assert working_time_between(CHINA, start, deadline) == duration


@settings(max_examples=200, deadline=None)
@given(
    start=moments,
    duration=st.timedeltas(min_value=timedelta(0), max_value=hours(80)),
    pause_offsets=st.lists(
        st.tuples(
            st.timedeltas(min_value=-hours(48), max_value=hours(400)),
            st.timedeltas(min_value=timedelta(0), max_value=hours(60)),
        ),
        max_size=4,
    ),
)
def test_round_trip_with_closed_pauses(
    start: datetime, duration: timedelta, pause_offsets: list[tuple[timedelta, timedelta]]
) -> None:
    pauses = [(start + offset, start + offset + length) for offset, length in pause_offsets]
    deadline = add_working_time(CHINA, start, duration, pauses)
    assert deadline is not None
    assert working_time_between(CHINA, start, deadline, pauses) == duration


def reference_deadline(calendar: BusinessCalendar, start: datetime, minutes: int) -> datetime:
    """Walk minute by minute: the slow, obviously right answer."""
    moment, left = start, minutes
    while left:
        local = moment.astimezone(calendar.zone)
        if any(begin <= local.time() < end for begin, end in calendar.periods_on(local.date())):
            left -= 1
        moment += timedelta(minutes=1)
    return moment


@settings(max_examples=40, deadline=None)
@given(
    start=st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 1), timezones=st.just(SHANGHAI)
    ).map(lambda moment: moment.replace(second=0, microsecond=0)),
    minutes=st.integers(min_value=1, max_value=20 * 60),
)
def test_deadline_matches_minute_by_minute_reference(start: datetime, minutes: int) -> None:
    assert add_working_time(CHINA, start, timedelta(minutes=minutes)) == reference_deadline(
        CHINA, start, minutes
    )


# China's holiday data file.


def test_data_covers_2025_and_2026() -> None:
    assert available_years() == (2025, 2026)


def test_2026_arrangement_matches_state_council_notice() -> None:
    holidays, workdays = load_china_calendar([2026])
    assert workdays == {
        date(2026, 1, 4),
        date(2026, 2, 14),
        date(2026, 2, 28),
        date(2026, 5, 9),
        date(2026, 9, 20),
        date(2026, 10, 10),
    }
    breaks = [
        (date(2026, 1, 1), date(2026, 1, 3)),
        (date(2026, 2, 15), date(2026, 2, 23)),
        (date(2026, 4, 4), date(2026, 4, 6)),
        (date(2026, 5, 1), date(2026, 5, 5)),
        (date(2026, 6, 19), date(2026, 6, 21)),
        (date(2026, 9, 25), date(2026, 9, 27)),
        (date(2026, 10, 1), date(2026, 10, 7)),
    ]
    expected = {
        first + timedelta(days=n) for first, last in breaks for n in range((last - first).days + 1)
    }
    assert holidays == expected


def test_loading_all_years_merges_them() -> None:
    holidays, workdays = load_china_calendar()
    assert date(2025, 10, 8) in holidays and date(2026, 10, 7) in holidays
    assert date(2025, 10, 11) in workdays and date(2026, 10, 10) in workdays


def test_missing_year_is_an_error() -> None:
    with pytest.raises(ValueError, match="no China holiday data for 2027"):
        load_china_calendar([2026, 2027])


def write_data(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "holidays.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_admin_added_year_is_loaded(tmp_path: Path) -> None:
    path = write_data(
        tmp_path,
        {
            "_about": "comment",
            "2030": {"source": "x", "holidays": ["2030-10-01"], "workdays": ["2030-09-29"]},
        },
    )
    assert load_china_calendar(path=path) == (
        frozenset({date(2030, 10, 1)}),
        frozenset({date(2030, 9, 29)}),
    )


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"holidays": ["2030-13-01"], "workdays": []}, "not a YYYY-MM-DD date"),
        ({"holidays": ["2031-01-01"], "workdays": []}, "belongs to another year"),
        ({"holidays": [], "workdays": ["2030-10-01"]}, "must be Saturdays or Sundays"),
        ({"holidays": ["2030-09-29"], "workdays": ["2030-09-29"]}, "both holiday and workday"),
        ({"holidays": []}, "list of ISO dates under 'workdays'"),
    ],
)
def test_bad_data_file_is_rejected(tmp_path: Path, entry: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        load_china_calendar(path=write_data(tmp_path, {"2030": entry}))
