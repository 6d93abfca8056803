"""Make the database itself refuse what would unbalance or rewrite the ledger.

Installs the triggers described in :mod:`accounts.integrity` (rules T1-T5) on PostgreSQL,
MariaDB/MySQL and SQLite: transfers and legs are append-only; each leg must be in its account's
currency, on a leaf account, and continue its account's running balance; a transfer's legs must
all be present and sum to zero per currency; an account's stored balance must equal its last
leg's running balance. The SQL is the frozen copy ``sql/0002_<vendor>.sql``, exactly as this
migration installed it when it was released.
"""

from django.db import migrations

from accounts.migrations import sql


def install(apps, schema_editor):
    sql.run(schema_editor, "0002")


def uninstall(apps, schema_editor):
    sql.run(schema_editor, "0002", reverse=True)


class Migration(migrations.Migration):
    # MySQL cannot create triggers inside a transaction.
    atomic = False

    dependencies = [("accounts", "0001_initial")]

    operations = [migrations.RunPython(install, uninstall, elidable=False)]
