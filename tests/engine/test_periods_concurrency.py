"""A closing and a back-dated posting in flight at the same moment (issue 13).

Whichever of the two writes first, the other waits for it: a closing never commits while a
posting it would cover is still open, and a posting that meets a closing in flight is refused
once the closing commits. Each test holds one side's transaction open on a thread of its own
(each thread has its own connection), so it needs PostgreSQL or MariaDB: ``tests/conftest.py``
leaves the module out on SQLite, whose single writer makes the race impossible.
"""

from __future__ import annotations

import datetime
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone

from accounts import exceptions, facade, reports
from accounts.models import Account, ClosedPeriod, Transaction

from ..factories import AccountFactory, SourceAccountFactory

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]

#: How long the waiting side is given to show that it waits (it must not finish meanwhile).
HOLD_SECONDS = 1.5
#: How long anything may take once the way is clear.
WAIT_SECONDS = 30


def _on_own_connection(func: Callable[[], Any]) -> Callable[[], Any]:
    def run() -> Any:
        try:
            return func()
        finally:
            connection.close()

    return run


def _still_waiting(future: Future[Any]) -> bool:
    try:
        future.result(timeout=HOLD_SECONDS)
    except FutureTimeout:
        return True
    return False


def _post(source_pk: int, card_pk: int, moment: datetime.datetime, batch: bool) -> Any:
    source, card = Account.objects.get(pk=source_pk), Account.objects.get(pk=card_pk)
    if batch:
        items = [{"source": source, "destination": card, "amount": Decimal("5"), "date": moment}]
        return facade.transfer_many(items)
    return facade.transfer(source, card, Decimal("5.00"), date=moment)


@pytest.fixture
def books() -> dict[str, Any]:
    """A source and a card; the day to close is three days ago, the posting dated inside it."""
    through = timezone.localdate() - datetime.timedelta(days=3)
    moment = timezone.make_aware(datetime.datetime.combine(through, datetime.time(12)))
    return {
        "source": SourceAccountFactory().pk,
        "card": AccountFactory().pk,
        "through": through,
        "moment": moment,
    }


@pytest.mark.parametrize("batch", [False, True])
def test_a_closing_waits_for_a_posting_in_flight_inside_the_days_it_closes(books, batch):
    posted, release = threading.Event(), threading.Event()

    def post_and_hold() -> None:
        with transaction.atomic():
            _post(books["source"], books["card"], books["moment"], batch)
            posted.set()
            release.wait(WAIT_SECONDS)

    with ThreadPoolExecutor(max_workers=2) as pool:
        poster = pool.submit(_on_own_connection(post_and_hold))
        assert posted.wait(WAIT_SECONDS), poster.exception(timeout=0)
        closer = pool.submit(_on_own_connection(lambda: facade.close_period(books["through"])))
        waited = _still_waiting(closer)
        release.set()
        poster.result(timeout=WAIT_SECONDS)
        closing = closer.result(timeout=WAIT_SECONDS)
    assert waited, "the closing committed while a posting it covers was still open"
    assert closing.closed_through == books["through"]
    # The posting committed first, so the books it closed include it.
    assert Transaction.objects.filter(account_id=books["card"]).count() == 1
    assert reports.verify().ok


@pytest.mark.parametrize("batch", [False, True])
def test_a_posting_that_meets_a_closing_in_flight_waits_and_is_refused(books, batch):
    closed, release = threading.Event(), threading.Event()

    def close_and_hold() -> None:
        with transaction.atomic():
            facade.close_period(books["through"])
            closed.set()
            release.wait(WAIT_SECONDS)

    with ThreadPoolExecutor(max_workers=2) as pool:
        closer = pool.submit(_on_own_connection(close_and_hold))
        assert closed.wait(WAIT_SECONDS), closer.exception(timeout=0)
        poster = pool.submit(
            _on_own_connection(
                lambda: _post(books["source"], books["card"], books["moment"], batch)
            )
        )
        waited = _still_waiting(poster)
        release.set()
        closer.result(timeout=WAIT_SECONDS)
        with pytest.raises(exceptions.PeriodClosed):
            poster.result(timeout=WAIT_SECONDS)
    assert waited, "the posting went ahead past a closing that was still open"
    assert ClosedPeriod.objects.count() == 1
    assert not Transaction.objects.filter(account_id=books["card"]).exists()
    assert reports.verify().ok
