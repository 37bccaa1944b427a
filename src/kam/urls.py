"""URL map: each app owns its own urls.py; the API is one NinjaAPI."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import URLPattern, include, path

from kam.api import api
from kam.core import views as core_views
from kam.users.views import LoginView


def _public_api_urls() -> tuple[list, str, str]:
    """The API authenticates itself (token or session), so the login redirect must not apply;
    the OpenAPI schema and docs are readable without login."""
    patterns, app_name, namespace = api.urls
    for pattern in patterns:
        assert isinstance(pattern, URLPattern)  # django-ninja builds plain paths, no includes
        login_not_required(pattern.callback)
    return patterns, app_name, namespace


urlpatterns = [
    path("", core_views.home, name="home"),
    path("health/", core_views.health, name="health"),
    path("language/", core_views.language_set, name="language_set"),
    path("login/", login_not_required(LoginView.as_view()), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("customers/", include("kam.customers.urls")),
    path("ledger/", include("kam.ledger.urls")),
    path("segmentation/", include("kam.segmentation.urls")),
    path("service/", include("kam.service.urls")),
    path("api/", _public_api_urls()),
    path("admin/", admin.site.urls),
]

handler404 = "kam.core.views.page_not_found"
handler403 = "kam.core.views.permission_denied"
