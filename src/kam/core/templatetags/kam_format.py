"""Formatting of amounts for the locale: `{{ value|money }}` → ¥1,234,567.89 (— when missing)."""

from decimal import Decimal, InvalidOperation

from django import template
from django.utils.formats import number_format

register = template.Library()


@register.filter
def money(value: object, places: int = 2) -> str:
    if value is None or value == "":
        return "—"
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return "—"
    if not amount.is_finite():
        return "—"
    text = number_format(amount, int(places), use_l10n=True, force_grouping=True)
    return f"-¥{text[1:]}" if text.startswith("-") else f"¥{text}"
