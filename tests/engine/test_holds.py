"""Holds (two-phase transfers): reserve now, capture or void later, each exactly once."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import exceptions, facade
from accounts.models import Account, Hold, HoldStatus, Kind, Transfer

from ..factories import AccountFactory, UserFactory

pytestmark = pytest.mark.django_db

D = Decimal


def fresh(account: Account) -> Account:
    return Account.objects.get(pk=account.pk)


@pytest.fixture
def shop(db):
    """Where card payments go: the shop's sales (income, unlimited)."""
    return AccountFactory(kind=Kind.INCOME, credit_limit=None, name="Sales")


def test_authorising_reserves_funds_without_posting(funded, shop):
    hold = facade.authorise(funded, shop, D("30.00"))
    assert hold.status == HoldStatus.PENDING and hold.amount == D("30.00")
    card = fresh(funded)
    assert card.balance == card.posted == D("100.00")
    assert card.pending_debits == D("30.00")
    assert card.pending == D("-30.00")
    assert card.amount_available == D("70.00")
    assert fresh(shop).pending_credits == D("30.00") and fresh(shop).balance == 0
    assert Transfer.objects.filter(destination=shop).count() == 0
    # The caller's objects show the reservation too.
    assert funded.amount_available == D("70.00")


def test_a_hold_counts_against_later_spending(funded, shop, unchanged):
    facade.authorise(funded, shop, D("80.00"))
    with unchanged(), pytest.raises(exceptions.InsufficientFunds):
        facade.transfer(funded, shop, D("30.00"))
    with unchanged(), pytest.raises(exceptions.InsufficientFunds):
        facade.authorise(funded, shop, D("20.01"))
    facade.transfer(funded, shop, D("20.00"))  # exactly what is left


def test_pending_credits_are_not_available(source, shop):
    card = AccountFactory()
    facade.authorise(source, card, D("50.00"))
    with pytest.raises(exceptions.InsufficientFunds):
        facade.transfer(card, shop, D("1.00"))
    assert fresh(card).amount_available == 0


def test_capturing_in_full_posts_the_transfer_and_releases_the_hold(funded, shop):
    hold = facade.authorise(funded, shop, D("30.00"))
    new = facade.capture(hold)
    assert isinstance(new, Transfer) and new.amount == D("30.00")
    assert (new.source_id, new.destination_id) == (funded.pk, shop.pk)
    assert hold.status == HoldStatus.CAPTURED and hold.captured_amount == D("30.00")
    stored = Hold.objects.get(pk=hold.pk)
    assert stored.status == HoldStatus.CAPTURED and stored.transfer_id == new.pk
    assert stored.resolved_at is not None
    card = fresh(funded)
    assert card.balance == D("70.00") and card.pending_debits == 0
    assert fresh(shop).pending_credits == 0 and fresh(shop).balance == D("30.00")


def test_a_partial_capture_posts_part_and_releases_the_rest(funded, shop):
    hold = facade.authorise(funded, shop, D("30.00"))
    new = facade.capture(hold, D("12.50"))
    assert new.amount == D("12.50")
    assert hold.released_amount == D("17.50")
    card = fresh(funded)
    assert card.balance == D("87.50") and card.pending_debits == 0
    assert card.amount_available == D("87.50")


def test_a_capture_above_the_hold_is_refused(funded, shop, unchanged):
    hold = facade.authorise(funded, shop, D("30.00"))
    with unchanged(), pytest.raises(exceptions.CaptureExceedsHold):
        facade.capture(hold, D("30.01"))


def test_voiding_releases_everything(funded, shop):
    hold = facade.authorise(funded, shop, D("30.00"))
    voided = facade.void(hold)
    assert voided.status == HoldStatus.VOIDED == hold.status
    card = fresh(funded)
    assert card.balance == D("100.00") and card.pending_debits == 0
    assert card.amount_available == D("100.00")
    assert Transfer.objects.filter(destination=shop).count() == 0


@pytest.mark.parametrize("first", ["capture", "void"])
@pytest.mark.parametrize("second", ["capture", "void"])
def test_a_hold_resolves_exactly_once(funded, shop, unchanged, first, second):
    hold = facade.authorise(funded, shop, D("30.00"))
    getattr(facade, first)(hold)
    with unchanged(), pytest.raises(exceptions.HoldNotPending):
        getattr(facade, second)(hold)


def test_a_stale_instance_is_judged_by_the_database(funded, shop):
    hold = facade.authorise(funded, shop, D("30.00"))
    stale = Hold.objects.get(pk=hold.pk)
    facade.void(hold)
    assert stale.status == HoldStatus.PENDING  # the copy is stale...
    with pytest.raises(exceptions.HoldNotPending):
        facade.capture(stale)  # ...the database is not
    assert fresh(funded).balance == D("100.00")


def test_capturing_an_expired_hold_is_refused_before_any_sweep(funded, shop, unchanged):
    hold = facade.authorise(
        funded, shop, D("30.00"), expires_at=timezone.now() + timedelta(hours=1)
    )
    Hold.objects.filter(pk=hold.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    with unchanged(), pytest.raises(exceptions.HoldExpired):
        facade.capture(hold)


def test_an_expiry_must_be_aware_and_ahead(funded, shop, unchanged):
    with unchanged(), pytest.raises(exceptions.InvalidExpiry):
        facade.authorise(funded, shop, D("1.00"), expires_at=timezone.now() - timedelta(seconds=1))
    with unchanged(), pytest.raises(exceptions.InvalidExpiry):
        facade.authorise(funded, shop, D("1.00"), expires_at="tomorrow")


def test_the_sweep_expires_due_holds_once_and_leaves_the_rest(funded, shop):
    soon, tomorrow = timezone.now() + timedelta(hours=1), timezone.now() + timedelta(days=1)
    due = facade.authorise(funded, shop, D("10.00"), expires_at=soon)
    later = facade.authorise(funded, shop, D("5.00"), expires_at=tomorrow)
    forever = facade.authorise(funded, shop, D("1.00"))
    Hold.objects.filter(pk=due.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert list(facade.expired_hold_ids()) == [due.pk]
    released = facade.release_expired_hold(due.pk)
    assert released is not None and released.status == HoldStatus.EXPIRED
    assert facade.release_expired_hold(due.pk) is None  # twice releases once
    assert facade.release_expired_hold(later.pk) is None  # not due
    card = fresh(funded)
    assert card.pending_debits == D("6.00")
    assert {h.pk: h.status for h in Hold.objects.all()} == {
        due.pk: HoldStatus.EXPIRED,
        later.pk: HoldStatus.PENDING,
        forever.pk: HoldStatus.PENDING,
    }
    with pytest.raises(exceptions.HoldNotPending):
        facade.capture(due)


def test_the_release_command_reports_and_is_idempotent(funded, shop):
    holds = [
        facade.authorise(funded, shop, D("2.00"), expires_at=timezone.now() + timedelta(hours=1))
        for _ in range(3)
    ]
    Hold.objects.filter(pk__in=[h.pk for h in holds[:2]]).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    out = StringIO()
    call_command("release_expired_holds", "--dry-run", stdout=out)
    assert "2" in out.getvalue()
    assert fresh(funded).pending_debits == D("6.00")  # a dry run changes nothing
    out = StringIO()
    call_command("release_expired_holds", stdout=out)
    assert "Released 2 expired holds" in out.getvalue()
    assert fresh(funded).pending_debits == D("2.00")
    out = StringIO()
    call_command("release_expired_holds", stdout=out)
    assert "Released 0 expired holds" in out.getvalue()


def test_closing_or_expiring_an_account_with_pending_holds_is_refused(source, shop):
    card = AccountFactory(end_date=timezone.now() + timedelta(days=1))
    facade.transfer(source, card, D("10.00"))
    hold = facade.authorise(card, shop, D("10.00"))
    Account.objects.filter(pk=card.pk).update(end_date=timezone.now() - timedelta(seconds=1))
    with pytest.raises(exceptions.PendingHolds):
        facade.expire_account(fresh(card))
    with pytest.raises(exceptions.AccountExpired):
        facade.capture(hold)  # the card expired: its money can no longer move to the shop
    facade.void(hold)
    facade.expire_account(fresh(card))  # the void released it: the sweep goes ahead
    assert fresh(card).status == "closed"
    empty = AccountFactory()
    facade.transfer(source, empty, D("1.00"))
    facade.authorise(source, empty, D("1.00"))
    with pytest.raises(exceptions.PendingHolds):
        facade.close_account(empty)


def test_a_user_may_hold_only_what_they_may_spend(funded, shop, unchanged):
    owner, stranger = UserFactory(), UserFactory()
    Account.objects.filter(pk=funded.pk).update(primary_user=owner)
    card = fresh(funded)
    with unchanged(), pytest.raises(exceptions.Unauthorised):
        facade.authorise(card, shop, D("1.00"), user=stranger)
    hold = facade.authorise(card, shop, D("1.00"), user=owner)
    assert hold.user == owner
    with unchanged(), pytest.raises(exceptions.Unauthorised):
        facade.void(hold, user=stranger)
    with unchanged(), pytest.raises(exceptions.Unauthorised):
        facade.capture(hold, user=stranger)
    facade.capture(hold, user=owner)


def test_holds_follow_the_accounts_rules(funded, shop, unchanged):
    Account.objects.filter(pk=funded.pk).update(status="frozen")
    with unchanged(), pytest.raises(exceptions.FrozenAccount):
        facade.authorise(fresh(funded), shop, D("1.00"))
    other = AccountFactory(currency="USD")
    Account.objects.filter(pk=funded.pk).update(status="open")
    with unchanged(), pytest.raises(exceptions.CurrencyMismatch):
        facade.authorise(fresh(funded), other, D("1.00"))
    with unchanged(), pytest.raises(exceptions.SameAccount):
        facade.authorise(funded, funded, D("1.00"))
    with unchanged(), pytest.raises(exceptions.AmountNotPositive):
        facade.authorise(funded, shop, D("0"))


def test_a_capture_on_an_account_frozen_since_leaves_the_hold_pending(funded, shop):
    hold = facade.authorise(funded, shop, D("5.00"))
    facade.freeze_account(funded)
    with pytest.raises(exceptions.FrozenAccount):
        facade.capture(hold)
    assert Hold.objects.get(pk=hold.pk).status == HoldStatus.PENDING
    assert fresh(funded).pending_debits == D("5.00")


def test_an_authorisation_replays_with_its_key(funded, shop):
    first = facade.authorise(funded, shop, D("5.00"), idempotency_key="auth-1")
    again = facade.authorise(funded, shop, D("5.00"), idempotency_key="auth-1")
    assert again.pk == first.pk and Hold.objects.count() == 1
    assert fresh(funded).pending_debits == D("5.00")
    with pytest.raises(exceptions.IdempotencyConflict) as refused:
        facade.authorise(funded, shop, D("6.00"), idempotency_key="auth-1")
    assert refused.value.fields == ("amount",)
    captured = facade.capture(first, idempotency_key="cap-1")
    assert facade.capture(first, idempotency_key="cap-1").pk == captured.pk
    assert Transfer.objects.filter(destination=shop).count() == 1


def test_a_rolled_back_authorisation_leaves_nothing(funded, shop):
    with pytest.raises(RuntimeError), transaction.atomic():
        facade.authorise(funded, shop, D("5.00"))
        raise RuntimeError
    assert Hold.objects.count() == 0 and fresh(funded).pending_debits == 0


def test_the_database_refuses_pending_beyond_the_limit(funded):
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.filter(pk=funded.pk).update(pending_debits=D("100.01"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.filter(pk=funded.pk).update(pending_credits=D("-1"))
    Account.objects.filter(pk=funded.pk).update(pending_debits=D("100.00"))  # exactly the limit


def test_debit_normal_accounts_reserve_pending_credits(source):
    bank = AccountFactory(kind=Kind.ASSET, credit_limit=D("0"), name="Bank")
    facade.transfer(bank, AccountFactory(kind=Kind.EQUITY, credit_limit=None), D("40.00"))
    # bank (an asset) was debited: its balance rose to 40; paying out of it credits it.
    assert fresh(bank).balance == D("40.00")
    payee = AccountFactory(kind=Kind.EXPENSE, credit_limit=None)
    hold = facade.authorise(payee, bank, D("30.00"))
    assert fresh(bank).pending_credits == D("30.00")
    assert fresh(bank).amount_available == D("10.00")
    with pytest.raises(exceptions.InsufficientFunds):
        facade.authorise(payee, bank, D("10.01"))
    facade.capture(hold)
    assert fresh(bank).balance == D("10.00")


def test_verification_checks_pending_sums_against_the_holds(funded, shop):
    from accounts import reports

    facade.authorise(funded, shop, D("5.00"))
    facade.capture(facade.authorise(funded, shop, D("3.00")), D("1.00"))
    assert reports.verify().ok
    Account.objects.filter(pk=funded.pk).update(pending_debits=D("4.00"))
    codes = [problem.code for problem in reports.verify().problems]
    assert codes == ["pending_drift"]
