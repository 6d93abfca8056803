"""What the postings share: the pair's checks against the locked rows, the move, and :func:`once`.

:mod:`.transfers` (transfers, refunds, reversals) and :mod:`.lifecycle` (the sweep of an expired
account) both check a pair of locked accounts with :func:`check_pair` and write the two legs with
:func:`move`. Every call that takes an ``idempotency_key`` runs through :func:`once`.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, TypeVar

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from .. import events, exceptions
from ..ledger import checks, idempotency, posting
from ..ledger.posting_sql import LockedAccounts
from ..models import Account, Hold, Transfer


def move(
    src: Account,
    dst: Account,
    amount: Decimal,
    locked: LockedAccounts,
    *,
    kind: str,
    using: str,
    parent: Transfer | None = None,
    reverses: Transfer | None = None,
    user: Any = None,
    merchant_reference: str | None = None,
    description: str | None = None,
    date: datetime.datetime | None = None,
) -> Transfer:
    """Check both locked accounts' limits, then write a two-legged transfer from src to dst."""
    checks.check_limits(src, posting.new_balance(src, -amount))
    checks.check_limits(dst, posting.new_balance(dst, amount))
    return posting.write(
        posting.Posting(
            [posting.Leg(src, -amount), posting.Leg(dst, amount)],
            kind=kind,
            amount=amount,
            currency=src.currency,
            source=src,
            destination=dst,
            parent=parent,
            reverses=reverses,
            user=user,
            merchant_reference=merchant_reference,
            description=description,
            date=date,
        ),
        locked,
        using,
    )


def check_pair(
    src: Account,
    dst: Account,
    amount: Decimal,
    user: Any,
    locked: LockedAccounts,
    *,
    check_window: bool = True,
) -> None:
    now = timezone.now()
    if src.currency != dst.currency:
        raise exceptions.CurrencyMismatch(
            gettext(
                "Account %(source)s holds %(source_currency)s and %(destination)s holds "
                "%(destination_currency)s; use facade.exchange() to change currency."
            )
            % {
                "source": src,
                "source_currency": src.currency,
                "destination": dst,
                "destination_currency": dst.currency,
            }
        )
    checks.check_precision(amount, src.currency)
    checks.check_can_post(src, locked.facts_of(src), now, check_window=check_window)
    checks.check_can_post(dst, locked.facts_of(dst), now)
    if user is not None and not checks.is_authorised(src, locked.facts_of(src), user):
        raise exceptions.Unauthorised(checks.unauthorised(user, src))


Result = TypeVar("Result", Transfer, Account, Hold, list[Transfer])


def once(
    using: str,
    key: str | None,
    operation: str,
    arguments: Mapping[str, Any],
    run: Callable[[], Result],
) -> Result:
    """Run ``run`` in the posting's transaction; with a ``key``, at most once per key.

    With a key, the key's claim and the posting share one savepoint, inside the transaction
    :func:`~accounts.ledger.posting.in_transaction` gives them: a call whose key is already
    held replays the first call's result (same ``operation`` and ``arguments``) or is refused
    (:class:`~accounts.exceptions.IdempotencyConflict`), and a refused call leaves no claim
    behind. A malformed key is refused before anything is written. ``arguments`` are the
    call's, by name (the key itself is left out).
    """
    if key is None:
        return posting.in_transaction(using, run)
    key = idempotency.check_key(key)
    digests = idempotency.fingerprint(
        {name: value for name, value in arguments.items() if name != "idempotency_key"}
    )

    def claimed() -> Result:
        with transaction.atomic(using=using):
            replayed = idempotency.claim(using, key, operation, digests)
            if replayed is not None:
                return replayed
            with events.keyed(key):
                result = run()
            idempotency.record(using, key, result)
            return result

    return posting.in_transaction(using, claimed)
