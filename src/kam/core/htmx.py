"""One helper for full-page versus HTMX-partial rendering from the same context."""

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def render_page(
    request: HttpRequest, template: str, partial: str, context: dict[str, Any]
) -> HttpResponse:
    """Render `partial` for an HTMX request that targets part of the page, else `template`."""
    is_partial = getattr(request, "htmx", False) and not request.htmx.boosted
    return render(request, partial if is_partial else template, context)
