"""The `kam` command: Django management commands with KAM's settings and a ready database.

`kam demo`, `kam import …`, `kam score` … are management commands of the apps; this
entry point only sets the settings module and makes sure the database exists and is
migrated, so every command works on a fresh data directory.
"""

import os
import sys

# Commands that must not trigger an automatic migrate first.
NO_AUTO_MIGRATE = {
    "help",
    "--help",
    "-h",
    "version",
    "--version",
    "makemigrations",
    "migrate",
    "check",
    "shell",
}


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kam.settings")
    import django
    from django.conf import settings

    django.setup()
    settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
    command = argv[1] if len(argv) > 1 else "help"
    if command not in NO_AUTO_MIGRATE:
        from kam.core.database import database_migrate_if_needed

        database_migrate_if_needed()
    from django.core.management import execute_from_command_line

    argv[0] = "kam"
    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
