"""What the ledger's admins share: searching and masking codes, amounts, read-only rows."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from .. import codes, money
from ..models import Account

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


class ReadOnlyMixin:
    """Ledger rows are written only by the facade and never changed or deleted."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
