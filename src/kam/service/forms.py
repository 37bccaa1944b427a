"""Forms of the service desk (they parse input; services validate and save)."""

from typing import Any, cast

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from kam.customers.models import Account, Contact, Tier
from kam.service.calendar import periods_format, periods_parse
from kam.service.models import (
    MAX_DESCRIPTION,
    Channel,
    ComplaintCause,
    DayKind,
    Priority,
    RecoveryKind,
    Severity,
    Status,
    TicketType,
)
from kam.service.selectors import TicketFilters
from kam.users.models import Role, User

BLANK = [("", "—")]
DAY_NAMES = (
    _("Monday"),
    _("Tuesday"),
    _("Wednesday"),
    _("Thursday"),
    _("Friday"),
    _("Saturday"),
    _("Sunday"),
)


class QueueFilterForm(forms.Form):
    tier = forms.ChoiceField(label=_("tier"), required=False, choices=BLANK + list(Tier.choices))
    ticket_type = forms.ChoiceField(
        label=_("type"), required=False, choices=BLANK + list(TicketType.choices)
    )
    status = forms.ChoiceField(
        label=_("status"),
        required=False,
        choices=[("open", _("Open")), ("all", _("All"))] + list(Status.choices),
    )
    breached = forms.BooleanField(label=_("breached only"), required=False)
    mine = forms.BooleanField(label=_("mine only"), required=False)

    def to_filters(self) -> TicketFilters:
        if not self.is_valid():
            return TicketFilters()
        return TicketFilters(**self.cleaned_data)


class TicketForm(forms.Form):
    account = forms.ModelChoiceField(label=_("account"), queryset=Account.objects.none())
    contact = forms.ModelChoiceField(
        label=_("contact"), queryset=Contact.objects.none(), required=False
    )
    ticket_type = forms.ChoiceField(label=_("type"), choices=TicketType.choices)
    priority = forms.ChoiceField(
        label=_("priority"), choices=Priority.choices, initial=Priority.NORMAL
    )
    channel = forms.ChoiceField(label=_("channel"), choices=Channel.choices)
    subject = forms.CharField(label=_("subject"), max_length=200)
    description = forms.CharField(
        label=_("description"),
        widget=forms.Textarea(attrs={"rows": 5}),
        required=False,
        max_length=MAX_DESCRIPTION,
    )
    cause = forms.ChoiceField(
        label=_("complaint cause"), choices=BLANK + list(ComplaintCause.choices), required=False
    )
    severity = forms.ChoiceField(
        label=_("complaint severity"), choices=BLANK + list(Severity.choices), required=False
    )

    def __init__(self, *args: Any, accounts: QuerySet[Account], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["account"]).queryset = accounts.order_by(
            "legal_name"
        )
        account_id = self.data.get("account") or self.initial.get("account")
        if account_id:
            cast(forms.ModelChoiceField, self.fields["contact"]).queryset = Contact.objects.filter(
                account_id=account_id, archived=False
            )
        else:
            cast(forms.ModelChoiceField, self.fields["contact"]).queryset = Contact.objects.filter(
                account__in=accounts, archived=False
            )

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("account")
        return {
            key: value
            for key, value in data.items()
            if value not in ("", None) or key == "description"
        }


class VersionForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)


class TransitionForm(VersionForm):
    status = forms.ChoiceField(choices=Status.choices)
    note = forms.CharField(required=False, max_length=MAX_DESCRIPTION)


class MessageForm(VersionForm):
    body = forms.CharField(
        label=_("text"), widget=forms.Textarea(attrs={"rows": 3}), max_length=MAX_DESCRIPTION
    )
    internal = forms.BooleanField(
        label=_("internal note (not shown to the customer)"), required=False
    )


class RecoveryForm(VersionForm):
    kind = forms.ChoiceField(label=_("recovery action"), choices=RecoveryKind.choices)
    cost = forms.DecimalField(label=_("cost (CNY)"), max_digits=14, decimal_places=2, initial=0)
    note = forms.CharField(label=_("note"), max_length=500, required=False)


class CallbackForm(VersionForm):
    satisfied = forms.TypedChoiceField(
        label=_("customer satisfied?"),
        choices=[("yes", _("Yes, satisfied")), ("no", _("No, not satisfied"))],
        coerce=lambda value: value == "yes",
    )
    note = forms.CharField(label=_("note"), max_length=1000, required=False)


class AssignForm(VersionForm):
    assignee = forms.ModelChoiceField(
        label=_("assignee"), queryset=User.objects.none(), required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["assignee"]).queryset = User.objects.filter(
            role__in=[Role.SERVICE_AGENT, Role.SERVICE_MANAGER], is_active=True
        ).order_by("username")


class AttachmentForm(forms.Form):
    file = forms.FileField(label=_("file (at most 10 MB)"))


class TierOptionsForm(forms.Form):
    channels = forms.MultipleChoiceField(
        label=_("channels"),
        choices=Channel.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    dedicated_agent = forms.ModelChoiceField(
        label=_("dedicated agent"), queryset=User.objects.none(), required=False
    )
    on_site = forms.BooleanField(label=_("on-site service"), required=False)
    fast_lane = forms.BooleanField(label=_("fast lane (绿色通道)"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["dedicated_agent"]).queryset = User.objects.filter(
            role__in=[Role.SERVICE_AGENT, Role.SERVICE_MANAGER], is_active=True
        )


class PolicyForm(forms.Form):
    warn_percent = forms.IntegerField(label=_("warn the assignee at (percent of the target)"))
    director_after_hours = forms.DecimalField(
        label=_("escalate to the director after the breach (working hours)"),
        max_digits=7,
        decimal_places=2,
    )


class WeekForm(forms.Form):
    """Working hours per weekday as text: '09:00-12:00, 13:00-18:00' (empty = day off)."""

    time_zone = forms.CharField(label=_("time zone"), max_length=64)

    def __init__(self, *args: Any, weekly_hours: list | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for index, label in enumerate(DAY_NAMES):
            initial = periods_format(weekly_hours[index]) if weekly_hours else ""
            self.fields[f"day{index}"] = forms.CharField(
                label=label, required=False, initial=initial
            )

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data  # what Form.clean returns
        week = []
        for index in range(7):
            try:
                week.append(periods_parse(cleaned.get(f"day{index}", "")))
            except ValueError as error:
                self.add_error(f"day{index}", str(error))
        cleaned["weekly_hours"] = week
        return cleaned


class CalendarDayForm(forms.Form):
    day = forms.DateField(label=_("date"), widget=forms.DateInput(attrs={"type": "date"}))
    kind = forms.ChoiceField(label=_("kind"), choices=DayKind.choices)
    note = forms.CharField(label=_("note"), max_length=200, required=False)
