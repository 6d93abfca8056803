"""Balances as of a moment: the trial balance and the accounting equation."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import F, Sum

from ..ledger import balances
from ..models import Account, kind_rank, normal_sign
from ..money import DECIMAL_PLACES, Balance
from ..vocabulary import EQUATION_LEFT, EQUATION_RIGHT

# -- balances as of a moment -----------------------------------------------------------------


def _leaf_balances(as_of: datetime.datetime | None) -> Any:
    """Leaf accounts with ``b`` = balance now or at ``as_of`` (one query when evaluated)."""
    qs = Account.objects.filter(children__isnull=True).order_by()
    if as_of is None:
        return qs.annotate(b=F("balance"))
    return qs.annotate(b=balances.balance_as_of_or_zero(as_of))


# -- trial balance and the accounting equation -----------------------------------------------


@dataclass
class TrialBalanceRow:
    account: Account
    debit: Decimal
    credit: Decimal


@dataclass
class TrialBalance:
    rows: list[TrialBalanceRow]
    #: Per currency: total debits and total credits (equal when the books balance).
    debits: Balance
    credits: Balance
    #: Per kind, per currency, in natural sign.
    by_kind: dict[str, Balance]

    @property
    def is_balanced(self) -> bool:
        return self.debits == self.credits


def trial_balance(as_of: datetime.datetime | None = None) -> TrialBalance:
    """Every leaf account with a debit or credit balance, totalled per currency (one query).

    Rows come in accounting order (:data:`~accounts.models.KIND_ORDER`, then code), as an
    accountant reads a trial balance, and ``by_kind`` follows the same order.
    """
    rows, debits, credits = [], Balance(), Balance()
    by_kind: dict[str, Balance] = defaultdict(Balance)
    leaves = sorted(
        _leaf_balances(as_of).exclude(b=0), key=lambda a: (kind_rank(a.kind), a.code, a.pk)
    )
    for account in leaves:
        natural = account.b
        leg_sum = natural * normal_sign(account.kind)
        debit = -leg_sum if leg_sum < 0 else Decimal(0)
        credit = leg_sum if leg_sum > 0 else Decimal(0)
        rows.append(TrialBalanceRow(account, debit, credit))
        debits += Balance({account.currency: debit})
        credits += Balance({account.currency: credit})
        by_kind[account.kind] += Balance({account.currency: natural})
    return TrialBalance(rows, debits, credits, dict(by_kind))


@dataclass
class Equation:
    """assets + expenses = liabilities + equity + income + trading, per currency."""

    totals: dict[str, Balance]  # kind -> Balance

    def side(self, kinds: tuple[str, ...]) -> Balance:
        return sum((self.totals.get(k, Balance()) for k in kinds), Balance())

    @property
    def left(self) -> Balance:
        return self.side(EQUATION_LEFT)

    @property
    def right(self) -> Balance:
        return self.side(EQUATION_RIGHT)

    @property
    def holds(self) -> bool:
        return self.left == self.right


def accounting_equation(as_of: datetime.datetime | None = None) -> Equation:
    """Sum natural balances per kind and currency (one aggregate query)."""
    totals: dict[str, Balance] = defaultdict(Balance)
    if as_of is None:
        rows = (
            Account.objects.filter(children__isnull=True)
            .order_by()
            .values("kind", "currency")
            .annotate(total=Sum("balance"))
        )
        for row in rows:
            # SQLite sums money as floating point (9520.58 comes back as 9520.58000000001);
            # the columns hold DECIMAL_PLACES places, so nothing real is lost by rounding.
            total = (row["total"] or Decimal(0)).quantize(Decimal(1).scaleb(-DECIMAL_PLACES))
            totals[row["kind"]] += Balance({row["currency"]: total})
    else:
        for account in _leaf_balances(as_of):
            totals[account.kind] += Balance({account.currency: account.b})
    return Equation(dict(totals))
