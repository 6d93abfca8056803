"""The audit trail's admin, read-only like the ledger."""

from __future__ import annotations

from django.contrib import admin

from ..models import AuditEntry
from .common import ReadOnlyMixin


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """The audit trail, to read: the facade writes it and the database refuses any change."""

    list_display = ["created_at", "action", "account", "transfer", "username", "surface", "reason"]
    list_filter = ["action", "surface"]
    list_select_related = ["account", "transfer"]
    search_fields = ["username", "reason"]
    ordering = ["-created_at", "-pk"]
    date_hierarchy = "created_at"
    fields = [
        "created_at",
        "action",
        "account",
        "transfer",
        "user",
        "username",
        "surface",
        "reason",
        "changes",
    ]
