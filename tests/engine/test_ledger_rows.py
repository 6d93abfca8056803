"""The shared builder of hand-written ledger rows (:mod:`tests.ledger_rows`) makes rows the
database's rules accept: balanced transfers whose legs continue every running balance."""

from __future__ import annotations

import ast
import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from accounts import facade, reports
from accounts.models import Account, Transaction, Transfer

from .. import ledger_rows
from ..factories import AccountFactory, SourceAccountFactory

pytestmark = pytest.mark.django_db

START = datetime.datetime(2025, 1, 6, 12, 0, tzinfo=datetime.timezone.utc)


def test_loaded_transfers_continue_both_chains_and_pass_verification():
    source, card = SourceAccountFactory(), AccountFactory()
    facade.transfer(source, card, Decimal("10.00"))  # the chains start at version 1, not 0
    moments = [START + datetime.timedelta(seconds=n) for n in range(5)]
    ledger_rows.load_transfers(
        source, card, moments, amount=Decimal("2.50"), description="Loaded", chunk_size=2
    )
    loaded = Transfer.objects.filter(description="Loaded").order_by("created_at")
    assert [t.created_at for t in loaded] == moments
    assert {(t.source_id, t.destination_id, t.amount, t.leg_count) for t in loaded} == {
        (source.pk, card.pk, Decimal("2.50"), 2)
    }
    card_legs = Transaction.objects.filter(account=card).order_by("account_version")
    assert list(card_legs.values_list("account_version", "balance_after")) == [
        (1, Decimal("10.00")),
        *[(v, Decimal("10.00") + Decimal("2.50") * (v - 1)) for v in range(2, 7)],
    ]
    # The asset source rises as it is debited: its leg amounts are negative, its balance grows.
    source_legs = Transaction.objects.filter(account=source).order_by("account_version")
    assert [leg.amount for leg in source_legs][1:] == [Decimal("-2.50")] * 5
    assert [leg.balance_after for leg in source_legs] == [
        Decimal("10.00") + Decimal("2.50") * n for n in range(6)
    ]
    source.refresh_from_db()
    card.refresh_from_db()
    assert (card.balance, card.version) == (Decimal("22.50"), 6)
    assert (source.balance, source.version) == (Decimal("22.50"), 6)
    assert reports.verify().ok
    # The facade posts on top of the loaded rows: the triggers accept the next leg.
    facade.transfer(card, source, Decimal("1.00"))
    assert reports.verify().ok


def test_leg_values_continue_an_accounts_stored_state_and_take_overrides():
    card = AccountFactory()
    card.balance, card.version = Decimal("4.00"), 3
    values = ledger_rows.leg_values(2, card, Decimal("-1.50"), created_at=START)
    assert values == {
        "leg_index": 2,
        "account_id": card.pk,
        "amount": Decimal("-1.50"),
        "currency": card.currency,
        "balance_after": Decimal("2.50"),
        "account_version": 4,
        "created_at": START,
        "backdated": False,
    }
    assert ledger_rows.leg_values(2, card, Decimal("1"), account_version=9)["account_version"] == 9
    assert Account.objects.get(pk=card.pk).version == 0  # nothing was written


def test_the_builder_needs_no_test_tools_so_the_benchmark_can_import_it():
    tree = ast.parse(Path(ledger_rows.__file__).read_text(encoding="utf-8"))
    imported = {
        (node.module or "").split(".")[0] if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in node.names
    }
    assert imported <= {
        "__future__",
        "collections",
        "datetime",
        "decimal",
        "typing",
        "django",
        "accounts",
    }
