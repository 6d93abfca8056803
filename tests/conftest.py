"""Shared fixtures: users, accounts and a funded account."""

from __future__ import annotations

import os
from decimal import Decimal
from importlib.util import find_spec

import pytest
from django.db import connection

from accounts import facade
from accounts.models import Account

from .factories import AccountFactory, SourceAccountFactory, StaffFactory, UserFactory

# The concurrency tests start separate OS processes (or threads with their own connections)
# that must share the test database. On SQLite
# that database lives in the memory of the test process, so no other process can see it; those
# tests run on PostgreSQL and MariaDB instead (set DATABASE_URL), which is where many writers
# meet. Leaving the module out keeps the SQLite run honest: nothing is reported as skipped.
collect_ignore = (
    [
        "engine/test_concurrency.py",
        "engine/test_batches_concurrency.py",
        "engine/test_holds_concurrency.py",
        "engine/test_periods_concurrency.py",
        "surfaces/test_api_concurrency.py",
        "outbox/test_outbox_concurrency.py",
    ]
    if connection.vendor == "sqlite"
    else []
)
# The deployment tests create roles and a database of their own on the server the suite runs on,
# with that server's SQL: each module is collected only there, never reported as skipped.
if connection.vendor != "postgresql":
    collect_ignore.append("integrity/test_deploy_roles.py")
if connection.vendor != "mysql":
    collect_ignore.append("integrity/test_deploy_roles_mariadb.py")


# -- the browser tests -----------------------------------------------------------------------

#: Where Debian's ``chromium`` package installs the browser; ``BROWSER_TESTS_CHROMIUM`` may name
#: another Chromium binary.
CHROMIUM_PATH = os.environ.get("BROWSER_TESTS_CHROMIUM") or "/usr/bin/chromium"
#: Set to 1 (as ``.ci/run`` does) to make a missing browser a failure instead of a skip.
REQUIRE_BROWSER = os.environ.get("ACCOUNTS_REQUIRE_BROWSER") == "1"


def browser_missing() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if find_spec("playwright") is None:
        return "Playwright's Python package is not installed (pip install -e '.[browser]')"
    if not os.path.exists(CHROMIUM_PATH):
        return f"no Chromium at {CHROMIUM_PATH} (apt-get install chromium)"
    return None


# On a developer's machine without a browser, `make test` passes with the browser tests left
# out and one test skipped that says why (tests/test_browser_available.py); CI sets
# ACCOUNTS_REQUIRE_BROWSER=1, and then a missing browser fails the run.
if browser_missing() and not REQUIRE_BROWSER:
    collect_ignore.append("browser")


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def staff(db):
    return StaffFactory()


@pytest.fixture
def source(db):
    """An unlimited source of money (an asset with no credit limit)."""
    return SourceAccountFactory()


@pytest.fixture
def account(db):
    return AccountFactory()


@pytest.fixture
def funded(db, source):
    """A liability account holding 100.00, loaded from ``source``."""
    acct = AccountFactory()
    facade.transfer(source, acct, Decimal("100.00"))
    return acct


def ledger_snapshot():
    """Everything a refused call must leave unchanged."""
    from accounts.models import Hold, IdempotencyKey, Transaction, Transfer

    return (
        Transfer.objects.count(),
        Transaction.objects.count(),
        IdempotencyKey.objects.count(),
        sorted(Hold.objects.values_list("pk", "status")),
        sorted(
            Account.objects.values_list(
                "pk", "balance", "version", "status", "pending_debits", "pending_credits"
            )
        ),
    )


@pytest.fixture
def unchanged(db):
    """Assert that the block under test leaves the ledger exactly as it found it."""

    class Checker:
        def __enter__(self):
            self.before = ledger_snapshot()
            return self

        def __exit__(self, *exc):
            assert ledger_snapshot() == self.before
            return False

    return Checker
