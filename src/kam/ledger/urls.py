"""URLs of this app, mounted at /ledger/."""

from django.urls import path

from kam.ledger import views

app_name = "ledger"
urlpatterns = [
    path("accounts/<int:pk>/orders/", views.account_orders, name="account_orders"),
    path("import/", views.import_start, name="import"),
    path("import/<int:pk>/", views.import_detail, name="import_detail"),
    path("templates/<str:kind>.<str:fmt>", views.template_download, name="template"),
    path("export/", views.export_page, name="export"),
    path("export/<str:kind>.<str:fmt>", views.export_download, name="export_download"),
]
