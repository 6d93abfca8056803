"""The admin of account types and accounts: forms checked as the database checks, and the
freeze / thaw / close actions, which go through :mod:`accounts.facade`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext_lazy
from django.utils.translation import gettext_lazy as _
from mptt.admin import MPTTModelAdmin

from .. import exceptions, facade, money
from ..models import Account, AccountType, Kind
from .common import CORE_CODE_PREFIX, CodeSearchMixin, _amount, masked_code, may_see_card_codes

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


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
            "is_bank",
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
        if data.get("is_bank") and data.get("kind", account.kind) != Kind.ASSET:
            # The database refuses it too (accounts_account_bank_is_asset).
            self.add_error("is_bank", _("Only an asset account can be a bank account."))
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
    list_filter = ["is_card", "is_bank", "kind", "status", "currency", "account_type"]
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
        (_("Ledger"), {"fields": ["kind", "is_bank", "parent", "currency", "credit_limit"]}),
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
