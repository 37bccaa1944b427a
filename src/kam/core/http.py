"""The request type of views behind login: typing only, so `request.user` is a `User`."""

from django.http import HttpRequest

from kam.users.models import User


class AuthenticatedHttpRequest(HttpRequest):
    """An `HttpRequest` whose user is signed in: every view (LoginRequiredMiddleware) and API
    endpoint (token or session auth) receives one; never instantiated."""

    user: User
