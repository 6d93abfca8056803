"""The one write path: every movement of money goes through this module.

Views, commands, the API and importers call these functions; nothing else writes ledger rows.
Each posting is one atomic unit:

1. validate the arguments that need no database (amount type, sign, finiteness);
2. lock every account involved with ``SELECT ... FOR UPDATE`` in primary-key order, in one
   statement, so two postings over the same accounts queue instead of deadlocking;
3. check every rule against the *locked* rows (status, window, currency, precision, placeholder,
   authorisation, credit limits, refund caps), raising a specific
   :class:`~accounts.exceptions.AccountException` before anything is written;
4. insert the transfer, insert its legs in one statement (each with the account's balance after
   it and the account's new version), and move every balance in one ``UPDATE``; on PostgreSQL
   these three travel as one statement (see :mod:`accounts.posting_sql`).

A posting made while the caller already has a transaction joins it: the caller's rollback removes
the transfer too. Refusals raised in step 3 do not spoil the caller's transaction.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from .. import audit, conf, exceptions, money
from ..ledger import checks, posting
from ..ledger.checks import (  # re-exported: the limits are part of the facade's contract
    DESCRIPTION_LENGTH_MAX,
    MAX_AMOUNT,
    MERCHANT_REFERENCE_LENGTH_MAX,
    POSTING_DATE_MIN,
    SQLITE_MAX_AMOUNT,
    validate_amount,
)
from ..models import (
    Account,
    AuditAction,
    Kind,
    Status,
    Surface,
    Transfer,
    TransferKind,
    money_field,
)
from ..posting_sql import LockedAccounts

#: Most legs one entry may have; bounds the size of the lock set and of one INSERT.
MAX_LEGS_PER_TRANSFER = 1000

__all__ = [
    "DESCRIPTION_LENGTH_MAX",
    "MAX_AMOUNT",
    "MAX_LEGS_PER_TRANSFER",
    "MERCHANT_REFERENCE_LENGTH_MAX",
    "POSTING_DATE_MIN",
    "SQLITE_MAX_AMOUNT",
    "Credit",
    "Debit",
    "close_account",
    "create_account",
    "create_card",
    "edit_account",
    "exchange",
    "expire_account",
    "freeze_account",
    "post",
    "refundable_amount",
    "reverse",
    "thaw_account",
    "top_up",
    "transfer",
    "validate_amount",
]


@dataclass(frozen=True)
class Debit:
    """A debit line of an entry: ``amount`` taken from ``account`` (its leg is negative)."""

    account: Account
    amount: Decimal


@dataclass(frozen=True)
class Credit:
    """A credit line of an entry: ``amount`` given to ``account`` (its leg is positive)."""

    account: Account
    amount: Decimal


# -- argument checks that need no database --------------------------------------------------


# -- checks against locked rows -------------------------------------------------------------


# -- two-legged transfers --------------------------------------------------------------------


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
) -> Transfer:
    """Move ``amount`` from ``source`` (debited) to ``destination`` (credited).

    With ``parent`` pointing at an earlier transfer in the opposite direction, this is a refund
    of it, capped by what remains refundable, and the audit trail records it with ``reason``
    and ``surface``. When ``user`` is given, that user must be allowed to spend from
    ``source``. ``date`` back-dates the legs (never into the future); as-of balances and
    statements follow it. Returns the new :class:`~accounts.models.Transfer`.
    """
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
        _check_pair(src, dst, amount, user, locked)
        kind = TransferKind.TRANSFER
        if parent is not None and parent.source_id == dst.pk and parent.destination_id == src.pk:
            _check_refundable(parent, amount, using)
            kind = TransferKind.REFUND
        new = _move(
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
        if kind == TransferKind.REFUND:
            audit.record(
                AuditAction.REFUNDED,
                transfer=new,
                user=user,
                surface=surface,
                reason=reason,
                using=using,
            )
        posting.sync([source, destination], locked, new)
        return new

    return posting.in_transaction(using, run)


def _move(
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


def _check_pair(
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
) -> Transfer:
    """Post the opposite of ``original`` (what remains of it after refunds), once.

    A reversal is an administrative correction of a movement that was already authorised: it
    records ``user`` but does not require them to be authorised on the original destination.
    Surfaces that let people other than trusted staff reverse pass ``authorise=True``: then
    ``user`` must be allowed to spend from the account the reversal takes money from (the
    original destination), checked against its locked row like any spend.
    Reversing twice, or reversing a reversal, is refused. The audit trail records the reversal
    with ``reason`` and ``surface``.
    """
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
        _check_pair(src, dst, remaining, user if authorise else None, locked, check_window=False)
        new = _move(
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
        return new

    return posting.in_transaction(using, run)


def _check_reversible(original: Any) -> None:
    """What makes a transfer reversible at all: saved, not a reversal, two-legged."""
    if not isinstance(original, Transfer) or original.pk is None:
        raise exceptions.InvalidTransfer(gettext("Only a saved Transfer can be reversed."))
    if original.kind == TransferKind.REVERSAL:
        raise exceptions.CannotReverseReversal(
            gettext("Transfer %(reference)s is itself a reversal.")
            % {"reference": original.reference}
        )
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


# -- entries of any number of legs -----------------------------------------------------------


def post(
    lines: Sequence[Debit | Credit],
    *,
    user: Any = None,
    parent: Transfer | None = None,
    merchant_reference: str | None = None,
    description: str | None = None,
    kind: str = TransferKind.ENTRY,
    date: datetime.datetime | None = None,
) -> Transfer:
    """Post a balanced entry of debit and credit lines in one transfer.

    The direction of each line is explicit (:class:`Debit` or :class:`Credit`); amounts are
    always positive. Per currency, debits must equal credits. Each account may appear once.
    When ``user`` is given, they must be allowed to spend from every debited account.
    ``date`` back-dates the entry, as for :func:`transfer`.
    """
    date = checks.check_date(date)
    checks.check_texts(merchant_reference, description)
    _check_entry_lines(lines)
    using = posting.db_for(*(x.account for x in lines))

    def run() -> Transfer:
        locked = posting.lock([x.account for x in lines], user, using)
        legs = _entry_legs(lines, locked, user)
        debits = [leg for leg in legs if leg.amount < 0]
        credits = [leg for leg in legs if leg.amount > 0]
        two_legged = len(debits) == 1 and len(credits) == 1
        currency = legs[0].account.currency
        total = sum((-leg.amount for leg in debits if leg.account.currency == currency), Decimal(0))
        new = posting.write(
            posting.Posting(
                legs,
                kind=kind,
                amount=total,
                currency=currency,
                source=debits[0].account if two_legged else None,
                destination=credits[0].account if two_legged else None,
                parent=parent,
                user=user,
                merchant_reference=merchant_reference,
                description=description,
                date=date,
            ),
            locked,
            using,
        )
        posting.sync([x.account for x in lines], locked, new)
        return new

    return posting.in_transaction(using, run)


def _check_entry_lines(lines: Sequence[Debit | Credit]) -> None:
    """The checks of an entry's lines that need no database: count, type, amount, accounts."""
    if not lines or len(lines) < 2:
        raise exceptions.InvalidEntry(gettext("An entry needs at least one debit and one credit."))
    if len(lines) > MAX_LEGS_PER_TRANSFER:
        raise exceptions.TooManyLegs(
            ngettext(
                "An entry may have at most %(limit)d line; this has %(count)d.",
                "An entry may have at most %(limit)d lines; this has %(count)d.",
                MAX_LEGS_PER_TRANSFER,
            )
            % {"limit": MAX_LEGS_PER_TRANSFER, "count": len(lines)}
        )
    for line in lines:
        if not isinstance(line, (Debit, Credit)):
            raise exceptions.InvalidEntry(
                gettext("Lines must be Debit or Credit, not %(value)s.") % {"value": repr(line)}
            )
        checks.check_saved(line.account)
        validate_amount(line.amount)
    if not any(isinstance(x, Debit) for x in lines) or not any(
        isinstance(x, Credit) for x in lines
    ):
        raise exceptions.InvalidEntry(gettext("An entry needs at least one debit and one credit."))
    seen: set[int] = set()
    for line in lines:
        if line.account.pk in seen:
            raise exceptions.SameAccount(
                gettext("Account %(account)s appears twice; combine its lines into one.")
                % {"account": line.account}
            )
        seen.add(line.account.pk)


def _entry_legs(
    lines: Sequence[Debit | Credit], locked: LockedAccounts, user: Any
) -> list[posting.Leg]:
    """The entry's legs, each checked against its locked account; balanced per currency."""
    now = timezone.now()
    totals: dict[str, Decimal] = {}
    legs = []
    for line in lines:
        account = locked[line.account.pk]
        amount = Decimal(line.amount)
        checks.check_precision(amount, account.currency)
        checks.check_can_post(account, locked.facts_of(account), now)
        signed = amount if isinstance(line, Credit) else -amount
        if (
            isinstance(line, Debit)
            and user is not None
            and not checks.is_authorised(account, locked.facts_of(account), user)
        ):
            raise exceptions.Unauthorised(checks.unauthorised(user, account))
        totals[account.currency] = totals.get(account.currency, Decimal(0)) + signed
        legs.append(posting.Leg(account, signed))
    unbalanced = {c: t for c, t in totals.items() if t != 0}
    if unbalanced:
        detail = ", ".join(
            gettext("%(currency)s off by %(difference)s")
            % {"currency": c, "difference": money.format_amount(t, c)}
            for c, t in sorted(unbalanced.items())
        )
        raise exceptions.InvalidEntry(
            gettext("Debits and credits differ: %(detail)s.") % {"detail": detail}
        )
    for leg in legs:
        checks.check_limits(leg.account, posting.new_balance(leg.account, leg.amount))
    return legs


def exchange(
    *,
    source: Account,
    destination: Account,
    source_amount: Decimal,
    destination_amount: Decimal,
    user: Any = None,
    description: str | None = None,
    merchant_reference: str | None = None,
) -> Transfer:
    """Change currency: take ``source_amount`` from ``source``, give ``destination_amount``.

    The entry balances in each currency through the trading account of that currency (kind
    trading, under the trading parent, created on first use): Cr source / Dr trading in the
    source currency, Dr destination / Cr trading in the destination currency.
    """
    checks.check_texts(merchant_reference, description)
    checks.check_saved(source)
    checks.check_saved(destination)
    if source.currency == destination.currency:
        raise exceptions.InvalidEntry(
            gettext("An exchange needs accounts in two different currencies.")
        )

    # Trading accounts created on first use must vanish with a refused exchange: create them in
    # a savepoint with the posting (inside the retried transaction when the facade owns it).
    def run() -> Transfer:
        with transaction.atomic(using=using):
            source_trading = trading_account(source.currency)
            destination_trading = trading_account(destination.currency)
            lines: list[Debit | Credit] = [
                Credit(source, source_amount)
                if source.is_debit_normal
                else Debit(source, source_amount),
                Debit(source_trading, source_amount),
                Debit(destination, destination_amount)
                if destination.is_debit_normal
                else Credit(destination, destination_amount),
                Credit(destination_trading, destination_amount),
            ]
            return post(
                lines,
                user=user,
                description=description,
                merchant_reference=merchant_reference,
                kind=TransferKind.EXCHANGE,
            )

    using = posting.db_for(source, destination)
    return posting.in_transaction(using, run)


#: Code of the placeholder that holds one trading account per currency.
TRADING_PARENT_CODE = "CORE-TRADING"


def trading_account(currency: str) -> Account:
    """The trading account for ``currency``, created (with its parent) on first use."""
    parent, _ = Account.objects.get_or_create(
        code=TRADING_PARENT_CODE,
        defaults={"name": "Trading", "kind": Kind.TRADING, "credit_limit": None},
    )
    account, _ = Account.objects.get_or_create(
        code=f"{TRADING_PARENT_CODE}-{currency}",
        defaults={
            "name": f"Trading {currency}",
            "kind": Kind.TRADING,
            "credit_limit": None,
            "currency": currency,
            "parent": parent,
        },
    )
    return account


# -- loads, top-ups and lifecycle ------------------------------------------------------------


def _check_load(
    amount: Decimal, *, balance_after: Decimal | None = None, currency: str = ""
) -> None:
    """Refuse a load or top-up outside the settings' bounds.

    ``currency`` is the account's, for showing the limits and ``balance_after`` in its minor
    units (``500.00``, not the setting's ``500`` or the column's ``525.0000``).
    """
    low, high = conf.min_initial_value(), conf.max_initial_value()
    currency = currency or conf.default_currency()
    if low is not None and amount < low:
        raise exceptions.AmountOutOfRange(
            gettext("The smallest amount that can be loaded is %(limit)s.")
            % {"limit": money.format_amount(low, currency)}
        )
    if high is not None and amount > high:
        raise exceptions.AmountOutOfRange(
            gettext("The largest amount that can be loaded is %(limit)s.")
            % {"limit": money.format_amount(high, currency)}
        )
    if high is not None and balance_after is not None and balance_after > high:
        raise exceptions.AmountOutOfRange(
            gettext(
                "A top-up may not take the balance above %(limit)s; it would reach %(balance)s."
            )
            % {
                "limit": money.format_amount(high, currency),
                "balance": money.format_amount(balance_after, currency),
            }
        )


def create_account(
    *,
    amount: Decimal | None = None,
    source: Account | None = None,
    user: Any = None,
    description: str | None = None,
    merchant_reference: str | None = None,
    reason: str | None = None,
    surface: str = Surface.CODE,
    **fields: Any,
) -> Account:
    """Create an account and load its opening balance from ``source`` in one atomic step.

    ``fields`` are :class:`~accounts.models.Account` fields. The load, if any, must lie within
    ``ACCOUNTS_MIN_INITIAL_VALUE`` and ``ACCOUNTS_MAX_INITIAL_VALUE``; if it is refused, no
    account is left behind. The audit trail records the creation (with the load, ``reason`` and
    ``surface``).
    """
    checks.check_texts(merchant_reference, description)
    surface = checks.check_act(reason, surface)
    if amount is not None:
        amount = validate_amount(amount)
        _check_load(amount, currency=fields.get("currency") or "")
    with transaction.atomic():
        account = Account.objects.create(**fields)
        load = None
        if amount is not None:
            load = transfer(
                source or Account.objects.source(currency=account.currency),
                account,
                amount,
                user=user,
                description=description or "Initial load",
                merchant_reference=merchant_reference,
            )
            account.refresh_from_db()
        audit.record(
            AuditAction.CREATED,
            account=account,
            transfer=load,
            user=user,
            surface=surface,
            reason=reason,
            using=posting.db_for(account),
        )
    return account


def create_card(
    *,
    amount: Decimal | None = None,
    source: Account | None = None,
    user: Any = None,
    description: str | None = None,
    merchant_reference: str | None = None,
    reason: str | None = None,
    surface: str = Surface.CODE,
    **fields: Any,
) -> Account:
    """Create a customer card (gift card, store credit) and load it, in one atomic step.

    As :func:`create_account`, for an account designated as a card: a liability with a credit
    limit (0 unless given) and a generated code unless one is given. Only cards are loaded,
    spent and looked up by code through the dashboard and the API.
    """
    fields.setdefault("credit_limit", Decimal(0))
    return create_account(
        amount=amount,
        source=source,
        user=user,
        description=description,
        merchant_reference=merchant_reference,
        reason=reason,
        surface=surface,
        kind=Kind.LIABILITY,
        is_card=True,
        **fields,
    )


def top_up(
    account: Account,
    amount: Decimal,
    *,
    source: Account | None = None,
    user: Any = None,
    description: str | None = None,
    merchant_reference: str | None = None,
) -> Transfer:
    """Load ``amount`` more onto ``account``, within the min/max load settings."""
    amount = validate_amount(amount)
    checks.check_texts(merchant_reference, description)
    checks.check_saved(account)
    _check_load(amount, balance_after=account.balance + amount, currency=account.currency)
    source = source or Account.objects.source(currency=account.currency)
    checks.check_saved(source)
    using = posting.db_for(account)
    with transaction.atomic(using=using):
        # Lock both rows in primary-key order, as transfer() does, so the two never deadlock.
        fresh = posting.lock([source, account], None, using)[account.pk]
        _check_load(amount, balance_after=fresh.balance + amount, currency=fresh.currency)
        return transfer(
            source,
            account,
            amount,
            user=user,
            description=description or "Top-up",
            merchant_reference=merchant_reference,
        )


#: The act each status change records.
_STATUS_ACTIONS = {
    Status.CLOSED: AuditAction.CLOSED,
    Status.FROZEN: AuditAction.FROZEN,
    Status.OPEN: AuditAction.THAWED,
}


def _set_status(
    account: Account,
    status: str,
    allowed_from: set[str],
    *,
    user: Any,
    reason: str | None,
    surface: str,
) -> Account:
    checks.check_saved(account)
    surface = checks.check_act(reason, surface)
    using = posting.db_for(account)

    def run() -> Account:
        fresh = posting.lock([account], None, using)[account.pk]  # AccountNotFound if it is gone
        if fresh.status == Status.CLOSED:
            raise exceptions.ClosedAccount(
                gettext("Account %(account)s is closed.") % {"account": fresh}
            )
        if fresh.status not in allowed_from:
            return fresh
        if status == Status.CLOSED and fresh.balance != 0:
            raise exceptions.AccountNotEmpty(
                gettext(
                    "Account %(account)s holds %(balance)s %(currency)s; move it out before "
                    "closing."
                )
                % {
                    "account": fresh,
                    "balance": money.format_amount(fresh.balance, fresh.currency),
                    "currency": fresh.currency,
                }
            )
        Account.objects.filter(pk=fresh.pk).update(status=status, updated_at=timezone.now())
        fresh.status = status
        audit.record(
            _STATUS_ACTIONS[status],  # type: ignore[index]
            account=fresh,
            user=user,
            surface=surface,
            reason=reason,
            using=using,
        )
        return fresh

    fresh = posting.in_transaction(using, run)
    account.status = fresh.status
    return fresh


def close_account(
    account: Account, *, user: Any = None, reason: str | None = None, surface: str = Surface.CODE
) -> Account:
    """Close ``account`` for good; refused unless its balance is zero. Recorded in the trail."""
    return _set_status(
        account,
        Status.CLOSED,
        {Status.OPEN, Status.FROZEN},
        user=user,
        reason=reason,
        surface=surface,
    )


def freeze_account(
    account: Account, *, user: Any = None, reason: str | None = None, surface: str = Surface.CODE
) -> Account:
    """Stop all postings to and from ``account`` until it is thawed. Recorded in the trail."""
    return _set_status(
        account, Status.FROZEN, {Status.OPEN}, user=user, reason=reason, surface=surface
    )


def thaw_account(
    account: Account, *, user: Any = None, reason: str | None = None, surface: str = Surface.CODE
) -> Account:
    """Reopen a frozen account. Recorded in the trail."""
    return _set_status(
        account, Status.OPEN, {Status.FROZEN}, user=user, reason=reason, surface=surface
    )


#: The descriptive fields :func:`edit_account` may change.
EDITABLE_FIELDS = frozenset(
    {"name", "description", "account_type", "start_date", "end_date", "credit_limit"}
)


def _check_changes(changes: dict[str, Any]) -> None:
    """The fields an edit names must be editable, and its texts storable."""
    unknown = sorted(set(changes) - EDITABLE_FIELDS)
    if unknown:
        raise exceptions.InvalidAccount(
            # Translators: fields and editable are lists of field names, which stay in English.
            gettext("%(fields)s cannot be edited; editable: %(editable)s.")
            % {"fields": ", ".join(unknown), "editable": ", ".join(sorted(EDITABLE_FIELDS))}
        )
    if "name" in changes:
        checks.check_text(checks.NAME_LABEL, changes["name"], 128)
    if "description" in changes:
        checks.check_text(
            checks.ACCOUNT_DESCRIPTION_LABEL, changes["description"], DESCRIPTION_LENGTH_MAX
        )


def edit_account(
    account: Account,
    *,
    user: Any = None,
    reason: str | None = None,
    surface: str = Surface.CODE,
    **changes: Any,
) -> Account:
    """Change descriptive fields of ``account`` and its credit limit; record what changed.

    ``changes`` name fields of :data:`EDITABLE_FIELDS`. The row is locked, so no posting moves
    the balance between the credit-limit check and the save; a limit the balance already
    breaks is refused with :class:`~accounts.exceptions.InvalidCreditLimit`. The trail gets an
    ``edited`` entry with the old and new values, and a separate ``credit_limit_changed`` entry
    when the limit changed.
    """
    checks.check_saved(account)
    surface = checks.check_act(reason, surface)
    _check_changes(changes)
    using = posting.db_for(account)

    def run() -> Account:
        fresh = posting.lock([account], None, using)[account.pk]
        before = Account.objects.using(using).get(pk=fresh.pk)
        diff = {
            name: (getattr(before, name), value)
            for name, value in changes.items()
            if getattr(before, name) != value
        }
        if not diff:
            return before
        for name, (_, value) in diff.items():
            setattr(before, name, value)
        before.balance = fresh.balance  # Account.save() checks the limit against it
        before.save(update_fields=[*diff, "updated_at"])
        # The limit has an entry of its own; the other fields share one.
        limit = {"credit_limit": diff.pop("credit_limit")} if "credit_limit" in diff else {}
        for action, changed in (
            (AuditAction.EDITED, diff),
            (AuditAction.CREDIT_LIMIT_CHANGED, limit),
        ):
            if changed:
                audit.record(
                    action,
                    account=before,
                    user=user,
                    surface=surface,
                    reason=reason,
                    changes=changed,
                    using=using,
                )
        return before

    edited = posting.in_transaction(using, run)
    for name in changes:
        setattr(account, name, getattr(edited, name))
    return edited


def expire_account(
    account: Account, *, user: Any = None, reason: str | None = None, surface: str = Surface.CODE
) -> Transfer | None:
    """Move what is left in an expired ``account`` to the expired account, then close it.

    Returns the sweeping transfer, or None when the balance was already zero. An account whose
    balance is negative (money owed) is not swept: a debt does not lapse by itself, so
    :class:`~accounts.exceptions.AccountNotEmpty` is raised and the account stays open. The
    trail records the expiry with the sweep, ``reason`` and ``surface``.
    """
    checks.check_saved(account)
    surface = checks.check_act(reason, surface)
    expired = Account.objects.expired_account(currency=account.currency)
    using = posting.db_for(account)

    def run() -> Transfer | None:
        locked = posting.lock([account, expired], None, using)
        acct, target = locked[account.pk], locked[expired.pk]
        if acct.status != Status.OPEN or not acct.is_expired():
            return None
        swept = None
        if acct.balance < 0:
            raise exceptions.AccountNotEmpty(
                gettext(
                    "Account %(account)s is overdrawn by %(amount)s %(currency)s; settle it "
                    "before it can be closed."
                )
                % {
                    "account": acct,
                    "amount": money.format_amount(-acct.balance, acct.currency),
                    "currency": acct.currency,
                }
            )
        if acct.balance > 0:
            amount = acct.balance
            # Bring the balance to zero: debit a credit-normal account, credit a debit-normal.
            src, dst = (acct, target) if not acct.is_debit_normal else (target, acct)
            _check_pair(src, dst, amount, None, locked, check_window=False)
            checks.check_can_post(target, locked.facts_of(target), timezone.now())
            swept = _move(
                src,
                dst,
                amount,
                locked,
                kind=TransferKind.EXPIRY,
                user=user,
                description="Expired",
                using=using,
            )
        Account.objects.using(using).filter(pk=acct.pk).update(
            status=Status.CLOSED, updated_at=timezone.now()
        )
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
        posting.sync([account, expired], locked)
        return swept

    return posting.in_transaction(using, run)
