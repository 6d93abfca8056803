"""The roles people play around the ledger, as Django groups with the permissions each needs.

A project grants these through ``manage.py create_account_groups`` (or its own groups): the
surfaces (dashboard, JSON API, admin) check the permissions, never the group names, so renaming a
group or building your own from the table in ``docs/installation.rst`` works just as well.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Role:
    """A group name and the ``accounts`` permissions (codenames) its members hold.

    ``name`` is an identifier (projects and the surfaces may look groups up by it), so it is
    never translated; ``description`` is for people, translated when it is shown.
    """

    name: str
    permissions: tuple[str, ...]
    description: str | Promise


TILL = Role(
    "Accounts: till",
    ("use_api",),
    _(
        "A shop's till or server calling the JSON API: create, look up, redeem; refund and "
        "reverse only what it did itself."
    ),
)
STAFF = Role(
    "Accounts: staff",
    (
        "view_account",
        "add_account",
        "change_account",
        "view_transfer",
        "view_hold",
        "change_hold",
        "view_reports",
    ),
    _(
        "Shop staff in the dashboard: see accounts, transfers, holds and reports, create cards, "
        "top up, withdraw, freeze, thaw, close and edit, capture and void holds; card codes "
        "masked."
    ),
)
SUPERVISOR = Role(
    "Accounts: supervisor",
    (
        *STAFF.permissions,
        "view_card_code",
        "reverse_transfer",
        "refund_transfer",
        "correct_any_transfer",
        "spend_from_any_account",
        "view_auditentry",
    ),
    _(
        "Everything staff may do, plus corrections (reverse, refund, any till's transfers), "
        "spending on behalf of card holders, seeing full card codes and the audit trail."
    ),
)

ROLES = (TILL, STAFF, SUPERVISOR)
