"""Proving the books: balanced, complete transfers, balances equal to their legs, the
accounting equation."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, F, IntegerField, OuterRef, Q, Subquery, Sum, Value, Window
from django.db.models.functions import Coalesce, Lag
from django.utils.translation import gettext, ngettext

from ..models import Account, Hold, HoldStatus, Transaction, Transfer, money_field
from ..vocabulary import normal_sign_expression
from .balances import accounting_equation

_SIGN = normal_sign_expression()


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
        _pending_drift,
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


def _pending_sum(side: str) -> Coalesce:
    """The total of the pending holds with the account on ``side`` (source or destination)."""
    total = (
        Hold.objects.filter(**{side: OuterRef("pk")}, status=HoldStatus.PENDING)
        .order_by()
        .values(side)
        .annotate(s=Sum("amount"))
        .values("s")
    )
    return Coalesce(
        Subquery(total, output_field=money_field()), Value(Decimal(0)), output_field=money_field()
    )


def _pending_drift() -> list[Problem]:
    """Accounts whose pending sums differ from their pending holds."""
    drift = (
        Account.objects.annotate(
            holds_out=_pending_sum("source"), holds_in=_pending_sum("destination")
        )
        .annotate(
            out_difference=F("pending_debits") - F("holds_out"),
            in_difference=F("pending_credits") - F("holds_in"),
        )
        .filter(
            Q(out_difference__gt=ROUNDING_TOLERANCE)
            | Q(out_difference__lt=-ROUNDING_TOLERANCE)
            | Q(in_difference__gt=ROUNDING_TOLERANCE)
            | Q(in_difference__lt=-ROUNDING_TOLERANCE)
        )
    )
    return [
        Problem(
            "pending_drift",
            gettext("pending drift"),
            gettext(
                "%(account)s: pending debits %(debits)s and credits %(credits)s, its pending "
                "holds give %(holds_out)s and %(holds_in)s"
            )
            % {
                "account": account.code,
                "debits": account.pending_debits,
                "credits": account.pending_credits,
                "holds_out": account.holds_out,
                "holds_in": account.holds_in,
            },
        )
        for account in drift
    ]
