"""The key-account panel on the profile card: tier, ABC, scores, CLV, RFM, return rate, history."""

from typing import Any

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from kam.customers.models import Account
from kam.customers.selectors import account_may_edit
from kam.segmentation import selectors, services
from kam.users import roles
from kam.users.models import User


def score_panel(user: User, account: Account) -> dict[str, Any] | None:
    config = services.scoring_config_get()
    return {
        "title": _("Key account identification"),
        "template": "segmentation/partials/profile_panel.html",
        "context": {
            "account": account,
            "score": selectors.account_score_latest(account),
            "history": list(account.tier_history.select_related("approved_by")[:10]),
            "pending": list(selectors.proposals_pending_of(account)),
            "labels": config.tier_labels(get_language() or "zh-hans"),
            "may_override": roles.is_director(user),
            "may_edit_profile": account_may_edit(user, account),
        },
    }
