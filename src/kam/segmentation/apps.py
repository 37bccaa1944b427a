from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SegmentationConfig(AppConfig):
    name = "kam.segmentation"
    verbose_name = _("Key account identification")
    menu_items = [(_("Key accounts"), "segmentation:dashboard")]
    profile_panels = ["kam.segmentation.panels.score_panel"]
    demo_builders = ["kam.segmentation.demo.demo_tiers_create"]
    demo_finishers = ["kam.segmentation.demo.demo_rescore"]
    periodic_tasks = [("kam.segmentation.tasks.score_nightly", "daily@02:00")]
