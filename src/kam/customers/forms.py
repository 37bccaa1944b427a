"""Forms for the customer master (they parse input; services validate and save)."""

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from kam.customers.models import (
    Account,
    AccountKind,
    CompetitorPresence,
    Contact,
    Industry,
    Region,
    SalesStage,
)
from kam.customers.selectors import AccountFilters
from kam.customers.services import ACCOUNT_FIELDS, CONTACT_FIELDS
from kam.users.models import Role, Team, User

EDITABLE_ACCOUNT_FIELDS = [f for f in ACCOUNT_FIELDS if f != "tier"]


class AccountForm(forms.ModelForm):
    class Meta:
        model = Account
        fields = EDITABLE_ACCOUNT_FIELDS
        widgets = {
            "business_description": forms.Textarea(attrs={"rows": 3}),
            "goals": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, visible_accounts: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if visible_accounts is not None:
            cast(forms.ModelChoiceField, self.fields["parent"]).queryset = visible_accounts
        cast(forms.ModelChoiceField, self.fields["owner"]).queryset = User.objects.filter(
            role=Role.ACCOUNT_MANAGER, is_active=True
        )

    def _post_clean(self) -> None:
        # Model validation happens in the service, which also checks cycles and permissions.
        pass


class ContactForm(forms.ModelForm):
    class Meta:
        model = Contact
        fields = list(CONTACT_FIELDS)
        widgets = {
            "left_on": forms.DateInput(attrs={"type": "date"}),
            "notes": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args: Any, account: Account, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        colleagues = account.contacts.filter(archived=False)
        if self.instance.pk:
            colleagues = colleagues.exclude(pk=self.instance.pk)
        cast(forms.ModelChoiceField, self.fields["reports_to"]).queryset = colleagues

    def _post_clean(self) -> None:
        pass


class CompetitorPresenceForm(forms.ModelForm):
    competitor_name = forms.CharField(label=_("competitor"), max_length=200)

    class Meta:
        model = CompetitorPresence
        fields = ["products", "share_of_wallet", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["competitor_name"].initial = self.instance.competitor.name
        self.order_fields(["competitor_name", "products", "share_of_wallet", "notes"])

    def _post_clean(self) -> None:
        pass


def _choices_with_all(choices: Any) -> list[tuple[str, str]]:
    return [("", _("All"))] + list(choices)


class AccountFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    region = forms.ChoiceField(
        label=_("region"), choices=_choices_with_all(Region.choices), required=False
    )
    industry = forms.ChoiceField(
        label=_("industry"), choices=_choices_with_all(Industry.choices), required=False
    )
    kind = forms.ChoiceField(
        label=_("kind"), choices=_choices_with_all(AccountKind.choices), required=False
    )
    sales_stage = forms.ChoiceField(
        label=_("sales stage"), choices=_choices_with_all(SalesStage.choices), required=False
    )
    tier = forms.CharField(label=_("tier"), required=False, max_length=32)
    abc_class = forms.ChoiceField(
        label=_("ABC class"),
        choices=_choices_with_all([("A", "A"), ("B", "B"), ("C", "C")]),
        required=False,
    )
    owner = forms.ModelChoiceField(
        label=_("account manager"),
        queryset=User.objects.filter(role=Role.ACCOUNT_MANAGER).order_by("username"),
        required=False,
        empty_label=_("All"),
    )
    team = forms.ModelChoiceField(
        label=_("team"), queryset=Team.objects.all(), required=False, empty_label=_("All")
    )
    archived = forms.BooleanField(label=_("archived only"), required=False)
    sort = forms.ChoiceField(
        label=_("sort"),
        required=False,
        choices=[
            ("legal_name", _("Name")),
            ("-legal_name", _("Name, Z–A")),
            ("code", _("Account code")),
            ("-updated", _("Recently updated")),
            ("tier", _("Tier")),
            ("region", _("Region")),
            ("-value_score", _("Value score, highest first")),
            ("-clv", _("Lifetime value, highest first")),
        ],
    )

    def to_filters(self) -> AccountFilters:
        data = self.cleaned_data if self.is_valid() else {}
        owner = data.get("owner")
        team = data.get("team")
        return AccountFilters(
            q=data.get("q", ""),
            region=data.get("region", ""),
            industry=data.get("industry", ""),
            kind=data.get("kind", ""),
            sales_stage=data.get("sales_stage", ""),
            tier=data.get("tier", ""),
            abc_class=data.get("abc_class", ""),
            owner=owner.pk if owner else None,
            team=team.pk if team else None,
            archived=data.get("archived", False),
            sort=data.get("sort") or "legal_name",
        )
