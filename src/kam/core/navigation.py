"""What the home page and the menu show a user."""

from typing import Any

from django.db.models import Count, Q

from kam.customers.selectors import accounts_visible_to
from kam.users.models import User


def home_summary(user: User) -> dict[str, Any]:
    accounts = accounts_visible_to(user)
    totals = accounts.aggregate(
        total=Count("id"),
        mine=Count("id", filter=Q(owner=user)),
    )
    tiers = dict(
        accounts.exclude(tier="")
        .values_list("tier")
        .annotate(n=Count("id"))
        .values_list("tier", "n")
    )
    return {"totals": totals, "tiers": tiers}
