"""Deferred income: money held for customers, by days until it expires."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db.models import Case, Sum, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..models import Kind
from ..money import Balance
from .balances import _leaf_balances

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
