"""The audit trail: who created, edited, froze, thawed, closed or expired an account, changed its
credit limit, or reversed or refunded a transfer; from which surface, when, and why.

Entries are append-only: trigger set T6, frozen as ``sql/0008_<vendor>.sql``, refuses changes and
deletions, except that deleting the acting user clears ``user_id``.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

from accounts.migrations import sql


def install(apps, schema_editor):
    sql.run(schema_editor, "0008")


def uninstall(apps, schema_editor):
    sql.run(schema_editor, "0008", reverse=True)


class Migration(migrations.Migration):
    # MySQL cannot create triggers inside a transaction.
    atomic = False

    dependencies = [
        ("accounts", "0007_cards_permissions_api_keys"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="AuditEntry",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "action",
                    models.CharField(
                        choices=[
                            ("created", "Created"),
                            ("edited", "Edited"),
                            ("credit_limit_changed", "Credit limit changed"),
                            ("frozen", "Frozen"),
                            ("thawed", "Thawed"),
                            ("closed", "Closed"),
                            ("expired", "Expired"),
                            ("reversed", "Reversed"),
                            ("refunded", "Refunded"),
                        ],
                        max_length=32,
                        verbose_name="action",
                    ),
                ),
                ("username", models.CharField(blank=True, max_length=150, verbose_name="username")),
                (
                    "surface",
                    models.CharField(
                        choices=[
                            ("code", "Code"),
                            ("dashboard", "Dashboard"),
                            ("api", "API"),
                            ("admin", "Admin"),
                            ("command", "Command"),
                        ],
                        default="code",
                        max_length=16,
                        verbose_name="surface",
                    ),
                ),
                ("reason", models.TextField(blank=True, default="", verbose_name="reason")),
                ("changes", models.JSONField(blank=True, default=dict, verbose_name="changes")),
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
                        related_name="audit_entries",
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
                        related_name="audit_entries",
                        to="accounts.transfer",
                        verbose_name="transfer",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="accounts_audit_entries",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="user",
                    ),
                ),
            ],
            options={
                "verbose_name": "audit entry",
                "verbose_name_plural": "audit entries",
                "ordering": ["-created_at", "-pk"],
                "indexes": [
                    models.Index(
                        fields=["account", "created_at"], name="accounts_audit_account_time"
                    )
                ],
            },
        ),
        migrations.RunPython(install, uninstall, elidable=False),
    ]
