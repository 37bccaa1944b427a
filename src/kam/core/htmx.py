"""One helper for full-page versus HTMX-partial rendering from the same context."""

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def render_page(
    request: HttpRequest, template: str, partial: str, context: dict[str, Any]
) -> HttpResponse:
    """Render `partial` for an HTMX request that targets part of the page, else `template`."""
    htmx: Any = getattr(request, "htmx", None)  # set by django-htmx's middleware
    is_partial = bool(htmx) and not htmx.boosted
    return render(request, partial if is_partial else template, context)
