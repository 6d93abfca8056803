"""Fixtures: the chart of accounts loads, and a populated ledger survives dumpdata/loaddata.

``loaddata`` saves rows raw (``pre_save`` with ``raw=True``), which the app lets past the
append-only guard one row at a time (see :mod:`accounts.signals`). Accounts and transfers are
dumped with natural keys (account ``code``, transfer ``reference``), so a dump loads into a
database whose primary keys differ, including one where ``migrate`` or ``flush`` has already
created the core accounts.
"""

from __future__ import annotations

import datetime
import io
import json
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction

from accounts import facade, reports
from accounts.facade import Credit, Debit
from accounts.models import Account, Kind, Transaction, Transfer

from ..factories import AccountFactory, SourceAccountFactory

TOP_LEVEL = {
    "1": ("Assets", Kind.ASSET),
    "2": ("Liabilities", Kind.LIABILITY),
    "3": ("Equity", Kind.EQUITY),
    "4": ("Income", Kind.INCOME),
    "5": ("Expenses", Kind.EXPENSE),
}


@pytest.mark.django_db
def test_the_chart_of_accounts_loads_with_the_right_kinds_and_tree():
    call_command("loaddata", "top-level-accounts", verbosity=0)

    roots = Account.objects.filter(code__in=TOP_LEVEL)
    assert {a.code: (a.name, a.kind) for a in roots} == TOP_LEVEL
    for root in roots:
        assert root.parent is None
        assert root.credit_limit is None
        children = list(root.children.all())
        assert children, f"{root.name} has no children"
        for child in children:
            assert child.kind == root.kind
            assert child.code.startswith(f"{root.code}.")
            assert child.credit_limit is None
        # The tree is usable: descendants are found by path, roll-ups include them.
        assert set(root.descendants()) == set(children)

    bank = Account.objects.get_by_code("1.1")
    payable = Account.objects.get_by_code("2.1")
    assert (bank.name, bank.parent.code) == ("Bank", "1")
    assert (payable.name, payable.parent.code) == ("Accounts Payable", "2")
    assert all(a.balance == 0 and a.version == 0 for a in Account.objects.all())


@pytest.mark.django_db
def test_the_chart_of_accounts_takes_postings_and_rolls_them_up():
    call_command("loaddata", "top-level-accounts", verbosity=0)
    bank, sales = Account.objects.get_by_code("1.1"), Account.objects.get_by_code("4.1")

    facade.transfer(bank, sales, Decimal("250.00"))

    assert Account.objects.get_by_code("1").get_balance() == Decimal("250.00")
    assert Account.objects.get_by_code("4").get_balance() == Decimal("250.00")
    assert reports.verify().ok


@pytest.mark.django_db
def test_loading_the_chart_twice_changes_nothing():
    call_command("loaddata", "top-level-accounts", verbosity=0)
    before = list(Account.objects.order_by("pk").values_list("pk", "code", "parent", "tree_path"))
    call_command("loaddata", "top-level-accounts", verbosity=0)
    after = list(Account.objects.order_by("pk").values_list("pk", "code", "parent", "tree_path"))
    assert after == before


@pytest.mark.django_db
def test_loading_the_chart_over_accounts_with_legs_is_refused_instead_of_resetting_them():
    call_command("loaddata", "top-level-accounts", verbosity=0)
    bank, sales = Account.objects.get_by_code("1.1"), Account.objects.get_by_code("4.1")
    facade.transfer(bank, sales, Decimal("250.00"))

    with pytest.raises(IntegrityError, match="changes only by posting legs"):
        with transaction.atomic():
            call_command("loaddata", "top-level-accounts", verbosity=0)

    bank.refresh_from_db()
    assert (bank.balance, bank.version) == (Decimal("250.00"), 1)
    assert reports.verify().ok


def populate_ledger() -> str:
    """Transfers, a refund, a reversal, a multi-leg entry and an account tree.

    Returns the code of the gift card at the centre of it.
    """
    call_command("loaddata", "top-level-accounts", verbosity=0)
    source, sales = Account.objects.source(), Account.objects.sales()
    card, line = AccountFactory(), AccountFactory(credit_limit=Decimal("20.00"))
    facade.transfer(source, card, Decimal("100.00"), description="Load")
    spent = facade.transfer(card, sales, Decimal("30.00"))
    facade.transfer(sales, card, Decimal("5.00"), parent=spent)
    facade.reverse(spent)
    facade.transfer(line, card, Decimal("12.50"))
    bank, opening, rent, utilities = (
        Account.objects.get_by_code(code) for code in ("1.1", "3.1", "5.1", "5.2")
    )
    facade.transfer(bank, opening, Decimal("1000.00"))
    facade.post(
        [
            Credit(bank, Decimal("180.00")),
            Debit(rent, Decimal("150.00")),
            Debit(utilities, Decimal("30.00")),
        ],
        description="Rent and bills",
    )
    SourceAccountFactory(code="UNUSED")
    return card.code


def to_milliseconds(moment: datetime.datetime) -> datetime.datetime:
    """Django's JSON serializer keeps datetimes to the millisecond."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def ledger_state() -> dict[str, list[tuple[Any, ...]]]:
    """What must be identical after a round trip, keyed by natural keys only."""
    accounts = Account.objects.values_list(
        "code",
        "name",
        "kind",
        "currency",
        "parent__code",
        "balance",
        "version",
        "credit_limit",
        "status",
    )
    transfers = Transfer.objects.values_list(
        "reference",
        "kind",
        "amount",
        "currency",
        "leg_count",
        "source__code",
        "destination__code",
        "parent__reference",
        "reverses__reference",
        "description",
        "created_at",
    )
    legs = Transaction.objects.values_list(
        "transfer__reference",
        "leg_index",
        "account__code",
        "amount",
        "currency",
        "balance_after",
        "account_version",
        "backdated",
        "created_at",
    )
    return {
        "accounts": sorted(accounts),
        "transfers": sorted((*row[:-1], to_milliseconds(row[-1])) for row in transfers),
        "legs": sorted((*row[:-1], to_milliseconds(row[-1])) for row in legs),
        "rollups": sorted(
            (code, Account.objects.get_by_code(code).get_balance()) for code in TOP_LEVEL
        ),
    }


@pytest.mark.django_db(transaction=True)
def test_a_populated_ledger_round_trips_through_dumpdata_and_loaddata(tmp_path):
    card_code = populate_ledger()
    before = ledger_state()
    pks_before = dict(Account.objects.values_list("code", "pk"))
    assert len(before["transfers"]) == 7
    assert len(before["legs"]) == 15
    assert reports.verify().ok

    dump = io.StringIO()
    call_command("dumpdata", "accounts", natural_primary=True, natural_foreign=True, stdout=dump)
    rows = json.loads(dump.getvalue())
    assert not [
        r for r in rows if r["model"] in ("accounts.account", "accounts.transfer") and "pk" in r
    ]
    fixture = tmp_path / "ledger.json"
    fixture.write_text(dump.getvalue())

    call_command("flush", interactive=False, verbosity=0)
    assert Transfer.objects.count() == 0
    assert sorted(Account.objects.values_list("version", flat=True)) == [0, 0, 0]  # core only
    # Take a primary key, so that no loaded account gets the key it had before.
    AccountFactory(code="TAKES-A-KEY").delete()

    call_command("loaddata", str(fixture), verbosity=0)

    assert ledger_state() == before
    pks_after = dict(Account.objects.values_list("code", "pk"))
    assert pks_after.keys() == pks_before.keys()
    assert pks_after[card_code] != pks_before[card_code]
    assert reports.verify().ok
    # The loaded books take new postings, and the guard is back on.
    card = Account.objects.get(code=card_code)
    facade.transfer(card, Account.objects.sales(), Decimal("1.00"))
    assert card.balance == Decimal("111.50")
    assert reports.verify().ok


def bad_transfer_fixture(tmp_path: Any) -> str:
    """A fixture whose one transfer breaks a CHECK (amount 0): its save fails mid-load."""
    path = tmp_path / "bad.json"
    row = {
        "model": "accounts.transfer",
        "fields": {
            "reference": "BAD1-BAD2-BAD3-BAD4",
            "kind": "transfer",
            "amount": "0.00",
            "currency": "GBP",
            "leg_count": 2,
            "description": "",
            "created_at": "2026-01-01T00:00:00Z",
        },
    }
    path.write_text(json.dumps([row]))
    return str(path)


def assert_ledger_locked(made: Transfer) -> None:
    """Raw SQL on the same connection may neither change nor delete ledger rows."""
    from django.db import connection

    for sql in (
        "UPDATE accounts_transfer SET description = 'tampered' WHERE id = %s",
        "UPDATE accounts_transaction SET amount = amount * 2 WHERE transfer_id = %s",
        "DELETE FROM accounts_transaction WHERE transfer_id = %s",
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql, [made.pk])
    assert Transfer.objects.get(pk=made.pk).description == "kept"
    assert reports.verify().ok


@pytest.mark.django_db
def test_a_failed_fixture_load_leaves_the_ledger_locked(tmp_path):
    made = facade.transfer(
        SourceAccountFactory(), AccountFactory(), Decimal("5.00"), description="kept"
    )

    with pytest.raises(IntegrityError):
        call_command("loaddata", bad_transfer_fixture(tmp_path), verbosity=0)

    assert not Transfer.objects.filter(reference="BAD1-BAD2-BAD3-BAD4").exists()
    assert_ledger_locked(made)


@pytest.mark.django_db(transaction=True)
def test_a_failed_fixture_load_in_its_own_transaction_leaves_the_ledger_locked(tmp_path):
    made = facade.transfer(
        SourceAccountFactory(), AccountFactory(), Decimal("5.00"), description="kept"
    )

    with pytest.raises(IntegrityError):
        call_command("loaddata", bad_transfer_fixture(tmp_path), verbosity=0)

    # In autocommit, as a management command or a view would run next.
    assert_ledger_locked(made)


@pytest.mark.django_db
def test_an_unlock_for_a_row_ends_with_its_atomic_block():
    from accounts import integrity

    made = facade.transfer(
        SourceAccountFactory(), AccountFactory(), Decimal("5.00"), description="kept"
    )
    with transaction.atomic():
        assert integrity.unlock_for_row("default")
    # That block has ended: the unlock went with it, though nothing switched it off by hand.
    assert_ledger_locked(made)


@pytest.mark.django_db(transaction=True)
def test_a_row_is_never_unlocked_outside_an_atomic_block():
    from accounts import integrity

    made = facade.transfer(
        SourceAccountFactory(), AccountFactory(), Decimal("5.00"), description="kept"
    )
    assert not integrity.unlock_for_row("default")
    assert_ledger_locked(made)
