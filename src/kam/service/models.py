"""The service desk: business calendar, service levels, tickets, complaints and escalations."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

MAX_DESCRIPTION = 10_000
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024


class TicketType(models.TextChoices):
    CONSULTATION = "consultation", _("Consultation")
    INSTALLATION = "installation", _("Installation and commissioning")
    REPAIR = "repair", _("Repair")
    DELIVERY = "delivery", _("Delivery problem")
    BILLING = "billing", _("Billing")
    COMPLAINT = "complaint", _("Complaint")


class Priority(models.TextChoices):
    URGENT = "urgent", _("Urgent")
    HIGH = "high", _("High")
    NORMAL = "normal", _("Normal")
    LOW = "low", _("Low")


class Channel(models.TextChoices):
    HOTLINE = "hotline", _("Hotline")
    EMAIL = "email", _("Email")
    WECHAT = "wechat", _("WeChat")
    WEB = "web", _("Web portal")
    ON_SITE = "on_site", _("On site")
    ACCOUNT_MANAGER = "account_manager", _("Via account manager")


class Status(models.TextChoices):
    NEW = "new", _("New")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    IN_PROGRESS = "in_progress", _("In progress")
    WAITING = "waiting", _("Waiting on customer")
    RESOLVED = "resolved", _("Resolved")
    CALLBACK_DONE = "callback_done", _("Callback done")
    CLOSED = "closed", _("Closed")


OPEN_STATUSES = (Status.NEW, Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.WAITING)


class DayKind(models.TextChoices):
    HOLIDAY = "holiday", _("Public holiday (day off)")
    WORKDAY = "workday", _("Make-up working day (调休)")


class BusinessCalendarConfig(models.Model):
    """The desk's working week and time zone (one row); holidays are CalendarDay rows."""

    time_zone = models.CharField(_("time zone"), max_length=64, default="Asia/Shanghai")
    # Seven entries, Monday first, each a list of ["HH:MM", "HH:MM"] periods.
    weekly_hours = models.JSONField(_("weekly working hours"))
    # Bumped on every calendar change so each process rebuilds its cached calendar.
    revision = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")

    def __str__(self) -> str:
        return f"{self.time_zone} (rev. {self.revision})"


class CalendarDay(models.Model):
    """A public holiday or a make-up working day (调休) on the business calendar."""

    day = models.DateField(_("date"), unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=DayKind)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["day"]
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")

    def __str__(self) -> str:
        return f"{self.day} {self.get_kind_display()}"


class ServiceTier(models.Model):
    """What one account tier is offered: channels, a dedicated agent, on-site service, fast lane."""

    tier = models.CharField(_("tier"), max_length=32, unique=True)
    channels = models.JSONField(_("channels"), default=list, blank=True)
    dedicated_agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("dedicated agent"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    on_site = models.BooleanField(_("on-site service"), default=False)
    fast_lane = models.BooleanField(_("fast lane (绿色通道)"), default=False)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("service tier")
        verbose_name_plural = _("service tiers")

    def __str__(self) -> str:
        return self.tier


class ServiceLevel(models.Model):
    """First-response and resolution targets (working hours) for a tier, ticket type and priority."""

    tier = models.CharField(_("tier"), max_length=32)
    ticket_type = models.CharField(_("ticket type"), max_length=32, choices=TicketType)
    priority = models.CharField(_("priority"), max_length=16, choices=Priority)
    first_response_hours = models.DecimalField(
        _("first response (working hours)"), max_digits=7, decimal_places=2
    )
    resolution_hours = models.DecimalField(
        _("resolution (working hours)"), max_digits=7, decimal_places=2
    )

    class Meta:
        ordering = ["tier", "ticket_type", "priority"]
        verbose_name = _("service level")
        verbose_name_plural = _("service levels")
        constraints = [
            models.UniqueConstraint(
                fields=["tier", "ticket_type", "priority"], name="service_level_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(first_response_hours__gt=0, resolution_hours__gt=0),
                name="service_level_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tier}/{self.ticket_type}/{self.priority}"


class EscalationPolicy(models.Model):
    """When open tickets escalate: a warning at a share of the target, then breach, then director."""

    warn_percent = models.PositiveSmallIntegerField(
        _("warn assignee at (percent of target)"), default=80
    )
    director_after_hours = models.DecimalField(
        _("escalate to director after breach (working hours)"),
        max_digits=7,
        decimal_places=2,
        default=8,
    )

    class Meta:
        verbose_name = _("escalation policy")
        verbose_name_plural = _("escalation policies")

    def __str__(self) -> str:
        return f"{self.warn_percent}% / +{self.director_after_hours}h"


class Ticket(models.Model):
    """A service request (服务请求) of an account, worked to its SLA on the business calendar."""

    account = models.ForeignKey(
        "customers.Account",
        verbose_name=_("account"),
        on_delete=models.PROTECT,
        related_name="tickets",
    )
    contact = models.ForeignKey(
        "customers.Contact",
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
    )
    ticket_type = models.CharField(_("type"), max_length=32, choices=TicketType)
    priority = models.CharField(
        _("priority"), max_length=16, choices=Priority, default=Priority.NORMAL
    )
    channel = models.CharField(
        _("channel"), max_length=32, choices=Channel, default=Channel.HOTLINE
    )
    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"), max_length=MAX_DESCRIPTION, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status, default=Status.NEW)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_tickets",
    )
    fast_lane = models.BooleanField(_("fast lane"), default=False)
    tier = models.CharField(_("tier at creation"), max_length=32, blank=True)
    first_response_hours = models.DecimalField(max_digits=7, decimal_places=2)
    resolution_hours = models.DecimalField(max_digits=7, decimal_places=2)
    response_due = models.DateTimeField(_("first response due"), null=True, blank=True)
    resolution_due = models.DateTimeField(_("resolution due"), null=True, blank=True)
    first_responded_at = models.DateTimeField(_("first responded"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    # Working hours from creation to resolution, pauses excluded (the cost-to-serve estimate).
    working_hours_spent = models.FloatField(_("working hours spent"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), db_index=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(_("updated"))
    # Optimistic concurrency: every change names the version it read.
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        indexes = [
            models.Index(fields=["status", "resolution_due"]),
            models.Index(fields=["account", "status"]),
            models.Index(fields=["assignee", "status"]),
            models.Index(fields=["ticket_type", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_complaint(self) -> bool:
        return self.ticket_type == TicketType.COMPLAINT


class TicketPause(models.Model):
    """A stretch when the SLA clock stopped (waiting on the customer, or resolved until reopened)."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="pauses")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["started_at"]

    def __str__(self) -> str:
        return f"{self.started_at} – {self.ended_at or '…'}"


class EventKind(models.TextChoices):
    CREATED = "created", _("Created")
    STATUS = "status", _("Status changed")
    REPLY = "reply", _("Reply to customer")
    NOTE = "note", _("Internal note")
    ASSIGNED = "assigned", _("Assigned")
    ESCALATED = "escalated", _("Escalated")
    ATTACHMENT = "attachment", _("Attachment")
    RECOVERY = "recovery", _("Recovery action")
    CALLBACK = "callback", _("Callback")


class TicketEvent(models.Model):
    """One line of a ticket's full history."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("at"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=EventKind)
    from_status = models.CharField(max_length=16, choices=Status, blank=True)
    to_status = models.CharField(max_length=16, choices=Status, blank=True)
    body = models.TextField(_("text"), max_length=MAX_DESCRIPTION, blank=True)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("ticket event")
        verbose_name_plural = _("ticket events")

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.kind} {self.at}"

    @property
    def is_internal(self) -> bool:
        return self.kind != EventKind.REPLY


def attachment_path(instance: "Attachment", filename: str) -> str:
    return f"tickets/{instance.ticket_id}/{filename}"


class Attachment(models.Model):
    """A file attached to a ticket (stored under MEDIA_ROOT)."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=300)
    name = models.CharField(_("name"), max_length=200)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("uploaded"))

    class Meta:
        ordering = ["uploaded_at"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.name


class ComplaintCause(models.TextChoices):
    PRODUCT_QUALITY = "product_quality", _("Product quality")
    DELIVERY = "delivery", _("Late or wrong delivery")
    SERVICE_ATTITUDE = "service_attitude", _("Service attitude")
    RESPONSE_TIME = "response_time", _("Slow response")
    BILLING = "billing", _("Billing error")
    INSTALLATION = "installation", _("Installation quality")
    COMMUNICATION = "communication", _("Communication")
    OTHER = "other", _("Other")


class Severity(models.TextChoices):
    MINOR = "minor", _("Minor")
    MAJOR = "major", _("Major")
    CRITICAL = "critical", _("Critical")


class ComplaintDetail(models.Model):
    """What a complaint (投诉) carries beyond a ticket: its cause and severity."""

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, related_name="complaint")
    cause = models.CharField(
        _("cause"), max_length=32, choices=ComplaintCause, default=ComplaintCause.OTHER
    )
    severity = models.CharField(
        _("severity"), max_length=16, choices=Severity, default=Severity.MINOR
    )

    class Meta:
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.cause}"


class RecoveryKind(models.TextChoices):
    APOLOGY = "apology", _("Apology")
    COMPENSATION = "compensation", _("Compensation")
    CREDIT = "credit", _("Credit")
    REPLACEMENT = "replacement", _("Replacement")


class RecoveryAction(models.Model):
    """A service recovery step on a complaint, with what it cost."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="recoveries")
    kind = models.CharField(_("kind"), max_length=16, choices=RecoveryKind)
    cost = models.DecimalField(_("cost (CNY)"), max_digits=14, decimal_places=2, default=0)
    note = models.CharField(_("note"), max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("at"))

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("recovery action")
        verbose_name_plural = _("recovery actions")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(cost__gte=0), name="recovery_cost_not_negative"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.cost}"


class Callback(models.Model):
    """A callback (回访) to the customer after resolution: were they satisfied?"""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="callbacks")
    satisfied = models.BooleanField(_("customer satisfied"))
    note = models.CharField(_("note"), max_length=1000, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("at"))

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("callback")
        verbose_name_plural = _("callbacks")

    def __str__(self) -> str:
        return f"{self.ticket_id} {'+' if self.satisfied else '-'}"


class EscalationTarget(models.TextChoices):
    RESPONSE = "response", _("First response")
    RESOLUTION = "resolution", _("Resolution")


class EscalationLevel(models.TextChoices):
    WARN = "warn", _("Warning to assignee")
    BREACH = "breach", _("Breach: service manager")
    DIRECTOR = "director", _("Director")


class Escalation(models.Model):
    """One escalation stage that fired for a ticket's target; each fires once."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="escalations")
    target = models.CharField(_("target"), max_length=16, choices=EscalationTarget)
    level = models.CharField(_("level"), max_length=16, choices=EscalationLevel)
    at = models.DateTimeField(_("at"))
    notified = models.JSONField(_("notified"), default=list)

    class Meta:
        ordering = ["at"]
        verbose_name = _("escalation")
        verbose_name_plural = _("escalations")
        constraints = [
            models.UniqueConstraint(fields=["ticket", "target", "level"], name="escalation_once")
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.target} {self.level}"


class Notification(models.Model):
    """An in-app notification for one user (escalations, assignments)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    ticket = models.ForeignKey(
        Ticket, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    message = models.CharField(_("message"), max_length=500)
    read = models.BooleanField(_("read"), default=False)
    created_at = models.DateTimeField(_("at"))

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "read"])]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")

    def __str__(self) -> str:
        return self.message
