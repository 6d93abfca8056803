"""Several OS processes posting overlapping batches at once, on a real server.

A batch given as a list locks every account it names before it writes, in one primary-key
order, as a single transfer does: batches over the same accounts queue instead of deadlocking
(the children post inside their own transaction, where nothing would retry a deadlock), and
limits hold across them. Like ``test_concurrency.py``, this needs PostgreSQL or MariaDB
(``tests/conftest.py`` leaves it out on SQLite) and starts its children with "spawn", so Django
models are imported inside functions only.
"""

from __future__ import annotations

import multiprocessing
import os
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]

#: Seconds a child waits at the barrier, and the parent for all results.
START_TIMEOUT = 60
RESULT_TIMEOUT = 240
#: Attempts a child makes at its batch when SERIALIZABLE aborts it (never for a deadlock).
SERIALIZATION_ATTEMPTS_MAX = 50


def _post_batch(db_name: str, pks: list[int], shift: int, barrier: Any, results: Any) -> None:
    """Post a batch moving 1.00 around ``pks`` (rotated by ``shift``), in chunks of 5.

    With ``shift`` -1, spend 60.00 from the first account to the second instead.
    """
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    import django

    django.setup()
    from django.conf import settings
    from django.db import OperationalError, connections, transaction

    settings.DATABASES["default"]["NAME"] = db_name
    outcome = ""
    try:
        from accounts import exceptions, facade
        from accounts.models import Account

        accounts = list(Account.objects.filter(pk__in=pks).order_by("pk"))
        if shift < 0:  # spend 60.00 from the first account to the second, 1.00 at a time
            items = [
                {"source": accounts[0], "destination": accounts[1], "amount": 1} for _ in range(60)
            ]
        else:
            ring = accounts[shift:] + accounts[:shift]
            items = [
                {
                    "source": ring[n % len(ring)],
                    "destination": ring[(n + 1) % len(ring)],
                    "amount": 1,
                }
                for n in range(300)
            ]
        barrier.wait(timeout=START_TIMEOUT)
        try:
            # In the caller's transaction, where the facade retries nothing: a deadlock would
            # surface. Under SERIALIZABLE (ACCOUNTS_TEST_PG_ISOLATION), aborting a transaction
            # that read a row another one changed is the database's rule, and running the
            # transaction again is the caller's part, as it is for any application: only that
            # (SQLSTATE 40001) is retried here, never a deadlock.
            for attempt in range(1, SERIALIZATION_ATTEMPTS_MAX + 1):
                try:
                    with transaction.atomic():
                        facade.transfer_many(items, chunk_size=5)
                    break
                except OperationalError as error:
                    sqlstate = getattr(error.__cause__, "sqlstate", None)
                    if sqlstate != "40001" or attempt == SERIALIZATION_ATTEMPTS_MAX:
                        raise
        except exceptions.InsufficientFunds:
            outcome = "InsufficientFunds"
        else:
            outcome = "succeeded"
    except BaseException as exc:  # deadlocks included: reported to the test
        outcome = f"{type(exc).__name__}: {exc}"
    finally:
        connections.close_all()
        results.put(outcome)


def test_overlapping_batches_from_several_processes_all_post_and_the_books_verify():
    from accounts import facade, reports
    from accounts.models import Account, Transfer

    from ..factories import AccountFactory, SourceAccountFactory

    processes = 4
    source = SourceAccountFactory()
    accounts = AccountFactory.create_batch(40)
    facade.transfer_many(
        [{"source": source, "destination": a, "amount": Decimal("100")} for a in accounts]
    )
    pks = [a.pk for a in accounts]
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(processes), context.Queue()
    db_name = connection.settings_dict["NAME"]
    children = [
        context.Process(target=_post_batch, args=(db_name, pks, shift * 10, barrier, results))
        for shift in range(processes)
    ]
    for child in children:
        child.start()
    try:
        outcomes = [results.get(timeout=RESULT_TIMEOUT) for _ in children]
    finally:
        for child in children:
            child.join(timeout=30)
    assert outcomes == ["succeeded"] * processes
    assert Transfer.objects.count() == len(accounts) + 300 * processes
    # Every account gave and received the same amount: back to where it started.
    assert set(Account.objects.filter(pk__in=pks).values_list("balance", flat=True)) == {100}
    verification = reports.verify()
    assert verification.ok, verification.problems


def test_batches_from_several_processes_never_overdraw_the_account_they_share():
    from accounts import facade, reports
    from accounts.models import Account, Transfer

    from ..factories import AccountFactory, SourceAccountFactory

    processes = 4
    wallet, shop = AccountFactory(), AccountFactory()
    facade.transfer(SourceAccountFactory(), wallet, Decimal("100"))
    # Each batch spends 60.00 from the wallet in 60 items: only one of them fits.
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(processes), context.Queue()
    db_name = connection.settings_dict["NAME"]
    children = [
        context.Process(
            target=_post_batch, args=(db_name, [wallet.pk, shop.pk], -1, barrier, results)
        )
        for _ in range(processes)
    ]
    for child in children:
        child.start()
    try:
        outcomes = sorted(results.get(timeout=RESULT_TIMEOUT) for _ in children)
    finally:
        for child in children:
            child.join(timeout=30)
    assert outcomes == ["InsufficientFunds"] * (processes - 1) + ["succeeded"]
    assert Account.objects.get(pk=wallet.pk).balance == 40
    assert Transfer.objects.count() == 1 + 60
    verification = reports.verify()
    assert verification.ok, verification.problems
