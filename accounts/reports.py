"""Read-only views of the ledger: statements, trial balance, equation, ageing, P&L, checks.

Each report is a fixed number of aggregate queries, whatever the number of accounts or legs,
and never adds amounts of different currencies together. Balances are in natural sign.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import (
    Case,
    Count,
    DecimalField,
    F,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce, Lag
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from .ledger import balances
from .models import (
    EXPIRED_CODE,
    SALES_CODE,
    SOURCE_CODE,
    Account,
    Kind,
    Transaction,
    Transfer,
    TransferKind,
    kind_rank,
    money_field,
    normal_sign,
)
from .money import DECIMAL_PLACES, Balance
from .vocabulary import EQUATION_LEFT, EQUATION_RIGHT, normal_sign_expression

#: Lines per statement page unless asked otherwise, and the most a page may hold.
STATEMENT_PAGE_SIZE = 50
STATEMENT_PAGE_SIZE_MAX = 500

_SIGN = normal_sign_expression()


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


# -- statements ------------------------------------------------------------------------------


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


# -- verification ----------------------------------------------------------------------------


@dataclass
class Problem:
    """One difference :func:`verify` found.

    ``code`` names the check that failed and never changes (``balance_drift``); ``what`` and
    ``detail`` are for people, in the language active when :func:`verify` ran.
    """

    code: str
    what: str
    detail: str


@dataclass
class Verification:
    problems: list[Problem] = field(default_factory=list)
    transfers_checked: int = 0
    accounts_checked: int = 0
    legs_checked: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


#: Half the smallest amount a money column holds. SQLite sums decimals as floating point
#: (3341.05 comes back as 3341.0500000000002), so the verifier's SQL comparisons allow this
#: much; on PostgreSQL and MySQL sums are exact and any real difference is at least 0.0001.
ROUNDING_TOLERANCE = Decimal("0.00005")


def verify() -> Verification:
    """Prove the books: balanced transfers, balances equal to their legs, the equation holds.

    Runs a handful of aggregate queries; differences are returned, never repaired.
    """
    result = Verification()
    result.transfers_checked = Transfer.objects.count()
    result.accounts_checked = Account.objects.count()
    result.legs_checked = Transaction.objects.count()
    for check in (
        _unbalanced_transfers,
        _incomplete_transfers,
        _balance_drift,
        _running_balance_breaks,
        _equation_problem,
    ):
        result.problems.extend(check())
    return result


def _unbalanced_transfers() -> list[Problem]:
    """Transfers whose legs do not sum to zero in a currency."""
    problems: list[Problem] = []
    unbalanced = (
        Transaction.objects.order_by()
        .values("transfer__reference", "currency")
        .annotate(total=Sum("amount"))
        .filter(Q(total__gt=ROUNDING_TOLERANCE) | Q(total__lt=-ROUNDING_TOLERANCE))
    )
    for row in unbalanced:
        problems.append(
            Problem(
                "unbalanced_transfer",
                gettext("unbalanced transfer"),
                gettext("%(reference)s: legs in %(currency)s sum to %(total)s")
                % {
                    "reference": row["transfer__reference"],
                    "currency": row["currency"],
                    "total": row["total"],
                },
            )
        )
    return problems


def _incomplete_transfers() -> list[Problem]:
    """Transfers with fewer or more legs than they declare."""
    problems: list[Problem] = []
    incomplete = (
        Transfer.objects.annotate(found=Count("transactions"))
        .exclude(found=F("leg_count"))
        .values_list("reference", "found", "leg_count")
    )
    for reference, found, expected in incomplete:
        problems.append(
            Problem(
                "incomplete_transfer",
                gettext("incomplete transfer"),
                ngettext(
                    "%(reference)s: %(found)d of %(expected)d leg",
                    "%(reference)s: %(found)d of %(expected)d legs",
                    expected,
                )
                % {"reference": reference, "found": found, "expected": expected},
            )
        )
    return problems


def _balance_drift() -> list[Problem]:
    """Accounts whose stored balance or version differs from what their legs give."""
    problems: list[Problem] = []
    leg_sum = (
        Transaction.objects.filter(account=OuterRef("pk"))
        .order_by()
        .values("account")
        .annotate(s=Sum("amount"))
        .values("s")
    )
    leg_count = (
        Transaction.objects.filter(account=OuterRef("pk"))
        .order_by()
        .values("account")
        .annotate(c=Count("pk"))
        .values("c")
    )
    drift = (
        Account.objects.annotate(
            expected=Coalesce(
                Subquery(leg_sum, output_field=money_field()),
                Value(Decimal(0)),
                output_field=money_field(),
            )
            * _SIGN,
            legs=Coalesce(Subquery(leg_count, output_field=IntegerField()), Value(0)),
        )
        .annotate(
            difference=F("balance") - F("expected"),
        )
        .filter(
            Q(difference__gt=ROUNDING_TOLERANCE)
            | Q(difference__lt=-ROUNDING_TOLERANCE)
            | ~Q(version=F("legs"))
        )
    )
    for account in drift:
        problems.append(
            Problem(
                "balance_drift",
                gettext("balance drift"),
                ngettext(
                    "%(account)s: stored %(balance)s (version %(version)d), legs give "
                    "%(expected)s (%(legs)d leg)",
                    "%(account)s: stored %(balance)s (version %(version)d), legs give "
                    "%(expected)s (%(legs)d legs)",
                    account.legs,
                )
                % {
                    "account": account.code,
                    "balance": account.balance,
                    "version": account.version,
                    "expected": account.expected,
                    "legs": account.legs,
                },
            )
        )
    return problems


def _running_balance_breaks() -> list[Problem]:
    """Legs whose balance_after does not follow from the leg before."""
    problems: list[Problem] = []
    running = Transaction.objects.annotate(
        previous=Window(
            Lag("balance_after"),
            partition_by=[F("account_id")],
            order_by=F("account_version").asc(),
        ),
        sign=normal_sign_expression("account__kind"),
    ).values_list("account__code", "account_version", "previous", "amount", "sign", "balance_after")
    for code, version, previous, amount, sign, after in running.iterator(chunk_size=2000):
        expected = (previous or Decimal(0)) + amount * sign
        if expected != after:
            problems.append(
                Problem(
                    "running_balance",
                    gettext("running balance"),
                    gettext(
                        "%(account)s version %(version)d: balance_after %(after)s, expected "
                        "%(expected)s"
                    )
                    % {"account": code, "version": version, "after": after, "expected": expected},
                )
            )
    return problems


def _equation_problem() -> list[Problem]:
    """The accounting equation, when it does not hold."""
    problems: list[Problem] = []
    equation = accounting_equation()
    if not equation.holds:
        problems.append(
            Problem(
                "accounting_equation",
                gettext("accounting equation"),
                gettext(
                    "assets + expenses = %(left)s; liabilities + equity + income + trading = "
                    "%(right)s"
                )
                % {"left": repr(equation.left), "right": repr(equation.right)},
            )
        )
    return problems


# -- shop reports ----------------------------------------------------------------------------

#: The dated buckets of the deferred income report: key and the most days until expiry it
#: holds (None: any number more). The one statement of the buckets: the report's query, its
#: keys and the dashboard's rows derive from it.
DEFERRED_BUCKETS = (("≤30 days", 30), ("≤60 days", 60), ("≤90 days", 90), (">90 days", None))
#: The bucket of accounts already past their end date, and of those without one.
EXPIRED_BUCKET, OPEN_ENDED_BUCKET = "expired", "open-ended"
#: Every key :func:`deferred_income` returns, in the report's order.
DEFERRED_BUCKET_KEYS = (
    EXPIRED_BUCKET,
    *(key for key, _days in DEFERRED_BUCKETS),
    OPEN_ENDED_BUCKET,
)
#: The keys :func:`deferred_income` returns are identifiers (surfaces and exports match on
#: them); these are their names for people, translated when shown.
DEFERRED_BUCKET_LABELS = {
    "expired": _("expired"),
    "≤30 days": _("≤30 days"),
    "≤60 days": _("≤60 days"),
    "≤90 days": _("≤90 days"),
    ">90 days": _(">90 days"),
    "open-ended": _("open-ended"),
}


def deferred_income(as_of: datetime.datetime | None = None) -> dict[str, Balance]:
    """Money held for customers, grouped by days until expiry at ``as_of``, per currency.

    That is the positive balances of liability accounts (a credit line in debt is a receivable,
    not deferred income). Buckets: expired, ≤30, ≤60, ≤90, >90 days, and open-ended (no end
    date). One query.
    """
    at = as_of or timezone.now()
    *dated, (beyond, _none) = DEFERRED_BUCKETS
    bucket = Case(
        When(end_date__isnull=True, then=Value(OPEN_ENDED_BUCKET)),
        When(end_date__lte=at, then=Value(EXPIRED_BUCKET)),
        *(
            When(end_date__lte=at + datetime.timedelta(days=days), then=Value(key))
            for key, days in dated
        ),
        default=Value(beyond),
    )
    leaves = _leaf_balances(as_of).filter(kind=Kind.LIABILITY, b__gt=0)
    result: dict[str, Balance] = {key: Balance() for key in DEFERRED_BUCKET_KEYS}
    if as_of is None:
        rows = (
            leaves.annotate(bucket=bucket)
            .values("bucket", "currency")
            .annotate(total=Sum("balance"))
            .order_by()
        )
        for row in rows:
            result[row["bucket"]] += Balance({row["currency"]: row["total"] or Decimal(0)})
    else:
        for acct in leaves.annotate(bucket=bucket):
            result[acct.bucket] += Balance({acct.currency: acct.b})
    return result


@dataclass
class ProfitAndLoss:
    start: datetime.datetime | None
    end: datetime.datetime | None
    loads: dict[str, Balance]  # source account name -> amount loaded
    redemptions: Balance
    expiries: Balance
    refunds: Balance  # paid back out of an income account (sales, expired)
    reversals: Balance  # likewise

    @property
    def income(self) -> Balance:
        return self.redemptions + self.expiries - self.refunds - self.reversals


def profit_and_loss(
    start: datetime.datetime | None = None, end: datetime.datetime | None = None
) -> ProfitAndLoss:
    """What moved in a period: loads from each source, redemptions, expiries, refunds.

    Loads are transfers out of any asset account into a liability; redemptions are transfers
    into the sales account; expiries are sweeps into the expired account; refunds and
    reversals are those paid back out of an income account, which give income back (a reversed
    load is not income). One grouped query.
    """
    transfers = Transfer.objects.all()
    if start is not None:
        transfers = transfers.filter(created_at__gte=start)
    if end is not None:
        transfers = transfers.filter(created_at__lt=end)
    category = Case(
        When(Q(kind=TransferKind.REVERSAL) & Q(source__kind=Kind.INCOME), then=Value("reversal")),
        When(Q(kind=TransferKind.REFUND) & Q(source__kind=Kind.INCOME), then=Value("refund")),
        When(kind__in=[TransferKind.REVERSAL, TransferKind.REFUND], then=Value("other")),
        # Core accounts of other currencies are coded "<code>-<currency>" (CORE-SALES-EUR).
        When(
            Q(kind=TransferKind.EXPIRY)
            | Q(destination__code=EXPIRED_CODE)
            | Q(destination__code__startswith=f"{EXPIRED_CODE}-"),
            then=Value("expiry"),
        ),
        When(
            Q(destination__code=SALES_CODE) | Q(destination__code__startswith=f"{SALES_CODE}-"),
            then=Value("redemption"),
        ),
        When(Q(source__kind=Kind.ASSET) & Q(destination__kind=Kind.LIABILITY), then=Value("load")),
        default=Value("other"),
    )
    rows = (
        transfers.order_by()
        .annotate(category=category)
        .values("category", "currency", "source__name", "source__code")
        .annotate(total=Sum("amount", output_field=DecimalField()))
    )
    loads: dict[str, Balance] = defaultdict(Balance)
    totals: dict[str, Balance] = defaultdict(Balance)
    for row in rows:
        amount = Balance({row["currency"]: row["total"]})
        if row["category"] == "load":
            loads[row["source__name"] or row["source__code"] or SOURCE_CODE] += amount
        else:
            totals[row["category"]] += amount
    return ProfitAndLoss(
        start,
        end,
        dict(loads),
        totals["redemption"],
        totals["expiry"],
        totals["refund"],
        totals["reversal"],
    )
