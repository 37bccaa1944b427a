"""Benchmark `kam import orders` against the database's own bulk loader on the same file.

    .venv/bin/python benchmarks/bench_import.py                  # 1,000,000 lines
    .venv/bin/python benchmarks/bench_import.py --lines 200000 --skip-postgres

Generates one order-lines CSV (and the accounts it references), then for each
database measures in the same run:

- kam: `kam import orders FILE` in a child process on a freshly migrated
  database that already holds the accounts (checking every row, spooling,
  upserting, refreshing the AccountDay rollups), wall time and peak RSS;
- baseline: the bulk loader reading the same file into a plain table with
  the same columns and no constraints: `sqlite3 DB .import` for SQLite, psql
  `\\copy` (COPY) for PostgreSQL (database kam_bench, dropped and recreated);
  and again into a table with the keys the ledger keeps (unique order + line,
  an account + date index), the loader doing the same indexing work.

It prints lines per second, peak memory (the child's max RSS from wait4) and
the ratio kam / bulk loader. The targets are: within 3× of the bulk loader
and under 500 MB.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KAM = Path(sys.executable).with_name("kam")
PG_SERVER = "postgresql://postgres@127.0.0.1:5432"
COLUMNS = [
    "account_code", "order_no", "line_no", "order_date", "product_code", "product_name",
    "quantity", "revenue", "cost", "currency", "channel", "sales_rep",
]  # fmt: skip


def generate(folder: Path, lines: int, accounts: int = 2000, seed: int = 1) -> tuple[Path, Path]:
    """An accounts file and an orders file of `lines` lines (1–5 lines per order)."""
    rng = random.Random(seed)
    accounts_path, orders_path = folder / "accounts.csv", folder / "orders.csv"
    with accounts_path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(["code", "legal_name", "region"])
        for i in range(accounts):
            writer.writerow([f"B{i:06d}", f"基准客户{i}有限公司", "east"])
    start = date(2022, 1, 1)
    with orders_path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(COLUMNS)
        written, order = 0, 0
        while written < lines:
            order += 1
            account = f"B{int(accounts * rng.random() ** 3):06d}"  # a few big accounts
            day = (start + timedelta(days=rng.randrange(1000))).isoformat()
            for line_no in range(1, min(rng.randint(1, 5), lines - written) + 1):
                revenue = round(rng.lognormvariate(7, 1.2), 2)
                product = rng.randrange(300)
                writer.writerow([
                    account, f"SO{order:08d}", line_no, day, f"P{product:04d}", f"产品{product}",
                    rng.randint(1, 50), f"{revenue:.2f}", f"{revenue * rng.uniform(0.6, 0.9):.2f}",
                    "CNY", "直销", "王磊",
                ])  # fmt: skip
                written += 1
    return accounts_path, orders_path


def run_child(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Run a command; return (seconds, peak RSS in MB) of that child alone."""
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    out, err = process.stdout.read(), process.stderr.read()  # type: ignore[union-attr]
    if os.waitstatus_to_exitcode(status) != 0:
        sys.stderr.write(out.decode(errors="replace") + err.decode(errors="replace"))
        raise SystemExit(f"failed: {' '.join(command)}")
    return seconds, usage.ru_maxrss / 1024


def kam_env(database_url: str, data_dir: Path) -> dict[str, str]:
    return {**os.environ, "KAM_DATABASE_URL": database_url, "KAM_DATA_DIR": str(data_dir)}


PLAIN_TABLE = (
    "CREATE TABLE plain_lines (account_code varchar(32), order_no varchar(64), line_no integer, "
    "order_date date, product_code varchar(64), product_name varchar(200), "
    "quantity numeric(18,4), revenue numeric(18,2), cost numeric(18,2), currency varchar(3), "
    "channel varchar(50), sales_rep varchar(100))"
)


# The same load with the keys the ledger must keep: the unique (order, line) and the
# (account, date) index. Index upkeep is part of the job; this shows what it costs the loader.
KEYED_TABLE = (
    PLAIN_TABLE.replace("plain_lines", "keyed_lines").removesuffix(")")
    + ", UNIQUE (order_no, line_no))"
)
KEYED_INDEX = "CREATE INDEX keyed_lines_account ON keyed_lines (account_code, order_date)"

# The floor: the least any importer keeping the ledger's keys and rollups must do, by the
# database's own means and with no checking at all: start the program, load the plain
# table, build the two keys afterwards (in bulk, cheaper than keeping them up during the
# load; only possible into an empty table) and sum the lines per account and day once.
FLOOR_KEYS = [
    "CREATE UNIQUE INDEX plain_lines_key ON plain_lines (order_no, line_no)",
    "CREATE INDEX plain_lines_account ON plain_lines (account_code, order_date)",
]
FLOOR_ROLLUP = (
    "CREATE TABLE plain_days AS SELECT account_code, order_date, SUM(revenue) AS revenue, "
    "SUM(cost) AS cost, COUNT(cost) AS cost_lines, COUNT(*) AS lines, "
    "COUNT(DISTINCT order_no) AS orders FROM plain_lines GROUP BY account_code, order_date"
)


def startup_seconds(env: dict[str, str]) -> float:
    """kam's own start (Python, Django, the import command), the best of three."""
    return min(run_child([str(KAM), "import", "orders", "--help"], env)[0] for _ in range(3))


def bench_sqlite(folder: Path, accounts: Path, orders: Path) -> dict[str, float]:
    data = folder / "sqlite"
    data.mkdir()
    env = kam_env(f"sqlite:///{data / 'kam.sqlite3'}", data)
    run_child([str(KAM), "migrate", "-v0"], env)
    run_child([str(KAM), "import", "accounts", str(accounts)], env)
    seconds, peak = run_child([str(KAM), "import", "orders", str(orders)], env)
    baseline_db = folder / "baseline.sqlite3"
    sqlite = shutil.which("sqlite3")
    if sqlite:
        subprocess.run([sqlite, str(baseline_db), PLAIN_TABLE], check=True)
        base_seconds, _ = run_child(
            [
                sqlite,
                str(baseline_db),
                "-cmd",
                ".mode csv",
                f".import --skip 1 {orders} plain_lines",
            ],
            dict(os.environ),
        )
        loader = "sqlite3 .import"
        keys_seconds, _ = run_child([sqlite, str(baseline_db), *FLOOR_KEYS], dict(os.environ))
        rollup_seconds, _ = run_child([sqlite, str(baseline_db), FLOOR_ROLLUP], dict(os.environ))
        startup = startup_seconds(env)
        floor = startup + base_seconds + keys_seconds + rollup_seconds
        parts = (startup, base_seconds, keys_seconds, rollup_seconds)
        subprocess.run([sqlite, str(baseline_db), KEYED_TABLE, KEYED_INDEX], check=True)
        keyed_seconds, _ = run_child(
            [
                sqlite,
                str(baseline_db),
                "-cmd",
                ".mode csv",
                f".import --skip 1 {orders} keyed_lines",
            ],
            dict(os.environ),
        )
    else:  # stated fallback: Python's sqlite3 module, executemany over csv.reader
        code = (
            "import csv,sqlite3,sys;c=sqlite3.connect(sys.argv[1]);c.execute(sys.argv[3]);"
            "r=csv.reader(open(sys.argv[2],encoding='utf-8'));next(r);"
            "c.executemany('INSERT INTO plain_lines VALUES (?,?,?,?,?,?,?,?,?,?,?,?)',r);c.commit()"
        )
        base_seconds, _ = run_child(
            [sys.executable, "-c", code, str(baseline_db), str(orders), PLAIN_TABLE],
            dict(os.environ),
        )
        loader = "python sqlite3 executemany"
        keyed_seconds = floor = float("nan")
        parts = (floor,) * 4
    return {
        "seconds": seconds, "peak": peak, "base": base_seconds, "keyed": keyed_seconds,
        "floor": floor, "floor_parts": parts, "loader": loader,
    }  # fmt: skip


def bench_postgres(folder: Path, accounts: Path, orders: Path) -> dict[str, float]:
    psql = shutil.which("psql")
    if psql is None:
        raise SystemExit("psql not found: install postgresql-client or use --skip-postgres")
    admin = [psql, f"{PG_SERVER}/postgres", "-q", "-v", "ON_ERROR_STOP=1", "-c"]
    subprocess.run([*admin, "DROP DATABASE IF EXISTS kam_bench"], check=True)
    subprocess.run([*admin, "CREATE DATABASE kam_bench"], check=True)
    data = folder / "pg"
    data.mkdir()
    env = kam_env(f"{PG_SERVER}/kam_bench", data)
    run_child([str(KAM), "migrate", "-v0"], env)
    run_child([str(KAM), "import", "accounts", str(accounts)], env)
    seconds, peak = run_child([str(KAM), "import", "orders", str(orders)], env)
    bench = [psql, f"{PG_SERVER}/kam_bench", "-q", "-v", "ON_ERROR_STOP=1", "-c"]
    subprocess.run([*bench, PLAIN_TABLE], check=True)
    base_seconds, _ = run_child(
        [*bench, f"\\copy plain_lines FROM '{orders}' WITH (FORMAT csv, HEADER true)"],
        dict(os.environ),
    )
    keys_seconds = sum(run_child([*bench, sql], dict(os.environ))[0] for sql in FLOOR_KEYS)
    rollup_seconds, _ = run_child([*bench, FLOOR_ROLLUP], dict(os.environ))
    startup = startup_seconds(env)
    floor = startup + base_seconds + keys_seconds + rollup_seconds
    subprocess.run([*bench, KEYED_TABLE], check=True)
    subprocess.run([*bench, KEYED_INDEX], check=True)
    keyed_seconds, _ = run_child(
        [*bench, f"\\copy keyed_lines FROM '{orders}' WITH (FORMAT csv, HEADER true)"],
        dict(os.environ),
    )
    return {
        "seconds": seconds, "peak": peak, "base": base_seconds, "keyed": keyed_seconds,
        "floor": floor, "floor_parts": (startup, base_seconds, keys_seconds, rollup_seconds),
        "loader": "psql \\copy",
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description="kam import vs the database's bulk loader")
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="kam-bench-"))
    try:
        started = time.perf_counter()
        accounts, orders = generate(folder, args.lines)
        size = orders.stat().st_size / 1e6
        print(f"{args.lines:,} order lines, {size:.0f} MB CSV, generated in "
              f"{time.perf_counter() - started:.1f} s")  # fmt: skip
        results = {}
        if not args.skip_sqlite:
            results["SQLite"] = bench_sqlite(folder, accounts, orders)
        if not args.skip_postgres:
            results["PostgreSQL"] = bench_postgres(folder, accounts, orders)
        print(f"{'database':<11} {'kam s':>8} {'lines/s':>10} {'peak MB':>8} "
              f"{'loader s':>9} {'loader lines/s':>15} {'ratio':>6} "
              f"{'keyed s':>8} {'ratio':>6} {'floor s':>8} {'floor/loader':>12}  loader")  # fmt: skip
        for name, r in results.items():
            print(
                f"{name:<11} {r['seconds']:>8.1f} {args.lines / r['seconds']:>10,.0f} "
                f"{r['peak']:>8.0f} {r['base']:>9.1f} {args.lines / r['base']:>15,.0f} "
                f"{r['seconds'] / r['base']:>5.1f}× {r['keyed']:>8.1f} "
                f"{r['seconds'] / r['keyed']:>5.1f}× {r['floor']:>8.1f} "
                f"{r['floor'] / r['base']:>11.1f}×  {r['loader']}"
            )
        for name, r in results.items():
            start, load, keys, rollup = r["floor_parts"]
            print(f"{name} floor: start-up {start:.1f} s + plain load {load:.1f} s + keys "
                  f"{keys:.1f} s + rollup {rollup:.1f} s = {r['floor']:.1f} s")  # fmt: skip
        print("Targets: ratio within 3×, peak under 500 MB. kam's time includes process start, "
              "checking every row, the upsert and the rollup refresh. 'loader' loads a table "
              "without keys; 'keyed' one with the ledger's unique (order, line) and "
              "(account, date) index. 'floor' is the least an importer keeping those keys "
              "and the daily rollups can take, with no checking: kam's start-up + the plain "
              "load + both keys built after it + one GROUP BY account and day.")  # fmt: skip
    finally:
        if args.keep:
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
