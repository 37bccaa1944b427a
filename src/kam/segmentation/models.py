"""Key account identification: scoring configuration, scoring runs, tier proposals and history."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from kam.segmentation import rules


class ClvPeriod(models.TextChoices):
    DAY = "day", _("Days")
    WEEK = "week", _("Weeks")


# Days per CLV time unit.
UNIT_DAYS = {ClvPeriod.DAY.value: 1.0, ClvPeriod.WEEK.value: 7.0}


class ScoringConfig(models.Model):
    """The one scoring configuration (pk=1): ABC cut-offs, weights, tier rules, cost-to-serve."""

    abc_a_cutoff = models.FloatField(
        _("class A: share of value"),
        default=0.80,
        validators=[MinValueValidator(0.01), MaxValueValidator(0.99)],
    )
    abc_b_cutoff = models.FloatField(
        _("classes A+B: share of value"),
        default=0.95,
        validators=[MinValueValidator(0.02), MaxValueValidator(1.0)],
    )
    pareto_share = models.FloatField(
        _("Pareto head: share of value"),
        default=0.80,
        validators=[MinValueValidator(0.01), MaxValueValidator(1.0)],
    )
    value_weights = models.JSONField(_("value score weights"), default=rules.default_value_weights)
    potential_weights = models.JSONField(
        _("potential score weights"), default=rules.default_potential_weights
    )
    tier_rules = models.JSONField(_("tier rules"), default=rules.default_tier_rules)
    clv_period = models.CharField(
        _("CLV time unit"), max_length=8, choices=ClvPeriod, default=ClvPeriod.WEEK
    )
    clv_horizon_months = models.PositiveIntegerField(
        _("CLV horizon (months)"),
        default=12,
        validators=[MinValueValidator(1), MaxValueValidator(120)],
    )
    clv_annual_discount_rate = models.FloatField(
        _("CLV annual discount rate"),
        default=0.10,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
    )
    cost_per_visit = models.FloatField(
        _("cost per visit (CNY)"), default=800.0, validators=[MinValueValidator(0.0)]
    )
    cost_per_service_hour = models.FloatField(
        _("cost per service hour (CNY)"), default=300.0, validators=[MinValueValidator(0.0)]
    )
    discount_rate = models.FloatField(
        _("discounts granted (share of revenue)"),
        default=0.0,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("updated by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("scoring configuration")
        verbose_name_plural = _("scoring configuration")

    def __str__(self) -> str:
        return str(_("Scoring configuration"))

    def tier_labels(self, language: str = "zh-hans") -> dict[str, str]:
        return rules.tier_labels(self.tier_rules, language)


class AccountStrategicProfile(models.Model):
    """Strategic criteria and potential a person sets on an account (0 to 5 each)."""

    account = models.OneToOneField(
        "customers.Account",
        verbose_name=_("account"),
        on_delete=models.CASCADE,
        related_name="strategic_profile",
    )
    strategic_project = models.PositiveSmallIntegerField(
        _("strategic project"), null=True, blank=True, validators=[MaxValueValidator(5)]
    )
    market_influence = models.PositiveSmallIntegerField(
        _("market influence"), null=True, blank=True, validators=[MaxValueValidator(5)]
    )
    technology_absorption = models.PositiveSmallIntegerField(
        _("technology absorption"), null=True, blank=True, validators=[MaxValueValidator(5)]
    )
    growth_potential = models.PositiveSmallIntegerField(
        _("growth potential"), null=True, blank=True, validators=[MaxValueValidator(5)]
    )
    business_potential = models.PositiveSmallIntegerField(
        _("business potential"), null=True, blank=True, validators=[MaxValueValidator(5)]
    )
    development_potential = models.PositiveSmallIntegerField(
        _("development potential"), null=True, blank=True, validators=[MaxValueValidator(5)]
    )
    service_potential = models.PositiveSmallIntegerField(
        _("service potential"), null=True, blank=True, validators=[MaxValueValidator(5)]
    )
    note = models.TextField(_("note"), max_length=2000, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("updated by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    CRITERIA = rules.STRATEGIC_CRITERIA + rules.POTENTIAL_CRITERIA

    class Meta:
        verbose_name = _("strategic profile")
        verbose_name_plural = _("strategic profiles")

    def __str__(self) -> str:
        return f"{self.account_id}"


class RunStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class ScoringRun(models.Model):
    """One scoring of all accounts as of a date, with its parameters and outcome."""

    as_of = models.DateField(_("as of"))
    started_at = models.DateTimeField(_("started"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=8, choices=RunStatus, default=RunStatus.RUNNING
    )
    message = models.TextField(_("message"), blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    accounts = models.PositiveIntegerField(_("accounts"), default=0)
    head_count = models.PositiveIntegerField(_("accounts making the Pareto share"), default=0)
    head_account_share = models.FloatField(
        _("share of accounts making the Pareto share"), default=0
    )
    value_total = models.FloatField(_("total value"), default=0)
    value_basis = models.CharField(_("ranked by"), max_length=16, blank=True)
    proposals_created = models.PositiveIntegerField(_("proposals created"), default=0)
    # Config used, fitted CLV parameters, ABC counts, fallbacks taken.
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]
        verbose_name = _("scoring run")
        verbose_name_plural = _("scoring runs")

    def __str__(self) -> str:
        return f"{self.as_of} #{self.pk}"


class AccountScore(models.Model):
    """All figures and scores of one account in one scoring run."""

    # Bulk-written snapshot rows: the ids come from the run just created and the accounts
    # just read, so the database neither re-checks them row by row at commit (one lookup
    # and row lock per account) nor keeps a run index the (run, account) key already is.
    # Deleting a run or an account still deletes its scores (Django's CASCADE).
    # Keyed by run and account, with no id: the one index a million-row write keeps up.
    pk = models.CompositePrimaryKey("run", "account")
    run = models.ForeignKey(
        ScoringRun,
        on_delete=models.CASCADE,
        related_name="scores",
        db_constraint=False,
        db_index=False,
    )
    account = models.ForeignKey(
        "customers.Account",
        verbose_name=_("account"),
        on_delete=models.CASCADE,
        related_name="scores",
        db_constraint=False,
        # Scores are read by (run, account); accounts are archived, not deleted.
        db_index=False,
    )
    revenue = models.FloatField(_("revenue"), default=0)
    margin = models.FloatField(_("gross margin"), null=True, blank=True)
    value = models.FloatField(_("Pareto value"), default=0)
    orders = models.PositiveIntegerField(_("orders"), default=0)
    purchase_days = models.PositiveIntegerField(_("purchase days"), default=0)
    first_order = models.DateField(_("first order"), null=True, blank=True)
    last_order = models.DateField(_("last order"), null=True, blank=True)
    revenue_12m = models.FloatField(_("revenue, last 12 months"), default=0)
    growth_12m = models.FloatField(_("12-month growth"), null=True, blank=True)
    r_score = models.PositiveSmallIntegerField(_("R score"), null=True, blank=True)
    f_score = models.PositiveSmallIntegerField(_("F score"), null=True, blank=True)
    m_score = models.PositiveSmallIntegerField(_("M score"), null=True, blank=True)
    share_of_wallet = models.FloatField(_("share of wallet"), null=True, blank=True)
    rank = models.PositiveIntegerField(_("rank"), default=0)
    cumulative_share = models.FloatField(_("cumulative share"), default=0)
    abc_class = models.CharField(_("ABC class"), max_length=1, default="C")
    previous_abc = models.CharField(_("previous ABC class"), max_length=1, blank=True)
    monetary = models.FloatField(_("mean repeat purchase"), null=True, blank=True)
    p_alive = models.FloatField(_("P(alive)"), null=True, blank=True)
    expected_purchases = models.FloatField(_("expected purchases"), null=True, blank=True)
    expected_order_value = models.FloatField(_("expected order value"), null=True, blank=True)
    clv = models.FloatField(_("customer lifetime value"), null=True, blank=True)
    value_score = models.FloatField(_("value score"), null=True, blank=True)
    potential_score = models.FloatField(_("potential score"), null=True, blank=True)
    cost_to_serve = models.FloatField(_("cost to serve"), default=0)
    current_tier = models.CharField(_("current tier"), max_length=32, blank=True)
    proposed_tier = models.CharField(_("proposed tier"), max_length=32, blank=True)
    tier_reason = models.CharField(_("reason"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("account score")
        verbose_name_plural = _("account scores")

    def __str__(self) -> str:
        return f"{self.run_id}/{self.account_id}"

    # Figures that follow from the stored ones and the run, computed when read rather than
    # written for every account in every run (each stored column costs a run ≈ 0.13 s per
    # million accounts on SQLite). Read them with the run (select_related("run")).

    @property
    def recency_days(self) -> int | None:
        """Days from the last purchase to the run's date."""
        if self.last_order is None:
            return None
        return (self.run.as_of - self.last_order).days

    @property
    def share(self) -> float:
        """This account's part of the run's total positive value (0 for none)."""
        total = self.run.value_total
        return max(self.value, 0.0) / total if total > 0 else 0.0

    @property
    def return_rate(self) -> float | None:
        """Value (margin, else revenue) per unit of cost to serve; empty without costs."""
        return self.value / self.cost_to_serve if self.cost_to_serve > 0 else None

    def _clv_days(self) -> float | None:
        """Days per CLV time unit, when the run computed CLV and the account has purchases."""
        clv = self.run.parameters.get("clv")
        if not clv or not self.purchase_days or self.first_order is None:
            return None
        return UNIT_DAYS.get(clv.get("period"), 1.0)

    @property
    def frequency(self) -> float | None:
        """Repeat purchases: purchase days after the first (the CLV models' frequency)."""
        return None if self._clv_days() is None else self.purchase_days - 1.0

    @property
    def recency(self) -> float | None:
        """First to last purchase, in the CLV unit."""
        unit = self._clv_days()
        if unit is None or self.last_order is None or self.first_order is None:
            return None
        return (self.last_order - self.first_order).days / unit

    @property
    def age(self) -> float | None:
        """T: first purchase to the run's date, in the CLV unit."""
        unit = self._clv_days()
        if unit is None or self.first_order is None:
            return None
        return (self.run.as_of - self.first_order).days / unit

    @property
    def rfm(self) -> str:
        if self.r_score is None:
            return ""
        return f"{self.r_score}{self.f_score}{self.m_score}"


class ProposalStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    SUPERSEDED = "superseded", _("Superseded")


class TierProposal(models.Model):
    """A proposed tier change, waiting for a director's decision."""

    # Scoring runs insert one proposal per changed account in bulk; as for AccountScore,
    # the database does not re-check the ids at commit (Django's CASCADE / SET_NULL still
    # apply) and the (account, status) index serves account look-ups.
    account = models.ForeignKey(
        "customers.Account",
        verbose_name=_("account"),
        on_delete=models.CASCADE,
        related_name="tier_proposals",
        db_constraint=False,
        db_index=False,
    )
    from_tier = models.CharField(_("from tier"), max_length=32, blank=True)
    to_tier = models.CharField(_("to tier"), max_length=32)
    reason = models.CharField(_("reason"), max_length=300)
    run = models.ForeignKey(
        ScoringRun,
        verbose_name=_("scoring run"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="proposals",
        db_constraint=False,
        # Not indexed: a million first-run proposals kept it up to date for ~1 s on
        # PostgreSQL, and proposals are looked up by account and status, not by run.
        db_index=False,
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("proposed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        # Empty on run proposals; users are deactivated, not deleted. No database check:
        # its trigger fired for each of a first run's million rows (PostgreSQL: 6.8 s -> 5.8 s).
        db_constraint=False,
        db_index=False,
    )
    created_at = models.DateTimeField(_("proposed"), auto_now_add=True)
    status = models.CharField(
        _("status"), max_length=12, choices=ProposalStatus, default=ProposalStatus.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        # Empty on run proposals; users are deactivated, not deleted. No database check:
        # its trigger fired for each of a first run's million rows (PostgreSQL: 6.8 s -> 5.8 s).
        db_constraint=False,
        db_index=False,
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_note = models.CharField(_("decision note"), max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("tier proposal")
        verbose_name_plural = _("tier proposals")
        indexes = [models.Index(fields=["account", "status"]), models.Index(fields=["status"])]

    def __str__(self) -> str:
        return f"{self.from_tier or '—'} → {self.to_tier}"


class TierHistory(models.Model):
    """An approved tier of an account for a period (until is empty for the current one)."""

    account = models.ForeignKey(
        "customers.Account",
        verbose_name=_("account"),
        on_delete=models.CASCADE,
        related_name="tier_history",
    )
    tier = models.CharField(_("tier"), max_length=32)
    from_tier = models.CharField(_("previous tier"), max_length=32, blank=True)
    since = models.DateTimeField(_("since"))
    until = models.DateTimeField(_("until"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reason = models.CharField(_("reason"), max_length=500)
    proposal = models.ForeignKey(
        TierProposal, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_override = models.BooleanField(_("manual override"), default=False)

    class Meta:
        ordering = ["-since", "-pk"]
        verbose_name = _("tier history entry")
        verbose_name_plural = _("tier history")
        indexes = [models.Index(fields=["account", "since"])]

    def __str__(self) -> str:
        return f"{self.account_id} {self.tier}"
