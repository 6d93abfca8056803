"""The books of a general ledger: the profit and loss over a period and the balance sheet.

Both read every account of the kinds they cover, in natural sign, per currency, and roll each
account's figure up through the tree: a placeholder's row is the sum of the leaves below it, in
each currency, so a chart of accounts reads as it is drawn. Neither adds different currencies.

- :func:`profit_and_loss` sums the legs of every income and expense account dated in
  ``[start, end)``: income, expenses and their difference, the net income. One grouped query.
- :func:`balance_sheet` takes every leaf's balance as of a moment: assets against liabilities,
  equity and the retained earnings (income less expenses to date); trading accounts, which
  carry the differences of exchanges, are listed where not zero. Then
  ``assets = liabilities + equity + retained earnings + trading`` in every currency, which is
  the accounting equation with income and expenses folded into retained earnings.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Sum

from ..models import Account, Kind, Transaction, TransferKind, normal_sign
from ..money import DECIMAL_PLACES, Balance
from .balances import _leaf_balances

#: One unit of the money columns' last place: SQLite sums as floating point.
_PLACE = Decimal(1).scaleb(-DECIMAL_PLACES)


@dataclass
class BookRow:
    """One account's figure in a report, with the accounts above it summed from below."""

    account: Account
    #: Levels below the report's top (0 for a root), for indenting.
    depth: int
    #: The account's own figure (leaves) or the sum of the leaves below it (placeholders).
    amount: Balance
    is_placeholder: bool


@dataclass
class ProfitAndLoss:
    """Income and expenses moved in ``[start, end)``, per account and currency."""

    start: datetime.datetime | None
    end: datetime.datetime | None
    income_rows: list[BookRow] = field(default_factory=list)
    expense_rows: list[BookRow] = field(default_factory=list)
    income: Balance = field(default_factory=Balance)
    expenses: Balance = field(default_factory=Balance)

    @property
    def net_income(self) -> Balance:
        """Income less expenses: the period's profit (negative: a loss)."""
        return self.income - self.expenses


@dataclass
class BalanceSheet:
    """What is owned against what is owed and owned by the owners, as of a moment."""

    as_of: datetime.datetime | None
    asset_rows: list[BookRow] = field(default_factory=list)
    liability_rows: list[BookRow] = field(default_factory=list)
    equity_rows: list[BookRow] = field(default_factory=list)
    trading_rows: list[BookRow] = field(default_factory=list)
    assets: Balance = field(default_factory=Balance)
    liabilities: Balance = field(default_factory=Balance)
    equity: Balance = field(default_factory=Balance)
    #: Income less expenses to date, not yet closed into an equity account.
    retained_earnings: Balance = field(default_factory=Balance)
    trading: Balance = field(default_factory=Balance)

    @property
    def liabilities_and_equity(self) -> Balance:
        return self.liabilities + self.equity + self.retained_earnings + self.trading

    @property
    def balances(self) -> bool:
        """Whether assets equal liabilities, equity, retained earnings and trading."""
        return self.assets == self.liabilities_and_equity


def profit_and_loss(
    start: datetime.datetime | None = None, end: datetime.datetime | None = None
) -> ProfitAndLoss:
    """Every income and expense account's movement in ``[start, end)`` (open ends: all time).

    Legs count by the moment they are dated (a back-dated posting in the period it names).
    """
    # The year-end closing entry moves a result into equity; it is not itself income or expense.
    legs = Transaction.objects.filter(account__kind__in=[Kind.INCOME, Kind.EXPENSE]).exclude(
        transfer__kind=TransferKind.CLOSING
    )
    if start is not None:
        legs = legs.filter(created_at__gte=start)
    if end is not None:
        legs = legs.filter(created_at__lt=end)
    sums = {
        row["account"]: row["total"]
        for row in legs.order_by().values("account").annotate(total=Sum("amount"))
    }
    result = ProfitAndLoss(start, end)
    figures: dict[int, Balance] = {}
    for account in Account.objects.filter(kind__in=[Kind.INCOME, Kind.EXPENSE]):
        total = _exact(sums.get(account.pk)) * normal_sign(account.kind)
        figures[account.pk] = Balance({account.currency: total})
    result.income_rows = _rows(Kind.INCOME, figures)
    result.expense_rows = _rows(Kind.EXPENSE, figures)
    result.income = _leaf_total(result.income_rows)
    result.expenses = _leaf_total(result.expense_rows)
    return result


def balance_sheet(as_of: datetime.datetime | None = None) -> BalanceSheet:
    """Every leaf's balance at ``as_of`` (now), grouped into the sheet's sections."""
    figures: dict[int, Balance] = {}
    totals: dict[str, Balance] = defaultdict(Balance)
    for leaf in _leaf_balances(as_of):
        amount = Balance({leaf.currency: _exact(leaf.b)})
        figures[leaf.pk] = amount
        totals[leaf.kind] += amount
    sheet = BalanceSheet(as_of)
    sheet.asset_rows = _rows(Kind.ASSET, figures)
    sheet.liability_rows = _rows(Kind.LIABILITY, figures)
    sheet.equity_rows = _rows(Kind.EQUITY, figures)
    sheet.trading_rows = [r for r in _rows(Kind.TRADING, figures) if r.amount.currencies()]
    sheet.assets = totals[Kind.ASSET]
    sheet.liabilities = totals[Kind.LIABILITY]
    sheet.equity = totals[Kind.EQUITY]
    sheet.retained_earnings = totals[Kind.INCOME] - totals[Kind.EXPENSE]
    sheet.trading = totals[Kind.TRADING]
    return sheet


def _exact(value: Decimal | None) -> Decimal:
    """A sum from the database to the columns' places (SQLite sums as floating point)."""
    return (value or Decimal(0)).quantize(_PLACE)


def _rows(kind: str, figures: dict[int, Balance]) -> list[BookRow]:
    """The accounts of ``kind`` in tree order (siblings by code), placeholders summing below."""
    accounts = list(Account.objects.filter(kind=kind).order_by("code", "pk"))
    by_pk = {a.pk: a for a in accounts}
    children: dict[int | None, list[Account]] = defaultdict(list)
    for account in accounts:
        # An account under a parent of another kind starts a tree of its own here.
        parent = account.parent_id if account.parent_id in by_pk else None
        children[parent].append(account)
    rows: list[BookRow] = []

    def visit(account: Account, depth: int) -> Balance:
        row = BookRow(account, depth, Balance(), is_placeholder=bool(children[account.pk]))
        rows.append(row)
        total = figures.get(account.pk, Balance())
        for child in children[account.pk]:
            total += visit(child, depth + 1)
        row.amount = total
        return total

    for root in children[None]:
        visit(root, 0)
    return rows


def _leaf_total(rows: list[BookRow]) -> Balance:
    return sum((r.amount for r in rows if not r.is_placeholder), Balance())
