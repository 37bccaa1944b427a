"""Convert the UCI Online Retail invoice lines into KAM account and order files, and import them.

    .venv/bin/python scripts/online_retail.py ../shared/data/online_retail_2010-12_2011-06.csv.gz \
        --out var/online_retail [--import]

The source (UCI Online Retail, CC BY 4.0) has one row per invoice line:
InvoiceNo, StockCode, Description, Quantity, InvoiceDate, UnitPrice, CustomerID,
Country. It has no customer master, so this script writes two files:

- ``accounts.csv.gz``: one account per CustomerID, code ``UCI<CustomerID>``
  (``UCI17850``), region overseas, the country in the address;
- ``orders.csv.gz``: order_no = InvoiceNo, line_no numbered per invoice in
  file order, revenue = Quantity × UnitPrice rounded to the penny in GBP,
  product = StockCode/Description. Cancellations (InvoiceNo ``C…``) become
  negative lines (credit_for_order_no is left empty: the source does not say
  which invoice they cancel).

Lines without a CustomerID cannot belong to an account: they are counted,
reported and skipped. With ``--import`` the two files are then imported with
``kam import`` (accounts first, then orders).
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

ACCOUNT_HEADER = ["code", "legal_name", "english_name", "region", "address", "sales_stage"]
ORDER_HEADER = [
    "account_code", "order_no", "line_no", "order_date", "product_code", "product_name",
    "quantity", "revenue", "currency", "channel",
]  # fmt: skip
CENT = Decimal("0.01")


@dataclass
class Stats:
    """What the conversion read, wrote and skipped."""

    lines: int = 0
    written: int = 0
    without_customer: int = 0
    cancellations: int = 0
    accounts: int = 0
    invoices: set[str] = field(default_factory=set)


def customer_code(raw: str) -> str:
    """'17850' or '17850.0' (as some exports write it) -> 'UCI17850'."""
    text = raw.strip()
    if text.endswith(".0"):
        text = text[:-2]
    return f"UCI{text}"


def invoice_date(raw: str) -> str:
    """ISO date of '2010-12-01 08:26:00' or the original file's '12/1/2010 8:26'."""
    text = raw.strip()
    for pattern in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%m/%d/%Y %H:%M", "%m/%d/%y %H:%M"):
        try:
            return datetime.strptime(text, pattern).date().isoformat()
        except ValueError:
            continue
    raise ValueError(f"unreadable InvoiceDate {raw!r}")


def _open_text(path: Path) -> io.TextIOBase:
    raw = path.open("rb")
    magic = raw.read(2)
    raw.seek(0)
    stream = gzip.open(raw) if magic == b"\x1f\x8b" else raw  # noqa: SIM115
    return io.TextIOWrapper(stream, encoding="utf-8-sig", errors="replace", newline="")


def convert(source: Path, accounts_out: Path, orders_out: Path) -> Stats:
    """Stream the source once; write the orders as they come and the accounts at the end."""
    stats = Stats()
    countries: dict[str, str] = {}
    line_numbers: dict[str, int] = {}
    with (
        _open_text(source) as text,
        gzip.open(orders_out, "wt", encoding="utf-8", newline="") as orders,
    ):
        writer = csv.writer(orders)
        writer.writerow(ORDER_HEADER)
        for row in csv.DictReader(text):
            stats.lines += 1
            if not (row.get("CustomerID") or "").strip():
                stats.without_customer += 1
                continue
            code = customer_code(row["CustomerID"])
            invoice = row["InvoiceNo"].strip()
            countries.setdefault(code, row["Country"].strip())
            line_numbers[invoice] = line_no = line_numbers.get(invoice, 0) + 1
            quantity = Decimal(row["Quantity"].strip())
            revenue = (quantity * Decimal(row["UnitPrice"].strip())).quantize(CENT, ROUND_HALF_UP)
            if invoice.startswith("C"):
                stats.cancellations += 1
                revenue, quantity = -abs(revenue), -abs(quantity)
            writer.writerow(
                [code, invoice, line_no, invoice_date(row["InvoiceDate"]),
                 row["StockCode"].strip(), row["Description"].strip()[:200],
                 quantity, revenue, "GBP", "online"]
            )  # fmt: skip
            stats.written += 1
            stats.invoices.add(invoice)
    with gzip.open(accounts_out, "wt", encoding="utf-8", newline="") as accounts:
        writer = csv.writer(accounts)
        writer.writerow(ACCOUNT_HEADER)
        for code, country in sorted(countries.items()):
            name = f"Online Retail customer {code[3:]} ({country})"
            writer.writerow([code, name, name, "overseas", country, "customer"])
    stats.accounts = len(countries)
    return stats


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", type=Path, help="online_retail_*.csv or .csv.gz")
    parser.add_argument("--out", type=Path, default=Path("var/online_retail"))
    parser.add_argument("--import", dest="run_import", action="store_true",
                        help="then import both files with `kam import`")  # fmt: skip
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    accounts, orders = args.out / "accounts.csv.gz", args.out / "orders.csv.gz"
    started = time.monotonic()
    stats = convert(args.source, accounts, orders)
    print(
        f"{args.source.name}: {stats.lines} lines read in {time.monotonic() - started:.1f} s; "
        f"{stats.written} written ({stats.cancellations} cancellation lines, negative) "
        f"in {len(stats.invoices)} invoices for {stats.accounts} accounts; "
        f"{stats.without_customer} lines without a CustomerID skipped."
    )
    print(f"Wrote {accounts} and {orders}.")
    if args.run_import:
        kam = Path(sys.executable).with_name("kam")
        for kind, path in (("accounts", accounts), ("orders", orders)):
            started = time.monotonic()
            result = subprocess.run([str(kam), "import", kind, str(path)], check=False)
            print(f"kam import {kind}: {time.monotonic() - started:.1f} s")
            if result.returncode:
                return result.returncode
    return 0


if __name__ == "__main__":
    sys.exit(main())
