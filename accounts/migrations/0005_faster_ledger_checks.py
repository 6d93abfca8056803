"""Cheaper ledger checks: fewer indexes on the legs, and PostgreSQL's triggers checking sets.

The legs' foreign keys lose their own indexes: the unique (transfer, leg_index) and
(account, account_version) indexes lead with the same columns, and serve every lookup the
single-column ones did (MariaDB's foreign keys accept them too). The triggers of
:mod:`accounts.integrity` are installed again: on PostgreSQL, T3 and T4's update check become
statement triggers over the statement's rows, replacing the row triggers 0002 installed.

The SQL is the frozen copy ``sql/0005_<vendor>.sql``. Going back removes it and puts 0002's
back. SQLite rebuilds the legs' table to change its indexes, so there the triggers are taken off
around the rebuild, both ways.
"""

from django.db import migrations, models

from accounts.migrations import sql


def take_off_before_rebuild(apps, schema_editor):
    """SQLite alters the legs' table by rebuilding it, which the accounts' triggers (reading
    that table) would refuse; they come back right after."""
    if schema_editor.connection.vendor == "sqlite":
        sql.run(schema_editor, "0002", reverse=True)


def put_back_after_rebuild(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        sql.run(schema_editor, "0002")


def install(apps, schema_editor):
    sql.run(schema_editor, "0005")


def uninstall(apps, schema_editor):
    sql.run(schema_editor, "0005", reverse=True)
    if schema_editor.connection.vendor != "sqlite":
        sql.run(schema_editor, "0002")


class Migration(migrations.Migration):
    # MySQL cannot create triggers inside a transaction.
    atomic = False

    dependencies = [("accounts", "0004_lookup_throttle")]

    operations = [
        migrations.RunPython(take_off_before_rebuild, put_back_after_rebuild, elidable=False),
        migrations.AlterField(
            model_name="transaction",
            name="account",
            field=models.ForeignKey(
                db_index=False,
                on_delete=models.deletion.PROTECT,
                related_name="transactions",
                to="accounts.account",
                verbose_name="account",
            ),
        ),
        migrations.AlterField(
            model_name="transaction",
            name="transfer",
            field=models.ForeignKey(
                db_index=False,
                on_delete=models.deletion.PROTECT,
                related_name="transactions",
                to="accounts.transfer",
                verbose_name="transfer",
            ),
        ),
        migrations.RunPython(install, uninstall, elidable=False),
    ]
