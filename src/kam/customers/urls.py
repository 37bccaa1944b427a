"""URLs of the customer master, mounted at /customers/."""

from django.urls import path

from kam.customers import views

app_name = "customers"
urlpatterns = [
    path("", views.account_list, name="list"),
    path("new/", views.account_create, name="create"),
    path("<int:pk>/", views.account_detail, name="detail"),
    path("<int:pk>/edit/", views.account_edit, name="edit"),
    path("<int:pk>/archive/", views.account_archive, name="archive"),
    path("<int:pk>/timeline/", views.account_timeline, name="timeline"),
    path("<int:pk>/contacts/new/", views.contact_create, name="contact_create"),
    path("contacts/<int:pk>/edit/", views.contact_edit, name="contact_edit"),
    path("contacts/<int:pk>/archive/", views.contact_archive, name="contact_archive"),
    path("<int:pk>/competitors/new/", views.competitor_create, name="competitor_create"),
    path("competitors/<int:pk>/edit/", views.competitor_edit, name="competitor_edit"),
    path("competitors/<int:pk>/archive/", views.competitor_archive, name="competitor_archive"),
]
