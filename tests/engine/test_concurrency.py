"""Several OS processes moving money over the same accounts at once, on a real server.

Guarantee 1 of the design: limits are checked against rows locked in the transaction that
writes, in primary-key order, so concurrent spenders never overdraw an account and transfers
crossing the same accounts in opposite directions never deadlock. Only real processes with their
own connections prove it, so these tests run on PostgreSQL and MariaDB; ``tests/conftest.py``
leaves this module out on SQLite, whose test database lives in one process's memory.

Each child is started with the "spawn" method: a fresh interpreter that imports this module
before Django is set up. That is why Django models are imported inside functions here, never
at the top of the module. The children wait at a barrier so they start together.
"""

from __future__ import annotations

import importlib
import io
import multiprocessing
import os
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]

#: Seconds a child waits at the starting barrier for the others.
START_TIMEOUT = 60
#: Seconds the parent waits for all children's results; every loop below is bounded.
RESULT_TIMEOUT = 240
#: Seconds to wait for a child process to exit after it has reported.
JOIN_TIMEOUT = 30


# -- what the children do ---------------------------------------------------------------------


def _spend(source_pk: int, destination_pks: list[int], amount: str) -> Counter[str]:
    """Transfer ``amount`` from the source to each destination in turn."""
    from accounts import exceptions, facade
    from accounts.models import Account

    outcomes: Counter[str] = Counter()
    source = Account.objects.get(pk=source_pk)
    for pk in destination_pks:
        try:
            facade.transfer(source, Account.objects.get(pk=pk), Decimal(amount))
        except exceptions.AccountException as refusal:
            outcomes[type(refusal).__name__] += 1
        else:
            outcomes["succeeded"] += 1
    return outcomes


def _reverse(transfer_pk: int) -> Counter[str]:
    from accounts import exceptions, facade
    from accounts.models import Transfer

    try:
        facade.reverse(Transfer.objects.get(pk=transfer_pk))
    except exceptions.AccountException as refusal:
        return Counter({type(refusal).__name__: 1})
    return Counter({"succeeded": 1})


def _refund(transfer_pk: int, attempts: int, amount: str) -> Counter[str]:
    """Refund ``amount`` of the transfer ``attempts`` times (its destination pays back)."""
    from accounts import exceptions, facade
    from accounts.models import Transfer

    outcomes: Counter[str] = Counter()
    original = Transfer.objects.select_related("source", "destination").get(pk=transfer_pk)
    for _ in range(attempts):
        try:
            facade.transfer(original.destination, original.source, Decimal(amount), parent=original)
        except exceptions.AccountException as refusal:
            outcomes[type(refusal).__name__] += 1
        else:
            outcomes["succeeded"] += 1
    return outcomes


def _transfer_once(source_pk: int, destination_pk: int, amount: str, key: str) -> Counter[str]:
    """Transfer ``amount`` with idempotency key ``key``; report the transfer's primary key."""
    from accounts import exceptions, facade
    from accounts.models import Account

    source, destination = Account.objects.get(pk=source_pk), Account.objects.get(pk=destination_pk)
    try:
        made = facade.transfer(source, destination, Decimal(amount), idempotency_key=key)
    except exceptions.AccountException as refusal:
        return Counter({type(refusal).__name__: 1})
    return Counter({f"transfer {made.pk}": 1})


TASKS = {"spend": _spend, "reverse": _reverse, "refund": _refund, "transfer_once": _transfer_once}


def _task(name: str) -> Any:
    """A task of :data:`TASKS`, or another module's function named ``"module:function"``."""
    if name in TASKS:
        return TASKS[name]
    module, _, function = name.partition(":")
    return getattr(importlib.import_module(module), function)


def _child(db_name: str, task: str, args: tuple[Any, ...], barrier: Any, results: Any) -> None:
    """Entry point of a spawned process: set Django up on the parent's test database."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    import django

    django.setup()
    from django.conf import settings
    from django.db import connections

    settings.DATABASES["default"]["NAME"] = db_name
    outcome: Counter[str] = Counter()
    error = ""
    try:
        barrier.wait(timeout=START_TIMEOUT)
        outcome = _task(task)(*args)
    except BaseException as exc:  # report anything unexpected (deadlocks included) to the test
        error = f"{type(exc).__name__}: {exc}"
    finally:
        connections.close_all()
        results.put((dict(outcome), error))


def run_in_processes(jobs: list[tuple[str, tuple[Any, ...]]]) -> tuple[Counter[str], list[str]]:
    """Run each ``(task, args)`` in its own process, all starting together.

    Returns the outcomes added up over all children and the unexpected errors they raised.
    """
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(len(jobs))
    results = context.Queue()
    db_name = connection.settings_dict["NAME"]
    processes = [
        context.Process(target=_child, args=(db_name, task, args, barrier, results))
        for task, args in jobs
    ]
    for process in processes:
        process.start()
    total: Counter[str] = Counter()
    errors: list[str] = []
    try:
        for _ in processes:
            outcome, error = results.get(timeout=RESULT_TIMEOUT)
            total.update(outcome)
            if error:
                errors.append(error)
    finally:
        for process in processes:
            process.join(timeout=JOIN_TIMEOUT)
            if process.is_alive():
                process.terminate()
                process.join(timeout=JOIN_TIMEOUT)
    assert [p.exitcode for p in processes] == [0] * len(processes)
    return total, errors


def _assert_books_balance() -> None:
    from django.core.management import call_command

    from accounts import reports

    verification = reports.verify()
    assert verification.ok, verification.problems
    call_command("verify_ledger", stdout=io.StringIO())  # raises CommandError on a problem


# -- the tests --------------------------------------------------------------------------------


def test_concurrent_spenders_never_overdraw_an_account():
    from django.db.models import Min

    from accounts import facade
    from accounts.models import Transaction, Transfer

    from ..factories import AccountFactory, SourceAccountFactory

    processes, attempts = 8, 3
    hot = AccountFactory(credit_limit=Decimal("0.00"))
    facade.transfer(SourceAccountFactory(), hot, Decimal("100.00"))
    destinations = [[AccountFactory().pk for _ in range(attempts)] for _ in range(processes)]

    outcomes, errors = run_in_processes([("spend", (hot.pk, pks, "10.00")) for pks in destinations])

    assert errors == []
    assert outcomes == {"succeeded": 10, "InsufficientFunds": processes * attempts - 10}
    hot.refresh_from_db()
    assert hot.balance == Decimal("0.00")
    lowest = Transaction.objects.filter(account=hot).aggregate(low=Min("balance_after"))["low"]
    assert lowest == Decimal("0.00")
    assert Transfer.objects.filter(source=hot).count() == 10
    _assert_books_balance()


def test_transfers_crossing_the_same_accounts_in_opposite_directions_never_deadlock():
    from accounts import facade
    from accounts.models import Account

    from ..factories import AccountFactory, SourceAccountFactory

    per_group, rounds = 4, 20
    source = SourceAccountFactory()
    a, b = AccountFactory(), AccountFactory()
    facade.transfer(source, a, Decimal("1000.00"))
    facade.transfer(source, b, Decimal("1000.00"))

    outcomes, errors = run_in_processes(
        [("spend", (a.pk, [b.pk] * rounds, "2.00")) for _ in range(per_group)]
        + [("spend", (b.pk, [a.pk] * rounds, "1.00")) for _ in range(per_group)]
    )

    assert errors == []  # no OperationalError: no deadlock, no lock wait timeout
    assert outcomes == {"succeeded": 2 * per_group * rounds}
    moved_to_b = per_group * rounds * Decimal("2.00")
    moved_to_a = per_group * rounds * Decimal("1.00")
    assert Account.objects.get(pk=a.pk).balance == Decimal("1000.00") - moved_to_b + moved_to_a
    assert Account.objects.get(pk=b.pk).balance == Decimal("1000.00") + moved_to_b - moved_to_a
    _assert_books_balance()


def test_a_transfer_reversed_by_several_processes_at_once_is_reversed_once():
    from accounts import facade
    from accounts.models import Account, Transfer

    from ..factories import AccountFactory, SourceAccountFactory

    processes = 6
    card = AccountFactory()
    loaded = facade.transfer(SourceAccountFactory(), card, Decimal("50.00"))

    outcomes, errors = run_in_processes([("reverse", (loaded.pk,)) for _ in range(processes)])

    assert errors == []
    assert outcomes == {"succeeded": 1, "AlreadyReversed": processes - 1}
    assert Transfer.objects.filter(reverses=loaded).count() == 1
    assert Account.objects.get(pk=card.pk).balance == Decimal("0.00")
    _assert_books_balance()


def test_concurrent_refunds_never_exceed_the_original_amount():
    from django.db.models import Sum

    from accounts import facade
    from accounts.models import Account, Transfer, TransferKind

    from ..factories import AccountFactory, SourceAccountFactory

    processes, attempts = 6, 5
    card = AccountFactory()
    sale = facade.transfer(SourceAccountFactory(), card, Decimal("100.00"))

    outcomes, errors = run_in_processes(
        [("refund", (sale.pk, attempts, "7.00")) for _ in range(processes)]
    )

    # 14 refunds of 7.00 fit in 100.00; the 2.00 left is less than any further refund.
    assert errors == []
    assert outcomes == {
        "succeeded": 14,
        "RefundExceedsRemaining": processes * attempts - 14,
    }
    refunded = Transfer.objects.filter(parent=sale, kind=TransferKind.REFUND).aggregate(
        total=Sum("amount")
    )["total"]
    assert refunded == Decimal("98.00")
    assert facade.refundable_amount(sale) == Decimal("2.00")
    assert Account.objects.get(pk=card.pk).balance == Decimal("2.00")
    _assert_books_balance()


def test_concurrent_first_attempts_with_one_key_make_exactly_one_transfer():
    """Issue 12: the key's unique index serialises them; all but one replay the one transfer."""
    from accounts import facade
    from accounts.models import IdempotencyKey, Transfer

    from ..factories import AccountFactory, SourceAccountFactory

    processes = 8
    card, shop = AccountFactory(), AccountFactory()
    facade.transfer(SourceAccountFactory(), card, Decimal("100.00"))

    outcomes, errors = run_in_processes(
        [("transfer_once", (card.pk, shop.pk, "30.00", "checkout-42")) for _ in range(processes)]
    )

    assert errors == []
    made = Transfer.objects.get(source=card)
    assert outcomes == {f"transfer {made.pk}": processes}
    card.refresh_from_db()
    assert card.balance == Decimal("70.00")
    assert IdempotencyKey.objects.get(key="checkout-42").transfer_id == made.pk
    _assert_books_balance()


def test_concurrent_first_attempts_refused_for_funds_leave_the_key_free():
    """A refused attempt takes its claim with it; the next attempt tries again, and so on."""
    from accounts import facade
    from accounts.models import IdempotencyKey, Transfer

    from ..factories import AccountFactory, SourceAccountFactory

    processes = 6
    card, shop = AccountFactory(), AccountFactory()

    outcomes, errors = run_in_processes(
        [("transfer_once", (card.pk, shop.pk, "30.00", "checkout-43")) for _ in range(processes)]
    )

    assert errors == []
    assert outcomes == {"InsufficientFunds": processes}
    assert not Transfer.objects.filter(source=card).exists()
    assert not IdempotencyKey.objects.filter(key="checkout-43").exists()
    facade.transfer(SourceAccountFactory(), card, Decimal("30.00"))
    paid = facade.transfer(card, shop, Decimal("30.00"), idempotency_key="checkout-43")
    assert IdempotencyKey.objects.get(key="checkout-43").transfer_id == paid.pk
