"""The account profile's tickets panel (registered in ServiceConfig.profile_panels)."""

from typing import Any

from django.utils.translation import gettext as _

from kam.customers.models import Account
from kam.service.selectors import account_tickets
from kam.users.models import User


def account_tickets_panel(user: User, account: Account) -> dict[str, Any] | None:
    tickets = account_tickets(user, account.pk)
    return {
        "title": _("Tickets and complaints"),
        "template": "service/partials/account_panel.html",
        "context": {"tickets": tickets, "account": account},
    }
