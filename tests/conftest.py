"""Shared fixtures: users, accounts and a funded account."""

from __future__ import annotations

from decimal import Decimal

import pytest

from accounts import facade
from accounts.models import Account

from .factories import AccountFactory, SourceAccountFactory, StaffFactory, UserFactory


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
    from accounts.models import Transaction, Transfer

    return (
        Transfer.objects.count(),
        Transaction.objects.count(),
        sorted(Account.objects.values_list("pk", "balance", "version", "status")),
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
