"""The ``batch`` scenario: many transfers one by one through ``transfer``, then as batches.

The same random pairs and amounts (``Sizes.batch`` transfers across ``Sizes.accounts``
accounts, from one seed) are posted three ways on a freshly emptied and funded ledger each
time, and the books are verified after each, outside the timing:

``one by one``
    ``facade.transfer`` per transfer, each its own transaction;
``one call``
    one ``facade.transfer_many`` call with every transfer (one transaction, written
    ``BATCH_CHUNK_SIZE`` items at a time);
``chunks``
    ``facade.transfer_many`` once per ``BATCH_CALL_SIZE`` transfers (each its own transaction).

With ``--profile`` the one-call batch is also run under cProfile.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from . import database, ledger

#: Transfers per ``transfer_many`` call in the chunked run.
BATCH_CALL_SIZE = 2000


def _timed(block: Callable[[], Any], count: int) -> dict[str, Any]:
    start, cpu_start = time.perf_counter(), time.process_time()
    block()
    seconds = time.perf_counter() - start
    cpu_seconds = time.process_time() - cpu_start
    return {
        "transfers": count,
        "seconds": seconds,
        "per_second": count / seconds if seconds else 0.0,
        "ms_per_transfer": 1000 * seconds / count,
        "client_cpu_ms_per_transfer": 1000 * cpu_seconds / count,
        "verified": ledger.verify(),
    }


def _fresh_ledger(accounts: int, seed: int, count: int) -> list[tuple[Any, Any, Decimal]]:
    """Empty the ledger, fund ``accounts`` accounts and draw ``count`` pairs and amounts."""
    database.reset_ledger()
    pks = ledger.make_accounts(accounts)
    database.analyse(database.LEDGER_TABLES)
    loaded = ledger.load_accounts(pks)
    rng = random.Random(seed)
    return [(*rng.sample(loaded, 2), ledger.amount(rng)) for _ in range(count)]


def batch(ctx: Any) -> dict[str, Any]:
    from accounts import facade

    from .scenarios import _profile, _progress

    sizes = ctx.sizes
    count = sizes.batch

    def items(pairs: list[tuple[Any, Any, Decimal]]) -> list[dict[str, Any]]:
        return [{"source": s, "destination": d, "amount": a} for s, d, a in pairs]

    _progress(f"batch: {count} transfers one by one across {sizes.accounts} accounts")
    pairs = _fresh_ledger(sizes.accounts, ctx.seed, count)

    def one_by_one() -> None:
        for source, destination, amount in pairs:
            facade.transfer(source, destination, amount)

    results: dict[str, Any] = {"one_by_one": _timed(one_by_one, count)}

    _progress(f"batch: {count} transfers in one transfer_many call")
    pairs = _fresh_ledger(sizes.accounts, ctx.seed, count)
    batch_items = items(pairs)
    results["one_call"] = _timed(lambda: facade.transfer_many(batch_items), count)

    _progress(f"batch: {count} transfers in calls of {BATCH_CALL_SIZE}")
    pairs = _fresh_ledger(sizes.accounts, ctx.seed, count)
    batch_items = items(pairs)

    def chunks() -> None:
        for start in range(0, count, BATCH_CALL_SIZE):
            facade.transfer_many(batch_items[start : start + BATCH_CALL_SIZE])

    results["chunks"] = _timed(chunks, count)
    if ctx.profile_path is not None:
        pairs = _fresh_ledger(sizes.accounts, ctx.seed, count)
        batch_items = items(pairs)
        path = ctx.profile_path.with_name(ctx.profile_path.stem + "-batch.prof")
        results["one_call"]["profile"] = _profile(lambda: facade.transfer_many(batch_items), path)
    base = results["one_by_one"]["seconds"]
    results["speedup_one_call"] = base / results["one_call"]["seconds"]
    results["speedup_chunks"] = base / results["chunks"]["seconds"]
    results["accounts"] = sizes.accounts
    return results


def _expired_accounts(count: int) -> list[int]:
    """Empty the ledger and make ``count`` funded accounts whose end date has just passed."""
    import datetime

    from django.utils import timezone

    from accounts.models import Account

    database.reset_ledger()
    pks = ledger.make_accounts(count, prefix="SWEEP")
    Account.objects.filter(pk__in=pks).update(
        end_date=timezone.now() - datetime.timedelta(seconds=1)
    )
    database.analyse(database.LEDGER_TABLES)
    return pks


def sweep(ctx: Any) -> dict[str, Any]:
    """The expiry sweep of ``Sizes.sweep`` accounts: one by one, then in chunks of 500."""
    from accounts import facade
    from accounts.models import Account

    from .scenarios import _progress

    count = ctx.sizes.sweep
    _progress(f"sweep: {count} expired accounts, expire_account one by one")
    pks = _expired_accounts(count)

    def one_by_one() -> None:
        for account in Account.objects.filter(pk__in=pks).order_by("pk").iterator():
            facade.expire_account(account)

    results: dict[str, Any] = {"one_by_one": _timed(one_by_one, count)}
    _progress(f"sweep: {count} expired accounts, expire_accounts in chunks")
    pks = _expired_accounts(count)

    def chunks() -> None:
        for start in range(0, count, facade.SWEEP_CHUNK_SIZE):
            facade.expire_accounts(pks[start : start + facade.SWEEP_CHUNK_SIZE])

    results["chunks"] = _timed(chunks, count)
    closed = Account.objects.filter(pk__in=pks, status="closed").count()
    results["all_closed"] = closed == count
    results["speedup"] = results["one_by_one"]["seconds"] / results["chunks"]["seconds"]
    return results
