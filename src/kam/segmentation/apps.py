from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SegmentationConfig(AppConfig):
    name = "kam.segmentation"
    verbose_name = _("Key account identification")
