"""The ledger's tables: account types, accounts, transfers and their legs, API access and the
audit trail.

Invariants kept here and, independently, by the database (see :mod:`accounts.integrity`):

* a leg (:class:`Transaction`) is signed, credit positive and debit negative, and never zero;
* the legs of a transfer sum to zero per currency, and a transfer has at least two legs;
* every leg records the balance of its account after it and the account's version, so the
  balance at any moment is one indexed lookup and the stored ``Account.balance`` can be checked
  against the last leg in O(1);
* an account's ``balance`` is in its kind's natural sign (asset and expense are debit-normal,
  everything else credit-normal) and never falls below ``-credit_limit``;
* transfers and legs are append-only; history is never cascaded away.

Money moves only through :mod:`accounts.facade`; nothing here writes a ledger row.

- :mod:`accounts.models.account`: :class:`AccountType` and :class:`Account`;
- :mod:`accounts.models.ledger`: :class:`Transfer` and its legs, :class:`Transaction`;
- :mod:`accounts.models.access`: :class:`ApiKey` and :class:`LookupThrottle`;
- :mod:`accounts.models.audit`: :class:`AuditEntry`;
- :mod:`accounts.models.idempotency`: :class:`IdempotencyKey`;
- :mod:`accounts.models.holds`: :class:`Hold` (reserved funds, captured or released later);
- :mod:`accounts.models.periods`: :class:`ClosedPeriod` (the books closed through a day).
- :mod:`accounts.models.statements`: bank statements, :class:`StatementImport`,
  :class:`StatementLine`, :class:`MatchingRule` and :class:`RuleApplication`.

Their managers and querysets are in :mod:`accounts.managers`, the as-of balance in
:mod:`accounts.ledger.balances`, the tree paths in :mod:`accounts.tree`. Every name below is
importable from ``accounts.models``, as it always was.
"""

from __future__ import annotations

from ..fields import money_field
from ..managers import (
    AccountManager,
    AccountQuerySet,
    AccountTypeManager,
    LedgerQuerySet,
    TransferManager,
)
from ..tree import TREE_PATH_LENGTH_MAX, TREE_TOKEN_LENGTH, new_tree_path
from ..vocabulary import (  # re-exported: users import the vocabulary from here
    CORE_CODE_PREFIX,
    DEBIT_NORMAL_KINDS,
    EXPIRED_CODE,
    KIND_ORDER,
    SALES_CODE,
    SOURCE_CODE,
    AuditAction,
    HoldStatus,
    Kind,
    Status,
    Surface,
    TransferKind,
    kind_choices,
    kind_label,
    kind_rank,
    normal_sign,
    normal_sign_expression,
)
from .access import ApiKey, LookupThrottle
from .account import CODE_RETRIES_MAX, Account, AccountType, Budget
from .audit import AuditEntry
from .holds import Hold
from .idempotency import IDEMPOTENCY_KEY_LENGTH_MAX, IdempotencyKey
from .ledger import Transaction, Transfer
from .periods import ClosedPeriod
from .statements import (
    RAW_ROW_LENGTH_MAX,
    REJECTIONS_KEPT_MAX,
    STATEMENT_NAME_LENGTH_MAX,
    STATEMENT_TEXT_LENGTH_MAX,
    ImportState,
    MatchingRule,
    Reconciliation,
    RuleApplication,
    StatementFormat,
    StatementImport,
    StatementLine,
)

__all__ = [
    "CODE_RETRIES_MAX",
    "CORE_CODE_PREFIX",
    "DEBIT_NORMAL_KINDS",
    "EXPIRED_CODE",
    "IDEMPOTENCY_KEY_LENGTH_MAX",
    "KIND_ORDER",
    "RAW_ROW_LENGTH_MAX",
    "REJECTIONS_KEPT_MAX",
    "SALES_CODE",
    "SOURCE_CODE",
    "STATEMENT_NAME_LENGTH_MAX",
    "STATEMENT_TEXT_LENGTH_MAX",
    "TREE_PATH_LENGTH_MAX",
    "TREE_TOKEN_LENGTH",
    "Account",
    "AccountManager",
    "AccountQuerySet",
    "AccountType",
    "AccountTypeManager",
    "ApiKey",
    "AuditAction",
    "AuditEntry",
    "Budget",
    "ClosedPeriod",
    "Hold",
    "HoldStatus",
    "IdempotencyKey",
    "ImportState",
    "Kind",
    "LedgerQuerySet",
    "LookupThrottle",
    "MatchingRule",
    "Reconciliation",
    "RuleApplication",
    "StatementFormat",
    "StatementImport",
    "StatementLine",
    "Status",
    "Surface",
    "Transaction",
    "Transfer",
    "TransferKind",
    "TransferManager",
    "kind_choices",
    "kind_label",
    "kind_rank",
    "money_field",
    "new_tree_path",
    "normal_sign",
    "normal_sign_expression",
]
