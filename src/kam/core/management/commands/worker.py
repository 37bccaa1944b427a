"""`kam worker`: run background tasks and enqueue the periodic ones (SLA checks, nightly scoring)."""

import subprocess
import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from kam.core.scheduler import tasks_enqueue_due


class Command(BaseCommand):
    help = "Run the task worker (database backend) with the periodic scheduler."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tick", type=int, default=30, help="seconds between schedule checks")

    def handle(self, *args: Any, **options: Any) -> None:
        worker = subprocess.Popen([sys.argv[0], "db_worker", "--interval", "2"])
        last_runs: dict = {}
        try:
            while worker.poll() is None:
                for name in tasks_enqueue_due(last_runs):
                    self.stdout.write(f"enqueued {name}")
                time.sleep(options["tick"])
        except KeyboardInterrupt:
            pass
        finally:
            worker.terminate()
            worker.wait(timeout=10)
