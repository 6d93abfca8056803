"""The audit trail's and the closed periods' admins, read-only like the ledger."""

from __future__ import annotations

from django.contrib import admin

from ..models import AuditEntry, ClosedPeriod
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


@admin.register(ClosedPeriod)
class ClosedPeriodAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """The closings of the books, to read: ``facade.close_period`` makes them."""

    list_display = ["closed_through", "closed_until", "closed_at", "username", "reason"]
    ordering = ["-closed_until"]
    fields = ["closed_through", "closed_until", "closed_at", "user", "username", "reason"]
