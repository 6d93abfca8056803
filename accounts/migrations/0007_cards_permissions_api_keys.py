"""Customer cards are designated, corrections have their own permissions, tills get API keys.

* ``Account.is_card`` marks the accounts the dashboard and API may load, spend and look up by
  code. The database refuses a card that is not a liability with a credit limit, or that is a
  core account. Accounts that the API already served as cards (liabilities with a generated
  code and a credit limit, outside the core) are designated on upgrade, so cards sold before
  keep working; a liability with no limit (a source of money) never is.
* New permissions: ``view_card_code`` on accounts; ``reverse_transfer``, ``refund_transfer``
  and ``correct_any_transfer`` on transfers.
* ``ApiKey``: hashed keys for tills.
* The ledger's rules, frozen as ``sql/0007_<vendor>.sql``, replace 0006's: the unlock switch
  that ``flush`` and ``loaddata`` use is honoured only for the role that owns the ledger's tables
  (PostgreSQL) or defined its triggers (MariaDB/MySQL), so an application role cannot switch the
  guard off; PostgreSQL's functions look names up through a fixed ``search_path`` (the ledger's
  schema, ``pg_temp`` last), so a temporary table cannot stand in for a ledger table; MariaDB
  re-checks in triggers what its CHECK constraints and foreign keys say (T7), since any session
  may switch those off. SQLite rebuilds the accounts table to add the column, so there the old
  triggers come off first.
"""

import re

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from accounts.compat import check_constraint
from accounts.migrations import sql

#: A generated code as migration 0006's API recognised it: four groups of four characters.
_GENERATED = re.compile(r"^[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{4}(-[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{4}){3}$")


def designate_existing_cards(apps, schema_editor):
    Account = apps.get_model("accounts", "Account")
    candidates = (
        Account.objects.using(schema_editor.connection.alias)
        .filter(kind="liability", credit_limit__isnull=False)
        .exclude(code__startswith="CORE-")
        .values_list("pk", "code")
    )
    cards = [pk for pk, code in candidates if _GENERATED.match(code)]
    for start in range(0, len(cards), 500):
        Account.objects.using(schema_editor.connection.alias).filter(
            pk__in=cards[start : start + 500]
        ).update(is_card=True)


def take_off_on_sqlite(apps, schema_editor):
    # SQLite rebuilds the accounts table to add the column and constraints, and refuses to
    # rename the rebuilt table while the legs' trigger names it; the triggers come back below.
    if schema_editor.connection.vendor == "sqlite":
        sql.run(schema_editor, "0006", reverse=True)


def put_back_on_sqlite(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        sql.run(schema_editor, "0006")


def install(apps, schema_editor):
    sql.run(schema_editor, "0007")


def uninstall(apps, schema_editor):
    sql.run(schema_editor, "0007", reverse=True)
    if schema_editor.connection.vendor != "sqlite":
        sql.run(schema_editor, "0006")


class Migration(migrations.Migration):
    # MySQL cannot create triggers inside a transaction.
    atomic = False

    dependencies = [
        ("accounts", "0006_one_statement_postings"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(take_off_on_sqlite, put_back_on_sqlite, elidable=False),
        migrations.CreateModel(
            name="ApiKey",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "name",
                    models.CharField(
                        help_text='Where the key is used, such as "Till 3".',
                        max_length=100,
                        verbose_name="name",
                    ),
                ),
                (
                    "prefix",
                    models.CharField(
                        editable=False, max_length=16, unique=True, verbose_name="prefix"
                    ),
                ),
                ("key_hash", models.CharField(editable=False, max_length=64, unique=True)),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="created")),
                (
                    "last_used_at",
                    models.DateTimeField(
                        blank=True, editable=False, null=True, verbose_name="last used"
                    ),
                ),
                ("expires_at", models.DateTimeField(blank=True, null=True, verbose_name="expires")),
                (
                    "revoked_at",
                    models.DateTimeField(
                        blank=True, editable=False, null=True, verbose_name="revoked"
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="accounts_api_keys",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="user",
                    ),
                ),
            ],
            options={
                "verbose_name": "API key",
                "verbose_name_plural": "API keys",
                "ordering": ["-created_at", "-pk"],
            },
        ),
        migrations.AlterModelOptions(
            name="account",
            options={
                "ordering": ["pk"],
                "permissions": [
                    (
                        "spend_from_any_account",
                        "Can spend from any account on behalf of its users",
                    ),
                    ("view_reports", "Can view ledger reports"),
                    ("use_api", "Can use the gift-card JSON API"),
                    ("view_card_code", "Can see the full code of customer cards"),
                ],
                "verbose_name": "account",
                "verbose_name_plural": "accounts",
            },
        ),
        migrations.AlterModelOptions(
            name="transfer",
            options={
                "ordering": ["-created_at", "-pk"],
                "permissions": [
                    ("reverse_transfer", "Can reverse transfers"),
                    ("refund_transfer", "Can refund transfers"),
                    (
                        "correct_any_transfer",
                        "Can refund or reverse transfers other API users made",
                    ),
                ],
                "verbose_name": "transfer",
                "verbose_name_plural": "transfers",
            },
        ),
        migrations.AddField(
            model_name="account",
            name="is_card",
            field=models.BooleanField(
                default=False,
                help_text=(
                    "A card customers hold: the dashboard and API may load and spend it, and "
                    "its code is a secret. Only a liability with a credit limit can be one."
                ),
                verbose_name="customer card",
            ),
        ),
        migrations.RunPython(
            designate_existing_cards, migrations.RunPython.noop, elidable=False
        ),
        migrations.AddConstraint(
            model_name="account",
            constraint=check_constraint(
                models.Q(is_card=False)
                | (models.Q(kind="liability") & models.Q(credit_limit__isnull=False)),
                "accounts_account_card_is_limited_liability",
            ),
        ),
        migrations.AddConstraint(
            model_name="account",
            constraint=check_constraint(
                models.Q(is_card=False) | ~models.Q(code__startswith="CORE-"),
                "accounts_account_core_is_not_card",
            ),
        ),
        migrations.RunPython(install, uninstall, elidable=False),
    ]
