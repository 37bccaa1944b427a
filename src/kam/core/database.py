"""Creating and migrating the database on first use."""

from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def database_migrate_if_needed() -> bool:
    """Apply pending migrations (quietly); True when anything was applied."""
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if not plan:
        return False
    call_command("migrate", interactive=False, verbosity=0)
    return True
