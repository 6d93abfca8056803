"""Entries of any number of legs: :class:`Debit` and :class:`Credit` lines, :func:`post`, and
:func:`exchange` between currencies through the trading accounts (:func:`trading_account`).
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from .. import events, exceptions, money
from ..ledger import checks, posting
from ..ledger.checks import validate_amount
from ..ledger.posting_sql import LockedAccounts
from ..models import Account, Kind, Transfer, TransferKind
from ..models.ledger import RATE_DECIMAL_PLACES, RATE_MAX_DIGITS
from .common import once

#: Most legs one entry may have; bounds the size of the lock set and of one INSERT.
MAX_LEGS_PER_TRANSFER = 1000


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


def post(
    lines: Sequence[Debit | Credit],
    *,
    user: Any = None,
    parent: Transfer | None = None,
    merchant_reference: str | None = None,
    description: str | None = None,
    kind: str = TransferKind.ENTRY,
    date: datetime.datetime | None = None,
    idempotency_key: str | None = None,
) -> Transfer:
    """Post a balanced entry of debit and credit lines in one transfer.

    The direction of each line is explicit (:class:`Debit` or :class:`Credit`); amounts are
    always positive. Per currency, debits must equal credits. Each account may appear once.
    When ``user`` is given, they must be allowed to spend from every debited account.
    ``date`` back-dates the entry and ``idempotency_key`` makes it safe to retry, as for
    :func:`~accounts.facade.transfer`.
    """
    arguments = dict(locals())  # before any is rebound: what a key remembers
    date = checks.check_date(date)
    checks.check_texts(merchant_reference, description)
    _check_entry_lines(lines)
    using = posting.db_for(*(x.account for x in lines))

    def run() -> Transfer:
        return _write_entry(
            lines,
            user=user,
            parent=parent,
            merchant_reference=merchant_reference,
            description=description,
            kind=kind,
            date=date,
            using=using,
        )

    return once(using, idempotency_key, "post", arguments, run)


def _write_entry(
    lines: Sequence[Debit | Credit],
    *,
    user: Any,
    parent: Transfer | None,
    merchant_reference: str | None,
    description: str | None,
    kind: str,
    date: datetime.datetime | None,
    using: str,
    rate: Decimal | None = None,
) -> Transfer:
    """Lock, check and write an entry whose lines passed :func:`_check_entry_lines`."""
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
            rate=rate,
        ),
        locked,
        using,
    )
    posting.sync([x.account for x in lines], locked, new)
    # An exchange posts through here too: one transfer_posted, of kind exchange.
    events.emit(events.transfer_posted, transfer=new, user=user, using=using)
    return new


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
    rate: Decimal | None = None,
    idempotency_key: str | None = None,
) -> Transfer:
    """Change currency: take ``source_amount`` from ``source``, give ``destination_amount``.

    Any two kinds of account: the source's natural balance falls by ``source_amount`` and the
    destination's rises by ``destination_amount``. The entry balances in each currency through
    the trading account of that currency (kind trading, under the trading parent, created on
    first use), whose line takes the opposite side of its account's: for an asset paying a
    liability, Cr asset / Dr trading in the source currency, Cr liability / Dr trading in the
    destination currency.
    ``rate`` (destination units per source unit), when given, is recorded on the transfer and
    must give ``destination_amount`` from ``source_amount``, rounded to the destination
    currency's places. ``idempotency_key`` works as for :func:`~accounts.facade.transfer`.
    """
    arguments = dict(locals())  # before any is rebound: what a key remembers
    checks.check_texts(merchant_reference, description)
    checks.check_saved(source)
    checks.check_saved(destination)
    if source.currency == destination.currency:
        raise exceptions.InvalidEntry(
            gettext("An exchange needs accounts in two different currencies.")
        )
    if rate is not None:
        _check_rate(rate, source_amount, destination_amount, destination.currency)

    # Trading accounts created on first use must vanish with a refused exchange: create them in
    # a savepoint with the posting (inside the retried transaction when the facade owns it).
    def run() -> Transfer:
        with transaction.atomic(using=using):
            source_trading = trading_account(source.currency)
            destination_trading = trading_account(destination.currency)
            # Each side balances in its own currency: the trading line takes the opposite side
            # of its account's line. Lowering a natural balance credits a debit-normal account
            # (an asset paying out) and debits a credit-normal one (a gift card spent); raising
            # one is the other way round.
            lower, raise_ = (Credit, Debit) if source.is_debit_normal else (Debit, Credit)
            gain, offset = (Debit, Credit) if destination.is_debit_normal else (Credit, Debit)
            lines: list[Debit | Credit] = [
                lower(source, source_amount),
                raise_(source_trading, source_amount),
                gain(destination, destination_amount),
                offset(destination_trading, destination_amount),
            ]
            _check_entry_lines(lines)
            return _write_entry(
                lines,
                user=user,
                parent=None,
                merchant_reference=merchant_reference,
                description=description,
                kind=TransferKind.EXCHANGE,
                date=None,
                using=using,
                rate=rate,
            )

    using = posting.db_for(source, destination)
    return once(using, idempotency_key, "exchange", arguments, run)


def _check_rate(
    rate: Any, source_amount: Any, destination_amount: Any, destination_currency: str
) -> None:
    """Refuse a rate that is not a positive Decimal or does not give ``destination_amount``."""
    if isinstance(rate, bool) or not isinstance(rate, (Decimal, int)):
        raise exceptions.InvalidEntry(
            gettext("An exchange rate must be a Decimal, not %(type)s.")
            % {"type": type(rate).__name__}
        )
    rate = Decimal(rate)
    limit = Decimal(10) ** (RATE_MAX_DIGITS - RATE_DECIMAL_PLACES)
    if (
        not rate.is_finite()
        or rate <= 0
        or rate >= limit
        or money.places(rate) > RATE_DECIMAL_PLACES
    ):
        raise exceptions.InvalidEntry(
            gettext(
                "An exchange rate must be positive, below %(limit)s, with at most %(places)d "
                "decimal places."
            )
            % {"limit": limit, "places": RATE_DECIMAL_PLACES}
        )
    if not isinstance(source_amount, Decimal) or not isinstance(destination_amount, Decimal):
        return  # the amounts' own checks refuse them, with their own errors
    expected = (source_amount * rate).quantize(money.quantum(destination_currency))
    if expected != destination_amount:
        raise exceptions.InvalidEntry(
            gettext("At a rate of %(rate)s, %(source)s gives %(expected)s, not %(destination)s.")
            % {
                "rate": rate,
                "source": source_amount,
                "expected": expected,
                "destination": destination_amount,
            }
        )


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
