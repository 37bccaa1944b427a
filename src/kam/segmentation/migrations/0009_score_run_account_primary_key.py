"""Score rows are keyed by (run, account): no id column, no identity sequence, one index.

On PostgreSQL a million-row COPY kept an id sequence and a second unique index up to
date for nothing (score rows are only ever read by run and account). Django rebuilds
the SQLite table with the new primary key itself; on PostgreSQL it drops the id column
(and its primary key) and adds no composite one to an existing table, so this does.
Not reversible: Django cannot take a composite primary key off a table.
"""

from django.db import migrations, models

TABLE = "segmentation_accountscore"


def primary_key_add(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f'ALTER TABLE "{TABLE}" ADD CONSTRAINT "{TABLE}_pkey" PRIMARY KEY ("run_id", "account_id")'
        )


class Migration(migrations.Migration):
    dependencies = [
        ("segmentation", "0008_proposal_users_unchecked"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="accountscore",
            name="account_score_run_account",
        ),
        migrations.AddField(
            model_name="accountscore",
            name="pk",
            field=models.CompositePrimaryKey(
                "run", "account", blank=True, editable=False, primary_key=True, serialize=False
            ),
        ),
        migrations.RemoveField(
            model_name="accountscore",
            name="id",
        ),
        migrations.RunPython(primary_key_add),
    ]
