"""Idempotency keys: one row per key a caller gave a facade call, unique per database.

The key must compare exactly, as the caller wrote it: ``Order-1`` and ``order-1`` are two keys.
PostgreSQL and SQLite compare text byte by byte already; MySQL and MariaDB compare with the
table's collation, case- and accent-insensitive in most set-ups, so the frozen
``sql/0009_mysql.sql`` gives the column a binary collation there (dropping the table undoes it).
"""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

from accounts.migrations import sql


def install(apps, schema_editor):
    sql.run(schema_editor, "0009")


class Migration(migrations.Migration):
    # Django refuses schema SQL inside a transaction on MySQL, which cannot roll DDL back.
    atomic = False

    dependencies = [
        ("accounts", "0008_audit_trail"),
    ]

    operations = [
        migrations.CreateModel(
            name="IdempotencyKey",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("key", models.CharField(max_length=255, unique=True, verbose_name="key")),
                ("operation", models.CharField(max_length=32, verbose_name="operation")),
                ("arguments", models.JSONField(default=dict, verbose_name="arguments")),
                (
                    "created_at",
                    models.DateTimeField(
                        db_index=True, default=django.utils.timezone.now, verbose_name="created"
                    ),
                ),
                (
                    "account",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="accounts.account",
                        verbose_name="account",
                    ),
                ),
                (
                    "transfer",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="accounts.transfer",
                        verbose_name="transfer",
                    ),
                ),
            ],
            options={
                "verbose_name": "idempotency key",
                "verbose_name_plural": "idempotency keys",
            },
        ),
        migrations.RunPython(install, migrations.RunPython.noop),
    ]
