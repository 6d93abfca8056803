"""The app's own signals: what happened to money and accounts, sent only after it is committed.

Model signals (``post_save`` on :class:`~accounts.models.Transfer`) are not an integration point:
they fire inside the transaction, also for work that is then rolled back (a caller's failed
order, a refused posting's savepoint, an attempt the facade retries after a deadlock). The
facade instead calls :func:`emit` as the last step of each act, inside its transaction, and
:func:`emit` schedules the signal with ``transaction.on_commit``: receivers run once the
*outermost* transaction on that database commits, and never when any enclosing block rolls back
(Django discards the callbacks of a rolled-back atomic block or savepoint).

Every signal is sent with ``sender`` the model class (:class:`~accounts.models.Transfer`,
:class:`~accounts.models.Account` or :class:`~accounts.models.Hold`) and these keyword arguments:

- the objects: ``transfer`` (transfer signals; also on ``account_created`` for the opening load
  and ``account_expired`` for the sweep, None when there was none), ``original`` (the transfer
  a refund or reversal corrects), ``account`` (account signals) or ``hold`` (hold signals;
  ``hold_captured`` also carries the captured ``transfer``);
- ``user``: the acting user, or None;
- ``idempotency_key``: the key of the caller's facade call, or None (always present; an
  exchange's entry and a card's opening load carry the key of the call that made them);
- ``using``: the database alias the work was committed to.

Every new transfer sends :data:`transfer_posted` (two-legged transfers, ``post`` entries,
exchanges, loads, top-ups, refunds, reversals and expiry sweeps); a refund additionally sends
:data:`transfer_refunded` and a reversal :data:`transfer_reversed`, after it.

Receiver errors: the money is committed when receivers run, so the signals are sent with
``send_robust``; a receiver that raises is logged on the ``accounts.events`` logger (with its
traceback) and the other receivers still run. Nothing is raised into the caller.

In-transaction hook: before scheduling the signal, :func:`emit` sends :data:`event_recorded`
synchronously, inside the transaction, with ``event`` (the event's name, such as
``"transfer.posted"``) and the same arguments. Its receivers write in the same transaction as the
money (the optional outbox, :mod:`accounts.outbox`, stores its rows this way); an error there
rolls the whole act back, as any other error inside the transaction would.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.db import transaction
from django.dispatch import Signal

from .models import Account, Hold, Transfer

__all__ = [
    "EVENT_NAMES",
    "account_closed",
    "account_created",
    "account_expired",
    "account_frozen",
    "account_thawed",
    "emit",
    "event_recorded",
    "hold_authorised",
    "hold_captured",
    "hold_expired",
    "hold_voided",
    "keyed",
    "transfer_posted",
    "transfer_refunded",
    "transfer_reversed",
]

logger = logging.getLogger("accounts.events")

#: Every new transfer, of any kind; after commit. ``transfer``.
transfer_posted = Signal()
#: A refund (a transfer back against its parent), after its ``transfer_posted``.
#: ``transfer`` (the refund), ``original``.
transfer_refunded = Signal()
#: A reversal, after its ``transfer_posted``. ``transfer`` (the reversal), ``original``.
transfer_reversed = Signal()
#: A new account (``account``), with its opening load as ``transfer`` (or None).
account_created = Signal()
#: An account frozen (``account``).
account_frozen = Signal()
#: A frozen account reopened (``account``).
account_thawed = Signal()
#: An account closed by ``close_account`` (``account``).
account_closed = Signal()
#: An expired account swept and closed (``account``), with the sweep as ``transfer`` (or None).
account_expired = Signal()

#: Funds reserved (``hold``), after commit.
hold_authorised = Signal()
#: A hold captured (``hold``), with the transfer it posted as ``transfer``, after that
#: transfer's ``transfer_posted``.
hold_captured = Signal()
#: A hold voided before capture (``hold``).
hold_voided = Signal()
#: A hold released by the sweep after its expiry (``hold``).
hold_expired = Signal()

#: Sent inside the transaction, before the work commits, for every event: ``event`` (a name of
#: :data:`EVENT_NAMES`) and the event's own arguments. For writes that must share the transaction.
event_recorded = Signal()

#: Each signal's stable name (used by the outbox) and the sender it is sent with.
EVENT_NAMES: dict[Signal, str] = {
    transfer_posted: "transfer.posted",
    transfer_refunded: "transfer.refunded",
    transfer_reversed: "transfer.reversed",
    account_created: "account.created",
    account_frozen: "account.frozen",
    account_thawed: "account.thawed",
    account_closed: "account.closed",
    account_expired: "account.expired",
    hold_authorised: "hold.authorised",
    hold_captured: "hold.captured",
    hold_voided: "hold.voided",
    hold_expired: "hold.expired",
}


#: The sender of each family of events, by the part of the name before the dot.
_SENDERS: dict[str, type[Account] | type[Transfer] | type[Hold]] = {
    "transfer": Transfer,
    "account": Account,
    "hold": Hold,
}


def _sender_of(signal: Signal) -> type[Account] | type[Transfer] | type[Hold]:
    return _SENDERS[EVENT_NAMES[signal].partition(".")[0]]


#: The idempotency key of the facade call now running, for the events it emits (nested calls too:
#: an exchange's ``post``, a card's opening load).
_current_key: ContextVar[str | None] = ContextVar("accounts_idempotency_key", default=None)


@contextmanager
def keyed(key: str | None) -> Iterator[None]:
    """Within this block, events that name no key carry ``key``: the facade's keyed calls."""
    token = _current_key.set(key)
    try:
        yield
    finally:
        _current_key.reset(token)


def emit(
    signal: Signal,
    *,
    using: str,
    user: Any = None,
    idempotency_key: str | None = None,
    **objects: Any,
) -> None:
    """Record an event inside the current transaction and send ``signal`` after it commits.

    Call it inside the facade's transaction, after the act's last write: the in-transaction
    :data:`event_recorded` receivers run now, ``signal``'s receivers after the outermost commit
    on ``using``, and neither ever runs for work that is rolled back.
    """
    name = EVENT_NAMES[signal]
    sender = _sender_of(signal)
    # Only what someone listens to costs anything: a batch of a million transfers holds no
    # callback until its commit unless a receiver of the after-commit signal is connected.
    recorded, announced = event_recorded.has_listeners(sender), signal.has_listeners(sender)
    if not (recorded or announced):
        return
    if idempotency_key is None:
        idempotency_key = _current_key.get()
    payload = {**objects, "user": user, "idempotency_key": idempotency_key, "using": using}
    if recorded:
        event_recorded.send(sender=sender, event=name, **payload)
    if not announced:
        return

    def send() -> None:
        for receiver, result in signal.send_robust(sender=sender, **payload):
            if isinstance(result, Exception):
                # The money has moved: the caller must not see an error for a listener's fault.
                logger.error(
                    "Receiver %r of %s raised after commit.",
                    receiver,
                    name,
                    exc_info=(type(result), result, result.__traceback__),
                )

    transaction.on_commit(send, using=using)
