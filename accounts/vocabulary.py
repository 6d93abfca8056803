"""The ledger's vocabulary: the words every layer shares, and the rules they carry.

Account kinds (with the sign rule: which kinds grow with debits, and so the two sides of the
accounting equation), account statuses, transfer kinds, the surfaces an act comes from, the audit
trail's actions and the core accounts' codes. This module is the leaf of the package: it imports
no model and nothing else of the app, so models, the posting SQL, the triggers, reports and the
surfaces can all depend on it and on nothing cyclic. :mod:`accounts.models` re-exports each name,
which is where users import them from.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Case, IntegerField, Value, When
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    """What an account is, in accounting terms; decides the sign of its balance."""

    ASSET = "asset", _("Asset")
    LIABILITY = "liability", _("Liability")
    EQUITY = "equity", _("Equity")
    INCOME = "income", _("Income")
    EXPENSE = "expense", _("Expense")
    TRADING = "trading", _("Trading")


def kind_label(kind: str) -> str:
    """A kind as people read it (``"asset"`` is "Asset"), in the active language."""
    try:
        return str(Kind(kind).label)
    except ValueError:  # not a kind at all: show what was given
        return str(kind)


#: The kinds in the order an accountant reads them: the balance sheet (assets, liabilities,
#: equity), then the income statement (income, expenses), then the trading clearing accounts.
KIND_ORDER: tuple[Kind, ...] = (
    Kind.ASSET,
    Kind.LIABILITY,
    Kind.EQUITY,
    Kind.INCOME,
    Kind.EXPENSE,
    Kind.TRADING,
)


def kind_rank(kind: str) -> int:
    """Return ``kind``'s place in :data:`KIND_ORDER`; anything unknown sorts last."""
    try:
        return KIND_ORDER.index(Kind(kind))
    except ValueError:
        return len(KIND_ORDER)


def kind_choices() -> list[tuple[str, Any]]:
    """The kinds as form choices, in :data:`KIND_ORDER`, with lazily translated labels."""
    return [(kind.value, kind.label) for kind in KIND_ORDER]


#: Kinds whose balance grows with debits; their leg sums are flipped to give the balance. The one
#: statement of the sign rule: the ORM expressions, the posting and verification SQL and the
#: triggers all derive their lists of kinds from it.
DEBIT_NORMAL_KINDS = frozenset({Kind.ASSET, Kind.EXPENSE})

#: The two sides of the accounting equation, each in :data:`KIND_ORDER`: the debit-normal kinds
#: (assets + expenses) equal the credit-normal ones (liabilities + equity + income + trading).
EQUATION_LEFT: tuple[Kind, ...] = tuple(k for k in KIND_ORDER if k in DEBIT_NORMAL_KINDS)
EQUATION_RIGHT: tuple[Kind, ...] = tuple(k for k in KIND_ORDER if k not in DEBIT_NORMAL_KINDS)


def normal_sign(kind: str) -> int:
    """Return -1 for debit-normal kinds and 1 for credit-normal ones."""
    return -1 if kind in DEBIT_NORMAL_KINDS else 1


def normal_sign_expression(kind_field: str = "kind") -> Case:
    """:func:`normal_sign` as an ORM expression over the kind in ``kind_field``."""
    return Case(
        When(**{f"{kind_field}__in": sorted(DEBIT_NORMAL_KINDS)}, then=Value(-1)),
        default=Value(1),
        output_field=IntegerField(),
    )


def debit_normal_sql() -> str:
    """The debit-normal kinds as an SQL list for ``kind IN (...)`` in trigger and check SQL."""
    return "(" + ", ".join(f"'{kind.value}'" for kind in sorted(DEBIT_NORMAL_KINDS)) + ")"


class Status(models.TextChoices):
    OPEN = "open", _("Open")
    FROZEN = "frozen", _("Frozen")
    CLOSED = "closed", _("Closed")


#: Every account the app makes for itself has a code starting with this: the three core
#: accounts, their siblings in other currencies and the trading accounts.
CORE_CODE_PREFIX = "CORE-"
#: Stable codes of the three core accounts; names come from settings and may change.
SOURCE_CODE = "CORE-SOURCE"
SALES_CODE = "CORE-SALES"
EXPIRED_CODE = "CORE-EXPIRED"


class TransferKind(models.TextChoices):
    TRANSFER = "transfer", _("Transfer")
    REFUND = "refund", _("Refund")
    REVERSAL = "reversal", _("Reversal")
    EXPIRY = "expiry", _("Expiry")
    ENTRY = "entry", _("Entry")
    EXCHANGE = "exchange", _("Exchange")
    CLOSING = "closing", _("Closing entry")


class HoldStatus(models.TextChoices):
    """Where a hold (an authorisation) stands; it leaves ``pending`` exactly once."""

    PENDING = "pending", _("Pending")
    CAPTURED = "captured", _("Captured")
    VOIDED = "voided", _("Voided")
    EXPIRED = "expired", _("Expired")


class Surface(models.TextChoices):
    """Where an administrative act came from."""

    CODE = "code", _("Code")
    DASHBOARD = "dashboard", _("Dashboard")
    API = "api", _("API")
    ADMIN = "admin", _("Admin")
    COMMAND = "command", _("Command")


class AuditAction(models.TextChoices):
    """What an administrative act did."""

    CREATED = "created", _("Created")
    EDITED = "edited", _("Edited")
    CREDIT_LIMIT_CHANGED = "credit_limit_changed", _("Credit limit changed")
    FROZEN = "frozen", _("Frozen")
    THAWED = "thawed", _("Thawed")
    CLOSED = "closed", _("Closed")
    EXPIRED = "expired", _("Expired")
    REVERSED = "reversed", _("Reversed")
    REFUNDED = "refunded", _("Refunded")
