"""Holds: funds reserved now and captured, voided or expired later (two-phase transfers).

* ``Hold``: a pending reservation from a source for a destination, resolved exactly once.
* ``Account.pending_debits`` and ``pending_credits``: what pending holds will debit and credit.
  The database refuses an account whose posted balance, less what its holds would take off it,
  falls below minus its credit limit (``accounts_account_within_credit_limit_holds``), so
  reserved money cannot be spent twice.
* ``IdempotencyKey.hold``: what a keyed ``authorise`` or ``void`` produced;
  ``IdempotencyKey.transfers``: a keyed batch's transfers.
* The ledger's rules, frozen as ``sql/0010_<vendor>.sql``: MariaDB's triggers re-check the two
  new account constraints (T7); the other vendors' rules are 0007's, frozen again as the latest
  version. SQLite rebuilds the accounts table to add the columns, so there the old triggers come
  off first.
"""

from decimal import Decimal

import django.db.models.deletion
import django.db.models.expressions
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

from accounts.compat import check_constraint
from accounts.migrations import sql


def take_off_on_sqlite(apps, schema_editor):
    # SQLite rebuilds the accounts table for the new columns and constraints, and refuses to
    # rename the rebuilt table while a trigger names it; the rules come back below.
    if schema_editor.connection.vendor == "sqlite":
        sql.run(schema_editor, "0007", reverse=True)


def put_back_on_sqlite(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        sql.run(schema_editor, "0007")


def install(apps, schema_editor):
    sql.run(schema_editor, "0010")


def uninstall(apps, schema_editor):
    # 0007's rules replace these where they differ. On SQLite they come off entirely for the
    # table rebuild, and put_back_on_sqlite installs 0007's last. 0010's own reverse file is
    # not run elsewhere: it would drop functions the audit trail's triggers (0008) still use.
    if schema_editor.connection.vendor == "sqlite":
        sql.run(schema_editor, "0010", reverse=True)
    else:
        sql.run(schema_editor, "0007")


class Migration(migrations.Migration):
    # MySQL cannot create triggers inside a transaction.
    atomic = False

    dependencies = [
        ("accounts", "0009_idempotency_keys"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(take_off_on_sqlite, put_back_on_sqlite, elidable=False),
        migrations.CreateModel(
            name="Hold",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "reference",
                    models.CharField(
                        editable=False, max_length=32, unique=True, verbose_name="reference"
                    ),
                ),
                (
                    "amount",
                    models.DecimalField(decimal_places=4, max_digits=20, verbose_name="amount"),
                ),
                ("currency", models.CharField(max_length=3, verbose_name="currency")),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("pending", "Pending"),
                            ("captured", "Captured"),
                            ("voided", "Voided"),
                            ("expired", "Expired"),
                        ],
                        db_index=True,
                        default="pending",
                        max_length=8,
                        verbose_name="status",
                    ),
                ),
                (
                    "expires_at",
                    models.DateTimeField(
                        blank=True, db_index=True, null=True, verbose_name="expires"
                    ),
                ),
                (
                    "captured_amount",
                    models.DecimalField(
                        blank=True,
                        decimal_places=4,
                        max_digits=20,
                        null=True,
                        verbose_name="captured amount",
                    ),
                ),
                (
                    "merchant_reference",
                    models.CharField(
                        blank=True,
                        db_index=True,
                        max_length=128,
                        null=True,
                        verbose_name="merchant reference",
                    ),
                ),
                (
                    "description",
                    models.TextField(blank=True, default="", verbose_name="description"),
                ),
                (
                    "created_at",
                    models.DateTimeField(
                        db_index=True, default=django.utils.timezone.now, verbose_name="created"
                    ),
                ),
                (
                    "resolved_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="resolved"),
                ),
            ],
            options={
                "verbose_name": "hold",
                "verbose_name_plural": "holds",
                "ordering": ["-created_at", "-pk"],
            },
        ),
        migrations.AddField(
            model_name="account",
            name="pending_credits",
            field=models.DecimalField(
                decimal_places=4,
                default=Decimal("0.00"),
                editable=False,
                max_digits=20,
                verbose_name="pending credits",
            ),
        ),
        migrations.AddField(
            model_name="account",
            name="pending_debits",
            field=models.DecimalField(
                decimal_places=4,
                default=Decimal("0.00"),
                editable=False,
                max_digits=20,
                verbose_name="pending debits",
            ),
        ),
        migrations.AddConstraint(
            model_name="account",
            constraint=check_constraint(
                models.Q(
                    ("credit_limit__isnull", True),
                    models.Q(
                        ("kind__in", ["asset", "expense"]),
                        (
                            "balance__gte",
                            django.db.models.expressions.CombinedExpression(
                                models.F("pending_credits"), "-", models.F("credit_limit")
                            ),
                        ),
                    ),
                    models.Q(
                        models.Q(("kind__in", ["asset", "expense"]), _negated=True),
                        (
                            "balance__gte",
                            django.db.models.expressions.CombinedExpression(
                                models.F("pending_debits"), "-", models.F("credit_limit")
                            ),
                        ),
                    ),
                    _connector="OR",
                ),
                "accounts_account_within_credit_limit_holds",
            ),
        ),
        migrations.AddConstraint(
            model_name="account",
            constraint=check_constraint(
                models.Q(("pending_debits__gte", 0), ("pending_credits__gte", 0)),
                "accounts_account_pending_not_negative",
            ),
        ),
        migrations.AddField(
            model_name="hold",
            name="destination",
            field=models.ForeignKey(
                help_text="The account the capture credits.",
                on_delete=django.db.models.deletion.PROTECT,
                related_name="destination_holds",
                to="accounts.account",
                verbose_name="destination",
            ),
        ),
        migrations.AddField(
            model_name="hold",
            name="source",
            field=models.ForeignKey(
                help_text="The account the capture debits.",
                on_delete=django.db.models.deletion.PROTECT,
                related_name="source_holds",
                to="accounts.account",
                verbose_name="source",
            ),
        ),
        migrations.AddField(
            model_name="hold",
            name="transfer",
            field=models.OneToOneField(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="hold",
                to="accounts.transfer",
                verbose_name="transfer",
            ),
        ),
        migrations.AddField(
            model_name="hold",
            name="user",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="holds",
                to=settings.AUTH_USER_MODEL,
                verbose_name="user",
            ),
        ),
        migrations.AddField(
            model_name="idempotencykey",
            name="hold",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="accounts.hold",
                verbose_name="hold",
            ),
        ),
        migrations.AddConstraint(
            model_name="hold",
            constraint=check_constraint(
                models.Q(("amount__gt", 0)), "accounts_hold_amount_positive"
            ),
        ),
        migrations.AddConstraint(
            model_name="hold",
            constraint=check_constraint(
                models.Q(("source", models.F("destination")), _negated=True),
                "accounts_hold_source_not_destination",
            ),
        ),
        migrations.AddConstraint(
            model_name="hold",
            constraint=check_constraint(
                models.Q(
                    models.Q(
                        ("status", "captured"),
                        ("transfer__isnull", False),
                        ("captured_amount__gt", 0),
                        ("captured_amount__lte", models.F("amount")),
                    ),
                    models.Q(
                        models.Q(("status", "captured"), _negated=True),
                        ("transfer__isnull", True),
                        ("captured_amount__isnull", True),
                    ),
                    _connector="OR",
                ),
                "accounts_hold_captured_with_transfer",
            ),
        ),
        migrations.AddConstraint(
            model_name="hold",
            constraint=check_constraint(
                models.Q(
                    models.Q(("status", "pending"), ("resolved_at__isnull", True)),
                    models.Q(
                        models.Q(("status", "pending"), _negated=True),
                        ("resolved_at__isnull", False),
                    ),
                    _connector="OR",
                ),
                "accounts_hold_resolved_when_not_pending",
            ),
        ),
        migrations.AddConstraint(
            model_name="hold",
            constraint=check_constraint(
                models.Q(("status__in", ["pending", "captured", "voided", "expired"])),
                "accounts_hold_status_known",
            ),
        ),
        migrations.AddField(
            model_name="idempotencykey",
            name="transfers",
            field=models.JSONField(blank=True, null=True, verbose_name="transfers"),
        ),
        migrations.RunPython(install, uninstall, elidable=False),
    ]
