"""The ledger's rules about accounts, each stated once, on plain values.

The model's own questions (``Account.is_debit_permitted``, ``Account.can_be_authorised_by``)
and the facade's checks against locked rows both ask these functions, so the rules cannot drift
apart. They take values, not models, and import nothing of the app but the vocabulary: what a
fact costs to find out (a query on the model, a column of the lock on the facade's side) stays
with the caller, passed in as a function that is called only when the rule needs the answer.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

#: The permission that lets a user spend from any account, whoever its users are.
SPEND_FROM_ANY_ACCOUNT = "accounts.spend_from_any_account"


def within_credit_limit(
    balance: Decimal, new_balance: Decimal, credit_limit: Decimal | None
) -> bool:
    """Whether moving a natural balance from ``balance`` to ``new_balance`` respects the limit.

    A move that does not lower the balance always does, and so does any move on an account
    without a limit (``None``); otherwise the balance may go down to ``-credit_limit``.
    """
    return new_balance >= balance or credit_limit is None or new_balance >= -credit_limit


def may_spend(
    user: Any,
    *,
    primary_user_id: Any,
    has_secondary_users: Callable[[], bool],
    user_is_secondary: Callable[[], bool],
) -> bool:
    """Whether ``user`` (None for nobody in particular) may spend from an account.

    An account without users is spendable by whoever holds it (a gift card's code is the
    authority). Otherwise the user must be its primary user, one of its secondary users, or
    hold ``accounts.spend_from_any_account``.
    """
    user_pk = getattr(user, "pk", None) if user is not None else None
    if user_pk is not None and user_pk == primary_user_id:
        return True
    if primary_user_id is None and not has_secondary_users():
        return True
    if user_pk is None:
        return False
    if user_is_secondary():
        return True
    return bool(user.has_perm(SPEND_FROM_ANY_ACCOUNT))
