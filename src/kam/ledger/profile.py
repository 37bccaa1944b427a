"""The ledger's panel on the account profile card."""

from typing import Any

from django.utils.translation import gettext as _

from kam.customers.models import Account
from kam.ledger.selectors import account_ledger_summary
from kam.users.models import User


def orders_panel(user: User, account: Account) -> dict[str, Any]:
    return {
        "title": _("Orders"),
        "template": "ledger/partials/panel.html",
        "context": {"account": account, "summary": account_ledger_summary(account)},
    }
