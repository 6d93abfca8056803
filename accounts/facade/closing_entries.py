"""The year-end closing entry: income and expenses moved into retained earnings.

When :func:`~accounts.facade.close_period` is asked for it (``closing_entry=True``), every income
and expense account's balance at the end of the closed period is moved, per currency, into the
equity account that ``ACCOUNTS_RETAINED_EARNINGS`` names for that currency, so the next period
starts from zero. The entry is dated the first moment after the closed period (inside the open
one, so the closed period's own reports never change) and has kind ``closing``: the profit and
loss leaves it out, so a period's result reads the same before and after.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from decimal import Decimal

from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext

from .. import conf, exceptions
from ..models import Account, Kind, Status, Transaction, Transfer, TransferKind
from .entries import MAX_LEGS_PER_TRANSFER, Credit, Debit, _write_entry


def retained_earnings_accounts(using: str) -> dict[str, Account]:
    """The retained-earnings account of each currency, from ``ACCOUNTS_RETAINED_EARNINGS``.

    The setting is one account code or a list of codes, one per currency; each must be an open
    equity account without children (:class:`~accounts.exceptions.InvalidClosing` otherwise).
    """
    codes = conf.retained_earnings_codes()
    if not codes:
        raise exceptions.InvalidClosing(
            gettext(
                "A closing entry needs the ACCOUNTS_RETAINED_EARNINGS setting: the code of the "
                "equity account (one per currency) that takes the year's result."
            )
        )
    found = {a.code: a for a in Account.objects.using(using).filter(code__in=codes)}
    by_currency: dict[str, Account] = {}
    for code in codes:
        account = found.get(code)
        problem = None
        if account is None:
            problem = gettext("there is no account with code %(code)s")
        elif account.kind != Kind.EQUITY:
            problem = gettext("account %(code)s is not an equity account")
        elif account.status != Status.OPEN:
            problem = gettext("account %(code)s is not open")
        elif account.currency in by_currency:
            problem = gettext("account %(code)s repeats the currency of another one")
        elif account.is_placeholder():
            problem = gettext("account %(code)s has children")
        if problem is not None:
            raise exceptions.InvalidClosing(
                gettext("ACCOUNTS_RETAINED_EARNINGS: %(problem)s.")
                % {"problem": problem % {"code": code}}
            )
        assert account is not None
        by_currency[account.currency] = account
    return by_currency


def post_closing_entries(
    through: datetime.date, until: datetime.datetime, using: str
) -> list[Transfer]:
    """Move every income and expense balance at ``until`` into retained earnings, dated ``until``.

    One entry per currency (more when a currency has more accounts than an entry may have
    legs); none when nothing is left to move.
    """
    sums = (
        Transaction.objects.using(using)
        .filter(account__kind__in=[Kind.INCOME, Kind.EXPENSE], created_at__lt=until)
        .order_by()
        .values("account")
        .annotate(total=Sum("amount"))
    )
    # Legs are signed credit-positive: moving a leg sum s out takes a debit of s.
    moved: dict[int, Decimal] = {row["account"]: row["total"] for row in sums if row["total"]}
    if not moved:
        return []
    targets = retained_earnings_accounts(using)
    accounts = Account.objects.using(using).in_bulk(list(moved))
    by_currency: dict[str, list[Account]] = defaultdict(list)
    for pk in sorted(moved):
        by_currency[accounts[pk].currency].append(accounts[pk])
    missing = sorted(set(by_currency) - set(targets))
    if missing:
        raise exceptions.InvalidClosing(
            gettext("ACCOUNTS_RETAINED_EARNINGS names no equity account in %(currencies)s.")
            % {"currencies": ", ".join(missing)}
        )
    description = gettext("Closing entry: the result through %(day)s into retained earnings") % {
        "day": through.isoformat()
    }
    posted = []
    for currency, members in sorted(by_currency.items()):
        size = MAX_LEGS_PER_TRANSFER - 1
        for start in range(0, len(members), size):
            lines: list[Debit | Credit] = []
            for account in members[start : start + size]:
                amount = moved[account.pk]
                lines.append(Debit(account, amount) if amount > 0 else Credit(account, -amount))
            net = sum((moved[a.pk] for a in members[start : start + size]), Decimal(0))
            target = targets[currency]
            if net:
                lines.append(Credit(target, net) if net > 0 else Debit(target, -net))
            posted.append(
                _write_entry(
                    lines,
                    user=None,
                    parent=None,
                    merchant_reference=None,
                    description=description,
                    kind=TransferKind.CLOSING,
                    date=until,
                    using=using,
                )
            )
    return posted


def closing_moment(through: datetime.date) -> datetime.datetime:
    """The first moment after the day ``through`` in the current time zone."""
    return timezone.make_aware(
        datetime.datetime.combine(through + datetime.timedelta(days=1), datetime.time.min)
    )
