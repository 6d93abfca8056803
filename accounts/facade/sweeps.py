"""The expiry sweep in bulk: :func:`expire_accounts`, what ``close_expired_accounts`` runs.

:func:`~accounts.facade.expire_account` sweeps one account in a transaction of its own: four
statements and a commit per account. A nightly sweep of thousands of cards does the same work a
chunk at a time instead, through the batch writer (:mod:`accounts.ledger.posting_bulk`):

1. lock the chunk's accounts and the expired account of each currency, in primary-key order;
2. check each account against its locked row as :func:`~accounts.facade.expire_account` does
   (still open and expired, no pending holds, not overdrawn) and prepare its sweep, the running
   balance and version of the expired account's legs continuing from one sweep to the next;
3. write the chunk's transfers and legs in a few multi-row statements, move every balance once,
   close the swept accounts in one ``UPDATE``, and record each expiry in the audit trail.

An account the rules refuse is skipped, with its refusal, and the rest of the chunk goes ahead:
a sweep is many independent acts, not one atomic batch. Each chunk commits on its own, retried
whole on a deadlock or serialization failure, and sends its events after its commit.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db import connections
from django.utils import timezone

from .. import audit, events, exceptions
from ..ledger import checks, posting, posting_bulk
from ..ledger.posting_sql import LockedAccounts
from ..models import Account, AuditAction, Status, Surface, Transfer, TransferKind
from .common import check_pair
from .lifecycle import check_sweepable

#: Accounts swept per transaction by :func:`expire_accounts`.
SWEEP_CHUNK_SIZE = 500


@dataclasses.dataclass
class SweepResult:
    """What one call of :func:`expire_accounts` did."""

    #: The accounts closed, by primary key, with their sweeping transfer (None: nothing to move).
    closed: dict[int, Transfer | None] = dataclasses.field(default_factory=dict)
    #: The accounts refused, by primary key, with the refusal (overdrawn, pending holds, ...).
    skipped: dict[int, exceptions.AccountException] = dataclasses.field(default_factory=dict)

    def moved(self) -> dict[str, Decimal]:
        """The total moved to the expired accounts, by currency."""
        totals: dict[str, Decimal] = {}
        for swept in self.closed.values():
            if swept is not None:
                totals[swept.currency] = totals.get(swept.currency, Decimal(0)) + swept.amount
        return totals


def expire_accounts(
    pks: Iterable[int],
    *,
    user: Any = None,
    reason: str | None = None,
    surface: str = Surface.CODE,
) -> SweepResult:
    """Sweep and close the expired open accounts among ``pks``, as one chunk, in one transaction.

    The bulk form of :func:`~accounts.facade.expire_account`, with its rules: an account that is
    no longer open or not yet expired is passed over (neither closed nor skipped), one with
    pending holds or a negative balance is skipped with its refusal, and every other one has its
    balance moved to the expired account of its currency and is closed. Pass at most
    :data:`SWEEP_CHUNK_SIZE` or so keys per call (``close_expired_accounts`` does): the whole
    chunk is locked at once.
    """
    surface = checks.check_act(reason, surface)
    wanted = sorted(set(pks))
    result = SweepResult()
    if not wanted:
        return result
    currencies = set(
        Account.objects.filter(pk__in=wanted)
        .order_by()
        .values_list("currency", flat=True)
        .distinct()
    )
    targets = {c: Account.objects.expired_account(currency=c) for c in sorted(currencies)}
    using = posting.db_for(None)

    def run() -> SweepResult:
        attempt = SweepResult()
        stubs = [Account(pk=pk) for pk in wanted] + list(targets.values())
        locked = posting.lock(stubs, None, using)
        writer = posting_bulk.BulkWriter(connections[using], using, locked)
        now = timezone.now()
        for pk in wanted:
            acct = locked[pk]
            if acct.status != Status.OPEN or not acct.is_expired(now):
                continue
            try:
                attempt.closed[pk] = _sweep_one(
                    acct, locked[targets[acct.currency].pk], locked, writer, user
                )
            except exceptions.AccountException as refusal:
                attempt.skipped[pk] = refusal
        writer.finish()
        _close(attempt, locked, user=user, surface=surface, reason=reason, using=using)
        return attempt

    done = posting.in_transaction(using, run)
    result.closed.update(done.closed)
    result.skipped.update(done.skipped)
    return result


def _sweep_one(
    acct: Account,
    target: Account,
    locked: LockedAccounts,
    writer: posting_bulk.BulkWriter,
    user: Any,
) -> Transfer | None:
    """Check one locked account and prepare its sweep (None when it holds nothing)."""
    check_sweepable(acct)
    if acct.balance == 0:
        return None
    amount = acct.balance
    # Bring the balance to zero: debit a credit-normal account, credit a debit-normal one.
    src, dst = (acct, target) if not acct.is_debit_normal else (target, acct)
    check_pair(src, dst, amount, None, locked, check_window=False)
    checks.check_can_post(target, locked.facts_of(target), timezone.now())
    checks.check_limits(src, posting.new_balance(src, -amount))
    checks.check_limits(dst, posting.new_balance(dst, amount))
    return writer.add(
        posting.Posting(
            [posting.Leg(src, -amount), posting.Leg(dst, amount)],
            kind=TransferKind.EXPIRY,
            amount=amount,
            currency=acct.currency,
            source=src,
            destination=dst,
            user=user,
            description="Expired",
        )
    )


def _close(
    result: SweepResult,
    locked: LockedAccounts,
    *,
    user: Any,
    surface: str,
    reason: str | None,
    using: str,
) -> None:
    """Close the swept accounts, record each expiry, and send the events after the commit."""
    if not result.closed:
        return
    Account.objects.using(using).filter(pk__in=list(result.closed)).update(
        status=Status.CLOSED, updated_at=timezone.now()
    )
    for pk, swept in result.closed.items():
        acct = locked[pk]
        acct.status = Status.CLOSED
        audit.record(
            AuditAction.EXPIRED,
            account=acct,
            transfer=swept,
            user=user,
            surface=surface,
            reason=reason,
            using=using,
        )
        if swept is not None:
            events.emit(events.transfer_posted, transfer=swept, user=user, using=using)
        events.emit(events.account_expired, account=acct, transfer=swept, user=user, using=using)
