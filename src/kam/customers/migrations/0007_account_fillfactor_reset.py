"""The accounts no longer get a scoring snapshot per run, so their pages need no free room."""

from django.db import migrations


def reset_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE customers_account RESET (fillfactor)")


def set_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE customers_account SET (fillfactor = 50)")


class Migration(migrations.Migration):
    dependencies = [("customers", "0006_scores_from_latest_run")]

    operations = [migrations.RunPython(reset_fillfactor, set_fillfactor)]
