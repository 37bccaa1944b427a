"""Seed the default calendar (Mon–Fri 09–12, 13–18, Asia/Shanghai) with China's 2025–2026
holidays and make-up days, the default service levels per tier and the escalation policy."""

from django.db import migrations

from kam.lib.holidays_cn import load_china_calendar
from kam.service.defaults import TIER_OPTIONS, default_levels

WEEK = [[["09:00", "12:00"], ["13:00", "18:00"]]] * 5 + [[], []]


def seed(apps, schema_editor):  # noqa: ANN001
    config_model = apps.get_model("service", "BusinessCalendarConfig")
    day_model = apps.get_model("service", "CalendarDay")
    tier_model = apps.get_model("service", "ServiceTier")
    level_model = apps.get_model("service", "ServiceLevel")
    policy_model = apps.get_model("service", "EscalationPolicy")
    if not config_model.objects.exists():
        config_model.objects.create(time_zone="Asia/Shanghai", weekly_hours=WEEK)
    holidays, workdays = load_china_calendar([2025, 2026])
    day_model.objects.bulk_create(
        [day_model(day=day, kind="holiday", note="") for day in sorted(holidays)]
        + [day_model(day=day, kind="workday", note="调休") for day in sorted(workdays)],
        ignore_conflicts=True,
    )
    for tier, options in TIER_OPTIONS.items():
        tier_model.objects.get_or_create(tier=tier, defaults=options)
    level_model.objects.bulk_create([level_model(**row) for row in default_levels()], ignore_conflicts=True)
    if not policy_model.objects.exists():
        policy_model.objects.create(warn_percent=80, director_after_hours=8)


class Migration(migrations.Migration):
    dependencies = [("service", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
