import datetime as dt

from kam.segmentation import services
from kam.segmentation.models import AccountScore
from kam.segmentation.tests.helpers import orders_add


def test_scoring_runs_end_to_end(account_make, director):
    for n in range(12):
        account = account_make()
        orders_add(
            account,
            [
                (dt.date(2025, 1 + m, 1 + n), 1000 * (n + 1), 600 * (n + 1))
                for m in range(n % 5 + 1)
            ],
        )
    run = services.scoring_run(as_of=dt.date(2025, 12, 31), actor=director)
    assert run.status == "done", run.message
    assert (
        AccountScore.objects.filter(run=run).count() == 13
        or AccountScore.objects.filter(run=run).count() == 12
    )
    print(run.parameters, run.message)
