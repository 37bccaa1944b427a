"""Fixtures of the service desk tests: tickets opened through the real service."""

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from kam.customers.models import Account
from kam.service import services
from kam.service.defaults import seed
from kam.service.models import ServiceLevel, Ticket
from kam.users.models import User

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(text: str) -> datetime:
    """'2026-10-09 17:00' in Asia/Shanghai."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=SHANGHAI)


def level_set(
    tier: str, ticket_type: str, priority: str, response: float, resolution: float
) -> None:
    ServiceLevel.objects.filter(tier=tier, ticket_type=ticket_type, priority=priority).update(
        first_response_hours=Decimal(str(response)), resolution_hours=Decimal(str(resolution))
    )


@pytest.fixture(autouse=True)
def service_defaults(db: Any) -> None:
    """The seeded calendar and service levels, back if a transactional test flushed them."""
    from kam.service import models

    seed(
        models.BusinessCalendarConfig,
        models.CalendarDay,
        models.ServiceTier,
        models.ServiceLevel,
        models.EscalationPolicy,
    )


@pytest.fixture
def account(account_make: Callable[..., Account], am_member: User) -> Account:
    return account_make(owner=am_member, tier="strategic")


@pytest.fixture
def ticket_make(account: Account, service_manager: User) -> Callable[..., Ticket]:
    def make(
        actor: User | None = None,
        target: Account | None = None,
        now: datetime | None = None,
        **data: Any,
    ) -> Ticket:
        fields = {"ticket_type": "repair", "priority": "normal", "subject": "Printer line stopped"}
        fields.update(data)
        return services.ticket_create(
            actor=actor or service_manager, account=target or account, data=fields, now=now
        )

    return make
