"""URLs of this app, mounted at /segmentation/."""

from django.urls import path  # noqa: F401

app_name = "segmentation"
urlpatterns: list = []
