"""Exporting accounts, contacts and order lines with the import's columns, so files round-trip."""

import csv
from collections.abc import Iterable, Iterator
from typing import Any

from django.db.models import QuerySet

from kam.customers.models import Account, Contact
from kam.ledger.columns import headers
from kam.ledger.models import OrderLine

CHUNK = 2000


# The import's account columns, as read from the account list's query (which annotates
# the latest run's ABC class, scores and CLV).
ACCOUNT_VALUES = (
    "code", "legal_name", "short_name", "english_name", "credit_code", "industry",
    "region", "province", "city", "size", "employees", "parent__code", "kind",
    "cooperation_domain", "cooperation_depth", "project_type", "sales_stage",
    "owner__username", "team__name", "status", "wallet_size", "website", "address",
    "business_description", "financial_health", "goals", "tier", "abc_class",
    "value_score", "potential_score", "clv",
)  # fmt: skip
# No parent, owner or team is an empty cell, as the import reads it.
_EMPTY_WHEN_NONE = {"parent__code", "owner__username", "team__name"}


def account_rows(accounts: QuerySet[Account]) -> Iterator[list[Any]]:
    rows = accounts.order_by("code").values_list(*ACCOUNT_VALUES)
    for row in rows.iterator(chunk_size=CHUNK):
        yield [
            "" if value is None and name in _EMPTY_WHEN_NONE else value
            for name, value in zip(ACCOUNT_VALUES, row, strict=True)
        ]


def contact_rows(accounts: QuerySet[Account]) -> Iterator[list[Any]]:
    contacts = (
        Contact.objects.filter(account__in=accounts, archived=False)
        .select_related("account", "reports_to")
        .order_by("account__code", "pk")
    )
    for c in contacts.iterator(chunk_size=CHUNK):
        yield [
            c.account.code, c.name, c.title, c.department,
            c.reports_to.name if c.reports_to else "", c.buying_role, c.attitude, c.influence,
            c.phone, c.email, c.wechat, c.has_left, c.left_on, c.notes,
        ]  # fmt: skip


def order_rows(accounts: QuerySet[Account]) -> Iterator[list[Any]]:
    lines = (
        OrderLine.objects.filter(account__in=accounts)
        .order_by("order_date", "order_no", "line_no")
        .values_list(
            "account__code", "account__legal_name", "order_no", "line_no", "order_date",
            "product__code", "product__name", "product__category", "quantity", "revenue",
            "cost", "currency", "channel", "sales_rep", "credit_for_order_no",
        )
    )  # fmt: skip
    for row in lines.iterator(chunk_size=CHUNK):
        yield list(row)


ROWS = {"accounts": account_rows, "contacts": contact_rows, "orders": order_rows}


def export_rows(kind: str, accounts: QuerySet[Account]) -> tuple[list[str], Iterator[list[Any]]]:
    """Header and rows of an export of `kind` for these accounts."""
    return headers(kind), ROWS[kind](accounts)


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_chunks(header: list[str], rows: Iterable[list[Any]]) -> Iterator[str]:
    """CSV text pieces for a streaming response: BOM (for Excel), header, rows, as write_table."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(header)
    for row in rows:
        yield writer.writerow(
            ["" if v is None else format(v, "f") if v.__class__.__name__ == "Decimal" else v
             for v in row]
        )  # fmt: skip
