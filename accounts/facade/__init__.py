"""The one write path: every movement of money goes through this package.

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
   these three travel as one statement (see :mod:`accounts.ledger.posting_sql`).

A posting made while the caller already has a transaction joins it: the caller's rollback removes
the transfer too. Refusals raised in step 3 do not spoil the caller's transaction.

The package re-exports every public name, so callers import from :mod:`accounts.facade` alone:

- :mod:`accounts.facade.transfers`: :func:`transfer` (and refunds), :func:`reverse`,
  :func:`refundable_amount`;
- :mod:`accounts.facade.entries`: :class:`Debit`, :class:`Credit`, :func:`post`, :func:`exchange`
  and :func:`trading_account`;
- :mod:`accounts.facade.lifecycle`: :func:`create_account`, :func:`create_card`, :func:`top_up`,
  :func:`freeze_account`, :func:`thaw_account`, :func:`close_account`, :func:`edit_account`,
  :func:`expire_account`;
- :mod:`accounts.facade.holds`: :func:`authorise`, :func:`capture`, :func:`void` (two-phase
  transfers) and the expiry sweep's :func:`expired_holds`, :func:`expired_hold_ids`,
  :func:`release_expired_hold`;
- :mod:`accounts.facade.periods`: :func:`close_period`, :func:`closed_through`;
- :mod:`accounts.facade.sweeps`: :func:`expire_accounts`, the expiry sweep a chunk at a time;
- :mod:`accounts.facade.batches`: :func:`transfer_many`, many postings as one atomic batch,
  written a chunk at a time;
- :mod:`accounts.facade.common`: what the two-legged postings share (the pair's checks against
  the locked rows, and the move).
"""

from __future__ import annotations

# Kept importable here: tests patch ``accounts.facade.timezone.now`` (Django's own module).
from django.utils import timezone as timezone

from ..ledger.checks import (  # re-exported: the limits are part of the facade's contract
    DESCRIPTION_LENGTH_MAX,
    MAX_AMOUNT,
    MERCHANT_REFERENCE_LENGTH_MAX,
    POSTING_DATE_MIN,
    SQLITE_MAX_AMOUNT,
    validate_amount,
)
from .batches import BATCH_CHUNK_SIZE, BATCH_CHUNK_SIZE_MAX, transfer_many
from .entries import MAX_LEGS_PER_TRANSFER, Credit, Debit, exchange, post
from .entries import TRADING_PARENT_CODE as TRADING_PARENT_CODE
from .entries import trading_account as trading_account
from .holds import (
    authorise,
    capture,
    expired_hold_ids,
    expired_holds,
    release_expired_hold,
    void,
)
from .lifecycle import EDITABLE_FIELDS as EDITABLE_FIELDS
from .lifecycle import (
    close_account,
    create_account,
    create_card,
    edit_account,
    expire_account,
    freeze_account,
    thaw_account,
    top_up,
)
from .periods import close_period, closed_through
from .sweeps import SWEEP_CHUNK_SIZE, SweepResult, expire_accounts
from .transfers import refundable_amount, reverse, transfer

__all__ = [
    "BATCH_CHUNK_SIZE",
    "BATCH_CHUNK_SIZE_MAX",
    "DESCRIPTION_LENGTH_MAX",
    "MAX_AMOUNT",
    "MAX_LEGS_PER_TRANSFER",
    "MERCHANT_REFERENCE_LENGTH_MAX",
    "POSTING_DATE_MIN",
    "SQLITE_MAX_AMOUNT",
    "SWEEP_CHUNK_SIZE",
    "Credit",
    "Debit",
    "SweepResult",
    "authorise",
    "capture",
    "close_account",
    "close_period",
    "closed_through",
    "create_account",
    "create_card",
    "edit_account",
    "exchange",
    "expire_account",
    "expire_accounts",
    "expired_hold_ids",
    "expired_holds",
    "freeze_account",
    "post",
    "refundable_amount",
    "release_expired_hold",
    "reverse",
    "thaw_account",
    "top_up",
    "transfer",
    "transfer_many",
    "validate_amount",
    "void",
]
