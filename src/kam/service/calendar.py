"""The business calendar stored in the database, as a kam.lib BusinessCalendar.

`calendar_get()` costs one query per call (the config row); the holidays are
loaded again only when the config's `revision` changed, which every calendar
write bumps, so all processes (web workers, the task worker) see edits.
"""

import threading
from datetime import date, time

from kam.lib.business_calendar import BusinessCalendar, Period
from kam.service.models import BusinessCalendarConfig, CalendarDay, DayKind

DEFAULT_WEEKLY_HOURS: list[list[list[str]]] = [[["09:00", "12:00"], ["13:00", "18:00"]]] * 5 + [
    [],
    [],
]
WEEKDAY_LABELS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

_lock = threading.Lock()
_cache: dict[str, tuple[tuple[int, str], BusinessCalendar]] = {}


def parse_hhmm(text: str) -> time:
    """'09:00' → time(9); '24:00' means midnight at the end of the day (time(0))."""
    hours, _, minutes = text.strip().partition(":")
    if not (hours.isdigit() and minutes.isdigit()):
        raise ValueError(f"{text!r} is not HH:MM")
    hour, minute = int(hours), int(minutes)
    if (hour, minute) == (24, 0):
        return time(0)
    if not (0 <= hour < 24 and 0 <= minute < 60):
        raise ValueError(f"{text!r} is not a time of day")
    return time(hour, minute)


def periods_from_json(day: list[list[str]]) -> tuple[Period, ...]:
    return tuple((parse_hhmm(begin), parse_hhmm(end)) for begin, end in day)


def periods_format(day: list[list[str]]) -> str:
    """[["09:00","12:00"],["13:00","18:00"]] → '09:00-12:00, 13:00-18:00'."""
    return ", ".join(f"{begin}-{end}" for begin, end in day)


def periods_parse(text: str) -> list[list[str]]:
    """'09:00-12:00, 13:00-18:00' → [["09:00","12:00"],["13:00","18:00"]]; ValueError if malformed."""
    periods = []
    for chunk in text.replace("，", ",").split(","):
        chunk = chunk.strip()
        if not chunk:
            continue
        begin, sep, end = chunk.partition("-")
        if not sep:
            raise ValueError(f"{chunk!r} is not HH:MM-HH:MM")
        parse_hhmm(begin)
        parse_hhmm(end)
        periods.append([begin.strip(), end.strip()])
    return periods


def calendar_build(
    time_zone: str, weekly_hours: list[list[list[str]]], holidays: set[date], workdays: set[date]
) -> BusinessCalendar:
    """A BusinessCalendar from stored values; ValueError (from kam.lib) when it is unusable."""
    if not isinstance(weekly_hours, list) or len(weekly_hours) != 7:
        raise ValueError("weekly hours need seven days, Monday first")
    week = tuple(periods_from_json(day) for day in weekly_hours)
    return BusinessCalendar(
        time_zone=time_zone,
        weekly_periods=week,
        holidays=frozenset(holidays),
        workdays=frozenset(workdays),
    )


def calendar_config() -> BusinessCalendarConfig:
    config = BusinessCalendarConfig.objects.order_by("pk").first()
    if config is None:  # the data migration seeds it; recreate if an admin deleted it
        config = BusinessCalendarConfig.objects.create(weekly_hours=DEFAULT_WEEKLY_HOURS)
    return config


def calendar_get() -> BusinessCalendar:
    """The configured calendar (rebuilt only when the config's revision changed)."""
    config = calendar_config()
    key = f"{config.pk}"
    stamp = (config.revision, config.updated_at.isoformat())
    cached = _cache.get(key)
    if cached and cached[0] == stamp:
        return cached[1]
    holidays: set[date] = set()
    workdays: set[date] = set()
    for day, kind in CalendarDay.objects.values_list("day", "kind"):
        (holidays if kind == DayKind.HOLIDAY else workdays).add(day)
    calendar = calendar_build(config.time_zone, config.weekly_hours, holidays, workdays)
    with _lock:
        _cache[key] = (stamp, calendar)
    return calendar


def calendar_cache_clear() -> None:
    with _lock:
        _cache.clear()


def calendar_years_covered() -> set[int]:
    """Years that have at least one holiday row (a year without any is probably not loaded)."""
    return {
        day.year
        for day in CalendarDay.objects.filter(kind=DayKind.HOLIDAY).values_list("day", flat=True)
    }
