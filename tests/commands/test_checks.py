"""System checks catch bad ACCOUNTS_* settings before the first request."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.checks import Error, Warning, run_checks
from django.test import override_settings


def accounts_messages() -> dict[str, list[str]]:
    """Run every check and return this app's messages as ``{id: [message, ...]}``."""
    found: dict[str, list[str]] = {}
    for message in run_checks():
        if message.id and message.id.startswith("accounts."):
            found.setdefault(message.id, []).append(message.msg)
    return found


def test_the_test_settings_pass_every_check():
    assert accounts_messages() == {}


@pytest.mark.parametrize(
    "setting",
    ["ACCOUNTS_SOURCE_NAME", "ACCOUNTS_SALES_NAME", "ACCOUNTS_EXPIRED_NAME"],
)
@pytest.mark.parametrize("value", ["", "   ", None, 42])
def test_a_core_account_name_must_be_a_non_empty_string(setting, value):
    with override_settings(**{setting: value}):
        messages = accounts_messages()
    assert list(messages) == ["accounts.E001"]
    assert setting in messages["accounts.E001"][0]


@override_settings(ACCOUNTS_LAPSED_NAME="")
def test_an_empty_old_setting_name_is_caught_too():
    assert list(accounts_messages()) == ["accounts.E001"]


@pytest.mark.parametrize("setting", ["ACCOUNTS_MIN_INITIAL_VALUE", "ACCOUNTS_MAX_INITIAL_VALUE"])
@pytest.mark.parametrize(
    "value", [10.0, "10.00", Decimal("-1"), -1, Decimal("NaN"), Decimal("Infinity"), True]
)
def test_load_bounds_must_be_non_negative_decimals(setting, value):
    with override_settings(**{setting: value}):
        messages = accounts_messages()
    assert list(messages) == ["accounts.E002"]
    assert setting in messages["accounts.E002"][0]


@pytest.mark.parametrize("value", [None, 0, 25, Decimal("10.00")])
def test_good_load_bounds_pass(value):
    with override_settings(ACCOUNTS_MIN_INITIAL_VALUE=value, ACCOUNTS_MAX_INITIAL_VALUE=value):
        assert accounts_messages() == {}


@override_settings(
    ACCOUNTS_MIN_INITIAL_VALUE=Decimal("100.00"), ACCOUNTS_MAX_INITIAL_VALUE=Decimal("50.00")
)
def test_the_minimum_load_may_not_exceed_the_maximum():
    assert list(accounts_messages()) == ["accounts.E003"]


@pytest.mark.parametrize("currency", ["gbp", "POUND", "", None, "GB"])
def test_the_default_currency_must_be_an_iso_code(currency):
    with override_settings(ACCOUNTS_DEFAULT_CURRENCY=currency):
        assert list(accounts_messages()) == ["accounts.E004"]


@pytest.mark.parametrize(
    ("name", "alias"),
    [
        ("ACCOUNTS_SALES_NAME", "ACCOUNTS_REDEMPTIONS_NAME"),
        ("ACCOUNTS_EXPIRED_NAME", "ACCOUNTS_LAPSED_NAME"),
    ],
)
def test_setting_a_name_and_its_old_alias_differently_warns(name, alias):
    with override_settings(**{name: "New", alias: "Old"}):
        messages = accounts_messages()
    assert list(messages) == ["accounts.W001"]
    assert name in messages["accounts.W001"][0] and alias in messages["accounts.W001"][0]


@override_settings(ACCOUNTS_SALES_NAME="Sales", ACCOUNTS_REDEMPTIONS_NAME="Sales")
def test_setting_a_name_and_its_alias_alike_is_fine():
    assert accounts_messages() == {}


def test_errors_are_errors_and_the_alias_clash_is_a_warning():
    with override_settings(ACCOUNTS_DEFAULT_CURRENCY="x"):
        assert all(isinstance(m, Error) for m in run_checks() if m.id == "accounts.E004")
    with override_settings(ACCOUNTS_SALES_NAME="a", ACCOUNTS_REDEMPTIONS_NAME="b"):
        warnings = [m for m in run_checks() if m.id == "accounts.W001"]
        assert warnings and all(isinstance(m, Warning) for m in warnings)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "example.com/hook", "", 42])
def test_the_outbox_webhook_must_be_an_http_url(url):
    with override_settings(ACCOUNTS_OUTBOX_WEBHOOK_URL=url):
        assert list(accounts_messages()) == ["accounts.E005"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ACCOUNTS_OUTBOX_MAX_ATTEMPTS", 0),
        ("ACCOUNTS_OUTBOX_MAX_ATTEMPTS", 2.5),
        ("ACCOUNTS_OUTBOX_BACKOFF_SECONDS", -1),
        ("ACCOUNTS_OUTBOX_BACKOFF_MAX_SECONDS", "60"),
        ("ACCOUNTS_OUTBOX_TIMEOUT_SECONDS", None),
    ],
)
def test_the_outbox_numbers_must_be_positive(name, value):
    with override_settings(**{name: value}):
        assert list(accounts_messages()) == ["accounts.E006"]


def test_good_outbox_settings_pass():
    with override_settings(
        ACCOUNTS_OUTBOX_WEBHOOK_URL="https://hooks.example.com/accounts",
        ACCOUNTS_OUTBOX_MAX_ATTEMPTS=3,
        ACCOUNTS_OUTBOX_BACKOFF_SECONDS=0.5,
    ):
        assert list(accounts_messages()) == []
