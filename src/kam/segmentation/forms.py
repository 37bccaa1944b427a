"""Forms of the segmentation pages."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kam.customers.models import Industry, Region
from kam.segmentation.models import AccountStrategicProfile, ScoringConfig
from kam.segmentation.selectors import ScoreFilters
from kam.users.models import Team

SCORE_CHOICES = [("", "—")] + [(str(n), str(n)) for n in range(6)]


class ScoreFilterForm(forms.Form):
    region = forms.ChoiceField(
        label=_("region"), required=False, choices=[("", "—"), *Region.choices]
    )
    industry = forms.ChoiceField(
        label=_("industry"), required=False, choices=[("", "—"), *Industry.choices]
    )
    team = forms.ModelChoiceField(
        label=_("team"), required=False, queryset=Team.objects.order_by("name"), empty_label="—"
    )
    abc_class = forms.ChoiceField(
        label=_("ABC class"),
        required=False,
        choices=[("", "—"), ("A", "A"), ("B", "B"), ("C", "C")],
    )

    def to_filters(self) -> ScoreFilters:
        if not self.is_bound or not self.is_valid():
            return ScoreFilters()
        data = self.cleaned_data
        return ScoreFilters(
            region=data["region"],
            industry=data["industry"],
            team=data["team"].pk if data["team"] else None,
            abc_class=data["abc_class"],
        )


class ScoringConfigForm(forms.ModelForm):
    class Meta:
        model = ScoringConfig
        fields = [
            "abc_a_cutoff",
            "abc_b_cutoff",
            "pareto_share",
            "value_weights",
            "potential_weights",
            "tier_rules",
            "clv_period",
            "clv_horizon_months",
            "clv_annual_discount_rate",
            "cost_per_visit",
            "cost_per_service_hour",
            "discount_rate",
        ]
        widgets = {
            "value_weights": forms.Textarea(attrs={"rows": 6, "cols": 80}),
            "potential_weights": forms.Textarea(attrs={"rows": 4, "cols": 80}),
            "tier_rules": forms.Textarea(attrs={"rows": 14, "cols": 80}),
        }


class StrategicProfileForm(forms.ModelForm):
    class Meta:
        model = AccountStrategicProfile
        fields = [*AccountStrategicProfile.CRITERIA, "note"]


class TierForm(forms.Form):
    tier = forms.ChoiceField(label=_("tier"))
    reason = forms.CharField(
        label=_("reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, labels: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        tier = self.fields["tier"]
        assert isinstance(tier, forms.ChoiceField)
        tier.choices = list(labels.items())


class ProposalDecisionForm(forms.Form):
    action = forms.ChoiceField(choices=[("approve", _("Approve")), ("reject", _("Reject"))])
    proposals = forms.TypedMultipleChoiceField(coerce=int, choices=[])
    note = forms.CharField(label=_("note"), max_length=500, required=False)

    def __init__(self, *args: Any, proposal_ids: list[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        proposals = self.fields["proposals"]
        assert isinstance(proposals, forms.ChoiceField)
        proposals.choices = [(pk, pk) for pk in proposal_ids]
        self.fields["proposals"].error_messages["required"] = _("Tick at least one proposal.")
