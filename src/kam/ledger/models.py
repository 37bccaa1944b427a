"""The order ledger: invoice lines per account, and per-account daily rollups for scoring."""

from decimal import Decimal

from django.db import models
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

    account = models.ForeignKey("customers.Account", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    revenue = models.DecimalField(max_digits=20, decimal_places=2, default=0)
    # Cost summed over lines that have one; cost_lines says how many did.
    cost = models.DecimalField(max_digits=20, decimal_places=2, default=0)
    cost_lines = models.PositiveIntegerField(default=0)
    lines = models.PositiveIntegerField(default=0)
    orders = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("account day total")
        verbose_name_plural = _("account day totals")
        constraints = [
            models.UniqueConstraint(fields=["account", "day"], name="account_day_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.day}"
