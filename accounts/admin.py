"""The Django admin for the ledger: every model registered, history read-only.

Django's admin autodiscovery imports this module; it is the only place that registers models,
so a project that does not install ``django.contrib.admin`` registers nothing.

* Transfers and their legs are append-only (the database refuses edits and deletes too), so
  their admins only show them: no add, no change, no delete, the legs inline on each transfer.
* Accounts can be created and their descriptive fields edited, but never their balance or
  version, and their status only through the freeze / thaw / close actions, which go through
  :mod:`accounts.facade` like every other change of state. A refusal (closing an account that
  still holds money, thawing a closed one) is reported as a warning, never as a server error.
* Kind, currency and parent are checked in the form against the rules the database enforces
  (fixed once an account has legs; a parent never has legs of its own), so a bad edit is a
  form error rather than an ``IntegrityError``.

The API's lookup throttle (:class:`~accounts.models.LookupThrottle`) is registered here too,
with the admin class the API defines next to its rules (``accounts.api.admin``): read-only,
with an action to lift a block.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from mptt.admin import MPTTModelAdmin

from . import exceptions, facade, money
from .api.admin import ApiKeyAdmin, LookupThrottleAdmin
from .models import Account, AccountType, ApiKey, LookupThrottle, Transaction, Transfer

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

#: The core accounts (source, sales, expired, their siblings in other currencies and the
#: trading accounts) have codes starting with this; the app finds them by code, so they stay.
CORE_CODE_PREFIX = "CORE-"


def _amount(amount: Any, currency: str) -> str:
    """``12.50 GBP``: an amount with the places its currency uses, and the currency."""
    if amount is None:
        return "-"
    return f"{money.format_amount(amount, currency)} {currency}"


@admin.register(AccountType)
class AccountTypeAdmin(MPTTModelAdmin):
    list_display = ["name", "code", "description"]
    search_fields = ["name", "code"]
    prepopulated_fields = {"code": ["name"]}


# -- accounts --------------------------------------------------------------------------------


class AccountAdminForm(forms.ModelForm):
    """Refuse, with a form error, the edits the database would refuse with an IntegrityError."""

    class Meta:
        model = Account
        fields = [
            "name",
            "code",
            "description",
            "account_type",
            "kind",
            "parent",
            "currency",
            "credit_limit",
            "start_date",
            "end_date",
            "primary_user",
            "secondary_users",
        ]

    def clean_currency(self) -> str:
        currency = (self.cleaned_data.get("currency") or "").upper()
        if not money.is_valid_currency(currency):
            raise forms.ValidationError(_("Use a three-letter ISO 4217 code, such as GBP."))
        return currency

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        account = self.instance
        has_legs = account.pk is not None and account.version > 0
        if has_legs:
            for name in ("kind", "currency"):
                if name in data and data[name] != getattr(account, name):
                    self.add_error(name, _("This cannot change once the account has postings."))
        parent = data.get("parent")
        if parent is not None:
            if account.pk is not None and (
                parent.pk == account.pk or parent.is_descendant_of(account)
            ):
                self.add_error("parent", _("An account cannot sit under itself."))
            elif parent.version > 0:
                self.add_error(
                    "parent", _("This account has postings, so it cannot hold other accounts.")
                )
            elif "kind" in data and data["kind"] != parent.kind:
                self.add_error(
                    "parent",
                    _("A child account has its parent's kind (%(kind)s).")
                    % {"kind": parent.get_kind_display()},
                )
        limit = data.get("credit_limit", account.credit_limit)
        if account.pk is not None and limit is not None and account.balance < -limit:
            self.add_error(
                "credit_limit",
                _("The balance is %(balance)s; the limit must be at least %(needed)s.")
                % {
                    "balance": _amount(account.balance, account.currency),
                    "needed": _amount(-account.balance, account.currency),
                },
            )
        return data


def _status_action(
    name: str, change: Callable[..., Account], verb: str, description: StrOrPromise
) -> Callable[[Any, HttpRequest, QuerySet[Account]], None]:
    """Build an admin action that applies ``change`` (a facade function) account by account.

    Each account is locked and changed in its own transaction by the facade, so one refusal
    does not undo the others; refusals are listed in a warning.
    """

    @admin.action(permissions=["change"], description=description)
    def action(modeladmin: AccountAdmin, request: HttpRequest, queryset: QuerySet[Account]) -> None:
        changed, unchanged, refusals = 0, 0, []
        for account in queryset.order_by("pk"):
            before = account.status
            try:
                after = change(account, user=request.user).status
            except exceptions.AccountException as refusal:
                refusals.append(f"{account}: {refusal.message}")
                continue
            if after == before:
                unchanged += 1
            else:
                changed += 1
                modeladmin.log_change(request, account, f"{verb.capitalize()} via admin action.")
        if changed:
            modeladmin.message_user(
                request,
                ngettext("%(count)d account %(verb)s.", "%(count)d accounts %(verb)s.", changed)
                % {"count": changed, "verb": verb},
                messages.SUCCESS,
            )
        if unchanged:
            modeladmin.message_user(
                request,
                ngettext(
                    "%(count)d account was already %(verb)s.",
                    "%(count)d accounts were already %(verb)s.",
                    unchanged,
                )
                % {"count": unchanged, "verb": verb},
                messages.INFO,
            )
        if refusals:
            modeladmin.message_user(
                request,
                ngettext(
                    "%(count)d account was not %(verb)s: %(reasons)s",
                    "%(count)d accounts were not %(verb)s: %(reasons)s",
                    len(refusals),
                )
                % {"count": len(refusals), "verb": verb, "reasons": " ".join(refusals)},
                messages.WARNING,
            )

    action.__name__ = name
    return action


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    form = AccountAdminForm
    list_display = [
        "name",
        "code",
        "kind",
        "status",
        "balance_display",
        "currency",
        "credit_limit_display",
        "account_type",
        "primary_user",
        "start_date",
        "end_date",
        "created_at",
    ]
    list_display_links = ["name", "code"]
    list_filter = ["kind", "status", "currency", "account_type"]
    list_select_related = ["account_type", "primary_user"]
    search_fields = [
        "name",
        "code",
        "primary_user__username",
        "primary_user__email",
        "secondary_users__username",
    ]
    raw_id_fields = ["parent", "primary_user", "secondary_users"]
    readonly_fields = [
        "status",
        "balance_display",
        "version",
        "postings_link",
        "created_at",
        "updated_at",
    ]
    fieldsets = [
        (None, {"fields": ["name", "code", "description", "account_type"]}),
        (_("Ledger"), {"fields": ["kind", "parent", "currency", "credit_limit"]}),
        (
            _("State (changed by postings and by the actions in the account list)"),
            {"fields": ["status", "balance_display", "version", "postings_link"]},
        ),
        (_("Validity"), {"fields": ["start_date", "end_date"]}),
        (_("Users"), {"fields": ["primary_user", "secondary_users"]}),
        (_("Record"), {"fields": ["created_at", "updated_at"]}),
    ]
    actions = [
        _status_action(
            "freeze_accounts", facade.freeze_account, "frozen", _("Freeze the selected accounts")
        ),
        _status_action(
            "thaw_accounts", facade.thaw_account, "thawed", _("Thaw the selected accounts")
        ),
        _status_action(
            "close_accounts",
            facade.close_account,
            "closed",
            _("Close the selected accounts (zero balance only)"),
        ),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Account]:
        # One subquery per row gives placeholders the sum of their children (own currency).
        return super().get_queryset(request).with_balances()  # type: ignore[attr-defined]

    @admin.display(description=_("balance"), ordering="rollup_balance")
    def balance_display(self, obj: Account) -> str:
        if obj.pk is None:
            return "-"
        return _amount(getattr(obj, "rollup_balance", obj.balance), obj.currency)

    @admin.display(description=_("credit limit"), ordering="credit_limit")
    def credit_limit_display(self, obj: Account) -> str:
        if obj.credit_limit is None:
            return str(_("no limit"))
        return _amount(obj.credit_limit, obj.currency)

    @admin.display(description=_("postings"))
    def postings_link(self, obj: Account) -> str:
        if obj.pk is None:
            return "-"
        url = reverse("admin:accounts_transaction_changelist")
        return format_html(
            '<a href="{}?account__id__exact={}">{}</a>', url, obj.pk, _("Show its legs")
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Account | None = None) -> Any:
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.version > 0:
            # The database fixes these once money has moved through the account.
            fields += ["kind", "currency"]
        return fields

    def has_delete_permission(self, request: HttpRequest, obj: Account | None = None) -> bool:
        if obj is not None and obj.code.startswith(CORE_CODE_PREFIX):
            return False
        # Accounts with postings are protected by the ledger's foreign keys; the admin's
        # confirmation page lists those postings instead of deleting anything.
        return super().has_delete_permission(request, obj)


# -- the ledger: view only -------------------------------------------------------------------


class ReadOnlyMixin:
    """Ledger rows are written only by the facade and never changed or deleted."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


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
class TransferAdmin(ReadOnlyMixin, admin.ModelAdmin):
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
class TransactionAdmin(ReadOnlyMixin, admin.ModelAdmin):
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


admin.site.register(LookupThrottle, LookupThrottleAdmin)
admin.site.register(ApiKey, ApiKeyAdmin)
