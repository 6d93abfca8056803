"""System checks for the ``ACCOUNTS_*`` settings (ids ``accounts.E001`` and up)."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks
from django.utils.translation import gettext

from . import conf, money


def check_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    return [
        *_check_core_names(),
        *_check_initial_value_bounds(),
        *_check_default_currency(),
        *_check_idempotency_key_retention(),
        *_check_old_names(),
        *_check_outbox(),
    ]


def _check_core_names() -> list[checks.CheckMessage]:
    errors: list[checks.CheckMessage] = []
    for name in ("ACCOUNTS_SOURCE_NAME", "ACCOUNTS_SALES_NAME", "ACCOUNTS_EXPIRED_NAME"):
        value = conf.get(name)
        if not isinstance(value, str) or not value.strip():
            errors.append(
                checks.Error(
                    gettext("%(setting)s must be a non-empty string, not %(value)s.")
                    % {"setting": name, "value": repr(value)},
                    id="accounts.E001",
                )
            )
    return errors


def _check_initial_value_bounds() -> list[checks.CheckMessage]:
    errors: list[checks.CheckMessage] = []
    bounds = {}
    for name in ("ACCOUNTS_MIN_INITIAL_VALUE", "ACCOUNTS_MAX_INITIAL_VALUE"):
        value = conf.get(name)
        if value is None:
            continue
        if (
            isinstance(value, bool)
            or not isinstance(value, (Decimal, int))
            or (isinstance(value, Decimal) and not value.is_finite())
            or value < 0
        ):
            errors.append(
                checks.Error(
                    gettext("%(setting)s must be None or a non-negative Decimal, not %(value)s.")
                    % {"setting": name, "value": repr(value)},
                    hint=gettext("Write it as Decimal('10.00'); floats are not exact."),
                    id="accounts.E002",
                )
            )
        else:
            bounds[name] = Decimal(value)
    low = bounds.get("ACCOUNTS_MIN_INITIAL_VALUE")
    high = bounds.get("ACCOUNTS_MAX_INITIAL_VALUE")
    if low is not None and high is not None and low > high:
        errors.append(
            checks.Error(
                gettext(
                    "ACCOUNTS_MIN_INITIAL_VALUE (%(low)s) is above ACCOUNTS_MAX_INITIAL_VALUE "
                    "(%(high)s)."
                )
                % {"low": low, "high": high},
                id="accounts.E003",
            )
        )
    return errors


def _check_default_currency() -> list[checks.CheckMessage]:
    currency = conf.get("ACCOUNTS_DEFAULT_CURRENCY")
    if money.is_valid_currency(currency):
        return []
    return [
        checks.Error(
            gettext("ACCOUNTS_DEFAULT_CURRENCY must be an ISO 4217 code like 'GBP', not %(value)s.")
            % {"value": repr(currency)},
            id="accounts.E004",
        )
    ]


def _check_idempotency_key_retention() -> list[checks.CheckMessage]:
    value = conf.get("ACCOUNTS_IDEMPOTENCY_KEY_RETENTION")
    if isinstance(value, datetime.timedelta) and value > datetime.timedelta(0):
        return []
    return [
        checks.Error(
            gettext(
                "ACCOUNTS_IDEMPOTENCY_KEY_RETENTION must be a positive timedelta, not %(value)s."
            )
            % {"value": repr(value)},
            hint=gettext("Write it as datetime.timedelta(days=30)."),
            id="accounts.E007",
        )
    ]


def _check_old_names() -> list[checks.CheckMessage]:
    errors: list[checks.CheckMessage] = []
    for alias, name in conf.ALIASES.items():
        if hasattr(settings, alias) and hasattr(settings, name):
            if getattr(settings, alias) != getattr(settings, name):
                errors.append(
                    checks.Warning(
                        gettext(
                            "Both %(setting)s and its old name %(alias)s are set, to different "
                            "values; %(setting)s is used."
                        )
                        % {"setting": name, "alias": alias},
                        id="accounts.W001",
                    )
                )
    return errors


#: Schemes the outbox's webhook URL may use: urllib would also open ``file:`` and ``ftp:`` URLs.
WEBHOOK_SCHEMES = frozenset({"http", "https"})


def is_webhook_url(url: object) -> bool:
    """Whether ``url`` is an absolute http or https URL."""
    if not isinstance(url, str):
        return False
    parts = urlsplit(url)
    return parts.scheme in WEBHOOK_SCHEMES and bool(parts.netloc)


def _is_positive_number(value: Any, *, whole: bool) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        return False
    return value > 0 and (isinstance(value, int) or not whole)


def _check_outbox() -> list[checks.CheckMessage]:
    """The outbox's settings, checked whether or not ``accounts.outbox`` is installed."""
    errors: list[checks.CheckMessage] = []
    url = conf.get("ACCOUNTS_OUTBOX_WEBHOOK_URL")
    if url is not None and not is_webhook_url(url):
        errors.append(
            checks.Error(
                gettext("ACCOUNTS_OUTBOX_WEBHOOK_URL must be an http or https URL, not %(value)s.")
                % {"value": repr(url)},
                id="accounts.E005",
            )
        )
    numbers = [
        ("ACCOUNTS_OUTBOX_MAX_ATTEMPTS", True),
        ("ACCOUNTS_OUTBOX_BACKOFF_SECONDS", False),
        ("ACCOUNTS_OUTBOX_BACKOFF_MAX_SECONDS", False),
        ("ACCOUNTS_OUTBOX_TIMEOUT_SECONDS", False),
    ]
    for name, whole in numbers:
        value = conf.get(name)
        if not _is_positive_number(value, whole=whole):
            errors.append(
                checks.Error(
                    gettext("%(setting)s must be a positive number, not %(value)s.")
                    % {"setting": name, "value": repr(value)},
                    id="accounts.E006",
                )
            )
    return errors


def register() -> None:
    checks.register(check_settings, "accounts")
