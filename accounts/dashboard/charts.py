"""An account's balance over time, drawn on the server as inline SVG.

No JavaScript and no external assets: the page stays usable under a strict Content Security
Policy and in any project's templates. The data is the ledger's own statement data: every leg
stores ``balance_after``, so the balance curve is those values plotted against ``created_at``,
drawn as a step line (a balance holds its value until the next posting changes it).

A busy account may have hundreds of thousands of legs. Since an account's legs are numbered
``1..version`` without gaps, the chart asks for at most :data:`MAX_POINTS` evenly spaced
versions in one indexed query instead of reading every leg. That keeps the curve's overall
shape; a short spike between two sampled legs may not show, which the statement below the
chart does.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Exists, F, Sum, Window
from django.db.models.functions import RowNumber
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from accounts.models import Account, Transaction
from accounts.money import DECIMAL_PLACES, localize_amount

#: Most legs read to draw one chart.
MAX_POINTS = 200

#: Size of the drawing and of the room left for the axis labels, in SVG user units.
WIDTH = 640
HEIGHT = 200
MARGIN_LEFT = 80
MARGIN_RIGHT = 12
MARGIN_TOP = 12
MARGIN_BOTTOM = 26


@dataclass(frozen=True)
class Point:
    """The balance of an account right after one of its legs."""

    at: datetime.datetime
    balance: Decimal


def sampled_versions(version_count: int, max_points: int = MAX_POINTS) -> list[int] | None:
    """Return evenly spaced leg versions to read, always the first and last; None for all."""
    if version_count <= max_points:
        return None
    step = (version_count - 1) / (max_points - 1)
    return sorted({1 + round(i * step) for i in range(max_points)} | {version_count})


def balance_points(account: Account, *, max_points: int = MAX_POINTS) -> list[Point]:
    """Return the account's balance after (at most about ``max_points``) legs, in date order.

    One query in the usual case: the sampled legs' ``balance_after``. An account with
    back-dated legs stored those balances in posting order, not date order, so for it a second
    query rebuilds the running balance in date order with a window sum, as the statement does.
    """
    if not account.version:
        return []
    legs = Transaction.objects.filter(account=account)
    versions = sampled_versions(account.version, max_points)
    sampled = legs if versions is None else legs.filter(account_version__in=versions)
    rows = list(
        sampled.annotate(
            any_backdated=Exists(Transaction.objects.filter(account=account).backdated())
        )
        .order_by("created_at", "account_version")
        .values_list("created_at", "balance_after", "any_backdated")
    )
    if not rows or not rows[0][2]:
        return [Point(at, balance) for at, balance, _ in rows]
    date_order = [F("created_at").asc(), F("account_version").asc()]
    running = legs.annotate(
        position=Window(RowNumber(), order_by=date_order),
        running=Window(Sum("amount"), order_by=date_order),
    )
    if versions is not None:  # positions in date order run 1..version too
        running = running.filter(position__in=versions)
    sign = account.normal_sign
    places = Decimal(1).scaleb(-DECIMAL_PLACES)
    return [
        # SQLite sums decimals in floating point; the columns hold DECIMAL_PLACES places.
        Point(at, (Decimal(total) * sign).quantize(places))
        for at, total in running.order_by("position").values_list("created_at", "running")
    ]


def _number(value: float) -> str:
    return f"{value:.1f}"


@dataclass(frozen=True)
class _Scale:
    """Where a moment and an amount fall on the drawing (floats for coordinates only)."""

    start: datetime.datetime
    span: float  # seconds from start to the right edge
    high: Decimal
    spread: float  # high - low, as a float

    def x(self, at: datetime.datetime) -> float:
        plot_width = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
        return MARGIN_LEFT + (at - self.start).total_seconds() / self.span * plot_width

    def y(self, amount: Decimal) -> float:
        plot_height = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
        return MARGIN_TOP + float(self.high - amount) / self.spread * plot_height


def balance_chart_svg(
    points: list[Point],
    *,
    currency: str,
    title: str | None = None,
    now: datetime.datetime | None = None,
) -> SafeString:
    """Draw ``points`` as a step line from zero to the last balance, extended up to ``now``.

    Floats are used for drawing coordinates only; labels come from the Decimal amounts.
    """
    if title is None:
        title = gettext("Balance over time")
    if not points:
        return format_html(
            '<svg class="accounts-chart" role="img" viewBox="0 0 {} 40" width="100%">'
            '<title>{}</title><text x="8" y="24">{}</text></svg>',
            WIDTH,
            title,
            gettext("No postings yet."),
        )
    now = max(now or timezone.now(), points[-1].at)
    start = points[0].at
    amounts = [Decimal(0), *(p.balance for p in points)]
    low, high = min(amounts), max(amounts)
    scale = _Scale(start, (now - start).total_seconds() or 1.0, high, float(high - low) or 1.0)
    # The days under the axis in the reader's language (SHORT_DATE_FORMAT: 04.12.2026 in German).
    first_day = date_format(timezone.localtime(start).date(), "SHORT_DATE_FORMAT")
    last_day = date_format(timezone.localtime(now).date(), "SHORT_DATE_FORMAT")
    described = gettext(
        "%(title)s: from %(low)s to %(high)s %(currency)s, %(first_day)s to %(last_day)s"
    ) % {
        "title": title,
        "low": localize_amount(low, currency),
        "high": localize_amount(high, currency),
        "currency": currency,
        "first_day": first_day,
        "last_day": last_day,
    }
    parts = [
        *_frame(scale, described),
        _step_line(scale, points, now),
        *_amount_labels(scale, low, high, currency),
        _day_labels(first_day, last_day),
        mark_safe("</svg>"),
    ]
    return mark_safe("".join(parts))


def _frame(scale: _Scale, described: str) -> list[SafeString]:
    """The drawing's opening tag and title, its axes and the dashed line at zero."""
    zero = _number(scale.y(Decimal(0)))
    return [
        format_html(
            '<svg class="accounts-chart" role="img" viewBox="0 0 {} {}" width="100%" '
            'preserveAspectRatio="xMidYMid meet" xmlns="http://www.w3.org/2000/svg">',
            WIDTH,
            HEIGHT,
        ),
        format_html("<title>{}</title>", described),
        format_html(
            '<path class="chart-axis" d="M{},{}V{}H{}" fill="none" stroke="currentColor" '
            'stroke-opacity="0.4"/>',
            MARGIN_LEFT,
            MARGIN_TOP,
            HEIGHT - MARGIN_BOTTOM,
            WIDTH - MARGIN_RIGHT,
        ),
        format_html(
            '<line class="chart-zero" x1="{}" x2="{}" y1="{}" y2="{}" stroke="currentColor" '
            'stroke-opacity="0.4" stroke-dasharray="4 3"/>',
            MARGIN_LEFT,
            WIDTH - MARGIN_RIGHT,
            zero,
            zero,
        ),
    ]


def _step_line(scale: _Scale, points: list[Point], now: datetime.datetime) -> SafeString:
    """Zero before the first leg, then one step per leg, level up to ``now``."""
    path = [f"M{_number(scale.x(scale.start))},{_number(scale.y(Decimal(0)))}"]
    for point in points:
        path.append(f"H{_number(scale.x(point.at))}V{_number(scale.y(point.balance))}")
    path.append(f"H{_number(scale.x(now))}")
    return format_html(
        '<path class="chart-line" d="{}" fill="none" stroke="currentColor" stroke-width="2"/>',
        "".join(path),
    )


def _amount_labels(scale: _Scale, low: Decimal, high: Decimal, currency: str) -> list[SafeString]:
    """The highest and lowest balances and zero, beside the axis, in the reader's format."""
    labels = [(high, "hanging"), (low, "auto")] if high != low else [(high, "middle")]
    if Decimal(0) not in (high, low):
        labels.append((Decimal(0), "middle"))
    return [
        format_html(
            '<text class="chart-label" x="{}" y="{}" text-anchor="end" '
            'dominant-baseline="{}">{}</text>',
            MARGIN_LEFT - 6,
            _number(scale.y(amount)),
            baseline,
            localize_amount(amount, currency),
        )
        for amount, baseline in labels
    ]


def _day_labels(first_day: str, last_day: str) -> SafeString:
    return format_html(
        '<text class="chart-label" x="{}" y="{}" text-anchor="start">{}</text>'
        '<text class="chart-label" x="{}" y="{}" text-anchor="end">{}</text>',
        MARGIN_LEFT,
        HEIGHT - 6,
        first_day,
        WIDTH - MARGIN_RIGHT,
        HEIGHT - 6,
        last_day,
    )


def account_balance_chart(account: Account) -> SafeString:
    """The chart of ``account``'s balance for its page (one query)."""
    return balance_chart_svg(
        balance_points(account),
        currency=account.currency,
        title=gettext("Balance of %(account)s over time") % {"account": account},
    )
