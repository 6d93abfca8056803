"""Closed periods in the engine: what a posting is checked against, and the closing's wait.

A posting dated now can never fall inside a closed period when it is checked (a period closes
only through a day that is over), so only back-dated postings ask before writing. The latest
closing is read once per set of locked rows (a batch asks once), and the database checks every
leg again (trigger set T8).

A closing and a posting in flight at the same moment must not both commit when the posting's
legs fall inside the closed period. PostgreSQL serialises them with a table lock
(:func:`accounts.facade.close_period` takes ``SHARE`` on the legs' table, which waits for every
transaction that wrote a leg and holds new writers until the closing commits). MariaDB and MySQL
run at ``READ COMMITTED``, which has no such lock and no gap locks, so both sides write first
and check after, under row locks that meet whichever way the two interleave:

* each leg, as it is written, reads the latest closing with a shared lock (T8's trigger on
  MariaDB, frozen SQL 0015): a closing that has written its row but not committed makes it
  wait, and then refuses it;
* a closing, after writing its row, reads with a shared lock every transfer dated inside the
  newly closed days (:func:`wait_for_postings`): a posting that has written but not committed
  makes it wait until that posting is over.

Whichever comes second sees the first; when each waits for the other, the database breaks the
deadlock and the retry (:mod:`accounts.ledger.retries`) finds the order settled. SQLite has
one writer at a time. A refusal by the database reaches the caller as
:class:`~accounts.exceptions.PeriodClosed` (:func:`refused_as_closed`).
"""

from __future__ import annotations

import contextlib
import datetime
from collections.abc import Iterator
from typing import Any

from django.db import IntegrityError, connections
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext

from .. import exceptions
from ..models import ClosedPeriod

_UNREAD: Any = object()

#: What trigger set T8 says on every database when it refuses a leg dated in a closed period.
DATABASE_REFUSAL = "a leg may not be dated inside a closed period"


def closed_until(using: str) -> datetime.datetime | None:
    """The first moment after the latest closed period, or None when none is closed."""
    value: datetime.datetime | None = ClosedPeriod.objects.using(using).aggregate(
        until=Max("closed_until")
    )["until"]
    return value


def refusal(until: datetime.datetime, date: datetime.datetime) -> exceptions.PeriodClosed:
    """The refusal of a posting dated ``date`` when the books are closed before ``until``."""
    return exceptions.PeriodClosed(
        gettext(
            "The books are closed through %(day)s; nothing may be dated %(date)s. Post the "
            "correction in an open period."
        )
        % {
            "day": f"{timezone.localtime(until - datetime.timedelta(microseconds=1)):%Y-%m-%d}",
            "date": f"{timezone.localtime(date):%Y-%m-%d %H:%M}",
        }
    )


def check_open(date: datetime.datetime | None, using: str, memo: Any) -> None:
    """Refuse a posting dated ``date`` inside a closed period (``memo`` caches the closing)."""
    if date is None:
        return
    until = getattr(memo, "closed_until", _UNREAD)
    if until is _UNREAD:
        until = closed_until(using)
        memo.closed_until = until
    if until is not None and date < until:
        raise refusal(until, date)


def wait_for_postings(
    using: str, since: datetime.datetime | None, until: datetime.datetime
) -> None:
    """MariaDB and MySQL, in a closing after its row is written: wait for postings in flight.

    Reads, with a shared lock, every transfer dated from ``since`` (the previous closing's end)
    to ``until``: one written by a transaction still open makes this wait until it ends.
    Elsewhere this does nothing.
    """
    connection = connections[using]
    if connection.vendor != "mysql":
        return
    adapt = connection.ops.adapt_datetimefield_value
    sql = "SELECT COUNT(*) FROM accounts_transfer WHERE created_at < %s"
    params = [adapt(until)]
    if since is not None:
        sql += " AND created_at >= %s"
        params.append(adapt(since))
    with connection.cursor() as cursor:
        cursor.execute(sql + " LOCK IN SHARE MODE", params)


@contextlib.contextmanager
def refused_as_closed() -> Iterator[None]:
    """Report the database's own refusal of a leg in a closed period as :class:`PeriodClosed`.

    It happens when a closing commits while a posting waits to write (PostgreSQL's table lock,
    or MariaDB's trigger reading the closing that committed meanwhile).
    """
    try:
        yield
    except IntegrityError as error:
        if DATABASE_REFUSAL in str(error):
            raise exceptions.PeriodClosed() from error
        raise
