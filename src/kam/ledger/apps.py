from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LedgerConfig(AppConfig):
    name = "kam.ledger"
    verbose_name = _("Order ledger")
    menu_items = [
        (_("Import"), "ledger:import", "kam.users.roles.may_edit_customers"),
        (_("Export"), "ledger:export"),
    ]
    profile_panels = ["kam.ledger.profile.orders_panel"]
    demo_builders = ["kam.ledger.demo.demo_orders_create"]
