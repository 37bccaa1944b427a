"""Seed the default calendar (Mon–Fri 09–12, 13–18, Asia/Shanghai) with China's 2025–2026
holidays and make-up days, the default service levels per tier and the escalation policy."""

from django.db import migrations

from kam.service.defaults import seed


def seed_defaults(apps, schema_editor):  # noqa: ANN001
    seed(
        apps.get_model("service", "BusinessCalendarConfig"),
        apps.get_model("service", "CalendarDay"),
        apps.get_model("service", "ServiceTier"),
        apps.get_model("service", "ServiceLevel"),
        apps.get_model("service", "EscalationPolicy"),
    )


class Migration(migrations.Migration):
    dependencies = [("service", "0001_initial")]
    operations = [migrations.RunPython(seed_defaults, migrations.RunPython.noop)]
