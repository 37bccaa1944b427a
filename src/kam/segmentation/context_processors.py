"""The configured tier names (strategic → 战略客户 …) for every page, read only when a page uses them."""

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject
from django.utils.translation import get_language

from kam.segmentation import rules


def tier_labels(request: HttpRequest) -> dict[str, Any]:
    def load() -> dict[str, str]:
        from kam.segmentation.models import ScoringConfig

        config = ScoringConfig.objects.filter(pk=1).only("tier_rules").first()
        tier_rules = config.tier_rules if config else rules.default_tier_rules()
        return rules.tier_labels(tier_rules, get_language() or "zh-hans")

    return {"tier_labels": SimpleLazyObject(load)}
