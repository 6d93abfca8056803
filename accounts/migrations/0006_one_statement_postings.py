"""PostgreSQL's leg check no longer compares a leg's version with its account's.

The facade now posts on PostgreSQL with one statement that inserts the legs and moves the
balances together, so the leg check (which runs after that statement) sees the account already
at the leg's version. A leg stays at the end of its account's history through the unique
(account, version) index, the CHECK that versions are positive and the "previous leg is
version - 1" rule.
Installing the triggers again replaces the function; the other databases' triggers are
reinstalled unchanged.
"""

from django.db import migrations

from accounts import integrity


def install(apps, schema_editor):
    integrity.install(schema_editor)


class Migration(migrations.Migration):
    # MySQL cannot create triggers inside a transaction.
    atomic = False

    dependencies = [("accounts", "0005_faster_ledger_checks")]

    operations = [migrations.RunPython(install, install, elidable=False)]
