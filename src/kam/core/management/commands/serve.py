"""`kam serve`: migrate, optionally load demo data, start the task worker and serve the app."""

import os
import subprocess
import sys
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Serve KAM (gunicorn) on http://127.0.0.1:8000 with the background worker."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=2)
        parser.add_argument(
            "--demo", action="store_true", help="load demo data if the database is empty"
        )
        parser.add_argument("--no-worker", action="store_true", help="do not start the task worker")

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        if options["demo"]:
            call_command("demo", if_empty=True, stdout=self.stdout)
        worker = None if options["no_worker"] else subprocess.Popen([sys.argv[0], "worker"])
        address = f"{options['host']}:{options['port']}"
        self.stdout.write(f"KAM is at http://{address}/  (data: {settings.DATA_DIR})")
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "kam.settings"}
        gunicorn = [
            sys.executable, "-m", "gunicorn", "kam.wsgi:application",
            "--bind", address, "--workers", str(options["workers"]), "--threads", "4",
            "--access-logfile", "-", "--timeout", "120",
        ]  # fmt: skip
        try:
            subprocess.run(gunicorn, env=env, check=False)
        except KeyboardInterrupt:
            pass
        finally:
            if worker is not None:
                worker.terminate()
                worker.wait(timeout=10)
