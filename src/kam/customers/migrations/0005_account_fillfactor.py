"""PostgreSQL: leave room in account pages so nightly score updates stay heap-only (HOT)."""

from django.db import migrations


def set_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE customers_account SET (fillfactor = 50)")


def reset_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE customers_account RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [("customers", "0004_account_updated_index")]

    operations = [migrations.RunPython(set_fillfactor, reset_fillfactor)]
