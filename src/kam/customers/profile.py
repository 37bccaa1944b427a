"""Everything the profile card (客户资料信息卡) shows, gathered in one place.

Other apps add their own panels (orders, scores, tickets …) by listing functions in
their AppConfig as `profile_panels = ["kam.app.module.function"]`; each function takes
(user, account) and returns {"title", "template", "context"} or None.
"""

from typing import Any

from django.apps import apps
from django.utils.module_loading import import_string

from kam.customers import selectors
from kam.customers.models import Account
from kam.customers.orgchart import org_chart_rows
from kam.users.models import User


def extra_panels(user: User, account: Account) -> list[dict[str, Any]]:
    panels = []
    for config in apps.get_app_configs():
        for dotted in getattr(config, "profile_panels", ()):
            panel = import_string(dotted)(user, account)
            if panel:
                panels.append(panel)
    return panels


def profile_sections(user: User, account: Account) -> dict[str, Any]:
    contacts = list(selectors.contacts_of(account))
    _top, group_rows = selectors.account_group_tree(account)
    timeline = list(account.audit_entries.select_related("actor")[:30])
    return {
        "account": account,
        "may_edit": selectors.account_may_edit(user, account),
        "group_rows": group_rows if len(group_rows) > 1 else [],
        "contacts": contacts,
        "org_rows": org_chart_rows(contacts),
        "competitors": list(selectors.competitor_presences_of(account)),
        "timeline": timeline,
        "panels": extra_panels(user, account),
    }
