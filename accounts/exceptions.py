"""Every error a caller can cause.

One root, :class:`AccountException`, and one class per broken rule. Each class has a stable
machine-readable ``code`` (used by the JSON API and safe to match on, never translated) and a
one-line docstring stating the rule. Its ``default_message`` is that rule for people, marked for
translation: a refusal raised without a message of its own says it in the active language. A
call that raises one of these has written nothing.

These are ledger errors and know nothing of HTTP: the JSON API maps them to statuses in its own
layer (:mod:`accounts.api.statuses`).
"""

from __future__ import annotations

from django.db import IntegrityError
from django.utils.translation import gettext_lazy as _


class AccountException(Exception):
    """Root of every refusal this app makes."""

    code = "account_error"
    #: The message when none is given: the class's rule, translated when the refusal is made.
    default_message = _("The ledger refused this request.")

    def __init__(self, message: str | None = None, **context: object) -> None:
        # Evaluated now, in the language active where the refusal is made (the request's, in
        # the API and the dashboard), so that ``message`` is a plain str from then on.
        self.message = str(message or self.default_message)
        self.context = context
        super().__init__(self.message)

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


# -- amounts -----------------------------------------------------------------------------------


class InvalidAmount(AccountException):
    """An amount must be a finite, positive Decimal with no more places than its currency."""

    code = "invalid_amount"
    default_message = _(
        "An amount must be a finite, positive Decimal with no more places than its currency."
    )


class AmountNotDecimal(InvalidAmount):
    """An amount must be a Decimal (or int); floats and strings are refused."""

    code = "amount_must_be_decimal"
    default_message = _("An amount must be a Decimal (or int); floats and strings are refused.")


class AmountNotPositive(InvalidAmount):
    """An amount must be greater than zero."""

    code = "amount_must_be_positive"
    default_message = _("An amount must be greater than zero.")


class AmountNotFinite(InvalidAmount):
    """An amount must be a finite number (not NaN or infinity)."""

    code = "amount_must_be_finite"
    default_message = _("An amount must be a finite number (not NaN or infinity).")


class AmountTooPrecise(InvalidAmount):
    """An amount may not have more decimal places than its currency allows."""

    code = "amount_too_precise"
    default_message = _("An amount may not have more decimal places than its currency allows.")


class AmountTooLarge(InvalidAmount):
    """An amount must fit the ledger's columns."""

    code = "amount_too_large"
    default_message = _("An amount must fit the ledger's columns.")


class AmountOutOfRange(InvalidAmount):
    """A load or top-up must lie within ACCOUNTS_MIN/MAX_INITIAL_VALUE."""

    code = "amount_out_of_range"
    default_message = _("A load or top-up must lie within ACCOUNTS_MIN/MAX_INITIAL_VALUE.")


# -- accounts ----------------------------------------------------------------------------------


class InvalidAccount(AccountException):
    """Accounts must be saved Account instances."""

    code = "invalid_account"
    default_message = _("Accounts must be saved Account instances.")


class AccountNotSaved(InvalidAccount):
    """An account must be saved before money can move through it."""

    code = "account_not_saved"
    default_message = _("An account must be saved before money can move through it.")


class AccountNotFound(InvalidAccount):
    """The account no longer exists."""

    code = "account_not_found"
    default_message = _("The account no longer exists.")


class SameAccount(InvalidAccount):
    """The source and destination of a transfer must be different accounts."""

    code = "accounts_must_be_different"
    default_message = _("The source and destination of a transfer must be different accounts.")


class KindMismatch(InvalidAccount):
    """A child account has the same kind as its parent (its currency may differ)."""

    code = "kind_differs_from_parent"
    default_message = _(
        "A child account has the same kind as its parent (its currency may differ)."
    )


class InvalidCard(InvalidAccount):
    """A customer card is a liability with a credit limit, and never a core account."""

    code = "invalid_card"
    default_message = _(
        "A customer card is a liability with a credit limit, and never a core account."
    )


class CurrencyMismatch(AccountException):
    """Money moves only between accounts of one currency; use an exchange to convert."""

    code = "currency_mismatch"
    default_message = _(
        "Money moves only between accounts of one currency; use an exchange to convert."
    )


class PlaceholderAccount(AccountException):
    """An account with children only sums them; it cannot receive postings."""

    code = "account_is_placeholder"
    default_message = _("An account with children only sums them; it cannot receive postings.")


class InactiveAccount(AccountException):
    """Money can only move through open accounts inside their start/end window."""

    code = "account_inactive"
    default_message = _("Money can only move through open accounts inside their start/end window.")


class FrozenAccount(InactiveAccount):
    """A frozen account accepts no postings until it is thawed."""

    code = "account_frozen"
    default_message = _("A frozen account accepts no postings until it is thawed.")


class ClosedAccount(InactiveAccount):
    """A closed account accepts no postings, ever."""

    code = "account_closed"
    default_message = _("A closed account accepts no postings, ever.")


class AccountExpired(InactiveAccount):
    """An account past its end date accepts no postings."""

    code = "account_expired"
    default_message = _("An account past its end date accepts no postings.")


class AccountNotYetActive(InactiveAccount):
    """An account before its start date accepts no postings."""

    code = "account_not_yet_active"
    default_message = _("An account before its start date accepts no postings.")


class AccountNotEmpty(AccountException):
    """Only an account with a zero balance can be closed."""

    code = "account_not_empty"
    default_message = _("Only an account with a zero balance can be closed.")


class InsufficientFunds(AccountException):
    """A posting may not take an account's balance below minus its credit limit."""

    code = "insufficient_funds"
    default_message = _("A posting may not take an account's balance below minus its credit limit.")


class InvalidCreditLimit(AccountException):
    """A credit limit must be None (unlimited) or a non-negative amount the balance respects."""

    code = "invalid_credit_limit"
    default_message = _(
        "A credit limit must be None (unlimited) or a non-negative amount the balance respects."
    )


# -- people ------------------------------------------------------------------------------------


class Unauthorised(AccountException):
    """The user is not allowed to spend from this account."""

    code = "user_not_authorised"
    default_message = _("The user is not allowed to spend from this account.")


class InvalidSurface(AccountException):
    """An act names where it came from with one of accounts.models.Surface."""

    code = "invalid_surface"
    default_message = _("An act names where it came from with one of accounts.models.Surface.")


# -- transfers ---------------------------------------------------------------------------------


class InvalidTransfer(AccountException):
    """The transfer is not valid."""

    code = "invalid_transfer"
    default_message = _("The transfer is not valid.")


class InvalidDate(InvalidTransfer):
    """A posting's date must be timezone-aware, not in the future, nor before POSTING_DATE_MIN."""

    code = "invalid_date"
    default_message = _(
        "A posting's date must be timezone-aware, not in the future, nor before POSTING_DATE_MIN."
    )


class InvalidText(InvalidTransfer):
    """Descriptions and references must be text every supported database stores as given."""

    code = "invalid_text"
    default_message = _(
        "Descriptions and references must be text every supported database stores as given."
    )


class TextTooLong(InvalidText):
    """A text field may not be longer than its column."""

    code = "text_too_long"
    default_message = _("A text field may not be longer than its column.")


class TextNotStorable(InvalidText):
    """Text may not contain NUL characters or unpaired surrogates, which databases refuse."""

    code = "text_not_storable"
    default_message = _(
        "Text may not contain NUL characters or unpaired surrogates, which databases refuse."
    )


class InvalidEntry(InvalidTransfer):
    """An entry needs at least one debit and one credit whose totals are equal per currency."""

    code = "entry_unbalanced"
    default_message = _(
        "An entry needs at least one debit and one credit whose totals are equal per currency."
    )


class TooManyLegs(InvalidTransfer):
    """An entry may have at most MAX_LEGS_PER_TRANSFER legs."""

    code = "too_many_legs"
    default_message = _("An entry may have at most MAX_LEGS_PER_TRANSFER legs.")


class AlreadyReversed(AccountException):
    """A transfer can be reversed only once, and nothing is left to refund or reverse."""

    code = "transfer_already_reversed"
    default_message = _(
        "A transfer can be reversed only once, and nothing is left to refund or reverse."
    )


class CannotReverseReversal(AccountException):
    """A reversal cannot itself be reversed or refunded; post a new transfer instead."""

    code = "cannot_reverse_a_reversal"
    default_message = _(
        "A reversal cannot itself be reversed or refunded; post a new transfer instead."
    )


class RefundExceedsRemaining(AccountException):
    """A refund may not exceed what remains refundable of the original transfer."""

    code = "refund_exceeds_remaining"
    default_message = _("A refund may not exceed what remains refundable of the original transfer.")


class LedgerImmutable(AccountException, IntegrityError):
    """Transfers and their legs are append-only: post a correcting transfer instead."""

    code = "ledger_is_append_only"
    default_message = _(
        "Transfers and their legs are append-only: post a correcting transfer instead."
    )


# -- idempotency -------------------------------------------------------------------------------


class InvalidIdempotencyKey(AccountException):
    """An idempotency key is 1 to 255 characters, no control characters, no outer spaces."""

    code = "invalid_idempotency_key"
    default_message = _(
        "An idempotency key is 1 to 255 characters, no control characters, no outer spaces."
    )


class IdempotencyConflict(AccountException):
    """An idempotency key replays only the call it was first used with, with its arguments."""

    code = "idempotency_conflict"
    default_message = _(
        "An idempotency key replays only the call it was first used with, with its arguments."
    )

    def __init__(
        self, message: str | None = None, *, fields: tuple[str, ...] = (), **context: object
    ) -> None:
        #: The names of the arguments that differ from the first call's, sorted.
        self.fields = tuple(fields)
        super().__init__(message, fields=self.fields, **context)


# -- bank statements ---------------------------------------------------------------------------


class NotBankAccount(InvalidAccount):
    """Only an asset account designated as a bank account takes statements."""

    code = "not_a_bank_account"
    default_message = _("Only an asset account designated as a bank account takes statements.")


class InvalidStatement(AccountException):
    """A statement must be a readable CSV, CAMT.053 or OFX file within the import limits."""

    code = "invalid_statement"
    default_message = _(
        "A statement must be a readable CSV, CAMT.053 or OFX file within the import limits."
    )


class InvalidColumnMapping(InvalidStatement):
    """A column mapping names a date and an amount (or in and out) column the file has."""

    code = "invalid_column_mapping"
    default_message = _(
        "A column mapping names a date and an amount (or in and out) column the file has."
    )


class AmbiguousDateOrder(InvalidStatement):
    """A statement whose dates read both day-first and month-first needs an explicit order."""

    code = "ambiguous_date_order"
    default_message = _(
        "A statement whose dates read both day-first and month-first needs an explicit order."
    )


class StatementHasRejectedRows(InvalidStatement):
    """A statement with rejected rows imports nothing unless partial imports are allowed."""

    code = "statement_has_rejected_rows"
    default_message = _(
        "A statement with rejected rows imports nothing unless partial imports are allowed."
    )

    def __init__(
        self, message: str | None = None, *, rejections: tuple[object, ...] = (), **context: object
    ) -> None:
        #: The rejected rows (:class:`accounts.statements.Rejection`), first ones only.
        self.rejections = tuple(rejections)
        super().__init__(message, rejections=self.rejections, **context)


class AlreadyReconciled(AccountException):
    """A statement line and a transfer are each reconciled at most once."""

    code = "already_reconciled"
    default_message = _("A statement line and a transfer are each reconciled at most once.")


class NotReconciled(AccountException):
    """Only a reconciled statement line can be unreconciled."""

    code = "statement_line_not_reconciled"
    default_message = _("Only a reconciled statement line can be unreconciled.")


class ReconciliationMismatch(AccountException):
    """A line reconciles only with a transfer of its amount and direction on its bank account."""

    code = "reconciliation_mismatch"
    default_message = _(
        "A line reconciles only with a transfer of its amount and direction on its bank account."
    )


# -- holds and closed periods ---------------------------------------------------------------------


class InvalidHold(AccountException):
    """A hold to capture or void must be a saved Hold."""

    code = "invalid_hold"
    default_message = _("A hold to capture or void must be a saved Hold.")


class HoldNotPending(AccountException):
    """A hold resolves once: only a pending hold can be captured or voided."""

    code = "hold_not_pending"
    default_message = _("A hold resolves once: only a pending hold can be captured or voided.")


class HoldExpired(AccountException):
    """A hold past its expiry can no longer be captured, whether or not the sweep has run."""

    code = "hold_expired"
    default_message = _(
        "A hold past its expiry can no longer be captured, whether or not the sweep has run."
    )


class CaptureExceedsHold(AccountException):
    """A capture may post at most the amount the hold reserved."""

    code = "capture_exceeds_hold"
    default_message = _("A capture may post at most the amount the hold reserved.")


class InvalidExpiry(AccountException):
    """A hold's expiry must be an aware datetime in the future."""

    code = "invalid_expiry"
    default_message = _("A hold's expiry must be an aware datetime in the future.")


class PendingHolds(AccountException):
    """An account with pending holds cannot be closed or expired: capture or void them first."""

    code = "account_has_pending_holds"
    default_message = _(
        "An account with pending holds cannot be closed or expired: capture or void them first."
    )


class PeriodClosed(AccountException):
    """Nothing may be dated inside a closed period: post a correction in an open one."""

    code = "period_closed"
    default_message = _(
        "Nothing may be dated inside a closed period: post a correction in an open one."
    )


class InvalidClosing(AccountException):
    """A period closes through a past day, later than the last one closed."""

    code = "invalid_closing"
    default_message = _("A period closes through a past day, later than the last one closed.")


#: Every exception class of the ledger, defined above (the tests hold each to its rule).
ALL: tuple[type[AccountException], ...] = tuple(
    obj
    for obj in list(globals().values())
    if isinstance(obj, type) and issubclass(obj, AccountException)
)
