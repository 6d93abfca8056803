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
  (fixed once an account has legs; a parent never has legs of its own; a customer card stays a
  liability with a credit limit), so a bad edit is a form error rather than a server error.
* The audit trail (:class:`~accounts.models.AuditEntry`) is shown read-only, like the ledger.
* A customer card's code is its bearer secret. Staff without ``accounts.view_card_code`` see it
  masked in the account list and, read-only, on the card's page, and search finds a card by its
  full code only (any part of a house account's code still finds it); the ledger's lists name
  accounts by ``str(account)``, which masks cards' codes, as does the admin's history.

The API's lookup throttle (:class:`~accounts.models.LookupThrottle`) is registered here too,
with the admin class the API defines next to its rules (``accounts.api.admin``): read-only,
with an action to lift a block.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext_lazy
from django.utils.translation import gettext_lazy as _
from mptt.admin import MPTTModelAdmin

from . import codes, exceptions, facade, money
from .api.admin import ApiKeyAdmin, LookupThrottleAdmin
from .models import (
    Account,
    AccountType,
    ApiKey,
    AuditEntry,
    Kind,
    LookupThrottle,
    Transaction,
    Transfer,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

#: The core accounts (source, sales, expired, their siblings in other currencies and the
#: trading accounts) have codes starting with this; the app finds them by code, so they stay.
CORE_CODE_PREFIX = "CORE-"


def may_see_card_codes(request: HttpRequest) -> bool:
    return bool(request.user.has_perm("accounts.view_card_code"))


def code_search(request: HttpRequest, text: str, *, prefix: str = "") -> Q:
    """Accounts whose code matches ``text`` as ``request.user`` may search codes.

    Everyone finds an account by its full code, typed as a customer would; part of a code
    finds house accounts, and cards only for holders of ``accounts.view_card_code``: otherwise
    searching "7", "7K", "7KQ"... would read a card's code a character at a time.
    """
    found = Q(**{f"{prefix}code": codes.normalise(text)}) | Q(**{f"{prefix}code__iexact": text})
    part = Q(**{f"{prefix}code__icontains": text})
    if not may_see_card_codes(request):
        part &= Q(**{f"{prefix}is_card": False})
    return found | part


class CodeSearchMixin:
    """Search codes through :func:`code_search`, the other ``search_fields`` as usual."""

    #: The path from the listed model to the account whose code is searched, and the field of
    #: ``search_fields`` it replaces.
    code_paths: tuple[str, ...] = ("",)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        searched, may_have_duplicates = super().get_search_results(  # type: ignore[misc]
            request, queryset, search_term
        )
        text = search_term.strip()
        if text:
            found = Q()
            for path in self.code_paths:
                found |= code_search(request, text, prefix=path)
            searched |= queryset.filter(found)
        return searched, may_have_duplicates

    def get_search_fields(self, request: HttpRequest) -> Any:
        fields = super().get_search_fields(request)  # type: ignore[misc]
        # Accounts' codes are searched by code_search() alone.
        replaced = {f"{path}code" for path in self.code_paths}
        return [f for f in fields if f not in replaced]


@admin.display(description=_("code"))
def masked_code(obj: Account) -> str:
    """A card's code, masked; other accounts' codes as they are."""
    return obj.display_code


def _amount(amount: Any, currency: str) -> str:
    """``12.50 GBP``: an amount with the places its currency uses, localised, and the currency."""
    return "-" if amount is None else money.money_text(amount, currency)


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

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limit = self.instance.credit_limit if self.instance.pk is not None else None
        if "credit_limit" in self.fields and limit is not None:
            # The column holds four places; show the limit as its currency writes it (10.00).
            self.initial["credit_limit"] = money.format_amount(limit, self.instance.currency)

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
        if account.is_card:
            # The database refuses these too (accounts_account_card_is_limited_liability).
            if "credit_limit" in data and limit is None:
                self.add_error(
                    "credit_limit", _("A customer card always has a credit limit (0 for none).")
                )
            if "kind" in data and data["kind"] != Kind.LIABILITY:
                self.add_error("kind", _("A customer card is a liability."))
            if str(data.get("code", "")).upper().startswith(CORE_CODE_PREFIX):
                self.add_error("code", _("A customer card cannot have a core account's code."))
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


@dataclass(frozen=True)
class StatusTexts:
    """What a status action says: whole sentences for each act, so each language words them
    its own way (a participle such as "frozen" is never put into another sentence).

    The plural messages are ``ngettext_lazy`` strings counted by ``%(count)d``.
    """

    description: StrOrPromise
    logged: StrOrPromise
    changed: StrOrPromise
    unchanged: StrOrPromise
    refused: StrOrPromise


FREEZE_TEXTS = StatusTexts(
    description=_("Freeze the selected accounts"),
    logged=_("Frozen via admin action."),
    changed=ngettext_lazy("%(count)d account frozen.", "%(count)d accounts frozen.", "count"),
    unchanged=ngettext_lazy(
        "%(count)d account was already frozen.", "%(count)d accounts were already frozen.", "count"
    ),
    refused=ngettext_lazy(
        "%(count)d account was not frozen: %(reasons)s",
        "%(count)d accounts were not frozen: %(reasons)s",
        "count",
    ),
)
THAW_TEXTS = StatusTexts(
    description=_("Thaw the selected accounts"),
    logged=_("Thawed via admin action."),
    changed=ngettext_lazy("%(count)d account thawed.", "%(count)d accounts thawed.", "count"),
    unchanged=ngettext_lazy(
        "%(count)d account was already thawed.", "%(count)d accounts were already thawed.", "count"
    ),
    refused=ngettext_lazy(
        "%(count)d account was not thawed: %(reasons)s",
        "%(count)d accounts were not thawed: %(reasons)s",
        "count",
    ),
)
CLOSE_TEXTS = StatusTexts(
    description=_("Close the selected accounts (zero balance only)"),
    logged=_("Closed via admin action."),
    changed=ngettext_lazy("%(count)d account closed.", "%(count)d accounts closed.", "count"),
    unchanged=ngettext_lazy(
        "%(count)d account was already closed.", "%(count)d accounts were already closed.", "count"
    ),
    refused=ngettext_lazy(
        "%(count)d account was not closed: %(reasons)s",
        "%(count)d accounts were not closed: %(reasons)s",
        "count",
    ),
)


def _status_action(
    name: str, change: Callable[..., Account], texts: StatusTexts
) -> Callable[[Any, HttpRequest, QuerySet[Account]], None]:
    """Build an admin action that applies ``change`` (a facade function) account by account.

    Each account is locked and changed in its own transaction by the facade, so one refusal
    does not undo the others; refusals are listed in a warning.
    """

    @admin.action(permissions=["change"], description=texts.description)
    def action(modeladmin: AccountAdmin, request: HttpRequest, queryset: QuerySet[Account]) -> None:
        changed, unchanged, refusals = 0, 0, []
        for account in queryset.order_by("pk"):
            before = account.status
            try:
                after = change(account, user=request.user).status
            except exceptions.AccountException as refusal:
                refusals.append(
                    gettext("%(account)s: %(reason)s")
                    % {"account": account, "reason": refusal.message}
                )
                continue
            if after == before:
                unchanged += 1
            else:
                changed += 1
                modeladmin.log_change(request, account, str(texts.logged))
        if changed:
            modeladmin.message_user(request, texts.changed % {"count": changed}, messages.SUCCESS)
        if unchanged:
            modeladmin.message_user(request, texts.unchanged % {"count": unchanged}, messages.INFO)
        if refusals:
            modeladmin.message_user(
                request,
                texts.refused % {"count": len(refusals), "reasons": " ".join(refusals)},
                messages.WARNING,
            )

    action.__name__ = name
    return action


@admin.register(Account)
class AccountAdmin(CodeSearchMixin, admin.ModelAdmin):
    form = AccountAdminForm
    list_display = [
        "name",
        "code",
        "is_card",
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
    list_filter = ["is_card", "kind", "status", "currency", "account_type"]
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
        "is_card",
        "status",
        "balance_display",
        "version",
        "postings_link",
        "created_at",
        "updated_at",
    ]
    fieldsets = [
        (None, {"fields": ["name", "code", "is_card", "description", "account_type"]}),
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
        _status_action("freeze_accounts", facade.freeze_account, FREEZE_TEXTS),
        _status_action("thaw_accounts", facade.thaw_account, THAW_TEXTS),
        _status_action("close_accounts", facade.close_account, CLOSE_TEXTS),
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

    def hides_code(self, request: HttpRequest, obj: Account | None) -> bool:
        return obj is not None and obj.is_card and not may_see_card_codes(request)

    def get_list_display(self, request: HttpRequest) -> Any:
        columns = list(super().get_list_display(request))
        if not may_see_card_codes(request):
            # Not sortable either: the order of the rows would tell where a hidden code lies.
            columns = [masked_code if c == "code" else c for c in columns]
        return columns

    def get_list_display_links(self, request: HttpRequest, list_display: Any) -> Any:
        return ["name", masked_code if masked_code in list_display else "code"]

    def get_fieldsets(self, request: HttpRequest, obj: Account | None = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)
        if obj is not None and not self.has_change_permission(request, obj):
            # Read only, the raw field would show the column's four places (10.0000).
            fieldsets = [
                (name, {**options, "fields": _limit_display(options["fields"])})
                for name, options in fieldsets
            ]
        if not self.hides_code(request, obj):
            return fieldsets
        return [
            (name, {**options, "fields": _mask_code(options["fields"])})
            for name, options in fieldsets
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Account | None = None) -> Any:
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.version > 0:
            # The database fixes these once money has moved through the account.
            fields += ["kind", "currency"]
        if self.hides_code(request, obj):
            fields.append("code_masked")
        return fields

    @admin.display(description=_("code"))
    def code_masked(self, obj: Account) -> str:
        return obj.display_code

    def has_delete_permission(self, request: HttpRequest, obj: Account | None = None) -> bool:
        if obj is not None and obj.code.startswith(CORE_CODE_PREFIX):
            return False
        # Accounts with postings are protected by the ledger's foreign keys; the admin's
        # confirmation page lists those postings instead of deleting anything.
        return super().has_delete_permission(request, obj)


def _limit_display(fields: Any) -> list[Any]:
    """``fields`` of a fieldset with the credit limit replaced by its formatted display."""
    return ["credit_limit_display" if name == "credit_limit" else name for name in fields]


def _mask_code(fields: Any) -> list[Any]:
    """``fields`` of a fieldset with the code replaced by its masked, read-only display."""
    return ["code_masked" if name == "code" else name for name in fields]


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


admin.site.register(LookupThrottle, LookupThrottleAdmin)
admin.site.register(ApiKey, ApiKeyAdmin)
