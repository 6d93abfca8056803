"""Closing the books through a day: :func:`close_period`.

Once the books are closed through a day, nothing may be dated on or before it: every facade
function that takes a ``date`` refuses it (:class:`~accounts.exceptions.PeriodClosed`) and the
database refuses the leg itself (trigger set T8). Corrections of a closed period are posted in
an open one, dated now, as an accountant would. The closing only moves forward.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db import connections, router, transaction
from django.utils import timezone
from django.utils.translation import gettext

from .. import audit, exceptions
from ..ledger import checks, periods, posting
from ..models import ClosedPeriod
from .closing_entries import closing_moment, post_closing_entries, retained_earnings_accounts


def close_period(
    through: datetime.date,
    *,
    user: Any = None,
    reason: str | None = None,
    closing_entry: bool = False,
) -> ClosedPeriod:
    """Close the books through the end of the day ``through`` (in the current time zone).

    ``through`` must be a day that is over, later than the last day closed
    (:class:`~accounts.exceptions.InvalidClosing`). Returns the new closing, which records
    ``user`` and ``reason``. With ``closing_entry``, the same transaction also posts the
    year-end closing entry (:mod:`accounts.facade.closing_entries`): every income and expense
    balance at the end of ``through`` moved into the retained-earnings account of its currency
    (``ACCOUNTS_RETAINED_EARNINGS``), dated the first moment after it;
    :meth:`~accounts.models.ClosedPeriod.closing_entries` finds those entries.
    """
    if not isinstance(through, datetime.date) or isinstance(through, datetime.datetime):
        raise exceptions.InvalidClosing(
            gettext("A period closes through a day (a date), not %(value)s.")
            % {"value": repr(through)}
        )
    checks.check_text(checks.REASON_LABEL, reason, audit.REASON_LENGTH_MAX)
    until = closing_moment(through)
    if until > timezone.now():
        raise exceptions.InvalidClosing(
            gettext("%(day)s is not over yet; only a past day can be closed.")
            % {"day": through.isoformat()}
        )
    using = router.db_for_write(ClosedPeriod)
    if closing_entry:
        retained_earnings_accounts(using)  # a bad setting, refused up front

    def run() -> ClosedPeriod:
        # A savepoint inside the caller's transaction: a refusal leaves nothing behind.
        with transaction.atomic(using=using):
            return _close(using, through, until, user, reason, closing_entry)

    return posting.in_transaction(using, run)


def _close(
    using: str,
    through: datetime.date,
    until: datetime.datetime,
    user: Any,
    reason: str | None,
    closing_entry: bool,
) -> ClosedPeriod:
    """Write the closing (and its closing entry) in the transaction :func:`close_period` opened."""
    connection = connections[using]
    if connection.vendor == "postgresql":
        # Wait for back-dated postings in flight, and hold new ones until this commits: a
        # leg written before the closing commits would not see it (MariaDB: see below;
        # SQLite has one writer at a time).
        with connection.cursor() as cursor:
            cursor.execute("LOCK TABLE accounts_transaction IN SHARE MODE")
    # Read under the lock of the table's newest row, so two closings cannot cross.
    latest = ClosedPeriod.objects.using(using).select_for_update().first()
    if latest is not None and latest.closed_until >= until:
        raise exceptions.InvalidClosing(
            gettext("The books are already closed through %(day)s.")
            % {"day": latest.closed_through.isoformat()}
        )
    closing = ClosedPeriod.objects.using(using).create(
        closed_through=through,
        closed_until=until,
        user=user if getattr(user, "pk", None) is not None else None,
        username=audit.username_of(user),
        reason=reason or "",
    )
    # MariaDB: wait for postings in flight inside the newly closed days (a posting that
    # writes after this checks the closing itself: see accounts.ledger.periods).
    periods.wait_for_postings(using, latest.closed_until if latest else None, until)
    if closing_entry:
        post_closing_entries(through, until, using)
    return closing


def closed_through(using: str | None = None) -> datetime.date | None:
    """The last day the books are closed through, or None."""
    until = periods.closed_until(using or router.db_for_read(ClosedPeriod))
    if until is None:
        return None
    return timezone.localtime(until - datetime.timedelta(microseconds=1)).date()
