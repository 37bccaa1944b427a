"""URLs of this app, mounted at /service/."""

from django.urls import path  # noqa: F401

app_name = "service"
urlpatterns: list = []
