"""The account tree: placeholders, roll-up balances per currency, and balances in the past."""

from __future__ import annotations

import datetime
from decimal import Decimal
from unittest import mock

import pytest
from django.db import IntegrityError, transaction

from accounts import exceptions, facade
from accounts.facade import Credit, Debit
from accounts.models import Account, Kind
from accounts.money import Balance

pytestmark = pytest.mark.django_db

JAN = datetime.datetime(2024, 1, 15, 12, 0, tzinfo=datetime.timezone.utc)
FEB = JAN + datetime.timedelta(days=31)
MAR = FEB + datetime.timedelta(days=29)


def make(name: str, kind: str, **fields) -> Account:
    fields.setdefault("credit_limit", None)
    return Account.objects.create(name=name, kind=kind, **fields)


@pytest.fixture
def household():
    """Expenses > (Utilities > (Electricity, Water), Food), paid from a bank holding 1,000."""
    bank = make("Bank", Kind.ASSET)
    facade.transfer(source=bank, destination=make("Equity", Kind.EQUITY), amount=Decimal("1000"))
    expenses = make("Expenses", Kind.EXPENSE)
    utilities = make("Utilities", Kind.EXPENSE, parent=expenses)
    electricity = make("Electricity", Kind.EXPENSE, parent=utilities)
    water = make("Water", Kind.EXPENSE, parent=utilities)
    food = make("Food", Kind.EXPENSE, parent=expenses)
    facade.post([Debit(electricity, Decimal("60")), Credit(bank, Decimal("60"))])
    facade.post([Debit(water, Decimal("25")), Credit(bank, Decimal("25"))])
    facade.post([Debit(food, Decimal("140.50")), Credit(bank, Decimal("140.50"))])
    return {
        "bank": bank,
        "expenses": expenses,
        "utilities": utilities,
        "electricity": electricity,
        "water": water,
        "food": food,
    }


def test_a_parent_balance_is_the_sum_of_its_descendants(household):
    assert household["utilities"].get_balance() == Decimal("85")
    assert household["expenses"].get_balance() == Decimal("225.50")
    assert household["food"].get_balance() == Decimal("140.50")
    # Placeholders hold no legs of their own.
    assert household["expenses"].balance == 0
    assert household["expenses"].is_placeholder()
    assert not household["food"].is_placeholder()


def test_with_balances_rolls_up_a_whole_tree_in_one_query(household, django_assert_num_queries):
    pks = [account.pk for account in household.values()]
    with django_assert_num_queries(1):
        rolled = {
            a.name: a.rollup_balance for a in Account.objects.with_balances().filter(pk__in=pks)
        }
    assert rolled == {
        "Bank": Decimal("774.50"),
        "Expenses": Decimal("225.50"),
        "Utilities": Decimal("85"),
        "Electricity": Decimal("60"),
        "Water": Decimal("25"),
        "Food": Decimal("140.50"),
    }


def test_with_balances_stays_one_query_as_the_tree_grows(household, django_assert_num_queries):
    for i in range(20):
        leaf = make(f"Repair {i}", Kind.EXPENSE, parent=household["utilities"])
        facade.post([Debit(leaf, Decimal("1")), Credit(household["bank"], Decimal("1"))])
    with django_assert_num_queries(1):
        rolled = list(Account.objects.with_balances())
    by_name = {a.name: a.rollup_balance for a in rolled}
    assert by_name["Utilities"] == Decimal("105")
    assert by_name["Expenses"] == Decimal("245.50")


def test_a_bank_with_a_pound_and_a_euro_account_reports_both_currencies_without_adding_them():
    bank = make("Bank", Kind.ASSET, currency="GBP")
    pounds = make("Bank GBP", Kind.ASSET, currency="GBP", parent=bank)
    euros = make("Bank EUR", Kind.ASSET, currency="EUR", parent=bank)
    owner_gbp = make("Owner GBP", Kind.EQUITY, currency="GBP")
    owner_eur = make("Owner EUR", Kind.EQUITY, currency="EUR")
    facade.transfer(source=pounds, destination=owner_gbp, amount=Decimal("100.00"))
    facade.transfer(source=euros, destination=owner_eur, amount=Decimal("40.00"))

    held = bank.get_balances()

    assert isinstance(held, Balance)
    assert held.currencies() == ["EUR", "GBP"]
    assert held["GBP"] == Decimal("100.00") and held["EUR"] == Decimal("40.00")
    assert held != Decimal("140.00")
    # The single-currency roll-up counts only the parent's own currency.
    assert bank.get_balance() == Decimal("100.00")
    assert Account.objects.with_balances().get(pk=bank.pk).rollup_balance == Decimal("100.00")


def test_posting_to_a_placeholder_is_refused(household, unchanged):
    with unchanged(), pytest.raises(exceptions.PlaceholderAccount) as caught:
        facade.transfer(household["expenses"], household["bank"], Decimal("10"))
    assert caught.value.code == "account_is_placeholder"
    with unchanged(), pytest.raises(exceptions.PlaceholderAccount):
        facade.post(
            [Debit(household["utilities"], Decimal("10")), Credit(household["bank"], Decimal("10"))]
        )


def test_an_account_with_legs_cannot_become_a_parent(household):
    with pytest.raises(IntegrityError), transaction.atomic():
        make("Electricity (night rate)", Kind.EXPENSE, parent=household["food"])
    assert not household["food"].is_placeholder()


def test_with_balances_as_of_a_moment_gives_the_tree_as_it_was():
    bank = make("Bank", Kind.ASSET)
    expenses = make("Expenses", Kind.EXPENSE)
    utilities = make("Utilities", Kind.EXPENSE, parent=expenses)
    electricity = make("Electricity", Kind.EXPENSE, parent=utilities)
    food = make("Food", Kind.EXPENSE, parent=expenses)
    with mock.patch("accounts.facade.timezone.now", return_value=JAN - datetime.timedelta(days=30)):
        facade.transfer(
            source=bank, destination=make("Equity", Kind.EQUITY), amount=Decimal("1000")
        )
    postings = [(JAN, electricity, "50"), (FEB, food, "30"), (MAR, electricity, "45")]
    for moment, account, amount in postings:
        with mock.patch("accounts.facade.timezone.now", return_value=moment):
            facade.post([Debit(account, Decimal(amount)), Credit(bank, Decimal(amount))])

    def tree(as_of):
        rows = Account.objects.with_balances(as_of=as_of).filter(
            pk__in=[expenses.pk, utilities.pk, electricity.pk, food.pk]
        )
        return {a.name: a.rollup_balance for a in rows}

    before = JAN - datetime.timedelta(days=1)
    assert tree(before) == {"Expenses": 0, "Utilities": 0, "Electricity": 0, "Food": 0}
    assert tree(JAN) == {"Expenses": 50, "Utilities": 50, "Electricity": 50, "Food": 0}
    assert tree(FEB + datetime.timedelta(days=1)) == {
        "Expenses": 80,
        "Utilities": 50,
        "Electricity": 50,
        "Food": 30,
    }
    assert tree(MAR) == {"Expenses": 125, "Utilities": 95, "Electricity": 95, "Food": 30}
    assert expenses.get_balance(as_of=FEB) == Decimal("80")
    assert expenses.get_balance() == Decimal("125")
    assert bank.get_balance(as_of=FEB) == Decimal("920")


def test_balances_in_several_currencies_as_of_a_moment():
    bank = make("Bank", Kind.ASSET, currency="GBP")
    pounds = make("Bank GBP", Kind.ASSET, currency="GBP", parent=bank)
    euros = make("Bank EUR", Kind.ASSET, currency="EUR", parent=bank)
    owner_gbp = make("Owner GBP", Kind.EQUITY, currency="GBP")
    owner_eur = make("Owner EUR", Kind.EQUITY, currency="EUR")
    with mock.patch("accounts.facade.timezone.now", return_value=JAN):
        facade.transfer(pounds, owner_gbp, Decimal("10"))
    with mock.patch("accounts.facade.timezone.now", return_value=FEB):
        facade.transfer(euros, owner_eur, Decimal("20"))

    assert bank.get_balances(as_of=JAN) == Balance({"GBP": Decimal("10")})
    assert bank.get_balances(as_of=FEB) == Balance({"GBP": Decimal("10"), "EUR": Decimal("20")})


def test_a_placeholder_as_of_a_moment_sums_its_subtree_back_dated_legs_included(
    django_assert_max_num_queries,
):
    bank = make("Bank", Kind.ASSET)
    expenses = make("Expenses", Kind.EXPENSE)
    # Loaded while it was still a leaf: whether it has children is asked of the database.
    stale = Account.objects.get(pk=expenses.pk)
    food = make("Food", Kind.EXPENSE, parent=expenses)
    rent = make("Rent", Kind.EXPENSE, parent=expenses)
    rent_eur = make("Rent EUR", Kind.EXPENSE, parent=expenses, currency="EUR")
    owner_eur = make("Owner EUR", Kind.EQUITY, currency="EUR")
    with mock.patch("accounts.facade.timezone.now", return_value=FEB):
        facade.post([Debit(food, Decimal("30")), Credit(bank, Decimal("30"))])
        facade.post([Debit(rent_eur, Decimal("7")), Credit(owner_eur, Decimal("7"))])
    with mock.patch("accounts.facade.timezone.now", return_value=MAR):
        facade.post([Debit(rent, Decimal("100")), Credit(bank, Decimal("100"))])
        # Dated before Food's first leg: Food (and Bank) now answer by summing their legs.
        facade.post([Debit(food, Decimal("20")), Credit(bank, Decimal("20"))], date=JAN)

    expected = {JAN - datetime.timedelta(days=1): 0, JAN: 20, FEB: 50, MAR: 150}
    assert {moment: expenses.get_balance(as_of=moment) for moment in expected} == expected
    assert {moment: stale.get_balance(as_of=moment) for moment in expected} == expected
    assert {moment: bank.get_balance(as_of=moment) for moment in expected} == {
        moment: -amount for moment, amount in expected.items()
    }
    assert food.get_balance(as_of=JAN) == 20 and food.get_balance(as_of=FEB) == 50
    assert expenses.get_balances(as_of=FEB) == Balance({"GBP": Decimal("50"), "EUR": Decimal("7")})
    assert stale.get_balances(as_of=JAN) == Balance({"GBP": Decimal("20")})
    rows = Account.objects.with_balances(as_of=FEB).filter(pk__in=[expenses.pk, food.pk, rent.pk])
    assert {a.name: a.rollup_balance for a in rows} == {"Expenses": 50, "Food": 50, "Rent": 0}

    with django_assert_max_num_queries(1):
        assert food.get_balance(as_of=MAR) == 50
    with django_assert_max_num_queries(2):
        assert expenses.get_balance(as_of=MAR) == 150
