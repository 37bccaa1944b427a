"""Business-calendar arithmetic for SLA deadlines (no Django import).

A `BusinessCalendar` says when the service desk works: weekly working periods
in one time zone, days off (public holidays) and make-up working days (调休).
The functions below count working time on it:

- `add_working_time`: the moment a number of working hours after a start;
- `working_time_between`: working time elapsed between two moments;
- `is_working_moment` / `next_working_moment`.

Time inside pauses (e.g. while a ticket waits on the customer) does not count.
All arithmetic runs on UTC instants, one working period at a time, so long
durations cost one step per period, never one per minute. Results are aware
datetimes in the calendar's time zone.
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "BusinessCalendar",
    "MAX_IDLE_DAYS",
    "Pause",
    "Period",
    "add_working_time",
    "is_working_moment",
    "next_working_moment",
    "working_time_between",
]

Period = tuple[time, time]
"""A working period of one day as local wall times; an end of 00:00 means midnight."""

Pause = tuple[datetime, datetime | None]
"""A stretch when the clock stops; an end of None means it has not ended yet."""

MAX_IDLE_DAYS = 3 * 366
"""Consecutive days without working time after which a calendar is declared broken."""

_DAY = timedelta(days=1)
_OFFICE_DAY: tuple[Period, ...] = ((time(9), time(12)), (time(13), time(18)))
_DEFAULT_WEEK: tuple[tuple[Period, ...], ...] = (_OFFICE_DAY,) * 5 + ((), ())
_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class BusinessCalendar:
    """When the service desk works: weekly periods, days off and make-up working days.

    `weekly_periods` has seven entries, Monday first, each a tuple of
    (start, end) local times; an end of `time(0)` means midnight, so
    `((time(0), time(0)),)` is a whole day (7x24 desks). `holidays` are days
    off even on a weekday; `workdays` are make-up working days (调休), worked
    with `workday_periods`, which defaults to the first Monday-Friday entry
    that has working time. Lists and sets are accepted and stored as tuples
    and frozensets. Invalid calendars raise `ValueError` on construction.
    """

    time_zone: str = "Asia/Shanghai"
    weekly_periods: tuple[tuple[Period, ...], ...] = _DEFAULT_WEEK
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()
    workday_periods: tuple[Period, ...] | None = None

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {self.time_zone!r}") from error
        if len(self.weekly_periods) != 7:
            raise ValueError(
                f"weekly_periods needs 7 entries (Monday to Sunday), got {len(self.weekly_periods)}"
            )
        week = tuple(
            _checked_periods(periods, _WEEKDAY_NAMES[weekday])
            for weekday, periods in enumerate(self.weekly_periods)
        )
        if self.workday_periods is None:
            makeup = next((periods for periods in week[:5] if periods), ())
        else:
            makeup = _checked_periods(self.workday_periods, "make-up working days")
        holidays = frozenset(self.holidays)
        workdays = frozenset(self.workdays)
        if both := holidays & workdays:
            listed = ", ".join(sorted(day.isoformat() for day in both))
            raise ValueError(f"dates are both holidays and make-up working days: {listed}")
        if not any(week) and not (workdays and makeup):
            raise ValueError(
                "calendar has no working time at all: deadlines would never be reached"
            )
        # The instance is frozen; normalising in place keeps it hashable and immutable.
        object.__setattr__(self, "weekly_periods", week)
        object.__setattr__(self, "workday_periods", makeup)
        object.__setattr__(self, "holidays", holidays)
        object.__setattr__(self, "workdays", workdays)

    @property
    def zone(self) -> ZoneInfo:
        """The calendar's time zone (zoneinfo caches instances by name)."""
        return ZoneInfo(self.time_zone)

    def periods_on(self, day: date) -> tuple[Period, ...]:
        """Working periods of one local date: none on holidays, make-up hours on workdays."""
        if day in self.holidays:
            return ()
        if day in self.workdays:
            return self.workday_periods or ()
        return self.weekly_periods[day.weekday()]


def add_working_time(
    calendar: BusinessCalendar,
    start: datetime,
    duration: timedelta,
    pauses: Sequence[Pause] = (),
) -> datetime | None:
    """Return the moment `duration` of working time after `start`.

    The deadline may fall exactly on the end of a period (17:00 + 1h is 18:00
    the same day, not 09:00 the next). A zero duration returns `start`.
    Pause time does not count. Returns None when an open pause (end None)
    stops the clock before the duration is used up: the deadline is unknown
    until the pause ends. A deadline reached before an open pause begins is
    returned as usual.
    """
    start_utc = _to_utc(start, "start")
    if not isinstance(duration, timedelta):
        raise ValueError(f"duration must be a timedelta, got {type(duration).__name__}")
    if duration < timedelta(0):
        raise ValueError(f"duration must not be negative, got {duration}")
    if not duration:
        return start_utc.astimezone(calendar.zone)
    remaining = duration
    for period_start, period_end in _counted_intervals(calendar, start_utc, None, pauses):
        length = period_end - period_start
        if remaining <= length:
            return (period_start + remaining).astimezone(calendar.zone)
        remaining -= length
    return None  # an open pause stopped the clock


def working_time_between(
    calendar: BusinessCalendar,
    start: datetime,
    end: datetime,
    pauses: Sequence[Pause] = (),
) -> timedelta:
    """Return the working time from `start` to `end`, pause time excluded.

    Negative when `end` is before `start` (e.g. how late an overdue ticket
    is). An open pause counts as lasting until `end`.
    """
    start_utc = _to_utc(start, "start")
    end_utc = _to_utc(end, "end")
    if end_utc < start_utc:
        return -working_time_between(calendar, end_utc, start_utc, pauses)
    total = timedelta(0)
    for period_start, period_end in _counted_intervals(calendar, start_utc, end_utc, pauses):
        total += period_end - period_start
    return total


def is_working_moment(calendar: BusinessCalendar, moment: datetime) -> bool:
    """Tell whether `moment` lies inside a working period (start included, end excluded)."""
    moment_utc = _to_utc(moment, "moment")
    return next_working_moment(calendar, moment_utc) == moment_utc


def next_working_moment(calendar: BusinessCalendar, moment: datetime) -> datetime:
    """Return `moment` itself if it is working time, else the start of the next period."""
    moment_utc = _to_utc(moment, "moment")
    period_start, _ = next(_calendar_intervals(calendar, moment_utc))
    return period_start.astimezone(calendar.zone)


def _checked_periods(periods: Sequence[Period], label: str) -> tuple[Period, ...]:
    """Validate one day's periods and return them sorted as a tuple."""
    checked: list[tuple[time, time, timedelta, timedelta]] = []
    for period in periods:
        if len(period) != 2 or not all(
            isinstance(value, time) and value.tzinfo is None for value in period
        ):
            raise ValueError(
                f"{label}: a period must be two naive datetime.time values, got {period!r}"
            )
        begin, end = period
        begin_offset, end_offset = _offset(begin), _offset(end) or _DAY
        if begin_offset >= end_offset:
            raise ValueError(f"{label}: period {begin}-{end} ends before it starts")
        checked.append((begin, end, begin_offset, end_offset))
    checked.sort(key=lambda item: item[2])
    for previous, current in zip(checked, checked[1:], strict=False):
        if current[2] < previous[3]:
            raise ValueError(
                f"{label}: periods {previous[0]}-{previous[1]} "
                f"and {current[0]}-{current[1]} overlap"
            )
    return tuple((begin, end) for begin, end, _, _ in checked)


def _offset(value: time) -> timedelta:
    return timedelta(
        hours=value.hour, minutes=value.minute, seconds=value.second, microseconds=value.microsecond
    )


def _to_utc(value: datetime, name: str) -> datetime:
    """Convert an aware datetime to UTC; naive or non-datetime input is a ValueError."""
    if not isinstance(value, datetime):
        raise ValueError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")
    return value.astimezone(UTC)


def _calendar_intervals(
    calendar: BusinessCalendar, start: datetime
) -> Iterator[tuple[datetime, datetime]]:
    """Yield working periods as UTC instants from `start` on, the first one clipped.

    Raises ValueError after MAX_IDLE_DAYS days in a row without working time,
    which only a broken calendar (e.g. years of holidays) produces.
    """
    zone = calendar.zone
    day = start.astimezone(zone).date()
    idle_days = 0
    while True:
        periods = calendar.periods_on(day)
        idle_days = 0 if periods else idle_days + 1
        if idle_days > MAX_IDLE_DAYS:
            raise ValueError(
                f"no working time in the {MAX_IDLE_DAYS} days up to {day.isoformat()}: "
                "check the calendar's holidays and working periods"
            )
        for begin, end in periods:
            # Local wall times become instants per date, so DST days are as long as they really are.
            period_start = datetime.combine(day, begin, zone).astimezone(UTC)
            end_day = day + _DAY if end == time(0) else day
            period_end = datetime.combine(end_day, end, zone).astimezone(UTC)
            period_start = max(period_start, start)
            if period_end > period_start:
                yield period_start, period_end
        day += _DAY


def _merged_pauses(pauses: Sequence[Pause]) -> list[tuple[datetime, datetime | None]]:
    """Validate pauses, convert them to UTC, sort them and merge overlaps."""
    converted: list[tuple[datetime, datetime | None]] = []
    for index, pause in enumerate(pauses):
        if len(pause) != 2:
            raise ValueError(f"pause #{index} must be a (start, end) pair, got {pause!r}")
        begin = _to_utc(pause[0], f"pause #{index} start")
        end = None if pause[1] is None else _to_utc(pause[1], f"pause #{index} end")
        if end is not None and end < begin:
            raise ValueError(
                f"pause #{index} ends ({end.isoformat()}) before it starts ({begin.isoformat()})"
            )
        converted.append((begin, end))
    converted.sort(key=lambda pause: pause[0])
    merged: list[tuple[datetime, datetime | None]] = []
    for begin, end in converted:
        if merged:
            last_begin, last_end = merged[-1]
            if last_end is None:
                break  # an open pause swallows everything after it
            if begin <= last_end:
                merged[-1] = (last_begin, None if end is None else max(last_end, end))
                continue
        merged.append((begin, end))
    return merged


def _counted_intervals(
    calendar: BusinessCalendar,
    start: datetime,
    end: datetime | None,
    pauses: Sequence[Pause],
) -> Iterator[tuple[datetime, datetime]]:
    """Yield the stretches of working time that count: periods from `start`, minus pauses.

    Steps: walk the calendar's periods in order; cut each at `end`; walk the
    sorted pauses alongside, yielding the parts of the period between them;
    stop at `end` or where an open pause begins (the clock never restarts).
    """
    remaining_pauses = _merged_pauses(pauses)
    index = 0
    for period_start, period_end in _calendar_intervals(calendar, start):
        if end is not None:
            if period_start >= end:
                return
            period_end = min(period_end, end)
        cursor = period_start
        while cursor < period_end:
            # Pauses that ended before the cursor no longer matter.
            while index < len(remaining_pauses):
                pause_end = remaining_pauses[index][1]
                if pause_end is None or pause_end > cursor:
                    break
                index += 1
            if index == len(remaining_pauses) or remaining_pauses[index][0] >= period_end:
                yield cursor, period_end
                break
            pause_start, pause_end = remaining_pauses[index]
            if pause_start > cursor:
                yield cursor, pause_start
            if pause_end is None:
                return
            cursor = pause_end
