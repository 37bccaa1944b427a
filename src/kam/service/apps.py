from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServiceConfig(AppConfig):
    name = "kam.service"
    verbose_name = _("Service desk")
    menu_items = [
        (_("Service desk"), "service:queue"),
        (_("Service analytics"), "service:analytics", "kam.service.selectors.sees_analytics"),
    ]
    periodic_tasks = [("kam.service.tasks.sla_check_task", 300)]
    profile_panels = ["kam.service.panels.account_tickets_panel"]
    demo_builders = ["kam.service.demo.demo_tickets_create"]
