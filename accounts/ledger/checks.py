"""The checks a posting passes before anything is written.

First the arguments that need no database (an amount's type, sign, size and places; texts;
dates), then the locked rows (status, window, placeholder, authorisation, credit limits), each
raising its own :class:`~accounts.exceptions.AccountException`. The rules themselves that the
models share live in :mod:`accounts.rules`; the sign rule in :mod:`accounts.vocabulary`.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy, ngettext

from .. import audit, exceptions, money, rules
from ..models import Account, Status
from .posting_sql import LEG_FIELDS, LockFacts

#: Where a leg's amount sits among :data:`accounts.ledger.posting_sql.LEG_FIELDS`.
LEG_AMOUNT = LEG_FIELDS.index("amount")

#: Largest absolute amount the money columns hold.
MAX_AMOUNT = Decimal(10) ** (money.MAX_DIGITS - money.DECIMAL_PLACES) - 1
#: Largest absolute amount or balance SQLite keeps to the last decimal place. SQLite stores
#: decimals as 8-byte floating point: below 10**11 a value is off by less than half of the last
#: of the four places, so it reads back exactly; above, cents start to drift.
SQLITE_MAX_AMOUNT = Decimal(10) ** 11 - Decimal(10) ** -money.DECIMAL_PLACES
#: Earliest moment a posting may be back-dated to. Books older than this belong in an opening
#: balance; dates near year 1 overflow as soon as a report shifts them by a time zone or a day.
POSTING_DATE_MIN = datetime.datetime(1900, 1, 1, tzinfo=datetime.timezone.utc)
#: Longest ``merchant_reference`` (the column's length) and ``description`` a posting takes.
MERCHANT_REFERENCE_LENGTH_MAX = 128
DESCRIPTION_LENGTH_MAX = 2000

# Names of the texts a refusal may quote, in the middle of a sentence ("The %(field)s may hold
# ..."), translated when the refusal is made.
MERCHANT_REFERENCE_LABEL = gettext_lazy("merchant reference")
DESCRIPTION_LABEL = gettext_lazy("description")
REASON_LABEL = gettext_lazy("reason")
NAME_LABEL = gettext_lazy("name")
ACCOUNT_DESCRIPTION_LABEL = gettext_lazy("account description")


def validate_amount(amount: Any) -> Decimal:
    """Return ``amount`` as a Decimal or raise the precise :class:`InvalidAmount` subclass."""
    if isinstance(amount, bool) or not isinstance(amount, (Decimal, int)):
        raise exceptions.AmountNotDecimal(
            gettext("Amounts must be Decimal, not %(type)s (%(value)s).")
            % {"type": type(amount).__name__, "value": repr(amount)}
        )
    amount = Decimal(amount)
    if not amount.is_finite():
        raise exceptions.AmountNotFinite(
            gettext("Amount %(amount)s is not a finite number.") % {"amount": amount}
        )
    if amount <= 0:
        raise exceptions.AmountNotPositive(
            gettext("Amount %(amount)s must be greater than zero.") % {"amount": amount}
        )
    if money.places(amount) > money.DECIMAL_PLACES:
        raise exceptions.AmountTooPrecise(
            gettext("Amount %(amount)s has too many decimal places.") % {"amount": amount}
        )
    if amount > MAX_AMOUNT:
        raise exceptions.AmountTooLarge(
            gettext("Amount %(amount)s does not fit the ledger's columns.") % {"amount": amount}
        )
    return amount


def check_text(field: Any, value: Any, length_max: int) -> None:
    """Refuse text a database would reject (``DataError``) or silently change.

    ``field`` names the text in the refusal: one of the lazily translated names above.
    """
    if value is None:
        return
    if not isinstance(value, str):
        raise exceptions.InvalidText(
            # Translators: field is a text's name, such as "description" or "reason".
            gettext("The %(field)s must be text, not %(type)s.")
            % {"field": field, "type": type(value).__name__}
        )
    if len(value) > length_max:
        raise exceptions.TextTooLong(
            ngettext(
                "The %(field)s may hold at most %(limit)d character; this one has %(length)d.",
                "The %(field)s may hold at most %(limit)d characters; this one has %(length)d.",
                length_max,
            )
            % {"field": field, "limit": length_max, "length": len(value)}
        )
    if "\x00" in value:
        raise exceptions.TextNotStorable(
            gettext("The %(field)s may not contain NUL characters.") % {"field": field}
        )
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate such as "\ud800"
        raise exceptions.TextNotStorable(
            gettext("The %(field)s is not valid Unicode text.") % {"field": field}
        ) from None


def check_texts(merchant_reference: Any, description: Any) -> None:
    check_text(MERCHANT_REFERENCE_LABEL, merchant_reference, MERCHANT_REFERENCE_LENGTH_MAX)
    check_text(DESCRIPTION_LABEL, description, DESCRIPTION_LENGTH_MAX)


def check_act(reason: Any, surface: Any) -> str:
    """Check what the audit trail keeps of an act; return the surface."""
    check_text(REASON_LABEL, reason, audit.REASON_LENGTH_MAX)
    return audit.check_surface(surface)


def check_precision(amount: Decimal, currency: str) -> None:
    if amount != amount.quantize(money.quantum(currency)):
        places = money.minor_units(currency)
        raise exceptions.AmountTooPrecise(
            ngettext(
                "%(currency)s allows %(places)d decimal place; %(amount)s has %(found)d.",
                "%(currency)s allows %(places)d decimal places; %(amount)s has %(found)d.",
                places,
            )
            % {
                "currency": currency,
                "places": places,
                "amount": amount,
                "found": money.places(amount),
            }
        )


def check_saved(account: Any) -> None:
    if not isinstance(account, Account):
        raise exceptions.InvalidAccount(
            gettext("Expected an Account, got %(type)s (%(value)s).")
            % {"type": type(account).__name__, "value": repr(account)}
        )
    if account.pk is None:
        raise exceptions.AccountNotSaved(
            gettext("Save the account before moving money through it.")
        )


def check_can_post(
    account: Account, facts: LockFacts, at: datetime.datetime, *, check_window: bool = True
) -> None:
    if account.status == Status.CLOSED:
        raise exceptions.ClosedAccount(
            gettext("Account %(account)s is closed.") % {"account": account}
        )
    if account.status == Status.FROZEN:
        raise exceptions.FrozenAccount(
            gettext("Account %(account)s is frozen.") % {"account": account}
        )
    if check_window and account.is_not_yet_active(at):
        raise exceptions.AccountNotYetActive(
            gettext("Account %(account)s cannot be used before %(date)s.")
            % {"account": account, "date": moment(account.start_date)}
        )
    if check_window and account.is_expired(at):
        raise exceptions.AccountExpired(
            gettext("Account %(account)s expired on %(date)s.")
            % {"account": account, "date": moment(account.end_date)}
        )
    if facts.has_children:
        raise exceptions.PlaceholderAccount(
            gettext("Account %(account)s has child accounts; post to one of them instead.")
            % {"account": account}
        )


def moment(value: datetime.datetime | None) -> str:
    """A moment in a refusal: ISO order, read the same in every language (and every log)."""
    return "" if value is None else f"{value:%Y-%m-%d %H:%M}"


def is_authorised(account: Account, facts: LockFacts, user: Any) -> bool:
    """The rule of :meth:`Account.can_be_authorised_by`, from what the lock read for ``user``."""
    has_secondary, is_secondary = facts.has_secondary_users, facts.user_is_secondary
    if has_secondary is None or is_secondary is None:
        raise RuntimeError("the accounts were locked without the user to authorise")
    return rules.may_spend(
        user,
        primary_user_id=account.primary_user_id,
        has_secondary_users=lambda: has_secondary,
        user_is_secondary=lambda: is_secondary,
    )


def check_no_pending_holds(account: Account) -> None:
    """Refuse to close or expire an account that pending holds still draw on or pay into."""
    if account.pending_debits or account.pending_credits:
        raise exceptions.PendingHolds(
            gettext(
                "Account %(account)s has pending holds; capture or void them before it can be "
                "closed."
            )
            % {"account": account}
        )


def check_limits(account: Account, new_balance: Decimal) -> None:
    if abs(new_balance) > MAX_AMOUNT:
        # Otherwise the database would fail with an overflow error instead of a refusal.
        raise exceptions.AmountTooLarge(
            gettext(
                "The balance of account %(account)s would reach %(balance)s, more than the "
                "ledger's columns hold."
            )
            % {"account": account, "balance": money.format_amount(new_balance, account.currency)}
        )
    # Pending holds reserve part of the limit (the database checks the same sum).
    reserved = account.pending_reserved
    if not rules.within_credit_limit(
        account.balance - reserved, new_balance - reserved, account.credit_limit
    ):
        assert account.credit_limit is not None  # an unlimited account is always within
        available = max(account.balance - reserved + account.credit_limit, Decimal(0))
        raise exceptions.InsufficientFunds(
            gettext(
                "Account %(account)s has %(available)s %(currency)s available; this needs "
                "%(needed)s."
            )
            % {
                "account": account,
                "available": money.format_amount(available, account.currency),
                "currency": account.currency,
                "needed": money.format_amount(account.balance - new_balance, account.currency),
            }
        )


def check_sqlite_exact(
    leg_rows: Sequence[list[Any]], new_state: dict[int, tuple[Decimal, int]]
) -> None:
    """Refuse legs or balances SQLite would not keep exactly (see :data:`SQLITE_MAX_AMOUNT`)."""
    amounts = [row[LEG_AMOUNT] for row in leg_rows]
    largest = max(abs(value) for value in [*amounts, *(b for b, _ in new_state.values())])
    if largest > SQLITE_MAX_AMOUNT:
        raise exceptions.AmountTooLarge(
            gettext(
                "SQLite keeps amounts as floating point, exact to the fourth decimal place only "
                "up to %(limit)s; this posting needs %(needed)s. Use PostgreSQL or MariaDB for "
                "larger amounts."
            )
            % {"limit": SQLITE_MAX_AMOUNT, "needed": largest}
        )


def is_backdated(facts: LockFacts, date: datetime.datetime | None) -> bool:
    last = facts.last_leg_at
    return date is not None and last is not None and date < last


def check_date(date: Any) -> datetime.datetime | None:
    """Accept an aware datetime not in the future, for back-dating a posting."""
    if date is None:
        return None
    if not isinstance(date, datetime.datetime) or timezone.is_naive(date):
        raise exceptions.InvalidDate(
            gettext("The date must be a timezone-aware datetime, not %(value)s.")
            % {"value": repr(date)}
        )
    if date > timezone.now():
        raise exceptions.InvalidDate(
            gettext("A posting cannot be dated in the future (%(date)s).") % {"date": date}
        )
    if date < POSTING_DATE_MIN:
        raise exceptions.InvalidDate(
            gettext(
                "A posting cannot be dated before %(earliest)s (%(date)s); record older history "
                "as an opening balance."
            )
            % {"earliest": f"{POSTING_DATE_MIN:%Y-%m-%d}", "date": date}
        )
    return date


def unauthorised(user: Any, account: Account) -> str:
    return gettext("%(user)s may not spend from account %(account)s.") % {
        "user": user,
        "account": account,
    }
