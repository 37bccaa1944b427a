"""Three years of demo orders for the demo accounts, ending today.

Each account's size comes from its heavy-tailed demo_weight (so ~20% of the
accounts bring ~80% of revenue); months follow a Chinese business year (a
Spring Festival dip in February, a Q4 peak); each account grows or declines;
about 8% stop buying at some point (churn); about 2% of lines are returned by
a credit note linked to the original order; most lines carry a cost.
"""

import csv
import math
import random
import tempfile
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from kam.customers.models import Account
from kam.ledger import rollups
from kam.ledger.importing import products_upsert

YEARS = 3
SEASON = [1.0, 0.55, 0.95, 1.0, 1.0, 1.05, 0.95, 0.9, 1.05, 1.1, 1.25, 1.4]  # Jan..Dec
CATALOG = {
    "仓储物流": [("WH", "仓储服务", 1800), ("LT", "专线运输", 2600), ("CD", "城市配送", 900),
                 ("CC", "冷链运输", 3200), ("CB", "跨境物流", 5400), ("WMS", "仓储管理系统", 12000),
                 ("PK", "包装耗材", 150), ("RF", "退货处理", 400)],
    "通信网络": [("DL", "企业专线", 4800), ("SD", "SD-WAN", 7600), ("IOT", "物联网卡", 30),
                 ("5G", "5G专网", 56000), ("IDC", "机柜托管", 6200), ("CDN", "内容分发", 2100),
                 ("VPN", "云专线", 3900), ("SMS", "行业短信", 5)],
    "工业设备": [("GW", "工业网关", 3600), ("PLC", "可编程控制器", 8800), ("SW", "配电设备", 15600),
                 ("SN", "传感器", 260), ("MT", "伺服电机", 4200), ("INV", "变频器", 5200),
                 ("CAB", "电缆", 80), ("HMI", "触摸屏", 2900), ("RB", "协作机器人", 98000)],
    "软件服务": [("ERP", "ERP订阅", 24000), ("CRM", "CRM订阅", 9600), ("BI", "数据分析平台", 36000),
                 ("SEC", "安全服务", 18000), ("IMP", "实施服务", 1500), ("TRN", "培训", 800),
                 ("SUP", "运维支持", 6000), ("API", "接口开发", 1200)],
    "备件耗材": [("FLT", "滤芯", 45), ("BRG", "轴承", 120), ("BLT", "皮带", 60),
                 ("LUB", "润滑油", 210), ("TL", "工具套装", 680), ("PPE", "劳保用品", 35),
                 ("LBL", "标签耗材", 20)],
}  # fmt: skip
CHANNELS = ["直销", "直销", "直销", "渠道", "线上"]
REPS = ["王磊", "李娜", "张伟", "陈静"]


def _products() -> list[tuple[str, str, str, int, float]]:
    """(code, name, category, unit price, margin) for the ~40 demo products."""
    rng = random.Random(7)
    return [
        (f"P-{code}", name, category, price, rng.uniform(0.10, 0.40))
        for category, items in CATALOG.items()
        for code, name, price in items
    ]


def _month_starts(end: date) -> list[date]:
    first = date(end.year - YEARS, end.month, 1)
    months = []
    while first <= end:
        months.append(first)
        first = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return months


def _account_lines(
    rng: random.Random,
    account: Account,
    products: list[tuple[str, str, str, int, float]],
    months: list[date],
    today: date,
) -> Iterator[tuple]:
    weight = float(getattr(account, "demo_weight", 1.0))
    monthly_revenue = 12_000 * weight**1.3  # steeper than the weights: a clear 80/20
    orders_per_month = min(6.0, 0.35 + 0.55 * math.sqrt(weight))
    trend = rng.gauss(0.06, 0.22)  # yearly growth (negative: decline)
    churn_at = (
        months[rng.randint(len(months) // 3, len(months) - 2)] if rng.random() < 0.08 else None
    )
    start = months[rng.randint(0, len(months) // 4)] if rng.random() < 0.3 else months[0]
    portfolio = rng.sample(products, k=rng.randint(3, 10))
    preference = [rng.paretovariate(1.5) for _ in portfolio]
    channel, rep = rng.choice(CHANNELS), rng.choice(REPS)
    sequence = 0
    for index, month in enumerate(months):
        if month < start or (churn_at and month >= churn_at):
            continue
        years = (len(months) - 1 - index) / 12
        level = SEASON[month.month - 1] * (1 + trend) ** (-years)
        expected = orders_per_month * SEASON[month.month - 1]
        count = _poisson(rng, expected)
        for _ in range(count):
            day = month + timedelta(days=rng.randint(0, 27))
            if day > today:
                continue
            sequence += 1
            order_no = f"SO-{account.code}-{sequence:05d}"
            value = monthly_revenue * level / orders_per_month * rng.lognormvariate(0, 0.5)
            picks = rng.choices(portfolio, weights=preference, k=rng.randint(1, 4))
            for line_no, (code, _name, _category, price, margin) in enumerate(picks, start=1):
                share = value / len(picks)
                quantity = max(1, round(share / price))
                revenue = Decimal(round(quantity * price * rng.uniform(0.9, 1.05), 2))
                revenue = revenue.quantize(Decimal("0.01"))
                cost = None
                if rng.random() < 0.9:
                    cost = (revenue * Decimal(1 - margin + rng.uniform(-0.05, 0.05))).quantize(
                        Decimal("0.01")
                    )
                yield (
                    account.code, order_no, line_no, day.isoformat(), code,
                    str(quantity), str(revenue), "" if cost is None else str(cost), "CNY",
                    channel, rep, "",
                )  # fmt: skip
                if rng.random() < 0.02:  # a return, credited a few weeks later
                    back = day + timedelta(days=rng.randint(7, 40))
                    if back <= today:
                        returned = max(1, quantity // rng.choice([1, 2, 4]))
                        ratio = Decimal(returned) / Decimal(quantity)
                        yield (
                            account.code, f"CN-{order_no}-{line_no}", 1, back.isoformat(),
                            code, str(-returned),
                            str((-revenue * ratio).quantize(Decimal("0.01"))),
                            "" if cost is None else str((-cost * ratio).quantize(Decimal("0.01"))),
                            "CNY", channel, rep, order_no,
                        )  # fmt: skip


def _poisson(rng: random.Random, mean: float) -> int:
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


@transaction.atomic
def demo_orders_create(*, accounts: list[Account], seed: int, stdout: Any = None) -> str:
    """About three years of orders for `accounts` (kam demo's ledger step); returns a summary."""
    rng = random.Random(seed + 1)
    products = _products()
    products_upsert({code: (name, cat) for code, name, cat, *_ in products})
    today = timezone.localdate()
    months = _month_starts(today)
    count = 0
    with tempfile.TemporaryFile("w+", newline="", encoding="utf-8") as spool:
        writer = csv.writer(spool)
        for account in accounts:
            for line in _account_lines(rng, account, products, months, today):
                writer.writerow(line)
                count += 1
        spool.flush()
        result = rollups.order_lines_upsert(spool)
    rollups.account_days_refresh(account.pk for account in accounts)
    return (
        f"Created {result.created} order lines ({count} generated) "
        f"over {len(months)} months for {len(accounts)} accounts."
    )
