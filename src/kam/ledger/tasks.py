"""Background tasks of the ledger: imports uploaded through the web page."""

from pathlib import Path

from django.tasks import task

from kam.ledger.models import ImportRun
from kam.ledger.services import import_run_execute


@task
def import_run_task(run_id: int) -> None:
    run = ImportRun.objects.select_related("user").get(pk=run_id)
    path = Path(run.stored_path)
    try:
        import_run_execute(run=run, path=path)
    finally:
        path.unlink(missing_ok=True)
        ImportRun.objects.filter(pk=run_id).update(stored_path="")
