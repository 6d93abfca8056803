"""Bank statements in the admin: imports and their lines read-only, rules editable.

Imported lines are what the bank said and are never edited, added or deleted here; the only
changes are reconciliation's, through the line's own methods (which post through the facade):
apply the matching rules to the selected lines, or unreconcile them. Rule applications are the
record of what the rules did, read-only.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from .. import exceptions, statements
from ..models import MatchingRule, RuleApplication, StatementImport, StatementLine
from .common import ReadOnlyMixin

LINE_FIELDS = [
    "date",
    "amount",
    "currency",
    "description",
    "payee",
    "bank_reference",
    "bank_account",
    "statement_import",
    "row_number",
    "raw_row",
    "fingerprint",
    "occurrence",
    "reconciled_transfer",
    "reconciliation",
    "reconciled_at",
    "reconciled_by",
]


@admin.register(StatementImport)
class StatementImportAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = [
        "file_name",
        "bank_account",
        "source",
        "state",
        "lines_added",
        "lines_duplicate",
        "lines_rejected",
        "created_at",
        "created_by",
    ]
    list_filter = ["state", "source", "bank_account"]
    list_select_related = ["bank_account", "created_by"]
    search_fields = ["file_name", "sha256"]
    readonly_fields = [
        "bank_account",
        "source",
        "file_name",
        "sha256",
        "mapping",
        "created_at",
        "created_by",
        "lines_added",
        "lines_duplicate",
        "lines_rejected",
        "rejections",
        "state",
    ]


# Reconciling posts to the ledger: only staff who may change lines see the actions.
@admin.action(
    description=_("Apply the matching rules to the selected lines"), permissions=["change"]
)
def apply_matching_rules(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[StatementLine]
) -> None:
    applied = statements.apply_rules(
        queryset.filter(reconciled_transfer__isnull=True), user=request.user
    )
    modeladmin.message_user(
        request,
        ngettext(
            "%(count)d line was reconciled by a rule.",
            "%(count)d lines were reconciled by rules.",
            applied,
        )
        % {"count": applied},
        messages.SUCCESS if applied else messages.INFO,
    )


@admin.action(description=_("Unreconcile the selected lines"), permissions=["change"])
def unreconcile_lines(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[StatementLine]
) -> None:
    done = 0
    for line in queryset.filter(reconciled_transfer__isnull=False):
        try:
            line.unreconcile(user=request.user, reason=gettext("Unreconciled in the admin."))
        except exceptions.AccountException as error:
            modeladmin.message_user(
                request,
                gettext("Line %(line)s: %(reason)s") % {"line": line, "reason": error.message},
                messages.WARNING,
            )
        else:
            done += 1
    modeladmin.message_user(
        request,
        ngettext("%(count)d line was unreconciled.", "%(count)d lines were unreconciled.", done)
        % {"count": done},
        messages.SUCCESS if done else messages.INFO,
    )


@admin.register(StatementLine)
class StatementLineAdmin(admin.ModelAdmin):
    """Read-only lines; reconciliation through the actions, which go through the facade."""

    list_display = [
        "date",
        "amount",
        "currency",
        "description",
        "payee",
        "bank_account",
        "reconciled_transfer",
        "reconciliation",
    ]
    list_filter = ["bank_account", "reconciliation", "date"]
    list_select_related = ["bank_account", "reconciled_transfer"]
    search_fields = ["description", "payee", "bank_reference"]
    date_hierarchy = "date"
    readonly_fields = tuple(LINE_FIELDS)
    fields = tuple(LINE_FIELDS)
    actions = [apply_matching_rules, unreconcile_lines]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(MatchingRule)
class MatchingRuleAdmin(admin.ModelAdmin):
    list_display = ["pattern", "direction", "account", "bank_account", "position", "is_active"]
    list_editable = ["position", "is_active"]
    list_filter = ["is_active", "direction", "bank_account"]
    search_fields = ["pattern"]
    raw_id_fields = ["account", "bank_account"]
    readonly_fields = ["created_at", "created_by"]

    def save_model(self, request: HttpRequest, obj: MatchingRule, form: Any, change: bool) -> None:
        if not change:
            obj.created_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)


@admin.register(RuleApplication)
class RuleApplicationAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["applied_at", "rule", "line", "transfer"]
    list_select_related = ["rule", "line", "transfer"]
    readonly_fields = ["applied_at", "rule", "line", "transfer"]
