"""The holds' admin: to read only. Holds change state only through the facade.

A hold is authorised, captured, voided or expired by :mod:`accounts.facade` (from the API, the
dashboard or the ``release_expired_holds`` command), which keeps the accounts' pending sums in
step; an edit here would break them, so the admin only lists and shows holds.
"""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from ..models import Hold
from .common import CodeSearchMixin, ReadOnlyMixin, _amount


@admin.register(Hold)
class HoldAdmin(CodeSearchMixin, ReadOnlyMixin, admin.ModelAdmin):
    list_display = [
        "reference",
        "status",
        "created_at",
        "source",
        "destination",
        "amount_display",
        "captured_amount_display",
        "expires_at",
        "merchant_reference",
        "transfer",
    ]
    list_filter = ["status", "currency", "created_at"]
    list_select_related = ["source", "destination", "transfer"]
    search_fields = ["reference", "merchant_reference", "source__code", "destination__code"]
    code_paths = ("source__", "destination__")
    date_hierarchy = "created_at"
    fields = [
        "reference",
        "status",
        "amount_display",
        "captured_amount_display",
        "source",
        "destination",
        "transfer",
        "user",
        "merchant_reference",
        "description",
        "expires_at",
        "created_at",
        "resolved_at",
    ]

    @admin.display(description=_("amount"), ordering="amount")
    def amount_display(self, obj: Hold) -> str:
        return _amount(obj.amount, obj.currency)

    @admin.display(description=_("captured amount"), ordering="captured_amount")
    def captured_amount_display(self, obj: Hold) -> str:
        return _amount(obj.captured_amount, obj.currency)
