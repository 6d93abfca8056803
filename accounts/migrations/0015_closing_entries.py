"""Year-end closing entries, and MariaDB's closed-period check reading under a lock (issue 13).

* ``Transfer.kind`` gains ``closing``: the entry ``close_period(..., closing_entry=True)`` posts
  to move a year's income and expenses into retained earnings (a choice only; no schema change).
* MariaDB's T8, frozen as ``sql/0015_mysql.sql``: each leg reads the latest closing with a
  shared lock, so a closing written but not yet committed makes a posting wait and then refuses
  it (``READ COMMITTED`` shows a plain read nothing uncommitted). PostgreSQL and SQLite keep
  0011's rules.
"""

from django.db import migrations, models

from accounts.migrations import sql


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "mysql":
        sql.run(schema_editor, "0015")


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor == "mysql":
        sql.run(schema_editor, "0011")


class Migration(migrations.Migration):
    # MySQL cannot create triggers inside a transaction.
    atomic = False

    dependencies = [
        ("accounts", "0014_statementimport_source_ofx"),
    ]

    operations = [
        migrations.AlterField(
            model_name="transfer",
            name="kind",
            field=models.CharField(
                choices=[
                    ("transfer", "Transfer"),
                    ("refund", "Refund"),
                    ("reversal", "Reversal"),
                    ("expiry", "Expiry"),
                    ("entry", "Entry"),
                    ("exchange", "Exchange"),
                    ("closing", "Closing entry"),
                ],
                default="transfer",
                max_length=16,
                verbose_name="kind",
            ),
        ),
        migrations.RunPython(install, uninstall, elidable=False),
    ]
