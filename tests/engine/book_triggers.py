"""The refusals of holds and closed periods, each made the way a caller would (for
tests/engine/test_exceptions.py), like the engine's own ``TRIGGERS``.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from decimal import Decimal

from django.utils import timezone

from accounts import exceptions, facade
from accounts.models import Hold

from ..factories import AccountFactory, SourceAccountFactory

Act = Callable[[], object]

ONE = Decimal("1.00")


def _hold(amount: Decimal = ONE) -> Hold:
    return facade.authorise(SourceAccountFactory(), AccountFactory(), amount)


def capture_no_hold() -> Act:
    return lambda: facade.capture("H-123")  # type: ignore[arg-type]


def capture_twice() -> Act:
    hold = _hold()
    facade.void(hold)
    return lambda: facade.capture(hold)


def capture_too_late() -> Act:
    hold = facade.authorise(
        SourceAccountFactory(),
        AccountFactory(),
        ONE,
        expires_at=timezone.now() + datetime.timedelta(hours=1),
    )
    Hold.objects.filter(pk=hold.pk).update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    return lambda: facade.capture(Hold.objects.get(pk=hold.pk))


def capture_too_much() -> Act:
    hold = _hold()
    return lambda: facade.capture(hold, ONE + ONE)


def expiry_in_the_past() -> Act:
    source, shop = SourceAccountFactory(), AccountFactory()
    past = timezone.now() - datetime.timedelta(minutes=1)
    return lambda: facade.authorise(source, shop, ONE, expires_at=past)


def close_with_a_pending_hold() -> Act:
    account = AccountFactory()
    facade.authorise(SourceAccountFactory(), account, ONE)  # pays into the empty account
    return lambda: facade.close_account(account)


def post_into_a_closed_period() -> Act:
    source, account = SourceAccountFactory(), AccountFactory()
    facade.close_period(timezone.localdate() - datetime.timedelta(days=2))
    three_days_ago = timezone.now() - datetime.timedelta(days=3)
    return lambda: facade.transfer(source, account, ONE, date=three_days_ago)


def close_a_day_not_over() -> Act:
    return lambda: facade.close_period(timezone.localdate())


#: class -> (its stable code, a function that sets the scene and returns the refused call)
TRIGGERS: dict[type[exceptions.AccountException], tuple[str, Callable[[], Act]]] = {
    exceptions.InvalidHold: ("invalid_hold", capture_no_hold),
    exceptions.HoldNotPending: ("hold_not_pending", capture_twice),
    exceptions.HoldExpired: ("hold_expired", capture_too_late),
    exceptions.CaptureExceedsHold: ("capture_exceeds_hold", capture_too_much),
    exceptions.InvalidExpiry: ("invalid_expiry", expiry_in_the_past),
    exceptions.PendingHolds: ("account_has_pending_holds", close_with_a_pending_hold),
    exceptions.PeriodClosed: ("period_closed", post_into_a_closed_period),
    exceptions.InvalidClosing: ("invalid_closing", close_a_day_not_over),
}
