"""PostgreSQL's leg check no longer compares a leg's version with its account's; MariaDB's
checks read each row once.

The facade now posts on PostgreSQL with one statement that inserts the legs and moves the
balances together, so the leg check (which runs after that statement) sees the account already
at the leg's version. A leg stays at the end of its account's history through the unique
(account, version) index, the CHECK that versions are positive and the "previous leg is
version - 1" rule.

On MariaDB/MySQL the leg and balance checks now read each row they need once (``SELECT ...
INTO`` several variables) instead of once per column, for the same rules.

Installing the triggers again replaces them on every database (SQLite's are unchanged).
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
