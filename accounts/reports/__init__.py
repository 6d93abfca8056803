"""Read-only views of the ledger: statements, trial balance, equation, P&L, balance sheet,
gift-card flows, ageing, checks.

Each report is a fixed number of aggregate queries, whatever the number of accounts or legs,
and never adds amounts of different currencies together. Balances are in natural sign.
"""

from __future__ import annotations

from .account_statement import (
    STATEMENT_PAGE_SIZE,
    STATEMENT_PAGE_SIZE_MAX,
    Statement,
    StatementLine,
    statement,
)
from .balances import Equation, TrialBalance, TrialBalanceRow, accounting_equation, trial_balance
from .books import BalanceSheet, BookRow, ProfitAndLoss, balance_sheet, profit_and_loss
from .deferred import (
    DEFERRED_BUCKET_KEYS,
    DEFERRED_BUCKET_LABELS,
    DEFERRED_BUCKETS,
    EXPIRED_BUCKET,
    OPEN_ENDED_BUCKET,
    deferred_income,
)
from .flows import GiftCardFlows, gift_card_flows
from .verification import ROUNDING_TOLERANCE, Problem, Verification, verify

__all__ = [
    # balances
    "TrialBalanceRow",
    "TrialBalance",
    "trial_balance",
    "Equation",
    "accounting_equation",
    # the account statement
    "STATEMENT_PAGE_SIZE",
    "STATEMENT_PAGE_SIZE_MAX",
    "StatementLine",
    "Statement",
    "statement",
    # verification
    "Problem",
    "Verification",
    "ROUNDING_TOLERANCE",
    "verify",
    # deferred income
    "DEFERRED_BUCKETS",
    "EXPIRED_BUCKET",
    "OPEN_ENDED_BUCKET",
    "DEFERRED_BUCKET_KEYS",
    "DEFERRED_BUCKET_LABELS",
    "deferred_income",
    # the books: profit and loss, balance sheet
    "BookRow",
    "ProfitAndLoss",
    "profit_and_loss",
    "BalanceSheet",
    "balance_sheet",
    # what moved through the gift cards
    "GiftCardFlows",
    "gift_card_flows",
]
