"""Closed periods (issue 13): nothing dated inside them, through the facade or raw SQL."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import exceptions, facade, reports
from accounts.models import ClosedPeriod, Transaction

from ..factories import AccountFactory, UserFactory

pytestmark = pytest.mark.django_db

D = Decimal


def days_ago(n: int) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(days=n)


@pytest.fixture
def closed(source):
    """Books with postings ten days ago, closed through the day five days ago."""
    card = AccountFactory()
    facade.transfer(source, card, D("50.00"), date=days_ago(10))
    through = timezone.localdate() - datetime.timedelta(days=5)
    return {"card": card, "through": through, "closing": facade.close_period(through)}


def test_a_closing_records_who_and_when(source):
    staff = UserFactory()
    through = timezone.localdate() - datetime.timedelta(days=1)
    closing = facade.close_period(through, user=staff, reason="Year end")
    assert closing.closed_through == through and closing.username == staff.username
    assert closing.closed_until == timezone.make_aware(
        datetime.datetime.combine(timezone.localdate(), datetime.time.min)
    )
    assert facade.closed_through() == through


@pytest.mark.parametrize("when", [6, 5])
def test_a_posting_dated_inside_the_closed_period_is_refused(closed, source, unchanged, when):
    moment = (
        days_ago(when)
        if when > 5
        else timezone.make_aware(
            datetime.datetime.combine(closed["through"], datetime.time(23, 59))
        )
    )
    with unchanged(), pytest.raises(exceptions.PeriodClosed):
        facade.transfer(source, closed["card"], D("1.00"), date=moment)


def test_every_dated_function_is_refused(closed, source, unchanged):
    card, moment = closed["card"], days_ago(6)
    with unchanged(), pytest.raises(exceptions.PeriodClosed):
        facade.post([facade.Debit(source, D("1")), facade.Credit(card, D("1"))], date=moment)
    items = [
        {"source": source, "destination": card, "amount": D("1")},
        {"source": source, "destination": card, "amount": D("1"), "date": moment},
    ]
    with unchanged(), pytest.raises(exceptions.PeriodClosed) as refused:
        facade.transfer_many(items)
    assert refused.value.index == 1


def test_postings_after_the_closing_and_corrections_now_are_allowed(closed, source):
    facade.transfer(source, closed["card"], D("1.00"), date=days_ago(4))
    old = Transaction.objects.filter(account=closed["card"]).order_by("created_at").first()
    assert old is not None
    # A correction of the closed period is posted now: a reversal dated today.
    original = old.transfer
    facade.reverse(original)
    assert reports.verify().ok


def test_reports_of_a_closed_period_do_not_change(closed, source):
    end = timezone.make_aware(
        datetime.datetime.combine(closed["through"] + datetime.timedelta(days=1), datetime.time())
    )
    before = reports.balance_sheet(end)
    facade.transfer(source, closed["card"], D("7.00"))
    with pytest.raises(exceptions.PeriodClosed):
        facade.transfer(source, closed["card"], D("7.00"), date=days_ago(8))
    assert reports.balance_sheet(end).assets == before.assets


def test_the_closing_only_moves_forward(closed, unchanged):
    with pytest.raises(exceptions.InvalidClosing):
        facade.close_period(closed["through"])
    with pytest.raises(exceptions.InvalidClosing):
        facade.close_period(closed["through"] - datetime.timedelta(days=1))
    with pytest.raises(exceptions.InvalidClosing):
        facade.close_period(timezone.localdate())  # not over yet
    with pytest.raises(exceptions.InvalidClosing):
        facade.close_period(timezone.now())  # a moment, not a day
    facade.close_period(closed["through"] + datetime.timedelta(days=1))
    assert facade.closed_through() == closed["through"] + datetime.timedelta(days=1)


@pytest.mark.parametrize("batch", [False, True])
def test_the_database_refuses_a_leg_dated_inside_a_closed_period(
    closed, source, monkeypatch, batch
):
    """With the facade's own check switched off, the database alone refuses the legs.

    The facade reports the database's refusal as :class:`PeriodClosed`, caused by it.
    """
    from accounts.ledger import periods

    monkeypatch.setattr(periods, "check_open", lambda *args: None)
    card, moment = closed["card"], days_ago(6)
    before = Transaction.objects.count()
    with pytest.raises(exceptions.PeriodClosed) as refusal, transaction.atomic():
        if batch:
            facade.transfer_many(
                [{"source": source, "destination": card, "amount": D("1"), "date": moment}]
            )
        else:
            facade.transfer(source, card, D("1.00"), date=moment)
    assert isinstance(refusal.value.__cause__, IntegrityError)
    assert periods.DATABASE_REFUSAL in str(refusal.value.__cause__)
    assert Transaction.objects.count() == before


def test_the_database_keeps_closings_append_only_and_forward(closed):
    with pytest.raises(IntegrityError), transaction.atomic():
        ClosedPeriod.objects.filter(pk=closed["closing"].pk).delete()
    with pytest.raises(IntegrityError), transaction.atomic():
        ClosedPeriod.objects.filter(pk=closed["closing"].pk).update(reason="changed")
    with pytest.raises(IntegrityError), transaction.atomic():
        ClosedPeriod.objects.create(
            closed_through=closed["through"] - datetime.timedelta(days=3),
            closed_until=closed["closing"].closed_until - datetime.timedelta(days=3),
        )
