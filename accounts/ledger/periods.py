"""Closed periods in the engine: what a back-dated posting is checked against.

A posting dated now can never fall inside a closed period (a period closes only through a day
that is over), so only back-dated postings ask. The latest closing is read once per set of
locked rows (a batch asks once), and the database checks every leg again (trigger set T8).
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext

from .. import exceptions
from ..models import ClosedPeriod

_UNREAD: Any = object()


def closed_until(using: str) -> datetime.datetime | None:
    """The first moment after the latest closed period, or None when none is closed."""
    value: datetime.datetime | None = ClosedPeriod.objects.using(using).aggregate(
        until=Max("closed_until")
    )["until"]
    return value


def check_open(date: datetime.datetime | None, using: str, memo: Any) -> None:
    """Refuse a posting dated ``date`` inside a closed period (``memo`` caches the closing)."""
    if date is None:
        return
    until = getattr(memo, "closed_until", _UNREAD)
    if until is _UNREAD:
        until = closed_until(using)
        memo.closed_until = until
    if until is not None and date < until:
        raise exceptions.PeriodClosed(
            gettext(
                "The books are closed through %(day)s; nothing may be dated %(date)s. Post the "
                "correction in an open period."
            )
            % {
                "day": f"{timezone.localtime(until - datetime.timedelta(microseconds=1)):%Y-%m-%d}",
                "date": f"{timezone.localtime(date):%Y-%m-%d %H:%M}",
            }
        )
