"""Every error a caller can cause.

One root, :class:`AccountException`, and one class per broken rule. Each class has a stable
machine-readable ``code`` (used by the JSON API and safe to match on) and a one-line docstring
stating the rule. A call that raises one of these has written nothing.
"""

from __future__ import annotations

from django.db import IntegrityError


class AccountException(Exception):
    """Root of every refusal this app makes."""

    code = "account_error"
    #: HTTP status the JSON API answers with.
    http_status = 422

    def __init__(self, message: str | None = None, **context: object) -> None:
        self.message = message or (self.__doc__ or self.code).strip()
        self.context = context
        super().__init__(self.message)

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


# -- amounts -----------------------------------------------------------------------------------


class InvalidAmount(AccountException):
    """An amount must be a finite, positive Decimal with no more places than its currency."""

    code = "invalid_amount"
    http_status = 400


class AmountNotDecimal(InvalidAmount):
    """An amount must be a Decimal (or int); floats and strings are refused."""

    code = "amount_must_be_decimal"


class AmountNotPositive(InvalidAmount):
    """An amount must be greater than zero."""

    code = "amount_must_be_positive"


class AmountNotFinite(InvalidAmount):
    """An amount must be a finite number (not NaN or infinity)."""

    code = "amount_must_be_finite"


class AmountTooPrecise(InvalidAmount):
    """An amount may not have more decimal places than its currency allows."""

    code = "amount_too_precise"


class AmountTooLarge(InvalidAmount):
    """An amount must fit the ledger's columns."""

    code = "amount_too_large"


class AmountOutOfRange(InvalidAmount):
    """A load or top-up must lie within ACCOUNTS_MIN/MAX_INITIAL_VALUE."""

    code = "amount_out_of_range"
    http_status = 422


# -- accounts ----------------------------------------------------------------------------------


class InvalidAccount(AccountException):
    """Accounts must be saved Account instances."""

    code = "invalid_account"
    http_status = 400


class AccountNotSaved(InvalidAccount):
    """An account must be saved before money can move through it."""

    code = "account_not_saved"


class AccountNotFound(InvalidAccount):
    """The account no longer exists."""

    code = "account_not_found"
    http_status = 404


class SameAccount(InvalidAccount):
    """The source and destination of a transfer must be different accounts."""

    code = "accounts_must_be_different"


class KindMismatch(InvalidAccount):
    """A child account has the same kind as its parent (its currency may differ)."""

    code = "kind_differs_from_parent"


class InvalidCard(InvalidAccount):
    """A customer card is a liability with a credit limit, and never a core account."""

    code = "invalid_card"


class CurrencyMismatch(AccountException):
    """Money moves only between accounts of one currency; use an exchange to convert."""

    code = "currency_mismatch"


class PlaceholderAccount(AccountException):
    """An account with children only sums them; it cannot receive postings."""

    code = "account_is_placeholder"


class InactiveAccount(AccountException):
    """Money can only move through open accounts inside their start/end window."""

    code = "account_inactive"
    http_status = 409


class FrozenAccount(InactiveAccount):
    """A frozen account accepts no postings until it is thawed."""

    code = "account_frozen"


class ClosedAccount(InactiveAccount):
    """A closed account accepts no postings, ever."""

    code = "account_closed"


class AccountExpired(InactiveAccount):
    """An account past its end date accepts no postings."""

    code = "account_expired"


class AccountNotYetActive(InactiveAccount):
    """An account before its start date accepts no postings."""

    code = "account_not_yet_active"


class AccountNotEmpty(AccountException):
    """Only an account with a zero balance can be closed."""

    code = "account_not_empty"
    http_status = 409


class InsufficientFunds(AccountException):
    """A posting may not take an account's balance below minus its credit limit."""

    code = "insufficient_funds"
    http_status = 409


class InvalidCreditLimit(AccountException):
    """A credit limit must be None (unlimited) or a non-negative amount the balance respects."""

    code = "invalid_credit_limit"
    http_status = 400


# -- people ------------------------------------------------------------------------------------


class Unauthorised(AccountException):
    """The user is not allowed to spend from this account."""

    code = "user_not_authorised"
    http_status = 403


class InvalidSurface(AccountException):
    """An act names where it came from with one of accounts.models.Surface."""

    code = "invalid_surface"
    http_status = 400


# -- transfers ---------------------------------------------------------------------------------


class InvalidTransfer(AccountException):
    """The transfer is not valid."""

    code = "invalid_transfer"
    http_status = 400


class InvalidDate(InvalidTransfer):
    """A posting's date must be timezone-aware, not in the future, nor before POSTING_DATE_MIN."""

    code = "invalid_date"


class InvalidText(InvalidTransfer):
    """Descriptions and references must be text every supported database stores as given."""

    code = "invalid_text"


class TextTooLong(InvalidText):
    """A text field may not be longer than its column."""

    code = "text_too_long"


class TextNotStorable(InvalidText):
    """Text may not contain NUL characters or unpaired surrogates, which databases refuse."""

    code = "text_not_storable"


class InvalidEntry(InvalidTransfer):
    """An entry needs at least one debit and one credit whose totals are equal per currency."""

    code = "entry_unbalanced"


class TooManyLegs(InvalidTransfer):
    """An entry may have at most MAX_LEGS_PER_TRANSFER legs."""

    code = "too_many_legs"


class AlreadyReversed(AccountException):
    """A transfer can be reversed only once, and nothing is left to refund or reverse."""

    code = "transfer_already_reversed"
    http_status = 409


class CannotReverseReversal(AccountException):
    """A reversal cannot itself be reversed or refunded; post a new transfer instead."""

    code = "cannot_reverse_a_reversal"
    http_status = 409


class RefundExceedsRemaining(AccountException):
    """A refund may not exceed what remains refundable of the original transfer."""

    code = "refund_exceeds_remaining"
    http_status = 409


class LedgerImmutable(AccountException, IntegrityError):
    """Transfers and their legs are append-only: post a correcting transfer instead."""

    code = "ledger_is_append_only"
    http_status = 409


ALL: tuple[type[AccountException], ...] = tuple(
    obj
    for obj in list(globals().values())
    if isinstance(obj, type) and issubclass(obj, AccountException)
)
