"""Forms of the ledger pages (they parse input; services do the work)."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kam.ledger.models import ImportKind


class ImportForm(forms.Form):
    kind = forms.ChoiceField(label=_("What the file holds"), choices=ImportKind.choices)
    file = forms.FileField(label=_("File (CSV, CSV.GZ or XLSX)"))
    dry_run = forms.BooleanField(label=_("Check only, write nothing"), required=False)
    skip_invalid = forms.BooleanField(
        label=_("Import the valid rows and skip the bad ones"), required=False
    )
    create_accounts = forms.BooleanField(
        label=_("Create accounts missing from the master (order files)"), required=False
    )

    def clean_file(self) -> object:
        upload = self.cleaned_data["file"]
        name = upload.name.lower()
        if not name.endswith((".csv", ".csv.gz", ".gz", ".xlsx", ".txt")):
            raise forms.ValidationError(_("Upload a .csv, .csv.gz or .xlsx file."))
        if upload.size == 0:
            raise forms.ValidationError(_("The file is empty."))
        return upload


class DateRangeForm(forms.Form):
    date_from = forms.DateField(
        label=_("from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("to"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise forms.ValidationError(_("The start date is after the end date."))
        return data
