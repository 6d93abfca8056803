"""What moved through the gift-card accounts in a period: loads, redemptions, expiries."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Case, DecimalField, Q, Sum, Value, When

from ..models import EXPIRED_CODE, SALES_CODE, SOURCE_CODE, Kind, Transfer, TransferKind
from ..money import Balance


@dataclass
class GiftCardFlows:
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


def gift_card_flows(
    start: datetime.datetime | None = None, end: datetime.datetime | None = None
) -> GiftCardFlows:
    """What moved in a period: loads from each source, redemptions, expiries, refunds.

    Loads are transfers out of any asset account into a liability; redemptions are transfers
    into the sales account; expiries are sweeps into the expired account; refunds and
    reversals are those paid back out of an income account, which give income back (a reversed
    load is not income). One grouped query.
    """
    transfers = Transfer.objects.exclude(kind=TransferKind.CLOSING)
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
    return GiftCardFlows(
        start,
        end,
        dict(loads),
        totals["redemption"],
        totals["expiry"],
        totals["refund"],
        totals["reversal"],
    )
