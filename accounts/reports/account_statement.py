"""An account's statement: opening balance, lines with running balance, closing balance."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q, Sum

from ..models import Account, Transaction, Transfer

#: Lines per statement page unless asked otherwise, and the most a page may hold.
STATEMENT_PAGE_SIZE = 50
STATEMENT_PAGE_SIZE_MAX = 500


@dataclass
class StatementLine:
    leg: Transaction
    transfer: Transfer
    amount: Decimal  # natural sign: positive raises the balance
    balance: Decimal


@dataclass
class Statement:
    account: Account
    start: datetime.datetime | None
    end: datetime.datetime | None
    opening_balance: Decimal
    closing_balance: Decimal
    lines: list[StatementLine]
    page: int
    page_size: int
    line_count: int

    @property
    def page_count(self) -> int:
        return max(1, -(-self.line_count // self.page_size))


def statement(
    account: Account,
    *,
    start: datetime.datetime | None = None,
    end: datetime.datetime | None = None,
    page: int = 1,
    page_size: int = STATEMENT_PAGE_SIZE,
) -> Statement:
    """Opening balance, lines with running balance, and closing balance for a period.

    Lines come in posting order (equal timestamps keep insertion order through the account's
    version). Opening and closing balances are indexed lookups; a page is one query.
    """
    page_size = max(1, min(int(page_size), STATEMENT_PAGE_SIZE_MAX))
    page = max(1, int(page))
    legs = Transaction.objects.filter(account=account)
    if start is not None:
        legs = legs.filter(created_at__gte=start)
    if end is not None:
        legs = legs.filter(created_at__lt=end)
    opening = (
        account.get_balance(as_of=start - datetime.timedelta(microseconds=1))
        if start
        else Decimal(0)
    )
    closing = account.get_balance(as_of=end - datetime.timedelta(microseconds=1)) if end else None
    count = legs.count()
    rows = list(
        legs.select_related("transfer").order_by("created_at", "account_version")[
            (page - 1) * page_size : page * page_size
        ]
    )
    sign = account.normal_sign
    if rows and Transaction.objects.filter(account=account).backdated().exists():
        # Running balances were stored in posting order; rebuild them in date order.
        first = rows[0]
        before = Transaction.objects.filter(account=account).filter(
            Q(created_at__lt=first.created_at)
            | Q(created_at=first.created_at, account_version__lt=first.account_version)
        )
        running = (before.aggregate(total=Sum("amount"))["total"] or Decimal(0)) * sign
        lines = []
        for r in rows:
            running += r.amount * sign
            lines.append(StatementLine(r, r.transfer, r.amount * sign, running))
    else:
        lines = [StatementLine(r, r.transfer, r.amount * sign, r.balance_after) for r in rows]
    if closing is None:
        closing = account.balance if not account.is_placeholder() else account.get_balance()
    return Statement(account, start, end, opening, closing, lines, page, page_size, count)
