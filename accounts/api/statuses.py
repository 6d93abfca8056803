"""The HTTP status the JSON API answers each refusal of the ledger with.

The ledger's exceptions (:mod:`accounts.exceptions`) are pure ledger errors and know nothing of
HTTP; this is the API's own mapping, by exception class. A class not named here answers with its
nearest named ancestor's status, so a new refusal in a family needs no line of its own. Needs no
django-ninja: a project that serves its own API can use :func:`status_for` too.
"""

from __future__ import annotations

from accounts import exceptions

#: Status by exception class; the root's 422 serves every class without a nearer entry.
STATUSES: dict[type[exceptions.AccountException], int] = {
    exceptions.AccountException: 422,
    exceptions.InvalidAmount: 400,
    exceptions.AmountOutOfRange: 422,
    exceptions.InvalidAccount: 400,
    exceptions.AccountNotFound: 404,
    exceptions.InactiveAccount: 409,
    exceptions.AccountNotEmpty: 409,
    exceptions.InsufficientFunds: 409,
    exceptions.InvalidCreditLimit: 400,
    exceptions.Unauthorised: 403,
    exceptions.InvalidSurface: 400,
    exceptions.InvalidTransfer: 400,
    exceptions.AlreadyReversed: 409,
    exceptions.CannotReverseReversal: 409,
    exceptions.RefundExceedsRemaining: 409,
    exceptions.LedgerImmutable: 409,
    exceptions.InvalidIdempotencyKey: 400,
    # The key is taken by another request: a client error, like a refund above what remains.
    exceptions.IdempotencyConflict: 409,
    exceptions.InvalidHold: 400,
    exceptions.InvalidExpiry: 400,
    exceptions.HoldNotPending: 409,
    exceptions.HoldExpired: 409,
    exceptions.CaptureExceedsHold: 409,
    exceptions.PendingHolds: 409,
    exceptions.PeriodClosed: 409,
    exceptions.InvalidClosing: 400,
}


def status_for(
    error: exceptions.AccountException | type[exceptions.AccountException],
) -> int:
    """The status for a refusal (or its class): its own class's, else its nearest ancestor's."""
    cls = error if isinstance(error, type) else type(error)
    for ancestor in cls.__mro__:
        if ancestor in STATUSES:
            return STATUSES[ancestor]
    raise TypeError(f"{cls.__name__} is not a refusal of the ledger (AccountException)")
