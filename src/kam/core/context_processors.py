"""Template context shared by every page."""

from typing import Any

from django.apps import apps
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.module_loading import import_string


def menu(request: HttpRequest) -> dict[str, Any]:
    """Menu entries each KAM app declares as `menu_items` on its config.

    Each entry is `(label, url_name)` or `(label, url_name, "dotted.path.to.predicate")`;
    with a predicate, only users for whom `predicate(user)` is true see the entry (the
    view checks the same predicate).
    """
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {"kam_menu": []}
    items = []
    for config in apps.get_app_configs():
        for label, url_name, *allowed in getattr(config, "menu_items", ()):
            if allowed and not import_string(allowed[0])(request.user):
                continue
            try:
                items.append({"label": label, "url": reverse(url_name)})
            except NoReverseMatch:
                continue
    return {"kam_menu": items}
