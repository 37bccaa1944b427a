"""Cost to serve per account, collected from whatever sources exist.

The return rate (客户回报率) is the account's margin over its cost to serve:

    cost to serve = visits × cost per visit + service hours × cost per service hour
                    + recovery costs + discount rate × revenue

Unit costs and the discount rate come from ScoringConfig. Sources, each optional:

- service desk: ``kam.service.selectors.service_costs_by_account(as_of)`` returning
  ``{account_id: (service_hours, recovery_cost)}``, used when that app provides it;
- visits: ``kam.engagement.selectors.visits_by_account(as_of)`` returning
  ``{account_id: visit_count}``, used when such an app provides it;
- discounts: credit notes are already netted into revenue by the ledger, so discounts
  count through the configured discount rate only (never twice).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

SERVICE_SOURCE = "kam.service.selectors.service_costs_by_account"
VISIT_SOURCE = "kam.engagement.selectors.visits_by_account"


def _optional(dotted: str) -> Callable[[dt.date], dict[int, Any]] | None:
    try:
        return import_string(dotted)
    except (ImportError, AttributeError):
        return None


def cost_to_serve_sources(as_of: dt.date) -> dict[int, tuple[float, float, float]]:
    """{account_id: (visits, service hours, recovery costs)} up to ``as_of`` from the sources."""
    totals: dict[int, list[float]] = {}
    service = _optional(SERVICE_SOURCE)
    if service is not None:
        for account_id, (hours, recovery) in service(as_of).items():
            entry = totals.setdefault(int(account_id), [0.0, 0.0, 0.0])
            entry[1] += float(hours or 0)
            entry[2] += float(recovery or 0)
    visits = _optional(VISIT_SOURCE)
    if visits is not None:
        for account_id, count in visits(as_of).items():
            totals.setdefault(int(account_id), [0.0, 0.0, 0.0])[0] += float(count or 0)
    return {account_id: (v[0], v[1], v[2]) for account_id, v in totals.items()}
