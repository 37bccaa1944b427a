"""Background tasks of the service desk (enqueued by `kam worker`)."""

from django.tasks import task

from kam.service import services


@task
def sla_check_task() -> int:
    """Run the escalation check once; returns how many stages fired."""
    return len(services.sla_check())
