"""China's official public holidays and make-up working days (调休), from a data file.

Each year the State Council General Office publishes the next year's
arrangement (国务院办公厅关于XXXX年部分节假日安排的通知), usually in November.
`data/holidays_cn.json` holds one entry per published year:

    {"2026": {"notice": "...", "source": "https://...",
              "holidays": ["2026-01-01", ...], "workdays": ["2026-01-04", ...]}}

`holidays` lists every date off in each break (weekend days inside a break
included); `workdays` lists the Saturdays and Sundays that are working days.
Keys starting with "_" are comments. The file ships 2025 and 2026; an admin
adds 2027 once it is published (see docs/business_calendar.md). Nothing is
fetched at run time.
"""

import json
from collections.abc import Iterable
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

from kam.lib.business_calendar import BusinessCalendar

__all__ = ["available_years", "china_business_calendar", "load_china_calendar"]


def load_china_calendar(
    years: Iterable[int] | None = None, *, path: Path | None = None
) -> tuple[frozenset[date], frozenset[date]]:
    """Return (holidays, workdays) for `years`, or for every year in the file when None.

    A requested year missing from the file raises ValueError, so an SLA
    clock never silently runs through an unknown year's holidays.
    """
    data = _read(path)
    wanted = sorted(data) if years is None else sorted(set(years))
    if missing := [year for year in wanted if year not in data]:
        raise ValueError(
            f"no China holiday data for {', '.join(map(str, missing))}; "
            f"the data file has {', '.join(map(str, sorted(data))) or 'no years'}"
        )
    holidays: set[date] = set()
    workdays: set[date] = set()
    for year in wanted:
        holidays |= data[year][0]
        workdays |= data[year][1]
    return frozenset(holidays), frozenset(workdays)


def available_years(*, path: Path | None = None) -> tuple[int, ...]:
    """Years the data file covers, oldest first."""
    return tuple(sorted(_read(path)))


def china_business_calendar(
    years: Iterable[int] | None = None, *, path: Path | None = None
) -> BusinessCalendar:
    """The default calendar (Asia/Shanghai, Mon-Fri 09-12 and 13-18) with China's holidays."""
    holidays, workdays = load_china_calendar(years, path=path)
    return BusinessCalendar(holidays=holidays, workdays=workdays)


def _read(path: Path | None) -> dict[int, tuple[frozenset[date], frozenset[date]]]:
    """Parse and check the data file; every mistake an admin can make is a ValueError."""
    if path is None:
        text = resources.files("kam.lib").joinpath("data/holidays_cn.json").read_text("utf-8")
        name = "holidays_cn.json"
    else:
        text = path.read_text("utf-8")
        name = str(path)
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"{name} is not valid JSON: {error}") from error
    if not isinstance(raw, dict):
        raise ValueError(f"{name}: expected an object keyed by year")
    years: dict[int, tuple[frozenset[date], frozenset[date]]] = {}
    for key, entry in raw.items():
        if key.startswith("_"):
            continue
        if not (key.isdigit() and len(key) == 4):
            raise ValueError(f"{name}: key {key!r} is not a year")
        if not isinstance(entry, dict):
            raise ValueError(f"{name}: {key} must be an object with holidays and workdays")
        year = int(key)
        holidays = _dates(entry, "holidays", year, name)
        workdays = _dates(entry, "workdays", year, name)
        if both := holidays & workdays:
            raise ValueError(f"{name}: {key} lists {_listing(both)} as both holiday and workday")
        if weekdays := {day for day in workdays if day.weekday() < 5}:
            raise ValueError(
                f"{name}: {key} workdays must be Saturdays or Sundays, not {_listing(weekdays)}"
            )
        years[year] = (holidays, workdays)
    return years


def _dates(entry: dict[str, Any], field: str, year: int, name: str) -> frozenset[date]:
    values = entry.get(field)
    if not isinstance(values, list):
        raise ValueError(f"{name}: {year} needs a list of ISO dates under {field!r}")
    days: set[date] = set()
    for value in values:
        try:
            day = date.fromisoformat(value)
        except (TypeError, ValueError) as error:
            raise ValueError(
                f"{name}: {year} {field}: {value!r} is not a YYYY-MM-DD date"
            ) from error
        if day.year != year:
            raise ValueError(f"{name}: {year} {field}: {value} belongs to another year")
        days.add(day)
    return frozenset(days)


def _listing(days: Iterable[date]) -> str:
    return ", ".join(sorted(day.isoformat() for day in days))
