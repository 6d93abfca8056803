"""The only module that reads ``django.conf.settings`` for this app.

Every ``ACCOUNTS_*`` setting, its default and its meaning live here, and each is read when it is
used (never at import time) so ``override_settings`` works in tests. Money precision is *not* a
setting: it is a code constant in :mod:`accounts.money`, because settings must never change the
schema.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings

#: Setting name -> (default, meaning). The single source of truth for docs and checks.
DEFAULTS: dict[str, tuple[Any, str]] = {
    "ACCOUNTS_SOURCE_NAME": ("Source", "Name of the core account money is loaded from."),
    "ACCOUNTS_SALES_NAME": ("Sales", "Name of the core account redemptions are paid into."),
    "ACCOUNTS_EXPIRED_NAME": ("Expired", "Name of the core account expired balances move to."),
    "ACCOUNTS_MIN_INITIAL_VALUE": (None, "Smallest amount that may be loaded or topped up."),
    "ACCOUNTS_MAX_INITIAL_VALUE": (
        None,
        "Largest amount that may be loaded; also caps the balance a top-up may reach.",
    ),
    "ACCOUNTS_DEFAULT_CURRENCY": ("GBP", "ISO 4217 code given to new accounts."),
}

#: Older names from the predecessor, read when the newer name is not set.
ALIASES: dict[str, str] = {
    "ACCOUNTS_REDEMPTIONS_NAME": "ACCOUNTS_SALES_NAME",
    "ACCOUNTS_LAPSED_NAME": "ACCOUNTS_EXPIRED_NAME",
}


def get(name: str) -> Any:
    """Return the current value of setting ``name``, honouring aliases and defaults."""
    if hasattr(settings, name):
        return getattr(settings, name)
    for alias, target in ALIASES.items():
        if target == name and hasattr(settings, alias):
            return getattr(settings, alias)
    return DEFAULTS[name][0]


def source_name() -> str:
    return str(get("ACCOUNTS_SOURCE_NAME"))


def sales_name() -> str:
    return str(get("ACCOUNTS_SALES_NAME"))


def expired_name() -> str:
    return str(get("ACCOUNTS_EXPIRED_NAME"))


def _decimal_or_none(value: Any) -> Decimal | None:
    if value is None:
        return None
    return Decimal(str(value)) if not isinstance(value, Decimal) else value


def min_initial_value() -> Decimal | None:
    return _decimal_or_none(get("ACCOUNTS_MIN_INITIAL_VALUE"))


def max_initial_value() -> Decimal | None:
    return _decimal_or_none(get("ACCOUNTS_MAX_INITIAL_VALUE"))


def default_currency() -> str:
    """Default for ``Account.currency``; a callable so migrations never bake a setting in."""
    return str(get("ACCOUNTS_DEFAULT_CURRENCY"))
