"""Importing accounts, contacts and order lines from CSV (UTF-8, BOM, GBK), .csv.gz and XLSX.

Every import runs in two phases, so a bad file changes nothing:

1. check: stream the file once, parse and validate every row and report each
   bad cell (row, column, reason; worded in the language active for the import,
   each template translated once). Order lines are spooled, already parsed, to
   a temporary file; only compact keys (to find duplicate lines) stay in memory.
   Account and contact files are small and stay in memory.
2. write, unless it is a dry run or the file has errors and skip_invalid is off:
   one transaction with bulk upserts, then the AccountDay rollups of the touched
   accounts. Killing the process midway rolls it all back; a re-run completes it.
   On PostgreSQL that transaction starts with the check, on a writer thread's own
   connection, which COPYs new orders' lines into the ledger while the file is read
   (copystream.py); a rejected file rolls it back.
"""

import gzip
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from kam.audit.models import Action, AuditEntry
from kam.customers.models import Account, Contact
from kam.ledger import rollups
from kam.ledger.columns import COLUMNS, import_specs
from kam.ledger.copystream import CopyStream
from kam.ledger.models import Product
from kam.lib.tabular import (
    REQUIRED,
    Row,
    RowError,
    TableError,
    TableReader,
    open_table,
    parse_row,
)
from kam.users import roles
from kam.users.models import Team, User

ERRORS_IN_MEMORY = 100_000
NOT_YOURS = gettext_noop("account %(code)s is not in your portfolio")

Progress = Callable[[int], None]

# Amounts as ERPs write them ("1234.50", "-7"), in the form the spool keeps: ASCII
# digits, no leading zeros, so the text is written as is, without a Decimal.
_PLAIN_AMOUNT_2 = re.compile(r"-?(?:0|[1-9][0-9]{0,15})(?:\.[0-9]{1,2})?").fullmatch
_PLAIN_AMOUNT_4 = re.compile(r"-?(?:0|[1-9][0-9]{0,13})(?:\.[0-9]{1,4})?").fullmatch
_MAX_LINE_NO = 2_147_483_647
BATCH_ROWS = 5_000
# PostgreSQL advisory lock key (any fixed number) serialising account creation by imports.
ACCOUNT_CREATION_LOCK = 4_271_001


def _plain_currency(code: str) -> bool:
    """Blank (CNY) or a code as the parser would keep it: three capital ASCII letters."""
    return not code or (
        len(code) == 3 and code.isascii() and code.isalpha() and code.isupper() and code != "RMB"
    )


def _plain_iso_date(text: str) -> bool:
    """A real date written YYYY-MM-DD."""
    if len(text) != 10 or text[4] != "-" or text[7] != "-" or not text.isascii():
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


@dataclass
class ImportReport:
    """The outcome of one import: counts, the bad rows, and whether anything was written."""

    kind: str
    file_name: str
    dry_run: bool = False
    rows: int = 0
    valid: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    accounts_created: int = 0
    products_created: int = 0
    bad_rows: int = 0
    error_count: int = 0
    errors: list[RowError] = field(default_factory=list)
    file_error: str = ""
    written: bool = False

    def add(self, errors: list[RowError]) -> None:
        self.bad_rows += 1
        self.error_count += len(errors)
        room = ERRORS_IN_MEMORY - len(self.errors)
        if room > 0:
            self.errors.extend(errors[:room])

    @property
    def skipped(self) -> int:
        """Rows not written: the bad ones when skipping, all of them when nothing was written."""
        return self.bad_rows if self.written else self.rows

    @property
    def ok(self) -> bool:
        return not self.file_error and not self.error_count


def estimate_rows(path: Path) -> int | None:
    """Data rows of a CSV (or .csv.gz) by counting newlines; None for XLSX."""
    with path.open("rb") as probe:
        magic = probe.read(4)
    if magic.startswith(b"PK"):
        return None
    opener: Any = gzip.open if magic.startswith(b"\x1f\x8b") else open
    count = 0
    with opener(path, "rb") as stream:
        while chunk := stream.read(1 << 20):
            count += chunk.count(b"\n")
    return max(0, count - 1)


def _editable_ids(actor: User | None) -> set[int] | None:
    """Ids of the accounts the actor may change, or None when they may change all."""
    if actor is None:
        return None
    if not roles.may_edit_customers(actor):
        raise PermissionDenied(gettext("You may not import customer data."))
    scope = roles.edit_scope(actor)
    if scope is None:
        return None
    return set(Account.objects.filter(scope).values_list("id", flat=True))


def _led_team_ids(actor: User | None) -> set[int]:
    return set() if actor is None else set(actor.led_teams.values_list("id", flat=True))


class _Wording(dict[str, str]):
    """Message templates in the language active for the import, each translated once.

    A file can have a million bad rows: gettext runs once per template, and each
    error only fills its values into the translated template.
    """

    def __missing__(self, template: str) -> str:
        text = self[template] = gettext(template)
        return text


class _Import:
    """One file being imported: check rows one by one, then write the valid ones."""

    kind = ""

    def __init__(self, *, actor: User | None, report: ImportReport, create_accounts: bool) -> None:
        self.actor = actor
        self.report = report
        self.create_accounts = create_accounts
        self.editable = _editable_ids(actor)
        self.message = f"import of {report.file_name}"[:500]
        self.headers: dict[str, str] = {}  # canonical name -> header as written
        self.has_line_no = False
        self.translate = _Wording().__getitem__

    def error(self, row: Row, column: str, template: str, **params: Any) -> RowError:
        """A bad cell of `row`, its reason `template` translated and filled with `params`."""
        return RowError(
            row.number, row.columns.get(column, column), self.reason(template, **params)
        )

    def reason(self, template: str, **params: Any) -> str:
        return self.translate(template) % params

    def check(self, row: Row, values: dict[str, Any]) -> list[RowError]:
        raise NotImplementedError

    def accept(self, row: Row) -> bool:
        """Take a plainly valid row without the general parser; False: use parse_row + check."""
        return False

    def accept_batch(
        self, numbers: Sequence[int], rows: Sequence[tuple[Any, ...]], keys: Sequence[str]
    ) -> bool:
        """Take a whole batch of plainly valid rows at once; False: take it row by row."""
        return False

    def finish(self) -> None:
        """Checks that need the whole file (they may reject rows accepted before)."""

    def write(self) -> None:
        raise NotImplementedError

    def write_atomic(self) -> None:
        """Write the checked rows in one transaction."""
        with transaction.atomic():
            self.write()

    def close(self) -> None:
        pass

    def audit_created_accounts(self, accounts: list[Account]) -> None:
        AuditEntry.objects.bulk_create(
            [
                AuditEntry(
                    actor=self.actor, action=Action.CREATE, account=account,
                    object_type="customers.account", object_id=str(account.pk),
                    object_repr=str(account)[:200], message=self.message,
                    changes={"code": [None, account.code]},
                )
                for account in accounts
            ],
            batch_size=2000,
        )  # fmt: skip


# ---------------------------------------------------------------- orders


class _OrderImport(_Import):
    kind = "orders"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.accounts: dict[str, int] = dict(Account.objects.values_list("code", "id"))
        self.new_accounts: dict[str, str] = {}  # code -> legal name, with create_accounts
        self.touched: set[int] = set()
        # hash((order_no, line_no)) -> first row: 64-bit keys keep 1M lines in ~100 MB.
        self.seen: dict[int, int] = {}
        self.next_line: dict[str, int] = {}
        self.products: dict[str, tuple[str, str]] = {}
        self.order_numbers: set[str] = set()
        # PostgreSQL: COPY the lines into the ledger while the file is read, in a transaction
        # of its own connection, which cannot be part of a transaction the caller has open.
        self.stream = (
            CopyStream(self.accounts, self.products)
            if not self.report.dry_run
            and connection.vendor == "postgresql"
            and not connection.in_atomic_block
            else None
        )
        self.spool = rollups.LineSpool(keep=not self.report.dry_run, stream=self.stream)
        self.spool_add = self.spool.add

    def check(self, row: Row, v: dict[str, Any]) -> list[RowError]:
        errors: list[RowError] = []
        order_no, line_no = v["order_no"], v["line_no"]
        if order_no is not None and line_no is None and "line_no" not in row.columns:
            # No line column: lines are numbered per order in file order (stable on re-import).
            line_no = self.next_line[order_no] = self.next_line.get(order_no, 0) + 1
        elif line_no is None and "line_no" in row.columns:
            errors.append(self.error(row, "line_no", REQUIRED))
        code = v["account_code"]
        account_id = self.accounts.get(code)
        if account_id is None:
            if not self.create_accounts:
                errors.append(
                    self.error(
                        row,
                        "account_code",
                        gettext_noop(
                            "unknown account %(code)s (import accounts "
                            "first, or ask to create unknown accounts)"
                        ),
                        code=repr(code),
                    )
                )
            elif len(v["account_name"] or code) > 200:
                errors.append(
                    self.error(row, "account_name", gettext_noop("at most 200 characters"))
                )
        elif self.editable is not None and account_id not in self.editable:
            errors.append(self.error(row, "account_code", NOT_YOURS, code=repr(code)))
        key = hash((order_no, line_no))
        first = self.seen.get(key)
        if first is not None:
            errors.append(
                self.error(
                    row,
                    "order_no",
                    gettext_noop(
                        "duplicate line: order %(order)s line %(line)s is already on row %(first)s"
                    ),
                    order=order_no,
                    line=line_no,
                    first=first,
                )
            )
        if errors:
            return errors
        self.seen[key] = row.number
        self.order_numbers.add(order_no)
        if account_id is None:
            self.new_accounts.setdefault(code, v["account_name"] or code)
        else:
            self.touched.add(account_id)
        product = v["product_code"] or (v["product_name"] or "")[:64]
        if product:
            self._product_note(product, v["product_name"] or "", v["category"] or "")
        quantity, cost = v["quantity"], v["cost"]
        self.spool_add(
            (
                code, order_no, line_no, v["order_date"].isoformat(), product,
                "1" if quantity is None else format(quantity, "f"), format(v["revenue"], "f"),
                "" if cost is None else format(cost, "f"), v["currency"] or "CNY",
                v["channel"] or "", v["sales_rep"] or "", v["credit_for_order_no"] or "",
            )
        )  # fmt: skip
        return errors

    def _product_note(self, product: str, name: str, category: str) -> None:
        """Remember a product of the file; a later non-blank name or category wins."""
        known = self.products.get(product)
        if known is None:
            self.products[product] = (name, category)
        elif (name and name != known[0]) or (category and category != known[1]):
            self.products[product] = (name or known[0], category or known[1])

    def accept(self, row: Row) -> bool:
        """The usual CSV line in a few C calls, with the effects `check` has on a valid row.

        Anything unusual (a blank required cell, a number with separators, a date
        in another form, an unknown account, a duplicate line, an XLSX cell that is
        not text) returns False before changing anything, and the row goes through
        parse_row and `check`, which word the errors.
        """
        get = row.values.get
        try:
            code = get("account_code", "").strip()
            order_no = get("order_no", "").strip()
            day = get("order_date", "").strip()
            revenue = get("revenue", "").strip()
            quantity = get("quantity", "").strip()
            cost = get("cost", "").strip()
            currency = get("currency", "").strip()
            product_code = get("product_code", "").strip()
            product_name = get("product_name", "").strip()
            category = get("category", "").strip()
            channel = get("channel", "").strip()
            sales_rep = get("sales_rep", "").strip()
            credit_for = get("credit_for_order_no", "").strip()
            if (
                not code or len(code) > 32 or not order_no or len(order_no) > 64
                or len(day) != 10 or day[4] != "-" or day[7] != "-" or not day.isascii()
                or not _PLAIN_AMOUNT_2(revenue)
                or (quantity and not _PLAIN_AMOUNT_4(quantity))
                or (cost and not _PLAIN_AMOUNT_2(cost))
                or not _plain_currency(currency)
                or len(product_code) > 64 or len(product_name) > 200 or len(category) > 100
                or len(channel) > 50 or len(sales_rep) > 100 or len(credit_for) > 64
                or len(get("account_name", "").strip()) > 200
            ):  # fmt: skip
                return False
            date.fromisoformat(day)
            if self.has_line_no:
                line_text = get("line_no", "").strip()
                if not line_text.isdecimal():
                    return False
                line_no = int(line_text)
                if not 0 < line_no <= _MAX_LINE_NO:
                    return False
            else:
                line_no = self.next_line.get(order_no, 0) + 1
        except (AttributeError, TypeError, ValueError):  # not text (XLSX), not a real date
            return False
        account_id = self.accounts.get(code)
        if account_id is None or (self.editable is not None and account_id not in self.editable):
            return False
        key = hash((order_no, line_no))
        if key in self.seen:
            return False
        # Valid: the same effects as check().
        if not self.has_line_no:
            self.next_line[order_no] = line_no
        self.seen[key] = row.number
        self.order_numbers.add(order_no)
        self.touched.add(account_id)
        product = product_code or product_name[:64]
        if product:
            self._product_note(product, product_name, category)
        self.spool_add(
            (
                code, order_no, line_no, day, product, quantity or "1", revenue, cost,
                currency or "CNY", channel, sales_rep, credit_for,
            )
        )  # fmt: skip
        return True

    def accept_batch(
        self, numbers: Sequence[int], rows: Sequence[tuple[Any, ...]], keys: Sequence[str]
    ) -> bool:
        """Take a batch of plainly valid rows column by column, the loops in C (map, zip, set).

        The same test and effects as `accept` on each row, in file order. If any row
        is not plainly valid it returns False having changed nothing, and the caller
        takes the batch row by row (so duplicates and line numbers keep file order).
        """
        size = len(numbers)
        blank = ("",) * size
        try:
            cells = {
                key: tuple(map(str.strip, column))
                for key, column in zip(keys, zip(*rows, strict=True), strict=True)
            }
        except TypeError:  # a cell that is not text (XLSX)
            return False
        get = cells.get
        codes, order_nos, days = (
            get("account_code", blank),
            get("order_no", blank),
            get("order_date", blank),
        )
        revenues, quantities, costs = (
            get("revenue", blank),
            get("quantity", blank),
            get("cost", blank),
        )
        currencies = get("currency", blank)
        product_codes, product_names = get("product_code", blank), get("product_name", blank)
        categories = get("category", blank)
        channels, sales_reps = get("channel", blank), get("sales_rep", blank)
        credit_fors = get("credit_for_order_no", blank)
        if not (all(codes) and all(order_nos) and all(revenues)):
            return False
        limits = (
            (codes, 32), (order_nos, 64), (product_codes, 64), (product_names, 200),
            (categories, 100), (channels, 50), (sales_reps, 100), (credit_fors, 64),
            (get("account_name", blank), 200),
        )  # fmt: skip
        if any(max(map(len, column)) > limit for column, limit in limits):
            return False
        if not (
            all(map(_PLAIN_AMOUNT_2, revenues))
            and all(map(_PLAIN_AMOUNT_2, filter(None, costs)))
            and all(map(_PLAIN_AMOUNT_4, filter(None, quantities)))
            and all(map(_plain_currency, set(currencies)))
            and all(map(_plain_iso_date, set(days)))
        ):
            return False
        next_line: dict[str, int] = {}
        if self.has_line_no:
            texts = get("line_no", blank)
            if not all(map(str.isdecimal, texts)):
                return False
            line_nos: Sequence[int] = tuple(map(int, texts))
            if not 0 < min(line_nos) <= max(line_nos) <= _MAX_LINE_NO:
                return False
        else:
            numbered = []
            for order_no in order_nos:
                line_no = next_line[order_no] = (
                    next_line.get(order_no) or self.next_line.get(order_no, 0)
                ) + 1
                numbered.append(line_no)
            line_nos = numbered
        try:
            account_ids = tuple(map(self.accounts.__getitem__, codes))
        except KeyError:  # an unknown account
            return False
        if self.editable is not None and not self.editable.issuperset(account_ids):
            return False
        line_keys = tuple(map(hash, zip(order_nos, line_nos, strict=True)))
        if len(set(line_keys)) != size or not self.seen.keys().isdisjoint(line_keys):
            return False
        # Valid: the same effects as accept() on each row.
        self.next_line.update(next_line)
        self.seen.update(zip(line_keys, numbers, strict=True))
        self.order_numbers.update(order_nos)
        self.touched.update(account_ids)
        products = (
            product_codes
            if all(product_codes)
            else tuple(
                code or name[:64] for code, name in zip(product_codes, product_names, strict=True)
            )
        )
        # Distinct (product, name, category) in order of their last row: the last
        # non-blank name and category win, as row by row.
        for product, name, category in reversed(
            dict.fromkeys(reversed(tuple(zip(products, product_names, categories, strict=True))))
        ):
            if product:
                self._product_note(product, name, category)
        self.spool.extend(
            zip(
                codes, order_nos, line_nos, days, products,
                quantities if all(quantities) else tuple(q or "1" for q in quantities),
                revenues, costs,
                currencies if all(currencies) else tuple(c or "CNY" for c in currencies),
                channels, sales_reps, credit_fors, strict=True,
            )
        )  # fmt: skip
        return True

    def _accounts_create(self) -> tuple[list[Account], dict[str, int]]:
        """Create the file's unknown accounts: (created, code -> id of the ones found instead).

        Another import may have created some of them since the check. Account creation
        is serialised (PostgreSQL: a transaction lock; SQLite: one writer at a time), so
        what exists now is read exactly and only the rest is created and audited; an
        account found that way must be one the importer may change.
        """
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ACCOUNT_CREATION_LOCK])
        codes = list(self.new_accounts)
        found = dict(Account.objects.filter(code__in=codes).values_list("code", "id"))
        if found and self.editable is not None:
            # Read again inside this transaction: the found accounts are new since the check.
            self.editable = _editable_ids(self.actor)
            others = sorted(code for code, pk in found.items() if pk not in (self.editable or ()))
            if others:
                raise PermissionDenied(
                    gettext(
                        "Accounts %(codes)s were created by someone else during this import "
                        "and are not in your portfolio; nothing was written."
                    )
                    % {"codes": ", ".join(others[:10])}
                )
        owner = team = None
        if self.editable is not None and self.actor is not None:
            owner, team = self.actor, self.actor.team
        accounts = [
            Account(code=code, legal_name=name, owner=owner, team=team)
            for code, name in self.new_accounts.items()
            if code not in found
        ]
        Account.objects.bulk_create(accounts, batch_size=2000)
        created = [a for a in Account.objects.filter(code__in=codes) if a.code not in found]
        self.audit_created_accounts(created)
        return created, found

    def write(self) -> None:
        # Checking is over: free the line keys (~100 MB per million lines) before the upsert.
        self.seen, self.next_line = {}, {}
        created_accounts, found = self._accounts_create() if self.new_accounts else ([], {})
        self.report.accounts_created = len(created_accounts)
        self.touched.update(account.pk for account in created_accounts)
        self.touched.update(found.values())
        product_ids, self.report.products_created = products_upsert(self.products)
        account_ids = (
            self.accounts | found | {account.code: account.pk for account in created_accounts}
        )
        result = rollups.order_lines_write(self.spool, self.order_numbers, account_ids, product_ids)
        self.order_numbers = set()
        if self.editable is not None and result.moved_from - self.editable:
            raise PermissionDenied(
                gettext(
                    "Some lines of this file belong to orders of accounts outside your portfolio."
                )
            )
        self.report.created, self.report.updated = result.created, result.updated
        self.report.unchanged = result.unchanged
        rollups.account_days_refresh(self.touched | result.moved_from)

    def write_atomic(self) -> None:
        if self.stream is None:
            super().write_atomic()
            return
        self.spool.flush()  # the last batch, to the stream too
        self.stream.finish(self._write_after_stream)

    def _write_after_stream(self, streamed: int | None) -> None:
        """In the stream's thread and transaction: the rest of the write.

        `streamed` lines (of orders new to the ledger, accounts known at the start)
        are in the ledger; None: the stream was undone and every line is written here.
        """
        if streamed is None:
            self.write()
            return
        assert self.stream is not None
        self.seen, self.next_line = {}, {}
        created_accounts, found = self._accounts_create() if self.new_accounts else ([], {})
        self.report.accounts_created = len(created_accounts)
        new_ids = found | {account.code: account.pk for account in created_accounts}
        self.touched.update(new_ids.values())
        product_ids, created = products_upsert(self.products)
        self.report.products_created = created + self.stream.products_created
        held = 0
        if self.stream.held:  # lines of the accounts just created (or found)
            # A duplicate key (another import wrote these orders) makes the stream fall back.
            with connection.wrap_database_errors:
                held = rollups.order_lines_copy_new(
                    self.spool, new_ids, product_ids, only_these_accounts=True
                ).created
        self.report.created = streamed + held
        rollups.account_days_refresh(self.touched)

    def close(self) -> None:
        if self.stream is not None:
            self.stream.close()
        self.spool.close()


def products_upsert(products: dict[str, tuple[str, str]]) -> tuple[dict[str, int], int]:
    """Create missing products and update the names and categories the file gives.

    Returns (code -> id, number created).
    """
    codes = list(products)
    existing: dict[str, Product] = {}
    for start in range(0, len(codes), 2000):
        existing.update(
            (known.code, known)
            for known in Product.objects.filter(code__in=codes[start : start + 2000])
        )
    new: list[Product] = []
    changed: list[Product] = []
    for code, (name, category) in products.items():
        product = existing.get(code)
        if product is None:
            new.append(Product(code=code, name=name, category=category))
        elif (name and name != product.name) or (category and category != product.category):
            product.name, product.category = name or product.name, category or product.category
            changed.append(product)
    # ignore_conflicts: a concurrent import may create the same products first (then
    # they are counted as created by both).
    Product.objects.bulk_create(new, batch_size=2000, ignore_conflicts=True)
    Product.objects.bulk_update(changed, ["name", "category"], batch_size=2000)
    ids = {p.code: p.pk for p in existing.values()}
    for start in range(0, len(new), 2000):
        chunk = [p.code for p in new[start : start + 2000]]
        ids.update(Product.objects.filter(code__in=chunk).values_list("code", "id"))
    return ids, len(new)


# ---------------------------------------------------------------- accounts and contacts


def _blank(model_field: models.Field) -> Any:
    """What a blank cell means for a model field: NULL, its default, or ''."""
    if model_field.null:
        return None
    if model_field.has_default():
        return model_field.get_default()
    return ""


def _model_errors(row: Row, error: ValidationError, columns: dict[str, str]) -> list[RowError]:
    found: list[RowError] = []
    for name, messages in error.message_dict.items():
        column = columns.get(name, name)
        found.extend(RowError(row.number, column, message) for message in messages)
    return found


@dataclass
class _Pending:
    """A checked row waiting to be written."""

    number: int
    key: Any
    values: dict[str, Any]
    refs: dict[str, Any] = field(default_factory=dict)


class _AccountImport(_Import):
    kind = "accounts"
    fk_columns = ("parent_code", "owner", "team")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.existing: dict[str, int] = dict(Account.objects.values_list("code", "id"))
        self.users = {u.username: u for u in User.objects.filter(is_active=True)}
        self.teams = {t.name: t for t in Team.objects.all()}
        self.led_teams = _led_team_ids(self.actor)
        self.pending: dict[str, _Pending] = {}
        self.credit_codes: dict[str, int] = {}
        self.fields: dict[str, Any] = {
            f.name: f for f in Account._meta.get_fields() if hasattr(f, "attname")
        }
        self.columns = [c.name for c in COLUMNS["accounts"] if not c.read_only]

    def check(self, row: Row, v: dict[str, Any]) -> list[RowError]:
        present = [name for name in self.columns if name in row.columns]
        code = v["code"]
        values = {
            name: _blank(self.fields[name]) if v[name] is None else v[name]
            for name in present
            if name not in self.fk_columns
        }
        if values.get("credit_code"):
            values["credit_code"] = values["credit_code"].upper()
        errors = []
        account_id = self.existing.get(code)
        if code in self.pending:
            errors.append(
                self.error(
                    row,
                    "code",
                    gettext_noop("duplicate account %(code)s: already on row %(first)s"),
                    code=repr(code),
                    first=self.pending[code].number,
                )
            )
        if account_id is not None and self.editable is not None and account_id not in self.editable:
            errors.append(self.error(row, "code", NOT_YOURS, code=repr(code)))
        refs: dict[str, Any] = {}
        if "owner" in present:
            username = v["owner"]
            refs["owner"] = self.users.get(username) if username else None
            if username and refs["owner"] is None:
                errors.append(
                    self.error(
                        row, "owner", gettext_noop("no active user %(user)s"), user=repr(username)
                    )
                )
        if "team" in present:
            refs["team"] = self.teams.get(v["team"]) if v["team"] else None
            if v["team"] and refs["team"] is None:
                errors.append(
                    self.error(row, "team", gettext_noop("no team %(team)s"), team=repr(v["team"]))
                )
        if "parent_code" in present:
            refs["parent_code"] = v["parent_code"] or ""
            if refs["parent_code"] == code:
                errors.append(
                    self.error(
                        row, "parent_code", gettext_noop("an account cannot be its own parent")
                    )
                )
        if self.editable is not None and ("owner" in refs or account_id is None):
            owner = refs.get("owner") or self.actor
            team = refs.get("team") or (owner.team if owner else None)
            if owner != self.actor and (team is None or team.pk not in self.led_teams):
                errors.append(
                    self.error(
                        row, "owner", gettext_noop("you may only import into your own portfolio")
                    )
                )
        credit = values.get("credit_code")
        if credit and credit in self.credit_codes:
            errors.append(
                self.error(
                    row,
                    "credit_code",
                    gettext_noop("the same credit code is already on row %(first)s"),
                    first=self.credit_codes[credit],
                )
            )
        candidate = Account(**values)
        try:
            candidate.full_clean(
                exclude=[n for n in self.fields if n not in values],
                validate_unique=False,
                validate_constraints=False,
            )
        except ValidationError as error:
            errors.extend(_model_errors(row, error, dict(row.columns)))
        if not errors:
            self.pending[code] = _Pending(row.number, code, values, refs)
            if credit:
                self.credit_codes[credit] = row.number
        return errors

    def finish(self) -> None:
        codes = set(self.existing) | set(self.pending)
        credit_owners: dict[str, str] = {}
        wanted = list(self.credit_codes)
        for start in range(0, len(wanted), 500):
            credit_owners.update(
                Account.objects.filter(credit_code__in=wanted[start : start + 500]).values_list(
                    "credit_code", "code"
                )
            )
        # The group hierarchy after this file: the database's, with the file's changes.
        parents: dict[str, str] = {}
        if any("parent_code" in item.refs for item in self.pending.values()):
            parents = dict(
                Account.objects.filter(parent__isnull=False).values_list("code", "parent__code")
            )
            for code, item in self.pending.items():
                if "parent_code" in item.refs:
                    parents[code] = item.refs["parent_code"]
        for code, item in list(self.pending.items()):
            problems = []
            parent = item.refs.get("parent_code")
            if parent and parent not in codes:
                problems.append(
                    (
                        "parent_code",
                        self.reason(
                            gettext_noop("unknown parent account %(code)s"), code=repr(parent)
                        ),
                    )
                )
            elif parent and _has_cycle(code, parents):
                problems.append(
                    (
                        "parent_code",
                        self.reason(
                            gettext_noop("parent %(code)s would make a cycle in the group"),
                            code=repr(parent),
                        ),
                    )
                )
            credit = item.values.get("credit_code")
            if credit and credit_owners.get(credit, code) != code:
                problems.append(
                    (
                        "credit_code",
                        self.reason(
                            gettext_noop("credit code already used by account %(code)s"),
                            code=credit_owners[credit],
                        ),
                    )
                )
            if problems:
                self.report.valid -= 1
                self.report.add(
                    [RowError(item.number, self.headers.get(c, c), r) for c, r in problems]
                )
                del self.pending[code]

    def write(self) -> None:
        codes = list(self.pending)
        accounts: dict[str, Account] = {}
        for start in range(0, len(codes), 500):
            accounts.update(
                (known.code, known)
                for known in Account.objects.filter(code__in=codes[start : start + 500])
            )
        new: list[Account] = []
        changes: dict[str, dict[str, list[Any]]] = {}
        now = timezone.now()
        for code, item in self.pending.items():
            account = accounts.get(code)
            is_new = account is None
            if account is None:
                account = accounts[code] = Account(code=code)
                new.append(account)
                if self.editable is not None and self.actor is not None:
                    account.owner, account.team_id = self.actor, self.actor.team_id
            diff: dict[str, list[Any]] = {}
            for name, value in item.values.items():
                old = getattr(account, name)
                if is_new or old != value:
                    diff[name] = [None if is_new else _plain(old), _plain(value)]
                    setattr(account, name, value)
            for name in ("owner", "team"):
                if name in item.refs:
                    ref = item.refs[name]
                    old_id, new_id = getattr(account, f"{name}_id"), ref.pk if ref else None
                    if old_id != new_id:
                        diff[name] = [old_id, new_id]
                        setattr(account, f"{name}_id", new_id)
            if account.owner_id and not account.team_id and item.refs.get("owner"):
                account.team_id = item.refs["owner"].team_id  # as account_create does
            account.updated_at = now
            if diff:
                changes[code] = diff
        Account.objects.bulk_create(new, batch_size=1000)
        new_codes = {account.code for account in new}
        updated = [accounts[code] for code in changes if code not in new_codes]
        if updated:
            names = {name for a in updated for name in changes[a.code]} | {"updated_at", "team"}
            Account.objects.bulk_update(updated, sorted(names), batch_size=1000)
        # Parents last: they may be rows of this very file.
        parent_codes = {i.refs.get("parent_code") for i in self.pending.values()} - {None, ""}
        ids = {code: account.pk for code, account in accounts.items()}
        ids.update(Account.objects.filter(code__in=parent_codes).values_list("code", "id"))
        reparented = []
        for code, item in self.pending.items():
            if "parent_code" not in item.refs:
                continue
            account = accounts[code]
            parent_id = ids[item.refs["parent_code"]] if item.refs["parent_code"] else None
            if account.parent_id != parent_id:
                changes.setdefault(code, {})["parent"] = [account.parent_id, parent_id]
                account.parent_id = parent_id
                reparented.append(account)
        Account.objects.bulk_update(reparented, ["parent"], batch_size=1000)
        self.report.created = len(new)
        self.report.updated = len(set(changes) - new_codes)
        self.report.unchanged = len(self.pending) - self.report.created - self.report.updated
        AuditEntry.objects.bulk_create(
            [
                AuditEntry(
                    actor=self.actor, action=Action.CREATE if code in new_codes else Action.UPDATE,
                    account_id=ids[code], object_type="customers.account",
                    object_id=str(ids[code]), object_repr=str(accounts[code])[:200],
                    changes=diff, message=self.message,
                )
                for code, diff in changes.items()
            ],
            batch_size=2000,
        )  # fmt: skip


def _has_cycle(code: str, parents: dict[str, str]) -> bool:
    """Whether walking up from `code` comes back to it."""
    seen = {code}
    node = parents.get(code)
    while node:
        if node in seen:
            return node == code
        seen.add(node)
        node = parents.get(node)
    return False


def _plain(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


class _ContactImport(_Import):
    kind = "contacts"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.accounts: dict[str, int] = dict(Account.objects.values_list("code", "id"))
        self.pending: dict[tuple[int, str], _Pending] = {}
        self.fields: dict[str, Any] = {
            f.name: f for f in Contact._meta.get_fields() if hasattr(f, "attname")
        }
        self.columns = [c.name for c in COLUMNS["contacts"]]

    def check(self, row: Row, v: dict[str, Any]) -> list[RowError]:
        errors = []
        code, name = v["account_code"], v["name"]
        account_id = self.accounts.get(code)
        if account_id is None:
            errors.append(
                self.error(
                    row, "account_code", gettext_noop("unknown account %(code)s"), code=repr(code)
                )
            )
        elif self.editable is not None and account_id not in self.editable:
            errors.append(self.error(row, "account_code", NOT_YOURS, code=repr(code)))
        key = (account_id or 0, name)  # 0: unknown account, already an error
        if key in self.pending:
            errors.append(
                self.error(
                    row,
                    "name",
                    gettext_noop(
                        "duplicate contact %(name)s at account %(code)s: already on row %(first)s"
                    ),
                    name=repr(name),
                    code=repr(code),
                    first=self.pending[key].number,
                )
            )
        present = [n for n in self.columns if n in row.columns and n not in ("account_code",)]
        values = {
            n: _blank(self.fields[n]) if v[n] is None else v[n]
            for n in present
            if n != "reports_to"
        }
        try:
            Contact(**values).full_clean(
                exclude=[n for n in self.fields if n not in values], validate_unique=False
            )
        except ValidationError as error:
            errors.extend(_model_errors(row, error, dict(row.columns)))
        if not errors:
            refs = {"reports_to": v["reports_to"] or ""} if "reports_to" in row.columns else {}
            self.pending[key] = _Pending(row.number, key, values, refs)
        return errors

    def finish(self) -> None:
        names = set(self.pending)
        account_ids = {account_id for account_id, _name in names}
        names |= set(
            Contact.objects.filter(account_id__in=account_ids, archived=False).values_list(
                "account_id", "name"
            )
        )
        for key, item in list(self.pending.items()):
            boss = item.refs.get("reports_to")
            if boss and ((key[0], boss) not in names or boss == key[1]):
                self.report.valid -= 1
                self.report.add(
                    [
                        RowError(
                            item.number,
                            self.headers.get("reports_to", "reports_to"),
                            self.reason(
                                gettext_noop("no other contact %(name)s at this account"),
                                name=repr(boss),
                            ),
                        )
                    ]
                )
                del self.pending[key]

    def write(self) -> None:
        account_ids = {account_id for account_id, _name in self.pending}
        existing: dict[tuple[int, str], Contact] = {}
        for contact in Contact.objects.filter(account_id__in=account_ids, archived=False).order_by(
            "-pk"
        ):
            existing[(contact.account_id, contact.name)] = contact  # the oldest wins
        new, updated, changes = [], [], {}
        for key, item in self.pending.items():
            is_new = key not in existing
            if is_new:
                existing[key] = Contact(account_id=key[0], name=key[1])
            contact = existing[key]
            diff = {}
            for name, value in item.values.items():
                old = getattr(contact, name)
                if is_new or old != value:
                    diff[name] = [None if is_new else _plain(old), _plain(value)]
                    setattr(contact, name, value)
            if is_new:
                new.append(contact)
            elif diff:
                updated.append(contact)
            if diff:
                changes[key] = diff
        Contact.objects.bulk_create(new, batch_size=1000)
        if not all(c.pk for c in new):  # backends without RETURNING: fetch the new ids
            for contact in Contact.objects.filter(account_id__in=account_ids, archived=False):
                existing[(contact.account_id, contact.name)].pk = contact.pk
        fields = sorted({n for key in changes for n in changes[key]} | {"updated_at"})
        now = timezone.now()
        for contact in updated:
            contact.updated_at = now
        Contact.objects.bulk_update(updated, fields, batch_size=1000)
        bosses = []
        for key, item in self.pending.items():
            if "reports_to" not in item.refs:
                continue
            contact = existing[key]
            boss = existing.get((key[0], item.refs["reports_to"]))
            boss_id = boss.pk if boss and item.refs["reports_to"] else None
            if contact.reports_to_id != boss_id:
                contact.reports_to_id = boss_id
                bosses.append(contact)
                changes.setdefault(key, {})["reports_to"] = [None, item.refs["reports_to"]]
                if contact not in new and contact not in updated:
                    updated.append(contact)
        Contact.objects.bulk_update(bosses, ["reports_to"], batch_size=1000)
        self.report.created, self.report.updated = len(new), len(updated)
        self.report.unchanged = len(self.pending) - len(new) - len(updated)
        AuditEntry.objects.bulk_create(
            [
                AuditEntry(
                    actor=self.actor, action=Action.CREATE if existing[k] in new else Action.UPDATE,
                    account_id=k[0], object_type="customers.contact",
                    object_id=str(existing[k].pk), object_repr=str(existing[k])[:200],
                    changes=diff, message=self.message,
                )
                for k, diff in changes.items()
            ],
            batch_size=2000,
        )  # fmt: skip


IMPORTERS: dict[str, type[_Import]] = {
    "accounts": _AccountImport,
    "contacts": _ContactImport,
    "orders": _OrderImport,
}


def _rows_check(
    table: TableReader,
    importer: _Import,
    specs: Sequence[Any],
    report: ImportReport,
    progress: Progress | None,
) -> None:
    """Check every row: whole batches when they are plainly valid, else row by row."""
    keys, columns = table.keys, table.columns
    # Absent columns parse to None; only the present ones need parsing per row.
    present = [spec for spec in specs if spec.name in columns]
    absent = dict.fromkeys(spec.name for spec in specs if spec.name not in columns)
    accept, accept_batch, translate = importer.accept, importer.accept_batch, importer.translate
    for numbers, rows in table.cell_batches(BATCH_ROWS):
        if accept_batch(numbers, rows, keys):
            report.rows += len(numbers)
            report.valid += len(numbers)
        else:
            for number, cells in zip(numbers, rows, strict=True):
                report.rows += 1
                row = Row(number, dict(zip(keys, cells, strict=True)), columns)
                if accept(row):
                    report.valid += 1
                    continue
                values, errors = parse_row(row, present, translate)
                values.update(absent)
                errors = errors or importer.check(row, values)
                if errors:
                    report.add(errors)
                else:
                    report.valid += 1
        if progress is not None:
            progress(report.rows)


def import_file(
    *,
    kind: str,
    path: str | Path,
    actor: User | None = None,
    file_name: str = "",
    dry_run: bool = False,
    skip_invalid: bool = False,
    create_accounts: bool = False,
    progress: Progress | None = None,
    on_write: Callable[[], None] | None = None,
) -> ImportReport:
    """Check a whole file, then (unless dry run or rejected) write it in one transaction.

    `actor` None is the system (all accounts); a user may only touch what they
    may edit. `progress(rows_read)` is called every few thousand rows, `on_write()`
    once before writing starts. Raises PermissionDenied for users who may not import.
    """
    path = Path(path)
    report = ImportReport(kind=kind, file_name=file_name or path.name, dry_run=dry_run)
    specs = import_specs(kind)
    importer = IMPORTERS[kind](actor=actor, report=report, create_accounts=create_accounts)
    try:
        try:
            with open_table(path, specs) as table:
                importer.headers = dict(table.columns)
                importer.has_line_no = "line_no" in table.columns
                _rows_check(table, importer, specs, report, progress)
        except TableError as error:
            report.file_error = f"{report.file_name}: {error.text(importer.translate)}"
            return report
        if report.rows == 0:
            report.file_error = (
                report.file_name + ": " + gettext("the file has a header row but no data rows")
            )
            return report
        importer.finish()
        if progress is not None:
            progress(report.rows)
        if dry_run or report.valid == 0 or (report.error_count and not skip_invalid):
            return report
        if on_write is not None:
            on_write()
        importer.write_atomic()
        report.written = True
        return report
    finally:
        importer.close()
