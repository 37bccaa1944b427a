"""Account list speed with many accounts (default 100,000).

Creates N accounts in a fresh database (SQLite file by default, or KAM_DATABASE_URL), then
times the account list page as users hit it (first page, a Chinese name search, an English
search, a filter, a deep page, sorted by recent change) through Django's test client, and in
the same run the bare SQL a hand-written page would run (COUNT + one LIMIT 50 page) as the
baseline. Prints milliseconds per request and the ratio.

    .venv/bin/python benchmarks/bench_account_list.py [--accounts 100000] [--repeat 5]
"""

import argparse
import os
import statistics
import sys
import tempfile
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    os.environ.setdefault("KAM_DATA_DIR", tempfile.mkdtemp(prefix="kam-bench-list-"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "kam.settings"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from kam.customers.demo import demo_accounts_create
    from kam.users.models import User

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    demo_accounts_create(count=args.accounts, seed=7)
    print(
        f"created {args.accounts:,} accounts (with contacts) in {time.perf_counter() - started:.1f} s"
    )
    client = Client()
    client.force_login(User.objects.get(username="director"))
    manager = User.objects.get(username="am_li")
    cases = {
        "first page": {},
        "search 物流 (Chinese)": {"q": "物流"},
        "search logistics (English)": {"q": "logistics"},
        "filter region+industry": {"region": "east", "industry": "logistics"},
        "page 1000": {"page": 1000},
        "sort by recent change": {"sort": "-updated"},
    }

    def timed(call) -> float:
        samples = []
        for _ in range(args.repeat):
            begin = time.perf_counter()
            call()
            samples.append((time.perf_counter() - begin) * 1000)
        return statistics.median(samples)

    def baseline() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM customers_account WHERE archived = %s", [False])
            cursor.fetchone()
            cursor.execute(
                "SELECT id, code, legal_name FROM customers_account WHERE archived = %s "
                "ORDER BY legal_name, id LIMIT 50",
                [False],
            )
            cursor.fetchall()

    base_ms = timed(baseline)
    print(f"baseline: bare SQL COUNT + first page of 50: {base_ms:.1f} ms")
    print(f"{'request':<30}{'ms (median)':>12}{'ratio':>8}")
    for name, params in cases.items():
        ms = timed(lambda p=params: client.get("/customers/", p))
        print(f"{name:<30}{ms:>12.1f}{ms / base_ms:>8.1f}")
    client.force_login(manager)
    ms = timed(lambda: client.get("/customers/"))
    print(f"{'account manager portfolio':<30}{ms:>12.1f}{ms / base_ms:>8.1f}")
    sys.exit(0)


if __name__ == "__main__":
    main()
