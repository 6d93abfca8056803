"""The ledger's admins: transfers and their legs, to read only (they are append-only)."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from ..models import Transaction, Transfer
from .common import CodeSearchMixin, ReadOnlyMixin, _amount

#: Columns of a leg, shown read-only inline on its transfer.
LEG_FIELDS = (
    "leg_index",
    "account",
    "debit_display",
    "credit_display",
    "balance_after_display",
    "account_version",
    # When the leg takes effect; differs from the transfer's time when it was back-dated.
    "created_at",
)


class LegInline(ReadOnlyMixin, admin.TabularInline):
    model = Transaction
    fields = LEG_FIELDS
    readonly_fields = LEG_FIELDS
    ordering = ["leg_index"]
    extra = 0
    can_delete = False
    show_change_link = True

    @admin.display(description=_("debit"))
    def debit_display(self, obj: Transaction) -> str:
        return _amount(obj.debit, obj.currency) if obj.debit is not None else ""

    @admin.display(description=_("credit"))
    def credit_display(self, obj: Transaction) -> str:
        return _amount(obj.credit, obj.currency) if obj.credit is not None else ""

    @admin.display(description=_("balance after"))
    def balance_after_display(self, obj: Transaction) -> str:
        return _amount(obj.balance_after, obj.currency)


@admin.register(Transfer)
class TransferAdmin(CodeSearchMixin, ReadOnlyMixin, admin.ModelAdmin):
    list_display = [
        "reference",
        "kind",
        "created_at",
        "source",
        "destination",
        "amount_display",
        "leg_count",
        "username",
        "merchant_reference",
        "parent",
    ]
    list_filter = ["kind", "currency", "created_at"]
    list_select_related = ["source", "destination", "parent"]
    search_fields = [
        "reference",
        "merchant_reference",
        "username",
        "description",
        "source__code",
        "destination__code",
    ]
    code_paths = ("source__", "destination__")
    date_hierarchy = "created_at"
    inlines = [LegInline]
    fields = [
        "reference",
        "kind",
        "amount_display",
        "source",
        "destination",
        "parent",
        "reverses",
        "user",
        "username",
        "merchant_reference",
        "description",
        "created_at",
    ]

    @admin.display(description=_("amount"), ordering="amount")
    def amount_display(self, obj: Transfer) -> str:
        return _amount(obj.amount, obj.currency)


@admin.register(Transaction)
class TransactionAdmin(CodeSearchMixin, ReadOnlyMixin, admin.ModelAdmin):
    list_display = [
        "transfer",
        "leg_index",
        "account",
        "debit_display",
        "credit_display",
        "balance_after_display",
        "account_version",
        "created_at",
    ]
    list_filter = ["currency", "account__kind", "created_at"]
    list_select_related = ["transfer", "account"]
    search_fields = ["transfer__reference", "account__code", "account__name"]
    code_paths = ("account__",)
    ordering = ["-created_at", "-pk"]
    fields = [
        "transfer",
        "leg_index",
        "account",
        "debit_display",
        "credit_display",
        "balance_after_display",
        "account_version",
        "created_at",
    ]

    debit_display = LegInline.debit_display
    credit_display = LegInline.credit_display
    balance_after_display = LegInline.balance_after_display
