"""Template context shared by every page."""

from typing import Any

from django.apps import apps
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse


def menu(request: HttpRequest) -> dict[str, Any]:
    """Menu entries each KAM app declares as `menu_items = [(label, url_name), ...]` on its config."""
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {"kam_menu": []}
    items = []
    for config in apps.get_app_configs():
        for label, url_name in getattr(config, "menu_items", ()):
            try:
                items.append({"label": label, "url": reverse(url_name)})
            except NoReverseMatch:
                continue
    return {"kam_menu": items}
