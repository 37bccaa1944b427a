"""URLs of the service desk, mounted at /service/."""

from django.urls import path

from kam.service import views

app_name = "service"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("new/", views.ticket_create, name="create"),
    path("contacts/", views.contact_options, name="contact_options"),
    path("<int:pk>/", views.ticket_detail, name="detail"),
    path("<int:pk>/transition/", views.ticket_transition, name="transition"),
    path("<int:pk>/message/", views.ticket_message, name="message"),
    path("<int:pk>/assign/", views.ticket_assign, name="assign"),
    path("<int:pk>/recovery/", views.ticket_recovery, name="recovery"),
    path("<int:pk>/callback/", views.ticket_callback, name="callback"),
    path("<int:pk>/attachment/", views.ticket_attachment, name="attachment"),
    path(
        "<int:pk>/attachment/<int:attachment_id>/",
        views.attachment_download,
        name="attachment_download",
    ),
    path("settings/", views.service_settings, name="settings"),
    path("calendar/", views.service_calendar, name="calendar"),
    path("analytics/", views.service_analytics, name="analytics"),
    path("notifications/", views.notifications, name="notifications"),
]
