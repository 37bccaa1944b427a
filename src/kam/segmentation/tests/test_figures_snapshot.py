"""The figures are read in two statements; an import committing between them is not half seen."""

import datetime as dt

import pytest
from django.db import connection

from kam.core.tests.concurrency import in_parallel
from kam.customers.models import Account
from kam.segmentation import figures
from kam.segmentation.tests.helpers import orders_add

# Another connection commits while the figures are read: SQLite's in-memory test database
# answers a second writer with "table is locked".
pytestmark = pytest.mark.skipif(
    connection.vendor == "sqlite", reason="concurrent writers need PostgreSQL"
)

AS_OF = dt.date(2025, 6, 30)


@pytest.mark.django_db(transaction=True)
def test_an_order_committed_between_the_two_reads_is_not_subtracted(account_make, monkeypatch):
    account = account_make(code="A1")
    orders_add(account, [("2025-05-01", 100, 60), ("2025-07-01", 50, 30)])
    fetch = figures.numbers_fetch
    committed: list = []

    def fetch_then_other_import(sql, params, width):
        rows = fetch(sql, params, width)
        if sql == figures.figures_sql(["key"]) and not committed:
            # After the totals are read, another connection books a later order.
            committed.extend(
                in_parallel(
                    lambda: orders_add(Account.objects.get(code="A1"), [("2025-08-01", 1000, 10)])
                )
            )
        return rows

    monkeypatch.setattr(figures, "numbers_fetch", fetch_then_other_import)
    result = figures.account_figures(AS_OF, ["key"])

    assert committed == [None]  # the other order was committed meanwhile
    assert result["revenue"].tolist() == [100.0]
    assert result["margin"].tolist() == [40.0]
    assert result.future_days == 1
    # Read again, the new order counts among the later days and still not in the figures.
    again = figures.account_figures(AS_OF, ["key"])
    assert again["revenue"].tolist() == [100.0]
    assert again.future_days == 2
