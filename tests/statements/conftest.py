"""Bank accounts and the statement files the tests ship (tests/statements/files/)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from accounts.models import Kind

from ..factories import AccountFactory, StaffFactory
from ..surfaces.test_dashboard import client_for, grant

#: What a bookkeeper of the statement pages holds.
PERMISSIONS = ("add_statementimport", "view_statementimport", "change_statementline")

FILES = Path(__file__).resolve().parent / "files"


def statement(name: str) -> io.BytesIO:
    """One of the shipped files, as the binary stream the importer reads."""
    return io.BytesIO((FILES / name).read_bytes())


def text_file(text: str, encoding: str = "utf-8") -> io.BytesIO:
    return io.BytesIO(text.encode(encoding))


def bank_account(currency: str, **fields: object):
    return AccountFactory(
        kind=Kind.ASSET, is_bank=True, currency=currency, credit_limit=None, **fields
    )


@pytest.fixture
def bookkeeper(db):
    """A client logged in as staff holding the statement pages' permissions."""
    return client_for(grant(StaffFactory(), *PERMISSIONS))


@pytest.fixture
def gbp_bank(db):
    return bank_account("GBP", name="Current account (GBP)")


@pytest.fixture
def usd_bank(db):
    return bank_account("USD", name="Checking (USD)")


@pytest.fixture
def eur_bank(db):
    return bank_account("EUR", name="Girokonto (EUR)")
