"""Several OS processes authorising, capturing, voiding and sweeping the same holds at once.

A hold resolves exactly once however its capture, its void and the expiry sweep race (each locks
the hold's row first, then its accounts), and authorisations never reserve more than an account
has. Like ``test_concurrency.py``, whose process runner this uses, it needs PostgreSQL or
MariaDB (``tests/conftest.py`` leaves it out on SQLite); Django models are imported inside
functions only, because the children are spawned.
"""

from __future__ import annotations

import time
from collections import Counter
from decimal import Decimal

import pytest

from .test_concurrency import _assert_books_balance, run_in_processes

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]

MODULE = __name__


def _authorise(source_pk: int, destination_pk: int, amount: str, times: int) -> Counter[str]:
    from accounts import exceptions, facade
    from accounts.models import Account

    outcomes: Counter[str] = Counter()
    for _ in range(times):
        source = Account.objects.get(pk=source_pk)
        try:
            facade.authorise(source, Account.objects.get(pk=destination_pk), Decimal(amount))
        except exceptions.AccountException as refusal:
            outcomes[type(refusal).__name__] += 1
        else:
            outcomes["succeeded"] += 1
    return outcomes


def _resolve_each(action: str, hold_pks: list[int], pause: float) -> Counter[str]:
    """Capture or void each hold in turn, pausing between them so the run spans the expiry."""
    from accounts import exceptions, facade
    from accounts.models import Hold

    outcomes: Counter[str] = Counter()
    for pk in hold_pks:
        hold = Hold.objects.get(pk=pk)
        try:
            getattr(facade, action)(hold)
        except exceptions.AccountException as refusal:
            outcomes[type(refusal).__name__] += 1
        else:
            outcomes[action] += 1
        time.sleep(pause)
    return outcomes


def _sweep(hold_pks: list[int], seconds: float) -> Counter[str]:
    """Release every expired hold, over and over, for ``seconds``."""
    from accounts import facade

    outcomes: Counter[str] = Counter()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for pk in hold_pks:
            if facade.release_expired_hold(pk) is not None:
                outcomes["expired"] += 1
        time.sleep(0.02)
    return outcomes


def test_concurrent_authorisations_never_reserve_more_than_the_account_has():
    from accounts import facade
    from accounts.models import Account, Hold

    from ..factories import AccountFactory, SourceAccountFactory

    processes, attempts = 6, 4
    card, shop = AccountFactory(), AccountFactory()
    facade.transfer(SourceAccountFactory(), card, Decimal("10.00"))

    outcomes, errors = run_in_processes(
        [(f"{MODULE}:_authorise", (card.pk, shop.pk, "1.00", attempts)) for _ in range(processes)]
    )

    assert errors == []
    assert outcomes == {"succeeded": 10, "InsufficientFunds": processes * attempts - 10}
    card = Account.objects.get(pk=card.pk)
    assert card.balance == Decimal("10.00") and card.pending_debits == Decimal("10.00")
    assert card.amount_available == 0
    assert Hold.objects.filter(source=card).count() == 10
    _assert_books_balance()


def test_holds_captured_voided_and_swept_at_once_resolve_exactly_once():
    """Captures and voids race the sweep while the holds expire under them."""
    from datetime import timedelta

    from django.utils import timezone

    from accounts import facade
    from accounts.models import Account, Hold, HoldStatus, Transfer

    from ..factories import AccountFactory, SourceAccountFactory

    count = 24
    card, shop = AccountFactory(), AccountFactory()
    facade.transfer(SourceAccountFactory(), card, Decimal("24.00"))
    # The children take a few seconds to start; the holds expire a little after they do.
    expiry = timezone.now() + timedelta(seconds=4)
    pks = [
        facade.authorise(card, shop, Decimal("1.00"), expires_at=expiry).pk for _ in range(count)
    ]

    outcomes, errors = run_in_processes(
        [
            (f"{MODULE}:_resolve_each", ("capture", pks, 0.3)),
            (f"{MODULE}:_resolve_each", ("capture", list(reversed(pks)), 0.3)),
            (f"{MODULE}:_resolve_each", ("void", pks[::2], 0.5)),
            (f"{MODULE}:_sweep", (pks, 9.0)),
            (f"{MODULE}:_sweep", (pks, 9.0)),
        ]
    )
    for pk in facade.expired_hold_ids(timezone.now() + timedelta(seconds=60)):
        facade.release_expired_hold(pk, at=timezone.now() + timedelta(seconds=60))

    assert errors == []
    statuses = Counter(Hold.objects.filter(pk__in=pks).values_list("status", flat=True))
    assert sum(statuses.values()) == count and HoldStatus.PENDING not in statuses
    # Every hold resolved once: each success reported matches one resolved hold.
    assert outcomes["capture"] == statuses[HoldStatus.CAPTURED]
    assert outcomes["void"] == statuses[HoldStatus.VOIDED]
    assert outcomes["expired"] <= statuses[HoldStatus.EXPIRED]
    attempts = 2 * count + len(pks[::2])
    refusals = outcomes["HoldNotPending"] + outcomes["HoldExpired"]
    assert outcomes["capture"] + outcomes["void"] + refusals == attempts
    captured = Transfer.objects.filter(source=card, destination=shop)
    assert captured.count() == statuses[HoldStatus.CAPTURED]
    card = Account.objects.get(pk=card.pk)
    assert card.pending_debits == 0 and Account.objects.get(pk=shop.pk).pending_credits == 0
    assert card.balance == Decimal("24.00") - statuses[HoldStatus.CAPTURED]
    _assert_books_balance()
