"""Creating and migrating the database on first use."""

import importlib.util
import pkgutil

from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder


def migration_files() -> set[tuple[str, str]]:
    """(app label, name) of every migration file of the installed apps, none imported.

    The files Django's MigrationLoader would load: modules of each app's migrations
    package (MIGRATION_MODULES honoured) whose names do not start with _ or ~.
    """
    found = set()
    for config in apps.get_app_configs():
        module, _explicit = MigrationLoader.migrations_module(config.label)
        if module is None:
            continue
        try:
            spec = importlib.util.find_spec(module)
        except ModuleNotFoundError:
            continue
        if spec is None or not spec.submodule_search_locations:
            continue
        for info in pkgutil.iter_modules(spec.submodule_search_locations):
            if not info.ispkg and info.name[0] not in "_~":
                found.add((config.label, info.name))
    return found


def database_migrate_if_needed() -> bool:
    """Apply pending migrations (quietly); True when anything was applied.

    When every migration file is recorded as applied there is nothing to do, which is
    known without importing the migrations and building their graph (≈ 0.15 s of every
    `kam` command); otherwise Django's own plan decides.
    """
    if migration_files() <= set(MigrationRecorder(connection).applied_migrations()):
        return False
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if not plan:
        return False
    call_command("migrate", interactive=False, verbosity=0)
    return True
