"""The Django admin for the ledger: every model registered, history read-only.

Django's admin autodiscovery imports this package, which imports its modules: they are the
only place that registers models, so a project that does not install ``django.contrib.admin``
registers nothing. ``accounts`` holds account types and accounts, ``ledger`` transfers and
legs, ``audit`` the audit trail and the closed periods, ``holds`` the holds, ``access`` the API's
keys and throttle, ``statements`` bank statements (imports and lines read-only, reconciled
through actions; matching rules),
``common`` what they share.

* Transfers and their legs are append-only (the database refuses edits and deletes too), so
  their admins only show them: no add, no change, no delete, the legs inline on each transfer.
* Accounts can be created and their descriptive fields edited, but never their balance or
  version, and their status only through the freeze / thaw / close actions, which go through
  :mod:`accounts.facade` like every other change of state. A refusal (closing an account that
  still holds money, thawing a closed one) is reported as a warning, never as a server error.
* Kind, currency and parent are checked in the form against the rules the database enforces
  (fixed once an account has legs; a parent never has legs of its own; a customer card stays a
  liability with a credit limit), so a bad edit is a form error rather than a server error.
* The audit trail (:class:`~accounts.models.AuditEntry`) is shown read-only, like the ledger,
  and so are holds (:class:`~accounts.models.Hold`), which change state only through the facade.
* A customer card's code is its bearer secret. Staff without ``accounts.view_card_code`` see it
  masked in the account list and, read-only, on the card's page, and search finds a card by its
  full code only (any part of a house account's code still finds it); the ledger's lists name
  accounts by ``str(account)``, which masks cards' codes, as does the admin's history.

The API's lookup throttle (:class:`~accounts.models.LookupThrottle`) is registered here too,
with the admin class the API defines next to its rules (``accounts.api.admin``): read-only,
with an action to lift a block.
"""

from __future__ import annotations

from ..api.admin import ApiKeyAdmin, LookupThrottleAdmin
from .common import (
    CORE_CODE_PREFIX,
    CodeSearchMixin,
    ReadOnlyMixin,
    code_search,
    masked_code,
    may_see_card_codes,
)

# The modules register their models when imported: kept in the order one module had them.
# isort: split
from .accounts import (
    CLOSE_TEXTS,
    FREEZE_TEXTS,
    THAW_TEXTS,
    AccountAdmin,
    AccountAdminForm,
    AccountTypeAdmin,
    StatusTexts,
)

# isort: split
from .ledger import LEG_FIELDS, LegInline, TransactionAdmin, TransferAdmin

# isort: split
from .audit import AuditEntryAdmin

# isort: split
from .holds import HoldAdmin

# isort: split
from . import access

# isort: split
from .statements import (
    MatchingRuleAdmin,
    RuleApplicationAdmin,
    StatementImportAdmin,
    StatementLineAdmin,
)

__all__ = [
    "CLOSE_TEXTS",
    "CORE_CODE_PREFIX",
    "FREEZE_TEXTS",
    "LEG_FIELDS",
    "THAW_TEXTS",
    "AccountAdmin",
    "AccountAdminForm",
    "AccountTypeAdmin",
    "ApiKeyAdmin",
    "AuditEntryAdmin",
    "CodeSearchMixin",
    "HoldAdmin",
    "LegInline",
    "LookupThrottleAdmin",
    "MatchingRuleAdmin",
    "ReadOnlyMixin",
    "RuleApplicationAdmin",
    "StatementImportAdmin",
    "StatementLineAdmin",
    "StatusTexts",
    "TransactionAdmin",
    "TransferAdmin",
    "access",
    "code_search",
    "masked_code",
    "may_see_card_codes",
]
