"""Where an account sits in the account tree: its ``tree_path``.

Each level of the path is one random token, root first, ending with the account's own
(``"/K3M9XD2HT4/P7QW2N5BXR/"``). A subtree is every account whose path starts with its root's,
so a roll-up is one indexed prefix match.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext

from . import codes

#: Characters of one level's token in ``Account.tree_path``, and the longest path (about 23
#: levels deep); a deeper tree is refused.
TREE_TOKEN_LENGTH = 10
TREE_PATH_LENGTH_MAX = 255


def new_tree_path() -> str:
    """The tree path of a new root account."""
    return f"/{codes.token(TREE_TOKEN_LENGTH)}/"


def place(account: Any) -> str | None:
    """Set ``account.tree_path`` under its parent; return the old path if it moved."""
    own = (account.tree_path or new_tree_path()).rstrip("/").rsplit("/", 1)[-1]
    if account.parent_id is not None and account.parent is not None:
        if account.parent.tree_path.startswith(account.tree_path) and not account._state.adding:
            raise ValueError(
                gettext("Account %(account)s cannot be placed under its own descendant.")
                % {"account": account}
            )
        expected = f"{account.parent.tree_path}{own}/"
    else:
        expected = f"/{own}/"
    if len(expected) > TREE_PATH_LENGTH_MAX:
        raise ValueError(
            gettext("The account tree may be at most %(depth)d levels deep.")
            % {"depth": expected.count("/") - 2}
        )
    old, account.tree_path = account.tree_path, expected
    return old if old != expected and not account._state.adding else None


def move_descendants(account: Any, old_path: str) -> None:
    """Give every descendant of ``account`` its new path after ``account`` moved."""
    manager = type(account).objects
    moved = list(manager.filter(tree_path__startswith=old_path).exclude(pk=account.pk))
    for descendant in moved:
        descendant.tree_path = account.tree_path + descendant.tree_path[len(old_path) :]
    manager.bulk_update(moved, ["tree_path"])
