"""Number formatting that never shows NaN (missing values are shown as "—"), tier reasons."""

import math
from typing import Any

from django import template

from kam.segmentation.rules import reason_text

register = template.Library()
DASH = "—"


def _finite(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


@register.filter
def num(value: Any, decimals: int = 0) -> str:
    number = _finite(value)
    return DASH if number is None else f"{number:,.{int(decimals)}f}"


@register.filter
def pct(value: Any, decimals: int = 1) -> str:
    number = _finite(value)
    return DASH if number is None else f"{number * 100:.{int(decimals)}f}%"


@register.filter
def dash(value: Any) -> Any:
    return DASH if value in (None, "") else value


@register.filter
def tier_label(code: str, labels: dict) -> str:
    if not code:
        return DASH
    return labels.get(code, code)


@register.filter
def reason(stored: str) -> str:
    """A tier reason in the reader's language (scoring runs store theirs as codes)."""
    return reason_text(stored or "")
