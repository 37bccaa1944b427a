"""Seeded service levels per tier (working hours); the service manager edits them afterwards.

Kept free of models so the data migration and the fallback for unknown tiers share it.
"""

from decimal import Decimal

TIERS = ("strategic", "key", "important", "ordinary")
TYPES = ("consultation", "installation", "repair", "delivery", "billing", "complaint")
PRIORITIES = ("urgent", "high", "normal", "low")

# Base targets for the top tier by priority: (first response, resolution) in working hours.
_BASE = {"urgent": (0.5, 4), "high": (1, 8), "normal": (2, 16), "low": (4, 32)}
# Lower tiers wait longer: (response factor, resolution factor).
_TIER_FACTOR = {"strategic": (1, 1), "key": (2, 1.5), "important": (4, 2), "ordinary": (8, 3)}
# Some work simply takes longer than a consultation.
_TYPE_FACTOR = {
    "consultation": 0.5,
    "installation": 2,
    "repair": 1.5,
    "delivery": 1,
    "billing": 1,
    "complaint": 1,
}
TIER_OPTIONS = {
    "strategic": {
        "channels": ["hotline", "on_site", "wechat", "email", "account_manager"],
        "on_site": True,
        "fast_lane": True,
    },
    "key": {
        "channels": ["hotline", "on_site", "wechat", "email"],
        "on_site": True,
        "fast_lane": True,
    },
    "important": {"channels": ["hotline", "wechat", "email"], "on_site": False, "fast_lane": False},
    "ordinary": {"channels": ["hotline", "email", "web"], "on_site": False, "fast_lane": False},
}


def default_targets(tier: str, ticket_type: str, priority: str) -> tuple[Decimal, Decimal]:
    """(first response hours, resolution hours) seeded for one combination."""
    response, resolution = _BASE.get(priority, _BASE["normal"])
    response_factor, resolution_factor = _TIER_FACTOR.get(tier, _TIER_FACTOR["ordinary"])
    type_factor = _TYPE_FACTOR.get(ticket_type, 1)
    first = Decimal(str(round(response * response_factor, 2)))
    resolve = Decimal(
        str(round(max(resolution * resolution_factor * type_factor, response * response_factor), 2))
    )
    return first, resolve


def default_levels() -> list[dict]:
    return [
        {
            "tier": tier,
            "ticket_type": ticket_type,
            "priority": priority,
            "first_response_hours": default_targets(tier, ticket_type, priority)[0],
            "resolution_hours": default_targets(tier, ticket_type, priority)[1],
        }
        for tier in TIERS
        for ticket_type in TYPES
        for priority in PRIORITIES
    ]


WEEK = [[["09:00", "12:00"], ["13:00", "18:00"]]] * 5 + [[], []]


def seed(config_model, day_model, tier_model, level_model, policy_model) -> None:  # noqa: ANN001
    """Create whatever default rows are missing (the data migration; tests after a flush).

    Takes the model classes so the migration can pass its historical models.
    """
    from kam.lib.holidays_cn import available_years, load_china_calendar

    if not config_model.objects.exists():
        config_model.objects.create(time_zone="Asia/Shanghai", weekly_hours=WEEK)
    if not day_model.objects.exists():
        years = [year for year in (2025, 2026) if year in available_years()]
        holidays, workdays = load_china_calendar(years)
        day_model.objects.bulk_create(
            [day_model(day=day, kind="holiday", note="") for day in sorted(holidays)]
            + [day_model(day=day, kind="workday", note="调休") for day in sorted(workdays)],
            ignore_conflicts=True,
        )
    for tier, options in TIER_OPTIONS.items():
        tier_model.objects.get_or_create(tier=tier, defaults=options)
    level_model.objects.bulk_create(
        [level_model(**row) for row in default_levels()], ignore_conflicts=True
    )
    if not policy_model.objects.exists():
        policy_model.objects.create(warn_percent=80, director_after_hours=8)
