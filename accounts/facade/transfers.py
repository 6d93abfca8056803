"""Two-legged transfers and their corrections: :func:`transfer`, :func:`reverse`, refunds.

A transfer with a ``parent`` that went the other way is a refund, capped by
:func:`refundable_amount`; :func:`reverse` moves back what remains of a transfer, once.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.db.models import F, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext

from .. import audit, events, exceptions, money
from ..ledger import checks, posting
from ..ledger.checks import validate_amount
from ..models import Account, AuditAction, Surface, Transfer, TransferKind, money_field
from .common import check_pair, move, once


def transfer(
    source: Account,
    destination: Account,
    amount: Decimal,
    *,
    parent: Transfer | None = None,
    user: Any = None,
    merchant_reference: str | None = None,
    description: str | None = None,
    date: datetime.datetime | None = None,
    reason: str | None = None,
    surface: str = Surface.CODE,
    idempotency_key: str | None = None,
) -> Transfer:
    """Move ``amount`` from ``source`` (debited) to ``destination`` (credited).

    With ``parent`` pointing at an earlier transfer in the opposite direction, this is a refund
    of it, capped by what remains refundable, and the audit trail records it with ``reason``
    and ``surface``. When ``user`` is given, that user must be allowed to spend from
    ``source``. ``date`` back-dates the legs (never into the future); as-of balances and
    statements follow it. Returns the new :class:`~accounts.models.Transfer`, or with an
    ``idempotency_key`` already used for the same call, that call's transfer (see ``once``).
    """
    arguments = dict(locals())  # before any is rebound: what a key remembers
    amount = validate_amount(amount)
    date = checks.check_date(date)
    checks.check_texts(merchant_reference, description)
    surface = checks.check_act(reason, surface)
    checks.check_saved(source)
    checks.check_saved(destination)
    if source.pk == destination.pk:
        raise exceptions.SameAccount(gettext("The source and destination are the same account."))
    if parent is not None and (not isinstance(parent, Transfer) or parent.pk is None):
        raise exceptions.InvalidTransfer(gettext("The parent must be a saved Transfer."))
    using = posting.db_for(source, destination)

    def run() -> Transfer:
        locked = posting.lock([source, destination], user, using)
        src, dst = locked[source.pk], locked[destination.pk]
        check_pair(src, dst, amount, user, locked)
        kind = TransferKind.TRANSFER
        if parent is not None and parent.source_id == dst.pk and parent.destination_id == src.pk:
            _check_refundable(parent, amount, using)
            kind = TransferKind.REFUND
        new = move(
            src,
            dst,
            amount,
            locked,
            kind=kind,
            parent=parent,
            user=user,
            merchant_reference=merchant_reference,
            description=description,
            using=using,
            date=date,
        )
        posting.sync([source, destination], locked, new)
        events.emit(events.transfer_posted, transfer=new, user=user, using=using)
        if parent is not None and kind == TransferKind.REFUND:
            _record_refund(new, parent, user=user, surface=surface, reason=reason, using=using)
        return new

    return once(using, idempotency_key, "transfer", arguments, run)


def _record_refund(
    new: Transfer, original: Transfer, *, user: Any, surface: str, reason: str | None, using: str
) -> None:
    """Record a refund in the audit trail and announce it (after its ``transfer_posted``)."""
    audit.record(
        AuditAction.REFUNDED, transfer=new, user=user, surface=surface, reason=reason, using=using
    )
    events.emit(events.transfer_refunded, transfer=new, original=original, user=user, using=using)


def refundable_amount(original: Transfer) -> Decimal:
    """What can still be refunded or reversed of ``original`` (zero for a reversal).

    The original's amount less its refunds and reversal; a refund that was itself reversed (or
    refunded) gave back less than its amount, and only what it still gives back counts.
    """
    if original.kind == TransferKind.REVERSAL:
        return Decimal(0)
    returned_kinds = [TransferKind.REFUND, TransferKind.REVERSAL]
    undone = (
        Transfer.objects.filter(
            parent=OuterRef("pk"),
            source=OuterRef("destination"),
            destination=OuterRef("source"),
            kind__in=returned_kinds,
        )
        .order_by()
        .values("parent")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    zero = Value(Decimal(0), output_field=money_field())
    returned = (
        original.children.filter(
            source=original.destination_id,
            destination=original.source_id,
            kind__in=returned_kinds,
        )
        .annotate(net=F("amount") - Coalesce(Subquery(undone), zero))
        .aggregate(total=Sum("net"))["total"]
    )
    return original.amount - (returned or Decimal(0))


def _check_refundable(original: Transfer, amount: Decimal, using: str) -> None:
    _refuse_closing_entry(original)
    if original.kind == TransferKind.REVERSAL:
        raise exceptions.CannotReverseReversal(
            gettext("Transfer %(reference)s is a reversal and cannot be refunded.")
            % {"reference": original.reference}
        )
    remaining = refundable_amount(original)
    if remaining <= 0:
        raise exceptions.AlreadyReversed(
            gettext("Nothing remains to refund of transfer %(reference)s.")
            % {"reference": original.reference}
        )
    if amount > remaining:
        raise exceptions.RefundExceedsRemaining(
            gettext("Only %(amount)s %(currency)s remains refundable of transfer %(reference)s.")
            % {
                "amount": money.format_amount(remaining, original.currency),
                "currency": original.currency,
                "reference": original.reference,
            }
        )


def reverse(
    original: Transfer,
    *,
    user: Any = None,
    merchant_reference: str | None = None,
    description: str | None = None,
    authorise: bool = False,
    reason: str | None = None,
    surface: str = Surface.CODE,
    idempotency_key: str | None = None,
) -> Transfer:
    """Post the opposite of ``original`` (what remains of it after refunds), once.

    A reversal is an administrative correction of a movement that was already authorised: it
    records ``user`` but does not require them to be authorised on the original destination.
    Surfaces that let people other than trusted staff reverse pass ``authorise=True``: then
    ``user`` must be allowed to spend from the account the reversal takes money from (the
    original destination), checked against its locked row like any spend.
    Reversing twice, or reversing a reversal, is refused. The audit trail records the reversal
    with ``reason`` and ``surface``. ``idempotency_key`` works as for :func:`transfer`.
    """
    arguments = dict(locals())  # before any is rebound: what a key remembers
    _check_reversible(original)
    checks.check_texts(merchant_reference, description)
    surface = checks.check_act(reason, surface)
    using = posting.db_for(original)
    source_pk, destination_pk = original.source_id, original.destination_id
    assert source_pk is not None and destination_pk is not None  # two-legged, checked above

    def run() -> Transfer:
        accounts = Account.objects.using(using).filter(pk__in=[source_pk, destination_pk])
        locked = posting.lock(accounts, user if authorise else None, using)
        remaining = _remaining_to_reverse(original, using)
        src, dst = locked[destination_pk], locked[source_pk]
        # Closed or frozen accounts cannot take a correction; an expired window can.
        check_pair(src, dst, remaining, user if authorise else None, locked, check_window=False)
        new = move(
            src,
            dst,
            remaining,
            locked,
            kind=TransferKind.REVERSAL,
            parent=original,
            reverses=original,
            user=user,
            merchant_reference=merchant_reference,
            description=description,
            using=using,
        )
        audit.record(
            AuditAction.REVERSED,
            transfer=new,
            user=user,
            surface=surface,
            reason=reason,
            using=using,
        )
        # The caller reaches the accounts through ``original``: show them the new balances.
        posting.sync(posting.cached_accounts(original), locked, new)
        events.emit(events.transfer_posted, transfer=new, user=user, using=using)
        events.emit(
            events.transfer_reversed, transfer=new, original=original, user=user, using=using
        )
        return new

    return once(using, idempotency_key, "reverse", arguments, run)


def _refuse_closing_entry(original: Transfer) -> None:
    """A year-end closing entry is part of closed books: never reversed nor refunded."""
    if original.kind == TransferKind.CLOSING:
        raise exceptions.InvalidTransfer(
            gettext(
                "Transfer %(reference)s is a closing entry of closed books; post a correcting "
                "entry instead."
            )
            % {"reference": original.reference}
        )


def _check_reversible(original: Any) -> None:
    """What makes a transfer reversible at all: saved, not a reversal, two-legged."""
    if not isinstance(original, Transfer) or original.pk is None:
        raise exceptions.InvalidTransfer(gettext("Only a saved Transfer can be reversed."))
    if original.kind == TransferKind.REVERSAL:
        raise exceptions.CannotReverseReversal(
            gettext("Transfer %(reference)s is itself a reversal.")
            % {"reference": original.reference}
        )
    _refuse_closing_entry(original)
    if original.source_id is None or original.destination_id is None:
        raise exceptions.InvalidTransfer(
            gettext("Transfer %(reference)s has more than two legs; post a correcting entry.")
            % {"reference": original.reference}
        )


def _remaining_to_reverse(original: Transfer, using: str) -> Decimal:
    """What a reversal of ``original`` moves back, read under the lock; refused when nothing."""
    if Transfer.objects.using(using).filter(reverses=original).exists():
        raise exceptions.AlreadyReversed(
            gettext("Transfer %(reference)s has already been reversed.")
            % {"reference": original.reference}
        )
    remaining = refundable_amount(original)
    if remaining <= 0:
        raise exceptions.AlreadyReversed(
            gettext("Nothing remains to reverse of transfer %(reference)s.")
            % {"reference": original.reference}
        )
    return remaining
