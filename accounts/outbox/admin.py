"""The outbox in the admin, to read: which events were delivered, which failed and why."""

from __future__ import annotations

from django.contrib import admin

from ..admin.common import ReadOnlyMixin
from .models import OutboxMessage


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Rows are written with the money and updated only by ``deliver_outbox``."""

    list_display = ["created_at", "event", "uuid", "attempts", "next_attempt_at", "delivered_at"]
    list_filter = ["event"]
    search_fields = ["uuid"]
    ordering = ["-pk"]
    date_hierarchy = "created_at"
    fields = [
        "uuid",
        "event",
        "created_at",
        "attempts",
        "next_attempt_at",
        "delivered_at",
        "last_error",
        "payload",
    ]
