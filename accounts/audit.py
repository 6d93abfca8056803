"""The audit trail: who did what to an account or a transfer, from which surface, and why.

Money movements are recorded by the ledger itself (every transfer keeps its user). The acts
around them are not movements: creating, editing, freezing, thawing, closing and expiring an
account, changing its credit limit, reversing and refunding a transfer. The facade records each
of these here, in the same transaction as the act, so an act made from code is recorded as
surely as one made in the dashboard, and a refused act leaves nothing behind. Entries are
append-only; the database refuses changes and deletions (see :mod:`accounts.integrity`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext

from . import exceptions
from .models import Account, AuditAction, AuditEntry, Surface, Transaction, Transfer

#: Longest reason kept with an act.
REASON_LENGTH_MAX = 500
#: Longest username snapshot (the column's length).
USERNAME_LENGTH_MAX = 150


def check_surface(surface: Any) -> str:
    """Return ``surface`` if it names a :class:`~accounts.models.Surface`, else refuse it."""
    if surface not in Surface.values:
        raise exceptions.InvalidSurface(
            # Translators: surfaces lists the identifiers code, dashboard, api, admin, command.
            gettext("Unknown surface %(surface)s; use one of %(surfaces)s.")
            % {"surface": repr(surface), "surfaces": ", ".join(Surface.values)}
        )
    return str(surface)


def username_of(user: Any) -> str:
    """The snapshot of ``user``'s name that outlives the user ("" for nobody)."""
    if user is None or getattr(user, "pk", None) is None:
        return ""
    return str(user.get_username())[:USERNAME_LENGTH_MAX]


def record(
    action: AuditAction,
    *,
    user: Any,
    surface: str,
    reason: str | None,
    using: str,
    account: Account | None = None,
    transfer: Transfer | None = None,
    changes: Mapping[str, tuple[Any, Any]] | None = None,
) -> AuditEntry:
    """Write one entry; the caller is inside the transaction of the act it records."""
    username = username_of(user)
    entry = AuditEntry(
        action=action,
        account=account,
        transfer=transfer,
        user=user if username else None,
        username=username,
        surface=surface,
        reason=reason or "",
        changes={name: [_text(old), _text(new)] for name, (old, new) in (changes or {}).items()},
    )
    entry.save(using=using)
    return entry


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, Account):
        return value.display_code
    return str(value)


def entries_for(account: Account) -> QuerySet[AuditEntry]:
    """Every act on ``account``, and every reversal or refund of a transfer that touched it."""
    legs = Transaction.objects.filter(transfer=OuterRef("transfer"), account=account)
    return (
        AuditEntry.objects.filter(Q(account=account) | (Q(account__isnull=True) & Exists(legs)))
        .select_related("transfer", "user")
        .order_by("-created_at", "-pk")
    )
