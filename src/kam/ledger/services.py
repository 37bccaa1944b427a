"""Writes of the ledger: imports (recorded as ImportRun) and their execution."""

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop

from kam.ledger.importing import ImportReport, estimate_rows, import_file
from kam.ledger.models import ImportKind, ImportRun, ImportStatus
from kam.users import roles
from kam.users.models import User

logger = logging.getLogger(__name__)

# A running import stores its progress (and with it a heartbeat) at most this often.
PROGRESS_SECONDS = 0.5
# A run on another machine whose heartbeat is older than this counts as dead.
HEARTBEAT_STALE_AFTER = timedelta(minutes=10)
# During the write phase (one transaction, ≈ 10 s per million lines) a thread beats this
# often on a connection of its own (PostgreSQL; a SQLite database has one machine).
WRITE_HEARTBEAT_SECONDS = 60.0


@transaction.atomic
def import_run_create(
    *,
    user: User | None,
    kind: str,
    file_name: str,
    stored_path: str = "",
    dry_run: bool = False,
    skip_invalid: bool = False,
    create_accounts: bool = False,
) -> ImportRun:
    """Record an import to run (now from the CLI, or by the task worker for an upload).

    The run keeps the active language (the uploader's, or LANGUAGE_CODE on the command
    line): its report is worded in it, wherever the import then runs.
    """
    if kind not in ImportKind.values:
        raise ValueError(f"unknown import kind {kind!r}")
    if user is not None and not roles.may_edit_customers(user):
        raise PermissionDenied(gettext("You may not import customer data."))
    return ImportRun.objects.create(
        user=user,
        kind=kind,
        file_name=file_name[:255],
        stored_path=stored_path,
        dry_run=dry_run,
        skip_invalid=skip_invalid,
        create_accounts=create_accounts,
        language=translation.get_language() or "",
    )


def _run_language(run: ImportRun) -> AbstractContextManager[Any]:
    """The language the run's report is worded in (the current one for runs without)."""
    return translation.override(run.language) if run.language else nullcontext()


def _run_update(run: ImportRun, **fields: object) -> None:
    # A plain UPDATE outside the import's transaction, so the web page sees progress.
    ImportRun.objects.filter(pk=run.pk).update(**fields)
    for name, value in fields.items():
        setattr(run, name, value)


def import_run_execute(*, run: ImportRun, path: str | Path, progress_callback=None) -> ImportReport:
    """Run a recorded import on `path` and store its report on the run.

    Not atomic itself: the import writes in its own transaction after checking
    every row, and the run's progress must be visible while it works.
    """
    with _run_language(run):
        return _run_execute(run, Path(path), progress_callback)


def _run_execute(run: ImportRun, path: Path, progress_callback: Any) -> ImportReport:
    _run_update(
        run,
        status=ImportStatus.VALIDATING,
        rows_total=estimate_rows(path),
        worker=_this_worker(),
        heartbeat_at=timezone.now(),
    )
    last = [0.0]

    def progress(rows: int) -> None:
        if progress_callback is not None:
            progress_callback(rows)
        now = time.monotonic()
        if now - last[0] > PROGRESS_SECONDS:
            last[0] = now
            _run_update(run, rows_done=rows, heartbeat_at=timezone.now())

    try:
        with _write_heartbeat(run) as on_write:
            report = import_file(
                kind=run.kind,
                path=path,
                actor=run.user,
                file_name=run.file_name,
                dry_run=run.dry_run,
                skip_invalid=run.skip_invalid,
                create_accounts=run.create_accounts,
                progress=progress,
                on_write=on_write,
            )
    except PermissionDenied as error:
        _run_update(run, status=ImportStatus.FAILED, message=str(error), finished_at=timezone.now())
        raise
    except Exception as error:
        logger.exception("import %s failed", run.pk)
        _run_update(
            run,
            status=ImportStatus.FAILED,
            message=f"{type(error).__name__}: {error}"[:2000],
            finished_at=timezone.now(),
        )
        raise
    import_run_record(run=run, report=report)
    return report


@contextmanager
def _write_heartbeat(run: ImportRun) -> Iterator[Callable[[], None]]:
    """A callback marking the run as writing; on PostgreSQL it also starts the beats.

    The beats update only the run's heartbeat, outside the import's transaction, so
    other machines see a long write phase as alive; they stop when the import ends.
    """
    stop = threading.Event()
    threads: list[threading.Thread] = []

    def beat() -> None:
        try:
            while not stop.wait(WRITE_HEARTBEAT_SECONDS):
                ImportRun.objects.filter(pk=run.pk, status=ImportStatus.WRITING).update(
                    heartbeat_at=timezone.now()
                )
        finally:
            connection.close()

    def on_write() -> None:
        _run_update(run, status=ImportStatus.WRITING, heartbeat_at=timezone.now())
        if connection.vendor == "postgresql":
            threads.append(threading.Thread(target=beat, daemon=True, name=f"import-{run.pk}"))
            threads[0].start()

    try:
        yield on_write
    finally:
        stop.set()
        for thread in threads:
            thread.join()


def _this_worker() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[-100:]


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def import_run_stale_fail(run: ImportRun) -> bool:
    """Mark a run failed if the process running it has ended.

    A killed worker leaves its run "checking" or "writing" for ever; its transaction
    was rolled back, so nothing was written. On this machine the process id tells;
    a run on another machine counts as dead once its heartbeat is older than
    HEARTBEAT_STALE_AFTER. Returns whether the run was marked.
    """
    if run.status not in (ImportStatus.VALIDATING, ImportStatus.WRITING) or not run.worker:
        return False
    host, _, pid = run.worker.rpartition(":")
    # Conditional, so a run that just finished (or just beat) is left as it is.
    stale = ImportRun.objects.filter(pk=run.pk, status=run.status, worker=run.worker)
    if host == socket.gethostname():
        if not pid.isdigit() or _process_alive(int(pid)):
            return False
        template = gettext_noop(
            "The import stopped: the process running it ended (killed or restarted). "
            "Nothing was written; upload the file again."
        )
    else:
        cutoff = timezone.now() - HEARTBEAT_STALE_AFTER
        if (run.heartbeat_at or run.created_at) >= cutoff:
            return False
        # Runs from before heartbeats have none: their start stands in.
        stale = stale.filter(
            Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, created_at__lt=cutoff)
        )
        template = gettext_noop(
            "The import stopped: its worker on %(host)s has not reported for over "
            "%(minutes)s minutes (killed, restarted or cut off). "
            "Nothing was written; upload the file again."
        )
    with _run_language(run):
        message = gettext(template) % {
            "host": host,
            "minutes": int(HEARTBEAT_STALE_AFTER.total_seconds() // 60),
        }
    fields = {"status": ImportStatus.FAILED, "message": message, "finished_at": timezone.now()}
    marked = stale.update(**fields)
    if marked:
        for name, value in fields.items():
            setattr(run, name, value)
    return bool(marked)


def import_run_record(*, run: ImportRun, report: ImportReport) -> None:
    """Store a finished import's counts and (the first ERRORS_KEPT) errors on its run."""
    if report.written or (report.dry_run and not report.file_error):
        status = ImportStatus.DONE
    else:
        status = ImportStatus.REJECTED
    _run_update(
        run,
        status=status,
        rows_done=report.rows,
        rows_total=report.rows,
        rows_valid=report.valid,
        created=report.created,
        updated=report.updated,
        unchanged=report.unchanged,
        skipped=report.bad_rows,
        accounts_created=report.accounts_created,
        error_count=report.error_count,
        errors=[[e.row, e.column, e.reason] for e in report.errors[: ImportRun.ERRORS_KEPT]],
        message=report.file_error,
        finished_at=timezone.now(),
    )


def import_upload_start(
    *,
    user: User,
    upload: UploadedFile,
    kind: str,
    dry_run: bool = False,
    skip_invalid: bool = False,
    create_accounts: bool = False,
) -> ImportRun:
    """Keep an uploaded file on disk, record its run and queue the import task."""
    from kam.ledger.tasks import import_run_task

    folder = Path(settings.MEDIA_ROOT) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    stored = folder / f"{uuid.uuid4().hex}-{Path(upload.name or 'upload').name[-80:]}"
    with stored.open("wb") as target:
        for chunk in upload.chunks():
            target.write(chunk)
    run = import_run_create(
        user=user,
        kind=kind,
        file_name=upload.name or stored.name,
        stored_path=str(stored),
        dry_run=dry_run,
        skip_invalid=skip_invalid,
        create_accounts=create_accounts,
    )
    transaction.on_commit(lambda: import_run_task.enqueue(run.pk))
    return run
