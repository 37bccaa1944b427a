"""URLs of this app, mounted at /segmentation/."""

from django.urls import path

from kam.segmentation import views

app_name = "segmentation"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("scores/", views.score_list, name="scores"),
    path("proposals/", views.proposal_list, name="proposals"),
    path("config/", views.config_edit, name="config"),
    path("score-now/", views.score_now, name="score_now"),
    path("accounts/<int:pk>/strategic/", views.strategic_profile_edit, name="strategic_profile"),
    path("accounts/<int:pk>/tier/", views.tier_override, name="tier_override"),
]
