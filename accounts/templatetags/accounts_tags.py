"""Template helpers for pages that show money and accounts: ``{% load accounts_tags %}``.

Amounts are shown with exactly the decimal places their currency uses (two for GBP, none for
JPY), in the active language's number format (``1.234,50`` in German with
``USE_THOUSAND_SEPARATOR``), never through ``floatformat``, which goes through binary floating
point. A card's code is
shown masked unless the page says its reader may see it (``shown_code``).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import template
from django.http import QueryDict

from accounts import conf
from accounts.money import localize_amount

register = template.Library()


@register.filter
def money(amount: Any, currency: str | None = None) -> str:
    """Format ``amount`` for ``currency``, localised: ``{{ balance|money:account.currency }}``.

    ``None`` gives an empty string; anything that is not a number is returned unchanged so a
    template typo shows up on the page instead of raising.
    """
    if amount is None or amount == "":
        return ""
    if not isinstance(amount, Decimal):
        try:
            amount = Decimal(str(amount))
        except (InvalidOperation, ValueError):
            return str(amount)
    if not amount.is_finite():
        return str(amount)
    return localize_amount(amount, currency or conf.default_currency())


@register.filter
def shown_code(account: Any, full: Any = False) -> str:
    """An account's code for a page: ``{{ account|shown_code:can.view_card_code }}``.

    A customer card's code is its bearer secret: in full only when ``full`` is true, otherwise
    masked (``****-****-****-PB3N``). Other accounts' codes are shown as they are.
    """
    if full or not getattr(account, "is_card", False):
        return str(getattr(account, "code", ""))
    return str(account.display_code)


@register.simple_tag(takes_context=True)
def query_with(context: template.Context, **changes: Any) -> str:
    """Return the current query string with ``changes`` applied, starting with ``?``.

    ``{% query_with page=3 %}`` keeps the list's filters while moving to page 3; a value of
    ``None`` removes the parameter.
    """
    request = context.get("request")
    params = request.GET.copy() if request is not None else QueryDict(mutable=True)
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = str(value)
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"
