"""PostgreSQL's leg check no longer compares a leg's version with its account's; MariaDB's
checks read each row once.

The facade now posts on PostgreSQL with one statement that inserts the legs and moves the
balances together, so the leg check (which runs after that statement) sees the account already
at the leg's version. A leg stays at the end of its account's history through the unique
(account, version) index, the CHECK that versions are positive and the "previous leg is
version - 1" rule.

On MariaDB/MySQL the leg and balance checks now read each row they need once (``SELECT ...
INTO`` several variables) instead of once per column, for the same rules.

The SQL is the frozen copy ``sql/0006_<vendor>.sql``; it replaces 0005's on every database
(SQLite's are unchanged). Going back removes it and puts 0005's back.
"""

from django.db import migrations

from accounts.migrations import sql


def install(apps, schema_editor):
    sql.run(schema_editor, "0006")


def uninstall(apps, schema_editor):
    sql.run(schema_editor, "0006", reverse=True)
    sql.run(schema_editor, "0005")


class Migration(migrations.Migration):
    # MySQL cannot create triggers inside a transaction.
    atomic = False

    dependencies = [("accounts", "0005_faster_ledger_checks")]

    operations = [migrations.RunPython(install, uninstall, elidable=False)]
