"""Throttling of failed code and reference lookups, so codes cannot be guessed by brute force.

A gift card's code is the authority to spend it. Codes are unguessable (about 79 bits), but an
API that answers every guess would still let a patient attacker, or a leaked credential, probe
for live cards. So every lookup that finds nothing counts against the client that made it:

* after :data:`FAILURES_BEFORE_COOL_OFF` failures within :data:`FAILURE_WINDOW`, the client
  cools off for :data:`COOL_OFF`: lookups answer 429 with ``Retry-After`` and look nothing up;
* after :data:`FAILURES_BEFORE_BLOCK` failures in all (since a member of staff last lifted the
  throttle), the client is blocked for good: every API call answers 403 ``client_blocked``
  until staff lift the block in the admin.

Checking the counts, looking up and counting a miss are one atomic step per client
(:func:`lookup`, under a lock on the client's row), so concurrent guesses cannot all pass the
check before any of them is counted. Successful lookups never reset the counts; otherwise an
attacker holding one valid code could interleave it with guesses. The counts live in
:class:`~accounts.models.LookupThrottle` rows so that they survive restarts and are shared by
every worker process. A client is the authenticated user (``user:<pk>``), else the connecting
address (``ip:<REMOTE_ADDR>``; put the real client address there in your proxy set-up if you
need per-address throttling).
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Callable
from typing import TypeVar

from django.db import connections, router
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from ..ledger import retries
from ..models import LookupThrottle

#: Failed lookups within one window that start a cooling-off period.
FAILURES_BEFORE_COOL_OFF = 5
#: The window the failures above are counted in.
FAILURE_WINDOW = datetime.timedelta(minutes=10)
#: How long a client that reached the limit above must wait.
COOL_OFF = datetime.timedelta(minutes=10)
#: Failed lookups in all (until staff lift them) that block the client for good.
FAILURES_BEFORE_BLOCK = 50
#: Longest client key stored (``ip:`` and an IPv6 address fit easily).
CLIENT_KEY_LENGTH_MAX = 64

T = TypeVar("T")


class Refused(Exception):
    """Why a client may not make a request now; the API answers it as an error."""

    def __init__(
        self, http_status: int, code: str, message: str, retry_after_seconds: int | None = None
    ) -> None:
        super().__init__(message)
        self.http_status = http_status
        self.code = code
        self.message = message
        self.retry_after_seconds = retry_after_seconds


def client_key(request: HttpRequest) -> str:
    """Return who is making ``request``: the authenticated user, else the remote address."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.pk is not None:
        return f"user:{user.pk}"[:CLIENT_KEY_LENGTH_MAX]
    address = str(request.META.get("REMOTE_ADDR") or "unknown")
    return f"ip:{address}"[:CLIENT_KEY_LENGTH_MAX]


def _blocked() -> Refused:
    return Refused(
        403,
        "client_blocked",
        gettext(
            "This client made too many failed lookups and is blocked; ask staff to lift the block."
        ),
    )


def check_not_blocked(client: str) -> None:
    """Raise :class:`Refused` if ``client`` is blocked; a block applies to every call."""
    if LookupThrottle.objects.filter(client=client, blocked_at__isnull=False).exists():
        raise _blocked()


def _check(row: LookupThrottle, now: datetime.datetime) -> None:
    if row.blocked_at is not None:
        raise _blocked()
    if row.cooled_off_until is not None and row.cooled_off_until > now:
        seconds = max(1, math.ceil((row.cooled_off_until - now).total_seconds()))
        raise Refused(
            429,
            "too_many_failed_lookups",
            ngettext(
                "Too many failed lookups; try again in %(seconds)d second.",
                "Too many failed lookups; try again in %(seconds)d seconds.",
                seconds,
            )
            % {"seconds": seconds},
            retry_after_seconds=seconds,
        )


def _count_failure(row: LookupThrottle, now: datetime.datetime) -> None:
    if row.window_started_at is None or now - row.window_started_at >= FAILURE_WINDOW:
        row.window_started_at = now
        row.window_failures = 0
    row.window_failures += 1
    row.total_failures += 1
    row.last_failure_at = now
    if row.total_failures >= FAILURES_BEFORE_BLOCK and row.blocked_at is None:
        row.blocked_at = now
    elif row.window_failures >= FAILURES_BEFORE_COOL_OFF:
        row.cooled_off_until = now + COOL_OFF
        row.window_started_at = None
        row.window_failures = 0
    row.save()


def _lock(client: str, using: str) -> LookupThrottle:
    """Lock ``client``'s row until the transaction ends; the caller is inside ``atomic``."""
    rows = LookupThrottle.objects.using(using)
    if connections[using].vendor == "sqlite":
        # SQLite ignores FOR UPDATE; a write takes its database-wide write lock at once, so a
        # second lookup waits here instead of reading the counts before this one records.
        rows.filter(client=client).update(client=client)
    row, _ = rows.select_for_update().get_or_create(client=client)
    return row


def lookup(client: str, find: Callable[[], T | None]) -> T | None:
    """Call ``find`` as ``client``'s one lookup at a time, counting a miss (``None``).

    Checking the throttle, looking up and recording a failure are one step under a lock on
    the client's row, so N concurrent misses get at most :data:`FAILURES_BEFORE_COOL_OFF`
    answers; a check made before the lookup and a failure recorded after it would let them
    all through together. Raises :class:`Refused` while the client is blocked or cooling off.
    Keep ``find`` to the lookup: the lock is held until it returns, so what the caller does
    with the result (moving money) happens after the lock is released.
    """
    # The row exists before the locking transaction starts: two transactions that both
    # INSERT it would, on InnoDB, each keep a shared lock on the duplicate and then deadlock
    # asking for the exclusive one.
    using = router.db_for_write(LookupThrottle)
    LookupThrottle.objects.using(using).get_or_create(client=client)

    def run() -> T | None:
        row = _lock(client, using)
        now = timezone.now()
        _check(row, now)
        found = find()
        if found is None:
            _count_failure(row, now)
        return found

    # Retried whole when the database aborts it (a serialisation failure, a deadlock).
    return retries.in_transaction(using, run)


def lift(rows: QuerySet[LookupThrottle]) -> int:
    """Lift the blocks and cooling-off periods of ``rows`` and forget their failures."""
    return rows.update(
        window_started_at=None,
        window_failures=0,
        total_failures=0,
        cooled_off_until=None,
        blocked_at=None,
    )
