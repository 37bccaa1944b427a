import os
import sqlite3
import subprocess
import sys

import pytest
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder

from kam.core import database


def test_migration_files_are_the_ones_djangos_loader_finds():
    loader = MigrationLoader(None, ignore_no_migrations=True)
    found = database.migration_files()
    assert found == set(loader.disk_migrations)
    assert ("segmentation", "0001_initial") in found


@pytest.mark.django_db
def test_a_migrated_database_is_known_without_building_the_graph(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the migration graph was built")

    monkeypatch.setattr(database, "MigrationExecutor", refuse)
    assert database.database_migrate_if_needed() is False


@pytest.mark.django_db
def test_a_missing_record_lets_django_plan_and_migrate(monkeypatch):
    # The app's latest migration (an earlier one missing under an applied later one is
    # Django's inconsistent history, not a migration to run).
    latest = MigrationRecorder.Migration.objects.filter(app="segmentation").order_by("-name")[0]
    latest.delete()
    migrated = []
    monkeypatch.setattr(database, "call_command", lambda *args, **kw: migrated.append(args))
    assert database.database_migrate_if_needed() is True
    assert migrated == [("migrate",)]


def test_kam_creates_and_migrates_a_fresh_database(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"KAM_DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE", "DJANGO_SETTINGS_MODULE"}
    }
    env["KAM_DATA_DIR"] = str(tmp_path)
    run = [sys.executable, "-c", "import sys; from kam.cli import main; main(sys.argv)"]
    for _ in range(2):  # the second time finds every migration applied
        result = subprocess.run(
            [*run, "export", "accounts", "--output", str(tmp_path / "accounts.csv")],
            env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr
    with sqlite3.connect(tmp_path / "kam.sqlite3") as db:
        applied = set(db.execute("SELECT app, name FROM django_migrations"))
    assert database.migration_files() <= applied
