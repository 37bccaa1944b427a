"""Periodic background work: enqueue each app's recurring tasks through the Tasks API.

Apps declare `periodic_tasks = [("kam.app.tasks.name", seconds)]` on their AppConfig;
a daily job uses `("…", "daily@HH:MM")`. The worker loop calls `tasks_enqueue_due`.
"""

import datetime as dt
from collections.abc import Iterator

from django.apps import apps
from django.utils import timezone
from django.utils.module_loading import import_string


def periodic_tasks() -> Iterator[tuple[str, int | str]]:
    for config in apps.get_app_configs():
        yield from getattr(config, "periodic_tasks", ())


def is_due(schedule: int | str, last: dt.datetime | None, now: dt.datetime) -> bool:
    if isinstance(schedule, int):
        return last is None or (now - last).total_seconds() >= schedule
    if not schedule.startswith("daily@"):
        raise ValueError(f"unknown schedule {schedule!r}")
    hour, minute = (int(part) for part in schedule[6:].split(":"))
    local = timezone.localtime(now)
    today_run = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    return local >= today_run and (last is None or timezone.localtime(last) < today_run)


def tasks_enqueue_due(
    last_runs: dict[str, dt.datetime], now: dt.datetime | None = None
) -> list[str]:
    """Enqueue every periodic task that is due; updates `last_runs` and returns the names."""
    now = now or timezone.now()
    enqueued = []
    for dotted, schedule in periodic_tasks():
        if isinstance(schedule, str) and dotted not in last_runs:
            # A daily job waits for its hour: starting the worker is not a reason to run it.
            last_runs[dotted] = now
            continue
        if is_due(schedule, last_runs.get(dotted), now):
            import_string(dotted).enqueue()
            last_runs[dotted] = now
            enqueued.append(dotted)
    return enqueued
