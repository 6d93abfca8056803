"""Idempotency keys on the facade: a retried call replays, a different call is refused.

Issue 12: replaying a call with the same key and arguments returns the original result and
writes nothing; other arguments raise ``IdempotencyConflict`` naming the fields that differ. A
refused first attempt leaves no claim, so a retry with its key may succeed later.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from accounts import exceptions, facade
from accounts.facade import Credit, Debit
from accounts.ledger import idempotency
from accounts.models import Account, IdempotencyKey, Transfer

from ..conftest import ledger_snapshot
from ..factories import AccountFactory, SourceAccountFactory, UserFactory

pytestmark = pytest.mark.django_db

TEN = Decimal("10.00")


def test_replaying_a_transfer_returns_the_original_and_writes_nothing(source, account):
    first = facade.transfer(source, account, TEN, description="Order 1", idempotency_key="k-1")
    before = ledger_snapshot()

    again = facade.transfer(source, account, TEN, description="Order 1", idempotency_key="k-1")

    assert again.pk == first.pk and again.reference == first.reference
    assert ledger_snapshot() == before
    account.refresh_from_db()
    assert account.balance == TEN
    assert Transfer.objects.filter(destination=account).count() == 1
    assert IdempotencyKey.objects.get(key="k-1").transfer_id == first.pk


def test_a_replay_is_read_again_from_the_database(source, account):
    first = facade.transfer(source, account, TEN, idempotency_key="k-1")
    again = facade.transfer(source, account, TEN, idempotency_key="k-1")
    assert again is not first
    assert again.amount == TEN and again.source_id == source.pk


def test_the_same_amount_written_differently_is_the_same_call(source, account):
    first = facade.transfer(source, account, Decimal("10.00"), idempotency_key="k-1")
    assert facade.transfer(source, account, Decimal("10"), idempotency_key="k-1").pk == first.pk


def test_replaying_with_other_arguments_is_refused_naming_them(source, account, unchanged):
    facade.transfer(source, account, TEN, description="Order 1", idempotency_key="k-1")
    other = AccountFactory()

    with unchanged(), pytest.raises(exceptions.IdempotencyConflict) as caught:
        facade.transfer(
            source, other, Decimal("11.00"), description="Order 1", idempotency_key="k-1"
        )

    assert caught.value.fields == ("amount", "destination")
    assert "amount, destination" in caught.value.message
    assert caught.value.code == "idempotency_conflict"


def test_a_key_used_for_another_operation_is_refused(source, account):
    first = facade.transfer(source, account, TEN, idempotency_key="k-1")
    with pytest.raises(exceptions.IdempotencyConflict) as caught:
        facade.reverse(first, idempotency_key="k-1")
    assert caught.value.fields == ("operation",)


def test_keys_compare_exactly(source, account):
    first = facade.transfer(source, account, TEN, idempotency_key="Order-1")
    second = facade.transfer(source, account, TEN, idempotency_key="order-1")
    third = facade.transfer(source, account, TEN, idempotency_key="Ordér-1")
    assert len({first.pk, second.pk, third.pk}) == 3


def test_a_refused_first_attempt_leaves_no_claim_and_a_retry_may_succeed(unchanged):
    source, card = SourceAccountFactory(), AccountFactory()
    shop = AccountFactory(credit_limit=None)
    with unchanged(), pytest.raises(exceptions.InsufficientFunds):
        facade.transfer(card, shop, TEN, idempotency_key="pay-1")
    assert not IdempotencyKey.objects.filter(key="pay-1").exists()

    facade.transfer(source, card, TEN)
    paid = facade.transfer(card, shop, TEN, idempotency_key="pay-1")

    assert paid.amount == TEN
    assert facade.transfer(card, shop, TEN, idempotency_key="pay-1").pk == paid.pk


def test_a_refusal_inside_the_callers_transaction_takes_the_claim_with_it(account):
    shop = AccountFactory(credit_limit=None)
    with transaction.atomic():
        with pytest.raises(exceptions.InsufficientFunds):
            facade.transfer(account, shop, TEN, idempotency_key="pay-1")
        # The caller's transaction is intact and the key was not kept.
        assert not IdempotencyKey.objects.filter(key="pay-1").exists()
        facade.transfer(shop, account, TEN)
    assert facade.transfer(account, shop, TEN, idempotency_key="pay-1").amount == TEN


def test_the_callers_rollback_forgets_the_key(source, account):
    with pytest.raises(RuntimeError), transaction.atomic():
        facade.transfer(source, account, TEN, idempotency_key="k-1")
        raise RuntimeError("the order failed")
    assert not IdempotencyKey.objects.exists()
    assert facade.transfer(source, account, TEN, idempotency_key="k-1").amount == TEN


def test_a_replay_within_the_callers_transaction_returns_the_same_transfer(source, account):
    with transaction.atomic():
        first = facade.transfer(source, account, TEN, idempotency_key="k-1")
        assert facade.transfer(source, account, TEN, idempotency_key="k-1").pk == first.pk
    assert Transfer.objects.filter(destination=account).count() == 1


@pytest.mark.parametrize(
    ("key", "words"),
    [
        ("", "1 to 255"),
        ("x" * 256, "1 to 255"),
        (" k", "space"),
        ("k ", "space"),
        ("a\x00b", "control"),
        ("a\nb", "control"),
        ("\ud800", "Unicode"),
        (12, "text"),
    ],
)
def test_a_malformed_key_is_refused_and_writes_nothing(source, account, unchanged, key, words):
    with unchanged(), pytest.raises(exceptions.InvalidIdempotencyKey) as caught:
        facade.transfer(source, account, TEN, idempotency_key=key)
    assert words in caught.value.message


def test_the_longest_key_is_accepted(source, account):
    key = "é" * 255
    first = facade.transfer(source, account, TEN, idempotency_key=key)
    assert facade.transfer(source, account, TEN, idempotency_key=key).pk == first.pk


def test_a_call_without_a_key_remembers_nothing(source, account):
    facade.transfer(source, account, TEN)
    facade.transfer(source, account, TEN)
    assert not IdempotencyKey.objects.exists()
    assert Transfer.objects.filter(destination=account).count() == 2


# -- every facade function ---------------------------------------------------------------------


def test_reverse_replays(funded):
    load = funded.destination_transfers.get()
    first = facade.reverse(load, description="Oops", idempotency_key="r-1")
    before = ledger_snapshot()
    assert facade.reverse(load, description="Oops", idempotency_key="r-1").pk == first.pk
    assert ledger_snapshot() == before
    with pytest.raises(exceptions.IdempotencyConflict) as caught:
        facade.reverse(load, description="Other", idempotency_key="r-1")
    assert caught.value.fields == ("description",)


def test_a_refund_replays(funded):
    shop = AccountFactory(credit_limit=None)
    sale = facade.transfer(funded, shop, TEN)
    refund = facade.transfer(shop, funded, TEN, parent=sale, idempotency_key="refund-1")
    before = ledger_snapshot()
    again = facade.transfer(shop, funded, TEN, parent=sale, idempotency_key="refund-1")
    assert again.pk == refund.pk
    assert ledger_snapshot() == before


def test_post_replays(source, account):
    other = AccountFactory()
    lines = [Debit(source, Decimal("15.00")), Credit(account, TEN), Credit(other, Decimal("5.00"))]
    first = facade.post(lines, description="Split", idempotency_key="p-1")
    before = ledger_snapshot()
    assert facade.post(list(lines), description="Split", idempotency_key="p-1").pk == first.pk
    assert ledger_snapshot() == before
    swapped = [
        Debit(source, Decimal("15.00")),
        Credit(account, Decimal("5.00")),
        Credit(other, TEN),
    ]
    with pytest.raises(exceptions.IdempotencyConflict) as caught:
        facade.post(swapped, description="Split", idempotency_key="p-1")
    assert caught.value.fields == ("lines",)


def test_exchange_replays():
    cad = AccountFactory(currency="CAD", kind="asset", credit_limit=None)
    usd = AccountFactory(currency="USD", kind="asset", credit_limit=None)
    arguments = {
        "source": cad,
        "destination": usd,
        "source_amount": Decimal("120.00"),
        "destination_amount": Decimal("100.00"),
    }
    first = facade.exchange(**arguments, idempotency_key="x-1")
    before = ledger_snapshot()
    assert facade.exchange(**arguments, idempotency_key="x-1").pk == first.pk
    assert ledger_snapshot() == before
    arguments["destination_amount"] = Decimal("101.00")
    with pytest.raises(exceptions.IdempotencyConflict) as caught:
        facade.exchange(**arguments, idempotency_key="x-1")
    assert caught.value.fields == ("destination_amount",)


def test_create_card_replays_the_card_it_created(source):
    first = facade.create_card(amount=TEN, source=source, name="Gift", idempotency_key="c-1")
    before = ledger_snapshot()
    again = facade.create_card(amount=TEN, source=source, name="Gift", idempotency_key="c-1")
    assert isinstance(again, Account)
    assert again.pk == first.pk and again.code == first.code
    assert ledger_snapshot() == before
    assert Account.objects.filter(is_card=True).count() == 1
    with pytest.raises(exceptions.IdempotencyConflict) as caught:
        facade.create_card(amount=TEN, source=source, name="Other", idempotency_key="c-1")
    assert caught.value.fields == ("name",)


def test_another_user_replaying_a_key_is_refused(source, account):
    alice, bob = UserFactory(), UserFactory()
    facade.create_card(amount=TEN, source=source, user=alice, idempotency_key="c-1")
    with pytest.raises(exceptions.IdempotencyConflict) as caught:
        facade.create_card(amount=TEN, source=source, user=bob, idempotency_key="c-1")
    assert caught.value.fields == ("user",)


def test_a_malformed_key_is_refused_by_every_function(funded, source, unchanged):
    load = funded.destination_transfers.get()
    usd = AccountFactory(currency="USD")
    calls = [
        lambda: facade.transfer(source, funded, TEN, idempotency_key=""),
        lambda: facade.reverse(load, idempotency_key=""),
        lambda: facade.post([Debit(source, TEN), Credit(funded, TEN)], idempotency_key=""),
        lambda: facade.exchange(
            source=source,
            destination=usd,
            source_amount=TEN,
            destination_amount=TEN,
            idempotency_key="",
        ),
        lambda: facade.create_card(amount=TEN, idempotency_key=""),
    ]
    for call in calls:
        with unchanged(), pytest.raises(exceptions.InvalidIdempotencyKey):
            call()


# -- the canonical form ------------------------------------------------------------------------


def test_equal_arguments_have_equal_fingerprints():
    moment = timezone.now()
    in_paris = moment.astimezone(datetime.timezone(datetime.timedelta(hours=1)))
    assert idempotency.fingerprint(
        {"amount": Decimal("10.00"), "date": moment, "note": None}
    ) == idempotency.fingerprint({"amount": Decimal("1E+1"), "date": in_paris, "note": None})
    assert idempotency.fingerprint({"note": None}) != idempotency.fingerprint({"note": ""})
    assert idempotency.fingerprint({"amount": Decimal("10")}) != idempotency.fingerprint(
        {"amount": "10"}
    )
