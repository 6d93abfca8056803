"""Customer cards: designated when made, never a source of money, their codes kept secret.

The surfaces (dashboard, API) load, spend and look up by code only accounts designated as
cards. The designation is explicit (``is_card``), checked in Python and refused by the database
for anything that is not a liability with a credit limit, or that is a core account.
"""

from __future__ import annotations

import datetime
import importlib
from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib.auth.models import Permission
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounts import codes, exceptions, facade
from accounts.models import Account, Kind

from ..factories import AccountFactory, SourceAccountFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_create_card_designates_a_loaded_liability_with_a_generated_code():
    card = facade.create_card(amount=Decimal("25.00"))

    assert card.is_card
    assert (card.kind, card.credit_limit, card.balance) == (
        Kind.LIABILITY,
        Decimal("0.00"),
        Decimal("25.00"),
    )
    assert codes.normalise(card.code) == card.code and len(card.code) == 19


def test_an_account_is_not_a_card_unless_designated():
    assert not Account.objects.create().is_card
    assert not facade.create_account(amount=Decimal("5.00")).is_card
    assert not Account.objects.source().is_card


@pytest.mark.parametrize(
    "fields",
    [
        {"credit_limit": None},
        {"kind": Kind.ASSET},
        {"code": "CORE-SOMETHING"},
    ],
    ids=["no-limit", "asset", "core-code"],
)
def test_a_card_that_could_be_a_source_of_money_is_refused(fields):
    with pytest.raises(exceptions.InvalidCard):
        Account.objects.create(is_card=True, **fields)
    assert not Account.objects.filter(is_card=True).exists()


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE accounts_account SET is_card = %s WHERE credit_limit IS NULL",
        "UPDATE accounts_account SET is_card = %s WHERE code = 'CORE-SALES'",
        "UPDATE accounts_account SET is_card = %s WHERE kind = 'asset'",
    ],
    ids=["no-limit", "core", "asset"],
)
def test_the_database_refuses_to_designate_a_source_of_money_or_a_core_account(sql):
    SourceAccountFactory()
    Account.objects.sales()
    with pytest.raises(IntegrityError), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(sql, [True])
    assert not Account.objects.filter(is_card=True).exists()


def test_a_card_prints_its_code_masked_and_other_accounts_in_full():
    card = facade.create_card(amount=Decimal("5.00"))
    house = Account.objects.create(code="HOUSE-1")

    assert str(card) == "****-****-****-" + card.code[-4:]
    assert card.display_code == str(card)
    assert card.code not in str(card)
    assert str(house) == "HOUSE-1" == house.display_code
    assert str(facade.create_card(name="Alice's card")) == "Alice's card"


def test_refusals_about_a_card_never_name_its_code():
    card = facade.create_card(amount=Decimal("5.00"))
    facade.freeze_account(card)

    with pytest.raises(exceptions.FrozenAccount) as frozen:
        facade.transfer(card, Account.objects.sales(), Decimal("1.00"))
    facade.thaw_account(card)
    with pytest.raises(exceptions.InsufficientFunds) as short:
        facade.transfer(card, Account.objects.sales(), Decimal("6.00"))
    with pytest.raises(exceptions.AccountNotEmpty) as not_empty:
        facade.close_account(card)

    for caught in (frozen, short, not_empty):
        assert card.code not in caught.value.message
        assert card.code[-4:] in caught.value.message


def test_upgrading_designates_the_cards_the_api_already_served():
    migration = importlib.import_module("accounts.migrations.0007_cards_permissions_api_keys")
    served = facade.create_account(amount=Decimal("5.00"))  # generated code, limit 0
    bank = Account.objects.create(name="Bank", credit_limit=None)  # generated code, no limit
    named = Account.objects.create(code="SHOP-TILL")  # a hand-chosen code
    Account.objects.filter(pk=served.pk).update(is_card=False)

    class Editor:
        connection = connection

    migration.designate_existing_cards(apps, Editor())

    designated = set(Account.objects.filter(is_card=True).values_list("pk", flat=True))
    assert served.pk in designated
    assert bank.pk not in designated and named.pk not in designated


# -- text and dates the databases would refuse --------------------------------------------


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"description": "nul \x00 byte"}, exceptions.TextNotStorable),
        ({"merchant_reference": "nul\x00"}, exceptions.TextNotStorable),
        ({"description": "lone \ud800 surrogate"}, exceptions.TextNotStorable),
        ({"merchant_reference": "x" * 129}, exceptions.TextTooLong),
        ({"description": "x" * (facade.DESCRIPTION_LENGTH_MAX + 1)}, exceptions.TextTooLong),
        ({"merchant_reference": 42}, exceptions.InvalidText),
    ],
    ids=["nul-description", "nul-reference", "surrogate", "long-reference", "long-text", "int"],
)
def test_text_a_database_would_refuse_is_refused_before_writing(fields, error, unchanged):
    source, card = SourceAccountFactory(), AccountFactory()
    loaded = facade.transfer(source, card, Decimal("5.00"))
    calls = [
        lambda: facade.transfer(source, card, Decimal("1.00"), **fields),
        lambda: facade.reverse(loaded, **fields),
        lambda: facade.post(
            [facade.Debit(source, Decimal("1.00")), facade.Credit(card, Decimal("1.00"))],
            **fields,
        ),
        lambda: facade.top_up(card, Decimal("1.00"), **fields),
        lambda: facade.create_card(amount=Decimal("1.00"), **fields),
    ]
    for call in calls:
        with unchanged(), pytest.raises(error):
            call()
    assert Account.objects.filter(is_card=True).count() == 0


def test_the_longest_texts_allowed_are_stored_exactly():
    made = facade.transfer(
        SourceAccountFactory(),
        AccountFactory(),
        Decimal("1.00"),
        merchant_reference="r" * facade.MERCHANT_REFERENCE_LENGTH_MAX,
        description="é" * facade.DESCRIPTION_LENGTH_MAX,
    )
    made.refresh_from_db()
    assert made.merchant_reference == "r" * facade.MERCHANT_REFERENCE_LENGTH_MAX
    assert made.description == "é" * facade.DESCRIPTION_LENGTH_MAX


def test_a_posting_cannot_be_dated_before_the_earliest_posting_date(unchanged):
    source, card = SourceAccountFactory(), AccountFactory()
    too_early = facade.POSTING_DATE_MIN - datetime.timedelta(microseconds=1)
    year_one = datetime.datetime(1, 1, 1, tzinfo=datetime.timezone.utc)
    for date in (too_early, year_one):
        with unchanged(), pytest.raises(exceptions.InvalidDate, match="before 1900-01-01"):
            facade.transfer(source, card, Decimal("1.00"), date=date)

    made = facade.transfer(source, card, Decimal("1.00"), date=facade.POSTING_DATE_MIN)
    assert made.created_at == facade.POSTING_DATE_MIN
    assert card.get_balance(as_of=timezone.now()) == Decimal("1.00")


# -- reversals that must be authorised -----------------------------------------------------


def test_an_authorised_reversal_needs_the_user_of_the_account_it_takes_from():
    owner, stranger, manager = UserFactory(), UserFactory(), UserFactory()
    manager.user_permissions.add(Permission.objects.get(codename="spend_from_any_account"))
    card = facade.create_card(primary_user=owner)
    load = facade.transfer(SourceAccountFactory(), card, Decimal("20.00"))

    with pytest.raises(exceptions.Unauthorised):
        facade.reverse(load, user=stranger, authorise=True)
    card.refresh_from_db()
    assert card.balance == Decimal("20.00")

    assert facade.reverse(load, user=owner, authorise=True).amount == Decimal("20.00")
    other = facade.transfer(SourceAccountFactory(), card, Decimal("3.00"))
    assert facade.reverse(other, user=manager, authorise=True).amount == Decimal("3.00")


def test_a_reversal_stays_administrative_unless_told_to_authorise():
    card = facade.create_card(primary_user=UserFactory())
    load = facade.transfer(SourceAccountFactory(), card, Decimal("20.00"))

    reversal = facade.reverse(load, user=UserFactory())

    assert reversal.parent == load and reversal.amount == Decimal("20.00")
