"""How a checked posting is written: the lock, the write, the retry and the caller's objects.

1. :func:`lock` locks every account involved with ``SELECT ... FOR UPDATE`` in primary-key
   order, in one statement (:mod:`accounts.ledger.posting_sql`), and returns the fresh rows
   with what the lock read about each (:class:`~accounts.ledger.posting_sql.LockFacts`).
2. The facade checks them (:mod:`accounts.ledger.checks`), then :func:`write` inserts the
   transfer and its legs, each with its account's balance after it and new version, and moves
   the balances: one statement on PostgreSQL, three elsewhere.
3. :func:`in_transaction` (:mod:`accounts.ledger.retries`) runs the whole posting in the caller's
   transaction, or in one of its own that an abort by the database retries; :func:`sync` brings
   the caller's objects up to date.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connections, router, transaction
from django.utils import timezone
from django.utils.translation import gettext

from .. import audit, codes, exceptions
from ..models import Account, Transfer, normal_sign
from . import checks, periods, posting_sql
from .posting_sql import LockedAccounts

# The retry of a transaction the database aborted lives in its own module; kept here by name.
from .retries import RETRY_ATTEMPTS_MAX as RETRY_ATTEMPTS_MAX
from .retries import in_transaction as in_transaction
from .retries import is_retryable as is_retryable


@dataclass
class Leg:
    account: Account
    amount: Decimal  # signed: credit positive, debit negative


def new_balance(account: Account, signed_amount: Decimal) -> Decimal:
    return account.balance + signed_amount * normal_sign(account.kind)


def lock(
    accounts: Iterable[Account], user: Any, using: str, *, last_leg_at: bool = True
) -> LockedAccounts:
    """Lock the accounts' rows in primary-key order and return fresh copies by pk.

    One ``SELECT ... FOR UPDATE`` (see :mod:`accounts.ledger.posting_sql`), which also reads whether
    each account has children, when its newest leg was dated and, with a ``user``, whether that
    user is one of its secondary users.
    """
    pks = sorted({a.pk for a in accounts})
    connection = connections[using]
    locked = posting_sql.for_connection(connection).lock(
        connection, using, pks, last_leg_at=last_leg_at, user=user
    )
    missing = [pk for pk in pks if pk not in locked]
    if missing:
        raise exceptions.AccountNotFound(gettext("No account with id %(id)s.") % {"id": missing[0]})
    return locked


@dataclass(frozen=True)
class Posting:
    """One checked posting to write: its legs and what its transfer row records."""

    legs: Sequence[Leg]
    kind: str
    #: The transfer's amount and currency (an entry's total of debits).
    amount: Decimal
    currency: str
    #: The two sides of a two-legged transfer; None for an entry of more legs.
    source: Account | None = None
    destination: Account | None = None
    #: The transfer a refund belongs to, and the one a reversal undoes.
    parent: Transfer | None = None
    reverses: Transfer | None = None
    user: Any = None
    merchant_reference: str | None = None
    description: str | None = None
    #: A back-dated posting's moment; None for now.
    date: datetime.datetime | None = None
    #: An exchange's rate, recorded on the transfer when given.
    rate: Decimal | None = None


@dataclass
class Prepared:
    """A checked posting made ready to write: its transfer, its legs' rows, the new balances."""

    transfer: Transfer
    #: The values of :data:`~accounts.ledger.posting_sql.LEG_FIELDS` of each leg, the
    #: transfer's key first, unset until the transfer is inserted.
    leg_rows: list[list[Any]]
    #: Each account's balance and version after the posting, by primary key.
    new_state: dict[int, tuple[Decimal, int]]


def prepare(posting: Posting, locked: LockedAccounts, vendor: str) -> Prepared:
    """Compute each leg's balance after it and new version from the locked rows.

    Nothing is written and ``locked`` is unchanged: :func:`apply` moves the locked rows on once
    the posting is accepted, so postings prepared one after another continue each other
    (:mod:`accounts.facade.batches` relies on it).
    """
    date, legs, user = posting.date, posting.legs, posting.user
    now = timezone.now()
    if date is None:
        # A clock that stepped back, or another server's slower clock, must not date a leg
        # before its account's newest one: running balances follow time order.
        newest = (locked.facts[leg.account.pk].last_leg_at for leg in legs)
        now = max([now, *(at for at in newest if at is not None)])
    effective = date or now
    new_state: dict[int, tuple[Decimal, int]] = {}
    leg_rows: list[list[Any]] = []
    for index, leg in enumerate(legs, start=1):
        account = locked[leg.account.pk]
        balance, version = new_state.get(account.pk, (account.balance, account.version))
        balance = balance + leg.amount * normal_sign(account.kind)
        version += 1
        new_state[account.pk] = (balance, version)
        # The values of posting_sql.LEG_FIELDS; the transfer's key goes in once it is known.
        leg_rows.append(
            [
                None,
                index,
                account.pk,
                leg.amount,
                account.currency,
                balance,
                version,
                effective,
                checks.is_backdated(locked.facts_of(account), date),
            ]
        )
    username = ""
    if user is not None and getattr(user, "pk", None) is not None:
        username = audit.username_of(user)
    new = Transfer(
        reference=codes.generate(),
        kind=posting.kind,
        source=posting.source,
        destination=posting.destination,
        amount=posting.amount,
        currency=posting.currency,
        leg_count=len(leg_rows),
        parent=posting.parent,
        reverses=posting.reverses,
        user=user if username else None,
        username=username,
        merchant_reference=posting.merchant_reference or None,
        description=posting.description or "",
        # A back-dated transfer carries its date, like its legs, so that period reports and
        # lists place it where it belongs in the books.
        created_at=effective,
        rate=posting.rate,
    )
    if vendor == "sqlite":
        checks.check_sqlite_exact(leg_rows, new_state)
    return Prepared(new, leg_rows, new_state)


def apply(prepared: Prepared, locked: LockedAccounts) -> None:
    """Move the locked rows on to their balances and versions after ``prepared``."""
    for pk, (balance, version) in prepared.new_state.items():
        locked[pk].balance, locked[pk].version = balance, version


def write(posting: Posting, locked: LockedAccounts, using: str) -> Transfer:
    """Insert the transfer and its legs and move the balances (one statement or three)."""
    connection = connections[using]
    periods.check_open(posting.date, using, locked)
    prepared = prepare(posting, locked, connection.vendor)
    with transaction.atomic(using=using, savepoint=False), periods.refused_as_closed():
        posting_sql.for_connection(connection).write(
            connection, using, prepared.transfer, prepared.leg_rows, prepared.new_state
        )
    apply(prepared, locked)
    return prepared.transfer


def sync(
    caller_objects: Iterable[Account], locked: dict[int, Account], new: Transfer | None = None
) -> None:
    """Show the new balances on the objects the caller passed in.

    The returned transfer's ``source`` and ``destination`` are then those same objects, so
    ``transfer.source.balance`` and the caller's own variable never disagree.
    """
    by_pk: dict[int, Account] = {}
    for obj in caller_objects:
        fresh = locked.get(obj.pk)
        if fresh is not None:
            obj.balance, obj.version = fresh.balance, fresh.version
            obj.pending_debits, obj.pending_credits = fresh.pending_debits, fresh.pending_credits
            obj.status = fresh.status
            by_pk.setdefault(obj.pk, obj)
    if new is not None:
        if new.source_id in by_pk:
            new.source = by_pk[new.source_id]
        if new.destination_id in by_pk:
            new.destination = by_pk[new.destination_id]


def cached_accounts(original: Transfer) -> list[Account]:
    """The accounts a caller reaches through ``original`` (``original.source`` and so on)."""
    found: list[Account] = []
    for field in (Transfer._meta.get_field("source"), Transfer._meta.get_field("destination")):
        if field.is_cached(original):
            account = field.get_cached_value(original)
            if isinstance(account, Account):
                found.append(account)
    return found


def db_for(*objs: Any) -> str:
    for obj in objs:
        if obj is not None and getattr(obj, "_state", None) is not None and obj._state.db:
            return str(obj._state.db)
    return router.db_for_write(Transfer)
