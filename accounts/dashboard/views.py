"""Kept for compatibility only: re-exports the names ``accounts.dashboard.views`` had.

The views live in :mod:`~accounts.dashboard.account_views`,
:mod:`~accounts.dashboard.account_action_views` and :mod:`~accounts.dashboard.transfer_views`;
import them from there. Setting a constant here changes nothing: set it where it is used.
"""

from __future__ import annotations

from .account_action_views import (
    EDITED_FIELDS,
    NOT_A_CARD,
    OPENING_BALANCE_DESCRIPTION,
    WITHDRAWAL_DESCRIPTION,
    AccountActionView,
    AccountCreateView,
    AccountEditView,
    AccountTopUpView,
    AccountWithdrawView,
)
from .account_views import (
    EXPIRING_SOON_DAYS,
    HISTORY_LENGTH_MAX,
    HOUSE_ORDER_MAX,
    NEW_CARD_SESSION_KEY,
    PAGE_NUMBER_MAX,
    STATEMENT_CSV_HEADER,
    STATEMENT_PAGE_SIZE,
    AccountDetailView,
    AccountListView,
    AccountStatementCsvView,
    IndexView,
    _page_number,
    _safe_filename,
    account_list_order,
    placeholder_context,
)
from .common import _user_lookups
from .transfer_views import (
    REFERENCE_LENGTH_MAX,
    TransferDetailView,
    TransferListView,
    _get_transfer,
    can_be_corrected,
)

__all__ = [
    "STATEMENT_PAGE_SIZE",
    "HISTORY_LENGTH_MAX",
    "EXPIRING_SOON_DAYS",
    "PAGE_NUMBER_MAX",
    "REFERENCE_LENGTH_MAX",
    "NEW_CARD_SESSION_KEY",
    "NOT_A_CARD",
    "OPENING_BALANCE_DESCRIPTION",
    "WITHDRAWAL_DESCRIPTION",
    "STATEMENT_CSV_HEADER",
    "HOUSE_ORDER_MAX",
    "account_list_order",
    "_page_number",
    "_safe_filename",
    "IndexView",
    "_user_lookups",
    "AccountListView",
    "AccountDetailView",
    "placeholder_context",
    "AccountStatementCsvView",
    "AccountCreateView",
    "EDITED_FIELDS",
    "AccountEditView",
    "AccountActionView",
    "AccountTopUpView",
    "AccountWithdrawView",
    "TransferListView",
    "_get_transfer",
    "can_be_corrected",
    "TransferDetailView",
]
