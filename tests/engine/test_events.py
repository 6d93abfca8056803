"""The app's signals (:mod:`accounts.events`): sent once, after the outermost commit, never for
rolled-back work, with the objects, the acting user, the idempotency key and the database."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import OperationalError, connections, transaction
from django.utils import timezone

from accounts import events, exceptions, facade
from accounts.models import Account, Kind, Status, Transfer, TransferKind

from ..factories import AccountFactory, SourceAccountFactory

pytestmark = pytest.mark.django_db

TEN = Decimal("10.00")


@dataclass
class Received:
    name: str
    sender: type
    kwargs: dict[str, Any]
    in_atomic_block: bool


@pytest.fixture
def received():
    """Every signal of :mod:`accounts.events` that reaches a receiver, in order."""
    log: list[Received] = []
    receivers = []
    for signal, name in events.EVENT_NAMES.items():

        def receiver(sender, signal, name=name, **kwargs):
            in_atomic = connections[kwargs["using"]].in_atomic_block
            log.append(Received(name, sender, kwargs, in_atomic))

        signal.connect(receiver, weak=False)
        receivers.append((signal, receiver))
    yield log
    for signal, receiver in receivers:
        signal.disconnect(receiver)


def names(log: list[Received]) -> list[str]:
    return [r.name for r in log]


def test_every_signal_has_a_name_and_the_module_exports_it():
    assert len(events.EVENT_NAMES) == 12
    for name in events.EVENT_NAMES.values():
        assert getattr(events, name.replace(".", "_")) in events.EVENT_NAMES
        assert name.replace(".", "_") in events.__all__


# -- what each act sends, and with what (the test's transaction, commit simulated) --------------


def test_a_transfer_sends_transfer_posted_once_after_commit(
    received, staff, django_capture_on_commit_callbacks
):
    source, card = SourceAccountFactory(), AccountFactory()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        new = facade.transfer(source, card, TEN, user=staff)
        assert received == []  # not before the commit
    assert len(callbacks) == 1
    assert names(received) == ["transfer.posted"]
    (event,) = received
    assert event.sender is Transfer
    assert event.kwargs == {
        "transfer": new,
        "user": staff,
        "idempotency_key": None,
        "using": "default",
    }


def test_a_refund_sends_transfer_posted_then_transfer_refunded(
    received, django_capture_on_commit_callbacks
):
    source, card = SourceAccountFactory(), AccountFactory()
    load = facade.transfer(source, card, TEN)
    with django_capture_on_commit_callbacks(execute=True):
        refund = facade.transfer(card, source, Decimal("4.00"), parent=load)
    assert refund.kind == TransferKind.REFUND
    assert names(received) == ["transfer.posted", "transfer.refunded"]
    assert received[0].kwargs["transfer"] == refund
    assert received[1].kwargs["transfer"] == refund
    assert received[1].kwargs["original"] == load


def test_a_reversal_sends_transfer_posted_then_transfer_reversed(
    received, staff, django_capture_on_commit_callbacks
):
    source, card = SourceAccountFactory(), AccountFactory()
    load = facade.transfer(source, card, TEN)
    with django_capture_on_commit_callbacks(execute=True):
        reversal = facade.reverse(load, user=staff)
    assert names(received) == ["transfer.posted", "transfer.reversed"]
    assert received[1].kwargs == {
        "transfer": reversal,
        "original": load,
        "user": staff,
        "idempotency_key": None,
        "using": "default",
    }


def test_an_entry_and_an_exchange_each_send_one_transfer_posted(
    received, django_capture_on_commit_callbacks
):
    source, card, other = SourceAccountFactory(), AccountFactory(), AccountFactory()
    cad = SourceAccountFactory(currency="CAD")
    usd = AccountFactory(currency="USD", kind=Kind.ASSET, credit_limit=None)
    with django_capture_on_commit_callbacks(execute=True):
        entry = facade.post(
            [facade.Debit(source, TEN), facade.Credit(card, TEN / 2), facade.Credit(other, TEN / 2)]
        )
        swap = facade.exchange(
            source=cad, destination=usd, source_amount=TEN, destination_amount=Decimal("7.00")
        )
    assert names(received) == ["transfer.posted", "transfer.posted"]
    assert received[0].kwargs["transfer"] == entry
    assert received[1].kwargs["transfer"] == swap
    assert swap.kind == TransferKind.EXCHANGE


def test_creating_an_account_with_a_load_sends_the_load_then_account_created(
    received, staff, django_capture_on_commit_callbacks
):
    source = SourceAccountFactory()
    with django_capture_on_commit_callbacks(execute=True):
        card = facade.create_card(amount=TEN, source=source, user=staff)
        bare = facade.create_account(name="Petty cash")
    assert names(received) == ["transfer.posted", "account.created", "account.created"]
    load = received[0].kwargs["transfer"]
    assert load.destination_id == card.pk
    assert received[1].sender is Account
    assert received[1].kwargs == {
        "account": card,
        "transfer": load,
        "user": staff,
        "idempotency_key": None,
        "using": "default",
    }
    assert received[2].kwargs["account"] == bare and received[2].kwargs["transfer"] is None


def test_a_top_up_sends_transfer_posted(received, django_capture_on_commit_callbacks):
    card = facade.create_card(amount=TEN)
    with django_capture_on_commit_callbacks(execute=True):
        top_up = facade.top_up(card, TEN)
    assert names(received) == ["transfer.posted"]
    assert received[0].kwargs["transfer"] == top_up


def test_freezing_thawing_and_closing_send_their_signals(
    received, staff, django_capture_on_commit_callbacks
):
    card = AccountFactory()
    with django_capture_on_commit_callbacks(execute=True):
        facade.freeze_account(card, user=staff)
        facade.freeze_account(card, user=staff)  # already frozen: nothing changes, nothing sent
        facade.thaw_account(card, user=staff)
        facade.close_account(card, user=staff)
    assert names(received) == ["account.frozen", "account.thawed", "account.closed"]
    assert [r.kwargs["account"].status for r in received] == [
        Status.FROZEN,
        Status.OPEN,
        Status.CLOSED,
    ]
    assert all(r.kwargs["account"].pk == card.pk and r.kwargs["user"] == staff for r in received)


def test_expiring_sends_the_sweep_then_account_expired(
    received, django_capture_on_commit_callbacks
):
    full = facade.create_card(amount=TEN)
    empty = AccountFactory()
    Account.objects.filter(pk__in=[full.pk, empty.pk]).update(
        end_date=timezone.now() - timedelta(days=1)
    )
    full.refresh_from_db()
    empty.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        sweep = facade.expire_account(full)
        assert facade.expire_account(empty) is None
    assert names(received) == ["transfer.posted", "account.expired", "account.expired"]
    assert received[0].kwargs["transfer"] == sweep and sweep.kind == TransferKind.EXPIRY
    assert received[1].kwargs["account"].pk == full.pk
    assert received[1].kwargs["transfer"] == sweep
    assert received[2].kwargs["account"].pk == empty.pk
    assert received[2].kwargs["transfer"] is None


def test_the_expiry_sweep_command_sends_account_expired(
    received, django_capture_on_commit_callbacks
):
    card = AccountFactory(end_date=timezone.now() + timedelta(days=1))
    Account.objects.filter(pk=card.pk).update(end_date=timezone.now() - timedelta(days=1))
    with django_capture_on_commit_callbacks(execute=True):
        call_command("close_expired_accounts", "--no-progress", stdout=StringIO())
    assert names(received) == ["account.expired"]
    assert received[0].kwargs["account"].pk == card.pk


# -- never for work that does not commit ---------------------------------------------------------


def test_a_refused_transfer_sends_nothing(received, django_capture_on_commit_callbacks):
    card, other = AccountFactory(), AccountFactory()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(exceptions.InsufficientFunds):
            facade.transfer(card, other, TEN)
        with pytest.raises(exceptions.AccountNotEmpty):
            facade.close_account(facade.create_card(amount=TEN))
    assert names(received) == ["transfer.posted", "account.created"]  # the card's creation only
    assert len(callbacks) == 2


def test_a_callers_rolled_back_transaction_sends_nothing(
    received, django_capture_on_commit_callbacks
):
    source, card = SourceAccountFactory(), AccountFactory()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            facade.transfer(source, card, TEN)
            facade.freeze_account(card)
            raise RuntimeError("the order failed")
    assert callbacks == [] and received == []


def test_a_rolled_back_savepoint_sends_nothing_but_its_committed_neighbour_does(
    received, django_capture_on_commit_callbacks
):
    source, card = SourceAccountFactory(), AccountFactory()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        with pytest.raises(RuntimeError), transaction.atomic():
            facade.transfer(source, card, TEN)
            raise RuntimeError("this part of the order failed")
        kept = facade.transfer(source, card, Decimal("3.00"))
    assert names(received) == ["transfer.posted"]
    assert received[0].kwargs["transfer"] == kept


# -- real transactions: after the outermost commit, outside any atomic block ---------------------


@pytest.mark.django_db(transaction=True)
def test_receivers_run_after_the_commit_outside_any_transaction(received):
    source, card = SourceAccountFactory(), AccountFactory()
    facade.transfer(source, card, TEN)
    with transaction.atomic():
        facade.transfer(source, card, TEN)
        facade.freeze_account(card)
        assert received[1:] == []  # the caller's block has not committed yet
    assert names(received) == ["transfer.posted", "transfer.posted", "account.frozen"]
    assert [r.in_atomic_block for r in received] == [False, False, False]
    # What the receivers were given is what is in the database.
    assert Transfer.objects.filter(pk=received[1].kwargs["transfer"].pk).exists()


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_caller_transaction_sends_nothing_on_a_real_database(received):
    source, card = SourceAccountFactory(), AccountFactory()
    with pytest.raises(RuntimeError), transaction.atomic():
        facade.transfer(source, card, TEN)
        raise RuntimeError("the order failed")
    assert received == [] and not Transfer.objects.exists()


class _Serialisation(Exception):
    sqlstate = "40001"


@pytest.mark.django_db(transaction=True)
def test_a_retried_attempt_sends_once(received):
    """The first attempt fails after recording its event; only the retry that commits sends."""
    source, card = SourceAccountFactory(), AccountFactory()
    attempts = []

    def fail_first_attempt(sender, **kwargs):
        attempts.append(kwargs["event"])
        if len(attempts) == 1:
            error = OperationalError("could not serialize access")
            error.__cause__ = _Serialisation()
            raise error

    events.event_recorded.connect(fail_first_attempt, weak=False)
    try:
        new = facade.transfer(source, card, TEN)
    finally:
        events.event_recorded.disconnect(fail_first_attempt)
    assert attempts == ["transfer.posted", "transfer.posted"]
    assert names(received) == ["transfer.posted"]
    assert received[0].kwargs["transfer"] == new
    assert Transfer.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_receiver_that_raises_is_logged_and_the_caller_keeps_its_transfer(received, caplog):
    source, card = SourceAccountFactory(), AccountFactory()

    def broken(sender, **kwargs):
        raise ValueError("the webhook is down")

    events.transfer_posted.connect(broken, weak=False)
    try:
        with caplog.at_level(logging.ERROR, logger="accounts.events"):
            new = facade.transfer(source, card, TEN)
    finally:
        events.transfer_posted.disconnect(broken)
    assert Transfer.objects.filter(pk=new.pk).exists()
    assert names(received) == ["transfer.posted"]  # the other receivers still ran
    (record,) = [r for r in caplog.records if r.name == "accounts.events"]
    assert "transfer.posted" in record.getMessage()
    assert record.exc_info is not None and "the webhook is down" in str(record.exc_info[1])


@pytest.mark.django_db(transaction=True)
def test_an_in_transaction_receiver_that_raises_rolls_the_act_back(received):
    source, card = SourceAccountFactory(), AccountFactory()

    def broken(sender, **kwargs):
        raise ValueError("the outbox table is missing")

    events.event_recorded.connect(broken, weak=False)
    try:
        with pytest.raises(ValueError):
            facade.transfer(source, card, TEN)
    finally:
        events.event_recorded.disconnect(broken)
    assert received == [] and not Transfer.objects.exists()


# -- idempotency keys in events -------------------------------------------------------------------


def test_a_keyed_call_sends_its_key_and_a_replay_sends_nothing(
    received, django_capture_on_commit_callbacks
):
    source, card = SourceAccountFactory(), AccountFactory()
    with django_capture_on_commit_callbacks(execute=True):
        first = facade.transfer(source, card, TEN, idempotency_key="order-1")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        again = facade.transfer(source, card, TEN, idempotency_key="order-1")
    assert again == first
    assert callbacks == []
    assert names(received) == ["transfer.posted"]
    assert received[0].kwargs["idempotency_key"] == "order-1"


def test_nested_acts_carry_the_key_of_the_call_that_made_them(
    received, django_capture_on_commit_callbacks
):
    source = SourceAccountFactory()
    cad = SourceAccountFactory(currency="CAD")
    usd = AccountFactory(currency="USD", kind=Kind.ASSET, credit_limit=None)
    with django_capture_on_commit_callbacks(execute=True):
        facade.create_card(amount=TEN, source=source, idempotency_key="card-1")
        facade.exchange(
            source=cad,
            destination=usd,
            source_amount=TEN,
            destination_amount=Decimal("7.00"),
            idempotency_key="swap-1",
        )
    assert names(received) == ["transfer.posted", "account.created", "transfer.posted"]
    keys = [event.kwargs["idempotency_key"] for event in received]
    assert keys == ["card-1", "card-1", "swap-1"]


def test_a_batch_sends_transfer_posted_for_each_transfer_after_commit(
    received, django_capture_on_commit_callbacks
):
    source, first, second = SourceAccountFactory(), AccountFactory(), AccountFactory()
    items = [
        {"source": source, "destination": first, "amount": TEN},
        {"source": source, "destination": second, "amount": TEN},
    ]
    with django_capture_on_commit_callbacks(execute=True):
        made = facade.transfer_many(items, idempotency_key="batch-events")
        assert received == []
    assert names(received) == ["transfer.posted", "transfer.posted"]
    assert [event.kwargs["transfer"] for event in received] == made
    assert {event.kwargs["idempotency_key"] for event in received} == {"batch-events"}
    assert all(event.kwargs["transfer"].pk is not None for event in received)


def test_a_refused_batch_sends_nothing(received, django_capture_on_commit_callbacks):
    source, card = SourceAccountFactory(), AccountFactory()
    items = [
        {"source": source, "destination": card, "amount": TEN},
        {"source": card, "destination": source, "amount": TEN * 2},
    ]
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(exceptions.InsufficientFunds),
    ):
        facade.transfer_many(items)
    assert received == []
