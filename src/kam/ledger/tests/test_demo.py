"""Demo history: three years of orders with seasonality, churn, returns and the 80/20 pattern."""

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

from django.db.models import Max, Sum
from django.utils import timezone

from kam.customers.demo import demo_accounts_create
from kam.ledger.demo import demo_orders_create
from kam.ledger.models import AccountDay, OrderLine


def test_demo_history_has_the_shape_of_a_real_ledger(db):
    accounts = demo_accounts_create(count=120, seed=11)
    summary = demo_orders_create(accounts=accounts, seed=11)
    assert "order lines" in summary
    today = timezone.localdate()
    span = OrderLine.objects.aggregate(first=Max("order_date"))
    assert span["first"] <= today
    assert OrderLine.objects.filter(order_date__lt=today - timedelta(days=3 * 365 - 40)).exists()

    revenue = sorted(
        (
            r
            for r in OrderLine.objects.values("account")
            .annotate(r=Sum("revenue"))
            .values_list("r", flat=True)
        ),
        reverse=True,
    )
    assert sum(revenue[: len(revenue) // 5]) / sum(revenue) > 0.7  # the 80/20 pattern

    by_month: dict[int, float] = defaultdict(float)
    for day, amount in AccountDay.objects.values_list("day", "revenue"):
        by_month[day.month] += float(amount)
    assert by_month[2] < 0.8 * by_month[1] and by_month[12] > by_month[6]  # Spring Festival, Q4

    credits = OrderLine.objects.filter(revenue__lt=0)
    assert 0.005 < credits.count() / OrderLine.objects.count() < 0.05
    originals = set(credits.values_list("credit_for_order_no", flat=True))
    assert originals and originals <= set(OrderLine.objects.values_list("order_no", flat=True))
    assert OrderLine.objects.filter(cost__isnull=False).count() > 0.8 * OrderLine.objects.count()

    last = OrderLine.objects.values("account").annotate(last=Max("order_date"))
    stopped = [row for row in last if row["last"] < today - timedelta(days=180)]
    assert stopped  # some accounts churned
    # SQLite sums decimals as floats: compare to the cent.
    total = OrderLine.objects.aggregate(s=Sum("revenue"))["s"].quantize(Decimal("0.01"))
    assert AccountDay.objects.aggregate(s=Sum("revenue"))["s"].quantize(Decimal("0.01")) == total
