"""The JSON API under /api/: one NinjaAPI, one router per app, token or session auth."""

import json
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from ninja import NinjaAPI, Swagger
from ninja.errors import ValidationError as SchemaValidationError
from ninja.security import HttpBearer, django_auth

from kam.users.services import api_token_authenticate


class TokenAuth(HttpBearer):
    """`Authorization: Bearer kam_…` tokens created with `kam token create USER`."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = api_token_authenticate(token)
        if user is not None:
            request.user = user
        return user


class OfflineSwagger(Swagger):
    """Swagger UI from Ninja's own template and static files, never its CDN page.

    Ninja renders the CDN page unless "ninja" is an installed app; KAM serves Ninja's
    templates and static files through settings instead (see settings._NINJA_DIR).
    """

    def render_page(self, request: HttpRequest, api: Any, **kwargs: Any) -> HttpResponse:
        self.settings["url"] = self.get_openapi_url(api, kwargs)
        context = {
            "swagger_settings": json.dumps(self.settings, indent=1),
            "api": api,
            "add_csrf": any(getattr(auth, "csrf", False) for auth in api.auth),
        }
        return render(request, self.template, context)


api = NinjaAPI(
    title="KAM API",
    version="1",
    description="Key account management: accounts, ledger, scoring and service desk.",
    auth=[TokenAuth(), django_auth],
    urls_namespace="api",
    docs=OfflineSwagger(),
)


def _field_errors(error: ValidationError) -> dict[str, list[str]]:
    if hasattr(error, "error_dict"):
        return {field: [str(m) for m in messages] for field, messages in error.message_dict.items()}
    return {"__all__": [str(m) for m in error.messages]}


@api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, error: ValidationError) -> HttpResponse:
    errors = _field_errors(error)
    return api.create_response(request, {"detail": "Invalid input", "errors": errors}, status=422)


@api.exception_handler(SchemaValidationError)
def on_schema_error(request: HttpRequest, error: SchemaValidationError) -> HttpResponse:
    errors: dict[str, list[str]] = {}
    for item in error.errors:
        location = [str(part) for part in item.get("loc", ()) if part not in ("body", "payload")]
        field = ".".join(location[1:] if location[:1] in (["query"], ["path"]) else location)
        errors.setdefault(field or "__all__", []).append(item.get("msg", "invalid"))
    return api.create_response(request, {"detail": "Invalid input", "errors": errors}, status=422)


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, error: Http404) -> HttpResponse:
    return api.create_response(request, {"detail": "Not found"}, status=404)


@api.exception_handler(PermissionDenied)
def on_forbidden(request: HttpRequest, error: PermissionDenied) -> HttpResponse:
    return api.create_response(request, {"detail": str(error) or "Forbidden"}, status=403)


def _register_routers() -> None:
    from kam.customers.api import router as customers_router
    from kam.ledger.api import router as ledger_router
    from kam.segmentation.api import router as segmentation_router
    from kam.service.api import router as service_router

    api.add_router("/customers/", customers_router)
    api.add_router("/ledger/", ledger_router)
    api.add_router("/segmentation/", segmentation_router)
    api.add_router("/service/", service_router)


_register_routers()
