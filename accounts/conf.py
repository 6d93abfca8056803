"""The only module that reads ``django.conf.settings`` for this app.

Every ``ACCOUNTS_*`` setting, its default and its meaning live here, and each is read when it is
used (never at import time) so ``override_settings`` works in tests. Money precision is *not* a
setting: it is a code constant in :mod:`accounts.money`, because settings must never change the
schema.
"""

from __future__ import annotations

import datetime
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
    "ACCOUNTS_RETAINED_EARNINGS": (
        None,
        "Code of the equity account the year-end closing entry moves income and expenses into, "
        "or a list of codes, one per currency (close_period(..., closing_entry=True)).",
    ),
    # The optional outbox (``accounts.outbox``) and its ``deliver_outbox`` command.
    "ACCOUNTS_OUTBOX_WEBHOOK_URL": (None, "URL deliver_outbox POSTs each event to (http/https)."),
    "ACCOUNTS_OUTBOX_SECRET": (None, "Key of the HMAC-SHA256 signature of each delivery."),
    "ACCOUNTS_OUTBOX_MAX_ATTEMPTS": (10, "Deliveries tried per message before giving up on it."),
    "ACCOUNTS_OUTBOX_BACKOFF_SECONDS": (60, "Wait after a first failure; doubled per failure."),
    "ACCOUNTS_OUTBOX_BACKOFF_MAX_SECONDS": (6 * 3600, "Longest wait between two attempts."),
    "ACCOUNTS_OUTBOX_TIMEOUT_SECONDS": (10, "Seconds one delivery may take before it fails."),
    "ACCOUNTS_IDEMPOTENCY_KEY_RETENTION": (
        datetime.timedelta(days=30),
        "How long an idempotency key is kept (a timedelta); purge_idempotency_keys deletes "
        "older ones, after which a retry with that key is a new call.",
    ),
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


def retained_earnings_codes() -> list[str]:
    """The codes ``ACCOUNTS_RETAINED_EARNINGS`` names (one code or several), or none."""
    value = get("ACCOUNTS_RETAINED_EARNINGS")
    if not value:
        return []
    if isinstance(value, str):
        return [value]
    return [str(code) for code in value]


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


def outbox_webhook_url() -> str | None:
    value = get("ACCOUNTS_OUTBOX_WEBHOOK_URL")
    return str(value) if value else None


def outbox_secret() -> bytes | None:
    value = get("ACCOUNTS_OUTBOX_SECRET")
    if not value:
        return None
    return value if isinstance(value, bytes) else str(value).encode()


def outbox_max_attempts() -> int:
    return int(get("ACCOUNTS_OUTBOX_MAX_ATTEMPTS"))


def outbox_backoff_seconds() -> float:
    return float(get("ACCOUNTS_OUTBOX_BACKOFF_SECONDS"))


def outbox_backoff_max_seconds() -> float:
    return float(get("ACCOUNTS_OUTBOX_BACKOFF_MAX_SECONDS"))


def outbox_timeout_seconds() -> float:
    return float(get("ACCOUNTS_OUTBOX_TIMEOUT_SECONDS"))


def idempotency_key_retention() -> datetime.timedelta:
    """How long idempotency keys are kept; the system check accounts.E005 vouches for it."""
    value = get("ACCOUNTS_IDEMPOTENCY_KEY_RETENTION")
    if not isinstance(value, datetime.timedelta):
        raise TypeError(f"ACCOUNTS_IDEMPOTENCY_KEY_RETENTION must be a timedelta, not {value!r}")
    return value
