"""An exchange's rate, recorded on its transfer (issue 13).

* ``Transfer.rate``: destination units per source unit, when the caller gave one; the database
  refuses a rate that is not positive.
* The ledger's rules, frozen as ``sql/0013_<vendor>.sql``: the append-only guard (T1) of
  MariaDB and SQLite covers the new column, which their triggers name one by one, and MariaDB's
  T7 checks the rate again; PostgreSQL's rules are 0010's. SQLite rebuilds the transfers table
  for the constraint, and refuses to rename it while a trigger names it: there the triggers in
  place come off first and are put back as they were, before 0013's replace them.
"""

from django.conf import settings
from django.db import migrations, models

from accounts.compat import check_constraint
from accounts.migrations import sql

#: The SQLite triggers in place when the migration started, as (name, SQL).
_SQLITE_TRIGGERS: list[tuple[str, str]] = []


def take_off_on_sqlite(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name")
        _SQLITE_TRIGGERS[:] = list(cursor.fetchall())
        for name, _ in _SQLITE_TRIGGERS:
            cursor.execute("DROP TRIGGER " + schema_editor.quote_name(name))


def put_back_on_sqlite(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    with schema_editor.connection.cursor() as cursor:
        for _, statement in _SQLITE_TRIGGERS:
            cursor.execute(statement)
    _SQLITE_TRIGGERS.clear()


def install(apps, schema_editor):
    sql.run(schema_editor, "0013")


def uninstall(apps, schema_editor):
    sql.run(schema_editor, "0010")




class Migration(migrations.Migration):
    # MySQL cannot create triggers inside a transaction.
    atomic = False

    dependencies = [
        ('accounts', '0012_bank_statements'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(take_off_on_sqlite, put_back_on_sqlite, elidable=False),
        migrations.AddField(
            model_name='transfer',
            name='rate',
            field=models.DecimalField(blank=True, decimal_places=12, editable=False, max_digits=24, null=True, verbose_name='exchange rate'),
        ),
        migrations.AddConstraint(
            model_name='transfer',
            constraint=check_constraint(models.Q(('rate__isnull', True), ('rate__gt', 0), _connector='OR'), 'accounts_transfer_rate_positive'),
        ),
        migrations.RunPython(put_back_on_sqlite, take_off_on_sqlite, elidable=False),
        migrations.RunPython(install, uninstall, elidable=False),
    ]
