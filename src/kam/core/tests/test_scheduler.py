import datetime as dt
from zoneinfo import ZoneInfo

from kam.core.scheduler import is_due, tasks_enqueue_due

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(hour, minute=0, day=22):
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)


def test_interval_task_is_due_after_its_interval():
    assert is_due(300, None, at(10))
    assert not is_due(300, at(10), at(10, 4))
    assert is_due(300, at(10), at(10, 5))


def test_daily_task_runs_once_after_its_hour():
    assert not is_due("daily@02:00", at(1, 59), at(1, 59, day=22))
    assert is_due("daily@02:00", at(1, 59), at(2, 0))
    assert not is_due("daily@02:00", at(2, 0), at(23, 0))
    assert is_due("daily@02:00", at(2, 0), at(2, 1, day=23))


def test_worker_start_does_not_run_the_nightly_job_at_once(settings):
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    last_runs: dict = {}
    first = tasks_enqueue_due(last_runs, now=at(17))
    assert "kam.segmentation.tasks.score_nightly" not in first
    assert "kam.service.tasks.sla_check_task" in first
    tomorrow = tasks_enqueue_due(last_runs, now=at(2, 30, day=23))
    assert "kam.segmentation.tasks.score_nightly" in tomorrow
