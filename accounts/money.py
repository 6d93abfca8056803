"""Money precision and currencies: code constants, never settings.

Amounts are ``Decimal`` with at most :data:`DECIMAL_PLACES` places in the database. Each currency
allows its own number of places (ISO 4217 minor units); an amount with more places than its
currency allows is refused, never rounded.
"""

from __future__ import annotations

import re
from decimal import Decimal

#: Digits and places of every money column. Four places hold every ISO 4217 currency in use.
MAX_DIGITS = 20
DECIMAL_PLACES = 4

#: ISO 4217 minor units that differ from the usual two.
_MINOR_UNITS = {
    # no minor unit
    "BIF": 0,
    "CLP": 0,
    "DJF": 0,
    "GNF": 0,
    "ISK": 0,
    "JPY": 0,
    "KMF": 0,
    "KRW": 0,
    "PYG": 0,
    "RWF": 0,
    "UGX": 0,
    "UYI": 0,
    "VND": 0,
    "VUV": 0,
    "XAF": 0,
    "XOF": 0,
    "XPF": 0,
    # three places
    "BHD": 3,
    "IQD": 3,
    "JOD": 3,
    "KWD": 3,
    "LYD": 3,
    "OMR": 3,
    "TND": 3,
    # four places
    "CLF": 4,
    "UYW": 4,
}

_CURRENCY_RE = re.compile(r"^[A-Z]{3}$")


def is_valid_currency(code: object) -> bool:
    """Return whether ``code`` has the shape of an ISO 4217 code (three capital letters)."""
    return isinstance(code, str) and bool(_CURRENCY_RE.match(code))


def minor_units(currency: str) -> int:
    """Return how many decimal places ``currency`` allows (two unless ISO says otherwise)."""
    return _MINOR_UNITS.get(currency, 2)


def places(amount: Decimal) -> int:
    """Return the number of decimal places ``amount`` is written with (``1.50`` has 2)."""
    exponent = amount.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_units(currency))


def format_amount(amount: Decimal | None, currency: str) -> str:
    """Format ``amount`` with exactly the places ``currency`` uses (``"12.50"``)."""
    if amount is None:
        return ""
    return str(amount.quantize(quantum(currency)))


def localize_amount(amount: Decimal | None, currency: str) -> str:
    """Format ``amount`` for people: its currency's places, in the active language's format.

    ``1234.5`` GBP reads ``1234.50`` in English and ``1234,50`` in German, with thousands
    grouped (``1,234.50``, ``1.234,50``) when ``USE_THOUSAND_SEPARATOR`` is on. Pages, the
    dashboard's messages and the admin use this. The ledger's refusals (facade, models), CSV
    files, the API, form values and commands use :func:`format_amount`, which stays
    machine-readable: a refusal quotes the same figures in every language, so an API client
    can read them. The amount is never a float.
    """
    if amount is None:
        return ""
    # Imported here: this module is vocabulary that the settings-free layers import too.
    from django.utils.formats import number_format

    return number_format(amount.quantize(quantum(currency)), minor_units(currency))


def money_text(amount: Decimal | None, currency: str) -> str:
    """An amount and its currency for people (``1,234.50 GBP``), as pages, the dashboard's
    messages and the admin show them: :func:`localize_amount`, then the currency code, in the
    order the active language writes them. The one place that joins the two."""
    from django.utils.translation import gettext

    return gettext("%(amount)s %(currency)s") % {
        "amount": localize_amount(amount, currency),
        "currency": currency,
    }


class Balance:
    """Amounts in several currencies, as for a trial balance; never adds across currencies.

    ``Balance({"GBP": Decimal("10")}) + Balance({"EUR": Decimal("5")})`` holds both amounts
    side by side. Comparing with a plain number is only allowed when the balance has at most
    one non-zero currency.
    """

    __slots__ = ("_amounts",)

    def __init__(self, amounts: dict[str, Decimal] | None = None) -> None:
        self._amounts: dict[str, Decimal] = {}
        for currency, amount in (amounts or {}).items():
            self._amounts[currency] = self._amounts.get(currency, Decimal(0)) + Decimal(amount)

    def currencies(self) -> list[str]:
        return sorted(c for c, a in self._amounts.items() if a != 0)

    def __getitem__(self, currency: str) -> Decimal:
        return self._amounts.get(currency, Decimal(0))

    def items(self) -> list[tuple[str, Decimal]]:
        return [(c, self._amounts[c]) for c in sorted(self._amounts)]

    def __add__(self, other: Balance) -> Balance:
        if not isinstance(other, Balance):
            return NotImplemented
        result = Balance(self._amounts)
        for currency, amount in other._amounts.items():
            result._amounts[currency] = result._amounts.get(currency, Decimal(0)) + amount
        return result

    __radd__ = __add__

    def __neg__(self) -> Balance:
        return Balance({c: -a for c, a in self._amounts.items()})

    def __sub__(self, other: Balance) -> Balance:
        return self + (-other)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Balance):
            return all(self[c] == other[c] for c in set(self._amounts) | set(other._amounts))
        if isinstance(other, (int, Decimal)):
            nonzero = self.currencies()
            if len(nonzero) > 1:
                return False
            return (self[nonzero[0]] if nonzero else Decimal(0)) == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple((c, a) for c, a in self.items() if a != 0))

    def is_zero(self) -> bool:
        return not self.currencies()

    def __repr__(self) -> str:
        inner = ", ".join(f"{a} {c}" for c, a in self.items())
        return f"Balance({inner})"
