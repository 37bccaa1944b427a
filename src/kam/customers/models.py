"""The customer master: accounts, their decision makers and our competitors at them."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from kam.lib import credit_code


def validate_credit_code(value: str) -> None:
    try:
        credit_code.validate(value)
    except credit_code.CreditCodeError as error:
        raise ValidationError(
            _("Invalid unified social credit code: %(reason)s"),
            code="invalid_credit_code",
            params={"reason": str(error)},
        ) from error


class Industry(models.TextChoices):
    LOGISTICS = "logistics", _("Logistics")
    TELECOM = "telecom", _("Telecommunications")
    MANUFACTURING = "manufacturing", _("Industrial manufacturing")
    FINANCE = "finance", _("Finance")
    ENERGY = "energy", _("Energy")
    RETAIL = "retail", _("Retail and wholesale")
    AUTOMOTIVE = "automotive", _("Automotive")
    CONSTRUCTION = "construction", _("Construction")
    HEALTHCARE = "healthcare", _("Healthcare")
    TECHNOLOGY = "technology", _("Technology")
    GOVERNMENT = "government", _("Government and public sector")
    EDUCATION = "education", _("Education")
    MEDIA = "media", _("Media")
    OTHER = "other", _("Other")


class Region(models.TextChoices):
    EAST = "east", _("East China (华东)")
    SOUTH = "south", _("South China (华南)")
    NORTH = "north", _("North China (华北)")
    NORTHEAST = "northeast", _("Northeast China (东北)")
    SOUTHWEST = "southwest", _("Southwest China (西南)")
    NORTHWEST = "northwest", _("Northwest China (西北)")
    CENTRAL = "central", _("Central China (华中)")
    OVERSEAS = "overseas", _("Overseas")


class CompanySize(models.TextChoices):
    MICRO = "micro", _("Micro")
    SMALL = "small", _("Small")
    MEDIUM = "medium", _("Medium")
    LARGE = "large", _("Large")
    GIANT = "giant", _("Very large")


class AccountKind(models.TextChoices):
    ECONOMIC = "economic", _("Economic big customer")
    IMPORTANT = "important", _("Important customer")
    GROUP = "group", _("Group customer")
    STRATEGIC = "strategic", _("Strategic customer")


class CooperationDomain(models.TextChoices):
    REGIONAL = "regional", _("Regional")
    NATIONAL = "national", _("National")
    GLOBAL = "global", _("Global")
    INDUSTRY = "industry", _("Industry")


class CooperationDepth(models.TextChoices):
    TRANSACTIONAL = "transactional", _("Transactional")
    PRIORITY = "priority", _("Priority")
    PARTNER = "partner", _("Partner")
    STRATEGIC = "strategic", _("Strategic")


class ProjectType(models.TextChoices):
    GOVERNMENT = "government", _("Government project")
    INDUSTRY = "industry", _("Industry project")
    ENTERPRISE = "enterprise", _("Enterprise project")
    CAPITAL = "capital", _("Capital-operation project")
    RECIPROCITY = "reciprocity", _("Product-reciprocity project")
    ALLIANCE = "alliance", _("Strategic-alliance project")


class SalesStage(models.TextChoices):
    TO_IDENTIFY = "to_identify", _("To be identified")
    POTENTIAL = "potential", _("Potential customer")
    OPPORTUNITY = "opportunity", _("Sales opportunity")
    ORDER = "order", _("Order customer")
    CUSTOMER = "customer", _("Customer")


class AccountStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    DORMANT = "dormant", _("Dormant")
    LOST = "lost", _("Lost")


class FinancialHealth(models.TextChoices):
    UNKNOWN = "unknown", _("Unknown")
    STRONG = "strong", _("Strong")
    SOUND = "sound", _("Sound")
    WEAK = "weak", _("Weak")


class Tier(models.TextChoices):
    """Default tiers; the segmentation app may configure others (stored as the code)."""

    STRATEGIC = "strategic", _("Strategic")
    KEY = "key", _("Key")
    IMPORTANT = "important", _("Important")
    ORDINARY = "ordinary", _("Ordinary")


class Account(models.Model):
    """A customer company (客户): one profile card."""

    code = models.CharField(_("account code"), max_length=32, unique=True)
    legal_name = models.CharField(_("legal name"), max_length=200, db_index=True)
    short_name = models.CharField(_("short name"), max_length=100, blank=True)
    english_name = models.CharField(_("English name"), max_length=200, blank=True)
    credit_code = models.CharField(
        _("unified social credit code"),
        max_length=18,
        blank=True,
        validators=[validate_credit_code],
    )
    industry = models.CharField(_("industry"), max_length=32, choices=Industry, blank=True)
    region = models.CharField(_("region"), max_length=16, choices=Region, blank=True)
    province = models.CharField(_("province"), max_length=50, blank=True)
    city = models.CharField(_("city"), max_length=50, blank=True)
    size = models.CharField(_("size"), max_length=16, choices=CompanySize, blank=True)
    employees = models.PositiveIntegerField(_("employees"), null=True, blank=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent account"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="subsidiaries",
    )
    kind = models.CharField(_("kind"), max_length=16, choices=AccountKind, blank=True)
    cooperation_domain = models.CharField(
        _("cooperation domain"), max_length=16, choices=CooperationDomain, blank=True
    )
    cooperation_depth = models.CharField(
        _("cooperation depth"), max_length=16, choices=CooperationDepth, blank=True
    )
    project_type = models.CharField(
        _("project type"), max_length=16, choices=ProjectType, blank=True
    )
    sales_stage = models.CharField(
        _("sales stage"), max_length=16, choices=SalesStage, default=SalesStage.TO_IDENTIFY
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account manager"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="owned_accounts",
    )
    team = models.ForeignKey(
        "users.Team",
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="accounts",
    )
    status = models.CharField(
        _("status"), max_length=16, choices=AccountStatus, default=AccountStatus.ACTIVE
    )
    archived = models.BooleanField(_("archived"), default=False)
    tier = models.CharField(_("tier"), max_length=32, blank=True, db_index=True)
    # ABC class, scores and CLV are not copied here: they are the account's row of the
    # latest scoring run (kam.segmentation.selectors.accounts_with_scores).
    # The customer's own yearly spend in our category, where known: share of wallet.
    wallet_size = models.DecimalField(
        _("annual spend in our category (CNY)"),
        max_digits=18,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    website = models.CharField(_("website"), max_length=200, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    business_description = models.TextField(
        _("business (products, customers, suppliers)"), max_length=5000, blank=True
    )
    financial_health = models.CharField(
        _("financial health"),
        max_length=16,
        choices=FinancialHealth,
        default=FinancialHealth.UNKNOWN,
    )
    goals = models.TextField(_("goals"), max_length=5000, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["legal_name"]
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        constraints = [
            models.UniqueConstraint(
                fields=["credit_code"],
                condition=~models.Q(credit_code=""),
                name="account_credit_code_unique_when_present",
            )
        ]
        indexes = [
            models.Index(fields=["owner", "archived"]),
            models.Index(fields=["team", "archived"]),
            models.Index(fields=["region", "industry"]),
            models.Index(fields=["credit_code"]),
            models.Index(fields=["short_name"]),
            models.Index(fields=["english_name"]),
            models.Index(fields=["-updated_at"]),
        ]

    def __str__(self) -> str:
        return self.short_name or self.legal_name

    def ancestors(self) -> list["Account"]:
        """Parents up to the group's top, nearest first (stops on a cycle)."""
        chain: list[Account] = []
        seen = {self.pk}
        node = self.parent
        while node is not None and node.pk not in seen:
            chain.append(node)
            seen.add(node.pk)
            node = node.parent
        return chain


class BuyingRole(models.TextChoices):
    DECISION_MAKER = "decision_maker", _("Decision maker")
    INFLUENCER = "influencer", _("Influencer")
    USER = "user", _("User")
    TECHNICAL_EVALUATOR = "technical_evaluator", _("Technical evaluator")
    GATEKEEPER = "gatekeeper", _("Gatekeeper")
    SPONSOR = "sponsor", _("Sponsor")


class Attitude(models.TextChoices):
    SUPPORTER = "supporter", _("Supporter")
    NEUTRAL = "neutral", _("Neutral")
    OPPONENT = "opponent", _("Opponent")


class Contact(models.Model):
    """A person at an account (关键决策人 and others) with their role in buying."""

    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.CASCADE, related_name="contacts"
    )
    name = models.CharField(_("name"), max_length=100)
    title = models.CharField(_("title"), max_length=100, blank=True)
    department = models.CharField(_("department"), max_length=100, blank=True)
    reports_to = models.ForeignKey(
        "self",
        verbose_name=_("reports to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reports",
    )
    buying_role = models.CharField(_("buying role"), max_length=32, choices=BuyingRole, blank=True)
    attitude = models.CharField(
        _("attitude"), max_length=16, choices=Attitude, default=Attitude.NEUTRAL
    )
    influence = models.PositiveSmallIntegerField(
        _("influence (1–5)"),
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(_("email"), blank=True)
    wechat = models.CharField(_("WeChat"), max_length=64, blank=True)
    has_left = models.BooleanField(_("has left the company"), default=False)
    left_on = models.DateField(_("left on"), null=True, blank=True)
    notes = models.TextField(_("notes"), max_length=2000, blank=True)
    archived = models.BooleanField(_("archived"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["account", "-influence", "name"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")

    def __str__(self) -> str:
        return f"{self.name} ({self.title})" if self.title else self.name


class Competitor(models.Model):
    """A competitor of ours, named once and referenced at many accounts."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    website = models.CharField(_("website"), max_length=200, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("competitor")
        verbose_name_plural = _("competitors")

    def __str__(self) -> str:
        return self.name


class CompetitorPresence(models.Model):
    """A competitor selling to an account, with its estimated share of the account's wallet."""

    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.CASCADE, related_name="competitors"
    )
    competitor = models.ForeignKey(
        Competitor, verbose_name=_("competitor"), on_delete=models.PROTECT, related_name="presences"
    )
    products = models.CharField(_("products"), max_length=300, blank=True)
    share_of_wallet = models.DecimalField(
        _("estimated share of wallet (%)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    notes = models.TextField(_("notes"), max_length=2000, blank=True)
    archived = models.BooleanField(_("archived"), default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["account", "-share_of_wallet"]
        verbose_name = _("competitor at account")
        verbose_name_plural = _("competitors at account")
        constraints = [
            models.UniqueConstraint(
                fields=["account", "competitor"],
                condition=models.Q(archived=False),
                name="one_active_presence_per_competitor",
            )
        ]

    def __str__(self) -> str:
        return f"{self.competitor} @ {self.account}"
