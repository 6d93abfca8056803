"""Holds: two-phase transfers. Reserve funds now (:func:`authorise`), post them later.

A hold reserves ``amount`` from ``source`` for ``destination``: the source's available amount
drops at once (its posted balance does not), because the hold's amount is added to the source's
``pending_debits`` and the destination's ``pending_credits``, which every later posting's limit
check counts and the database's credit-limit constraint counts too. The hold then resolves once:

- :func:`capture` posts all of it or a part as an ordinary transfer and releases the rest;
- :func:`void` releases it all;
- after ``expires_at`` it can no longer be captured, and :func:`release_expired_hold` (run by
  the ``release_expired_holds`` command) marks it expired and releases it.

Every step locks the hold's row first and then the two accounts (in primary-key order, as every
posting does), so a capture racing a void or the expiry sweep queues behind it and then finds
the hold resolved (:class:`~accounts.exceptions.HoldNotPending`). The steps act on the row they
locked, never on the caller's possibly stale instance, which they update afterwards.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext

from .. import codes, events, exceptions
from ..ledger import checks, posting
from ..ledger.checks import validate_amount
from ..ledger.posting_sql import LockedAccounts
from ..models import Account, Hold, HoldStatus, Transfer, TransferKind
from .common import check_pair, move, once

#: How many expired holds :func:`expired_hold_ids` reads at a time.
EXPIRED_HOLDS_CHUNK_SIZE = 500


def authorise(
    source: Account,
    destination: Account,
    amount: Decimal,
    *,
    expires_at: datetime.datetime | None = None,
    user: Any = None,
    merchant_reference: str | None = None,
    description: str | None = None,
    idempotency_key: str | None = None,
) -> Hold:
    """Reserve ``amount`` from ``source`` for ``destination``; return the pending :class:`Hold`.

    Every rule of :func:`~accounts.facade.transfer` applies now, against the locked rows: the
    accounts' status, window and currency, the amount's precision, ``user``'s right to spend
    from ``source`` and the credit limit, counting the holds already pending. Nothing is posted:
    ``source.balance`` is unchanged and ``source.amount_available`` drops by ``amount``.
    ``expires_at`` (aware, in the future) is when the hold stops being capturable; None keeps
    it until captured or voided. ``idempotency_key`` works as for ``transfer``.
    """
    arguments = dict(locals())  # before any is rebound: what a key remembers
    amount = validate_amount(amount)
    checks.check_texts(merchant_reference, description)
    checks.check_saved(source)
    checks.check_saved(destination)
    if source.pk == destination.pk:
        raise exceptions.SameAccount(gettext("The source and destination are the same account."))
    expires_at = check_expiry(expires_at)
    using = posting.db_for(source, destination)

    def run() -> Hold:
        locked = posting.lock([source, destination], user, using)
        src, dst = locked[source.pk], locked[destination.pk]
        check_pair(src, dst, amount, user, locked)
        checks.check_limits(src, posting.new_balance(src, -amount))
        checks.check_limits(dst, posting.new_balance(dst, amount))
        hold = Hold.objects.using(using).create(
            reference=codes.generate(),
            source=src,
            destination=dst,
            amount=amount,
            currency=src.currency,
            expires_at=expires_at,
            user=user if getattr(user, "pk", None) is not None else None,
            merchant_reference=merchant_reference or None,
            description=description or "",
        )
        _reserve(locked, hold, amount, using)
        posting.sync([source, destination], locked)
        hold.source, hold.destination = source, destination
        events.emit(events.hold_authorised, hold=hold, user=user, using=using)
        return hold

    return once(using, idempotency_key, "authorise", arguments, run)


def capture(
    hold: Hold,
    amount: Decimal | None = None,
    *,
    user: Any = None,
    description: str | None = None,
    idempotency_key: str | None = None,
) -> Transfer:
    """Post ``amount`` (all of the hold when None) from its source to its destination.

    Returns the posted :class:`~accounts.models.Transfer`; the hold (``hold`` is updated too)
    is then captured, with ``captured_amount`` and ``transfer``, and what was not captured is
    released. Refused with :class:`~accounts.exceptions.HoldNotPending` if the hold was already
    captured, voided or expired, :class:`~accounts.exceptions.HoldExpired` once its expiry has
    passed (whether or not the sweep has run) and
    :class:`~accounts.exceptions.CaptureExceedsHold` above the reserved amount. The transfer
    passes every rule of :func:`~accounts.facade.transfer` at the moment of capture (a frozen
    account refuses it; the hold then stays pending).
    """
    arguments = dict(locals())
    _check_hold(hold)
    if amount is not None:
        amount = validate_amount(amount)
    checks.check_texts(None, description)
    using = posting.db_for(hold)

    def run() -> Transfer:
        fresh = _lock_pending(hold, using)
        if fresh.is_expired():
            raise exceptions.HoldExpired(
                gettext("Hold %(hold)s expired at %(date)s; it can no longer be captured.")
                % {"hold": fresh, "date": checks.moment(fresh.expires_at)}
            )
        taken = fresh.amount if amount is None else amount
        if taken > fresh.amount:
            raise exceptions.CaptureExceedsHold(
                gettext("Hold %(hold)s reserved %(reserved)s; it cannot capture %(amount)s.")
                % {"hold": fresh, "reserved": fresh.amount, "amount": taken}
            )
        locked = _lock_accounts(fresh, user, using)
        src, dst = locked[fresh.source_id], locked[fresh.destination_id]
        # Release it all, then post what is taken: checked first on the locked rows, so a
        # refusal leaves nothing written, even inside the caller's transaction.
        _shift(locked, fresh, -fresh.amount)
        check_pair(src, dst, taken, user, locked)
        checks.check_limits(src, posting.new_balance(src, -taken))
        checks.check_limits(dst, posting.new_balance(dst, taken))
        _store(fresh, -fresh.amount, using)
        new = move(
            src,
            dst,
            taken,
            locked,
            kind=TransferKind.TRANSFER,
            user=user,
            merchant_reference=fresh.merchant_reference,
            description=description if description is not None else fresh.description,
            using=using,
        )
        _resolve(fresh, HoldStatus.CAPTURED, using, captured_amount=taken, transfer=new)
        _sync(hold, fresh, locked)
        events.emit(events.transfer_posted, transfer=new, user=user, using=using)
        events.emit(events.hold_captured, hold=fresh, transfer=new, user=user, using=using)
        return new

    return once(using, idempotency_key, "capture", arguments, run)


def void(hold: Hold, *, user: Any = None, idempotency_key: str | None = None) -> Hold:
    """Release a pending hold without posting anything; return it, voided.

    ``user``, when given, must be allowed to spend from the hold's source, as for a capture.
    Refused with :class:`~accounts.exceptions.HoldNotPending` once the hold is resolved. An
    expired hold the sweep has not reached yet can still be voided.
    """
    arguments = dict(locals())
    _check_hold(hold)
    using = posting.db_for(hold)

    def run() -> Hold:
        fresh = _lock_pending(hold, using)
        locked = _lock_accounts(fresh, user, using)
        src = locked[fresh.source_id]
        if user is not None and not checks.is_authorised(src, locked.facts_of(src), user):
            raise exceptions.Unauthorised(checks.unauthorised(user, src))
        _reserve(locked, fresh, -fresh.amount, using)
        _resolve(fresh, HoldStatus.VOIDED, using)
        _sync(hold, fresh, locked)
        events.emit(events.hold_voided, hold=fresh, user=user, using=using)
        return fresh

    return once(using, idempotency_key, "void", arguments, run)


def expired_holds(at: datetime.datetime | None = None) -> QuerySet[Hold]:
    """The pending holds whose expiry has passed at ``at`` (now), oldest expiry first."""
    return Hold.objects.filter(
        status=HoldStatus.PENDING, expires_at__lte=at or timezone.now()
    ).order_by("expires_at", "pk")


def expired_hold_ids(at: datetime.datetime | None = None) -> Iterator[int]:
    """The ids of :func:`expired_holds` in id order, read a chunk at a time (memory stays flat)."""
    at = at or timezone.now()
    last = 0
    while True:
        chunk = list(
            expired_holds(at)
            .filter(pk__gt=last)
            .order_by("pk")
            .values_list("pk", flat=True)[:EXPIRED_HOLDS_CHUNK_SIZE]
        )
        if not chunk:
            return
        yield from chunk
        last = chunk[-1]


def release_expired_hold(hold_id: int, *, at: datetime.datetime | None = None) -> Hold | None:
    """Mark one hold expired and release it, if it is still pending and past its expiry.

    Returns the expired hold, or None when there was nothing to do (captured, voided or expired
    meanwhile, or not yet due): running it twice releases once.
    """
    at = at or timezone.now()
    using = posting.db_for(None)

    def run() -> Hold | None:
        fresh = Hold.objects.using(using).select_for_update().filter(pk=hold_id).first()
        if fresh is None or not fresh.is_pending() or not fresh.is_expired(at):
            return None
        locked = _lock_accounts(fresh, None, using)
        _reserve(locked, fresh, -fresh.amount, using)
        _resolve(fresh, HoldStatus.EXPIRED, using)
        events.emit(events.hold_expired, hold=fresh, user=None, using=using)
        return fresh

    return posting.in_transaction(using, run)


def check_expiry(expires_at: Any) -> datetime.datetime | None:
    """Return ``expires_at`` if it can end a new hold: None, or an aware moment still ahead."""
    if expires_at is None:
        return None
    if not isinstance(expires_at, datetime.datetime) or timezone.is_naive(expires_at):
        raise exceptions.InvalidExpiry(
            gettext("A hold's expiry must be an aware datetime, not %(value)s.")
            % {"value": repr(expires_at)}
        )
    if expires_at <= timezone.now():
        raise exceptions.InvalidExpiry(
            gettext("A hold's expiry must be in the future; %(date)s has passed.")
            % {"date": checks.moment(expires_at)}
        )
    return expires_at


# -- the steps every resolution shares ---------------------------------------------------------


def _check_hold(hold: Any) -> None:
    if not isinstance(hold, Hold) or hold.pk is None:
        raise exceptions.InvalidHold(
            gettext("Expected a saved Hold, got %(value)s.") % {"value": repr(hold)}
        )


def _lock_pending(hold: Hold, using: str) -> Hold:
    """Lock the hold's row and return it, refused unless it is still pending."""
    fresh = Hold.objects.using(using).select_for_update().filter(pk=hold.pk).first()
    if fresh is None:
        raise exceptions.InvalidHold(gettext("No hold with id %(id)s.") % {"id": hold.pk})
    if not fresh.is_pending():
        raise exceptions.HoldNotPending(
            gettext("Hold %(hold)s is already %(status)s.")
            % {"hold": fresh, "status": fresh.get_status_display().lower()}
        )
    return fresh


def _lock_accounts(hold: Hold, user: Any, using: str) -> LockedAccounts:
    """Lock the hold's two accounts (after the hold: every step takes them in that order)."""
    return posting.lock([Account(pk=hold.source_id), Account(pk=hold.destination_id)], user, using)


def _reserve(locked: LockedAccounts, hold: Hold, amount: Decimal, using: str) -> None:
    """Add ``amount`` (negative: release it) to the pending sums of the hold's accounts."""
    _shift(locked, hold, amount)
    _store(hold, amount, using)


def _shift(locked: LockedAccounts, hold: Hold, amount: Decimal) -> None:
    """Add ``amount`` to the pending sums on the locked rows only, for the checks."""
    locked[hold.source_id].pending_debits += amount
    locked[hold.destination_id].pending_credits += amount


def _store(hold: Hold, amount: Decimal, using: str) -> None:
    """Add ``amount`` to the pending sums in the database (the rows are locked)."""
    Account.objects.using(using).filter(pk=hold.source_id).update(
        pending_debits=F("pending_debits") + amount
    )
    Account.objects.using(using).filter(pk=hold.destination_id).update(
        pending_credits=F("pending_credits") + amount
    )


def _resolve(hold: Hold, status: str, using: str, **fields: Any) -> None:
    """Move the locked ``hold`` out of pending, in the database and on the object."""
    fields.update(status=status, resolved_at=timezone.now())
    Hold.objects.using(using).filter(pk=hold.pk, status=HoldStatus.PENDING).update(**fields)
    for name, value in fields.items():
        setattr(hold, name, value)


def _sync(caller: Hold, fresh: Hold, locked: LockedAccounts) -> None:
    """Show the hold's new state, and its accounts' new sums, on the caller's objects."""
    for name in ("status", "captured_amount", "transfer_id", "resolved_at"):
        setattr(caller, name, getattr(fresh, name))
    for field in (Hold._meta.get_field("source"), Hold._meta.get_field("destination")):
        if field.is_cached(caller):
            account = field.get_cached_value(caller)
            if isinstance(account, Account):
                posting.sync([account], locked)
