"""The order ledger: invoice lines per account, and per-account daily rollups for scoring."""

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Product(models.Model):
    """A product or service we sell."""

    code = models.CharField(_("product code"), max_length=64, unique=True)
    name = models.CharField(_("product name"), max_length=200, blank=True)
    category = models.CharField(_("category"), max_length=100, blank=True, db_index=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("product")
        verbose_name_plural = _("products")

    def __str__(self) -> str:
        return f"{self.code} {self.name}".strip()


class OrderLine(models.Model):
    """One line of an order or invoice; credit notes and returns are negative lines."""

    account = models.ForeignKey(
        "customers.Account",
        verbose_name=_("account"),
        on_delete=models.PROTECT,
        related_name="order_lines",
        db_index=False,  # the (account, order_date) index serves; one index less per import
        # No database-level FK: checking it per line doubled a million-line import on
        # PostgreSQL. Imports resolve the account by joining on its code, accounts are
        # archived, never deleted, and Django still applies PROTECT.
        db_constraint=False,
    )
    order_no = models.CharField(_("order number"), max_length=64)
    line_no = models.PositiveIntegerField(_("line number"), default=1)
    order_date = models.DateField(_("order date"))
    product = models.ForeignKey(
        Product,
        verbose_name=_("product"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="order_lines",
        # As for the account (imports join on the code); no index: nothing lists lines by product.
        db_constraint=False,
        db_index=False,
    )
    quantity = models.DecimalField(_("quantity"), max_digits=18, decimal_places=4, default=1)
    revenue = models.DecimalField(_("revenue"), max_digits=18, decimal_places=2)
    cost = models.DecimalField(_("cost"), max_digits=18, decimal_places=2, null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    channel = models.CharField(_("channel"), max_length=50, blank=True)
    sales_rep = models.CharField(_("sales rep"), max_length=100, blank=True)
    # For credit notes and returns: the order they reverse, when known.
    credit_for_order_no = models.CharField(_("credits order"), max_length=64, blank=True)

    class Meta:
        ordering = ["-order_date", "order_no", "line_no"]
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        constraints = [
            models.UniqueConstraint(fields=["order_no", "line_no"], name="order_line_unique"),
        ]
        indexes = [models.Index(fields=["account", "order_date"])]

    def __str__(self) -> str:
        return f"{self.order_no}/{self.line_no}"

    @property
    def margin(self) -> Decimal | None:
        return None if self.cost is None else self.revenue - self.cost

    @property
    def is_credit(self) -> bool:
        return self.revenue < 0


class AccountDay(models.Model):
    """Per account and purchase day: totals of its order lines (kept current by the importer).

    Scoring reads these instead of rescanning every order line.
    """

    account = models.ForeignKey(
        "customers.Account",
        on_delete=models.CASCADE,
        related_name="+",
        # The unique (account, day) index serves every look-up by account: a second index
        # on the account alone was one more B-tree for each import to keep up.
        db_index=False,
    )
    day = models.DateField()
    revenue = models.DecimalField(max_digits=20, decimal_places=2, default=0)
    # Cost summed over lines that have one; cost_lines says how many did.
    cost = models.DecimalField(max_digits=20, decimal_places=2, default=0)
    cost_lines = models.PositiveIntegerField(default=0)
    lines = models.PositiveIntegerField(default=0)
    orders = models.PositiveIntegerField(default=0)
    # The account's revenue up to and including this day: revenue between two dates is
    # the difference of two look-ups, so 12-month windows need no scan of the days between.
    revenue_to_date = models.DecimalField(max_digits=20, decimal_places=2, default=0)

    class Meta:
        verbose_name = _("account day total")
        verbose_name_plural = _("account day totals")
        constraints = [
            models.UniqueConstraint(fields=["account", "day"], name="account_day_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.day}"


class AccountKey(models.OneToOneField):
    """A one-to-one primary key on the account that SQLite keeps as the table's rowid.

    Django declares it ``bigint PRIMARY KEY``, which SQLite backs with a separate unique
    index: every look-up by account then walks two B-trees. Declared ``integer``, it is
    the rowid itself (1,000,000 look-ups while scoring: 0.55 s instead of 1.05 s), and
    every upsert keeps one B-tree less. PostgreSQL is unchanged.
    """

    def db_type(self, connection: Any) -> str | None:
        if connection.vendor == "sqlite":
            return "integer"
        return super().db_type(connection)


class AccountTotal(models.Model):
    """Per account: the totals of all its AccountDay rows (kept current with them).

    Scoring as of a date starts from these and corrects only the accounts with days
    after that date. A purchase day is a day with positive net revenue.
    """

    account = AccountKey(
        "customers.Account", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    first_day = models.DateField()
    last_day = models.DateField()
    revenue = models.DecimalField(max_digits=20, decimal_places=2, default=0)
    cost = models.DecimalField(max_digits=20, decimal_places=2, default=0)
    cost_lines = models.PositiveIntegerField(default=0)
    lines = models.PositiveIntegerField(default=0)
    orders = models.PositiveIntegerField(default=0)
    purchase_days = models.PositiveIntegerField(default=0)
    purchase_revenue = models.DecimalField(max_digits=20, decimal_places=2, default=0)
    first_purchase = models.DateField(null=True, blank=True)
    first_purchase_revenue = models.DecimalField(max_digits=20, decimal_places=2, default=0)
    last_purchase = models.DateField(null=True, blank=True)

    class Meta:
        verbose_name = _("account total")
        verbose_name_plural = _("account totals")

    def __str__(self) -> str:
        return str(self.account_id)


class ImportKind(models.TextChoices):
    ACCOUNTS = "accounts", _("Accounts")
    CONTACTS = "contacts", _("Contacts")
    ORDERS = "orders", _("Order lines")


class ImportStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    VALIDATING = "validating", _("Checking rows")
    WRITING = "writing", _("Writing")
    DONE = "done", _("Done")
    REJECTED = "rejected", _("Rejected: nothing written")
    FAILED = "failed", _("Failed: nothing written")


class ImportRun(models.Model):
    """One import of a file (from the web or the command line) with its progress and report."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    kind = models.CharField(_("kind"), max_length=16, choices=ImportKind)
    file_name = models.CharField(_("file"), max_length=255)
    # Where a web upload waits for the task worker; removed once the run finishes.
    stored_path = models.CharField(max_length=500, blank=True)
    # "host:pid" of the process running the import, to tell a run whose process died.
    worker = models.CharField(max_length=100, blank=True)
    # Renewed with the progress while the import runs: a run on another host whose
    # heartbeat is old has died (its pid cannot be checked from here).
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    dry_run = models.BooleanField(_("check only (dry run)"), default=False)
    skip_invalid = models.BooleanField(_("import the valid rows, skip the others"), default=False)
    create_accounts = models.BooleanField(_("create unknown accounts"), default=False)
    status = models.CharField(
        _("status"), max_length=16, choices=ImportStatus, default=ImportStatus.QUEUED
    )
    rows_total = models.PositiveIntegerField(_("rows (estimate)"), null=True, blank=True)
    rows_done = models.PositiveIntegerField(_("rows read"), default=0)
    rows_valid = models.PositiveIntegerField(_("valid rows"), default=0)
    created = models.PositiveIntegerField(_("created"), default=0)
    updated = models.PositiveIntegerField(_("updated"), default=0)
    unchanged = models.PositiveIntegerField(_("unchanged"), default=0)
    skipped = models.PositiveIntegerField(_("skipped rows"), default=0)
    accounts_created = models.PositiveIntegerField(_("accounts created"), default=0)
    error_count = models.PositiveIntegerField(_("errors"), default=0)
    # [[row, column, reason], …], the first ERRORS_KEPT of them. Reasons (and message) are
    # stored as text in the run's language, the one active when it was recorded: the
    # uploader's on the web, LANGUAGE_CODE on the command line.
    errors = models.JSONField(_("errors"), default=list, blank=True)
    message = models.TextField(_("message"), blank=True)
    language = models.CharField(_("language"), max_length=16, blank=True)
    created_at = models.DateTimeField(_("started"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    ERRORS_KEPT = 1000

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("import run")
        verbose_name_plural = _("import runs")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.file_name}"

    @property
    def is_finished(self) -> bool:
        return self.status in {ImportStatus.DONE, ImportStatus.REJECTED, ImportStatus.FAILED}

    @property
    def waits_long(self) -> bool:
        """Queued for over a minute: the task worker may not be running."""
        return self.status == ImportStatus.QUEUED and timezone.now() - self.created_at > timedelta(
            minutes=1
        )

    @property
    def percent(self) -> int:
        if self.is_finished:
            return 100
        if not self.rows_total:
            return 0
        return min(99, int(100 * self.rows_done / self.rows_total))
