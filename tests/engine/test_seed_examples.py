"""Every line of the two seeds' examples, posted through the public API."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts import exceptions, facade
from accounts.models import Account, Budget, Kind, Transfer

pytestmark = pytest.mark.django_db


def test_accounts_are_created_as_the_seed_shows(user):
    anonymous = Account.objects.create()
    assert anonymous.credit_limit == 0
    assert anonymous.balance == 0
    assert anonymous.is_open() and anonymous.is_active()
    user_account = Account.objects.create(primary_user=user)
    assert user_account.primary_user == user
    unlimited = Account.objects.create(credit_limit=None)
    assert unlimited.credit_limit is None and unlimited.amount_available is None
    limited = Account.objects.create(credit_limit=Decimal("1000.00"))
    assert limited.amount_available == Decimal("1000.00")
    now = timezone.now()
    windowed = Account.objects.create(start_date=now, end_date=now + datetime.timedelta(days=7))
    assert windowed.is_active()
    assert Budget is Account


def test_transfer_and_reverse_as_the_seed_shows(user, staff):
    unlimited = Account.objects.create(credit_limit=None)
    user_account = Account.objects.create(primary_user=user)
    t = facade.transfer(
        source=unlimited,
        destination=user_account,
        amount=Decimal("10.00"),
        user=staff,
        description="Welcome credit",
    )
    assert isinstance(t, Transfer)
    assert t.source == unlimited and t.destination == user_account
    assert t.amount == Decimal("10.00") and t.user == staff and t.username == staff.username
    assert user_account.balance == Decimal("10.00")
    assert unlimited.balance == Decimal("-10.00")
    assert sorted(t.transactions.values_list("amount", flat=True)) == [
        Decimal("-10"),
        Decimal("10"),
    ]
    r = facade.reverse(t, user=staff, description="Just an example")
    assert r.parent == t
    user_account.refresh_from_db()
    unlimited.refresh_from_db()
    assert user_account.balance == 0 and unlimited.balance == 0


def test_positional_source_destination_amount(source, account):
    facade.transfer(source, account, Decimal("5.00"))
    assert account.balance == Decimal("5.00")


def test_rent_income_to_electricity_payable_without_flipping(source):
    rent = Account.objects.create(name="Rent Income", kind=Kind.INCOME)
    electricity = Account.objects.create(name="Electricity Payable", kind=Kind.LIABILITY)
    bank = Account.objects.create(name="Bank", kind=Kind.ASSET, credit_limit=None)
    facade.transfer(bank, rent, Decimal("500"))
    assert rent.balance == Decimal("500") and electricity.balance == 0
    facade.transfer(source=rent, destination=electricity, amount=Decimal("100"))
    rent.refresh_from_db()
    electricity.refresh_from_db()
    assert rent.balance == Decimal("400")
    assert electricity.balance == Decimal("100")


def test_bank_to_rent_income_flips_the_asset():
    bank = Account.objects.create(name="Bank", kind=Kind.ASSET)
    rent = Account.objects.create(name="Rent Income", kind=Kind.INCOME)
    facade.transfer(source=bank, destination=rent, amount=Decimal("500"))
    bank.refresh_from_db()
    rent.refresh_from_db()
    assert bank.balance == Decimal("500")
    assert rent.balance == Decimal("500")


def test_gift_card_shop_balances_its_books():
    source = Account.objects.source()
    sales = Account.objects.sales()
    expired = Account.objects.expired_account()
    card = Account.objects.create(name="Card", end_date=timezone.now() + datetime.timedelta(days=1))
    facade.transfer(source, card, Decimal("100"))
    facade.transfer(card, sales, Decimal("30"))
    Account.objects.filter(pk=card.pk).update(
        end_date=timezone.now() - datetime.timedelta(seconds=1)
    )
    card.refresh_from_db()
    facade.expire_account(card)
    for acct in (source, sales, expired, card):
        acct.refresh_from_db()
    assert (source.balance, card.balance, sales.balance, expired.balance) == (100, 0, 30, 70)
    assert card.is_closed()
    assert source.balance == card.balance + sales.balance + expired.balance


def test_insufficient_funds_is_refused(funded, account, unchanged):
    with unchanged(), pytest.raises(exceptions.InsufficientFunds):
        facade.transfer(funded, account, Decimal("100.01"))
