"""Throttling of failed code and reference lookups, so codes cannot be guessed by brute force.

A gift card's code is the authority to spend it. Codes are unguessable (about 79 bits), but an
API that answers every guess would still let a patient attacker, or a leaked credential, probe
for live cards. So every lookup that finds nothing counts against the client that made it:

* after :data:`FAILURES_BEFORE_COOL_OFF` failures within :data:`FAILURE_WINDOW`, the client
  cools off for :data:`COOL_OFF`: lookups answer 429 with ``Retry-After`` and look nothing up;
* after :data:`FAILURES_BEFORE_BLOCK` failures in all (since a member of staff last lifted the
  throttle), the client is blocked for good: every API call answers 403 ``client_blocked``
  until staff lift the block in the admin.

Successful lookups never reset the counts; otherwise an attacker holding one valid code could
interleave it with guesses. The counts live in :class:`~accounts.models.LookupThrottle` rows
so that they survive restarts and are shared by every worker process. A client is the
authenticated user (``user:<pk>``), else the connecting address (``ip:<REMOTE_ADDR>``; put the
real client address there in your proxy set-up if you need per-address throttling).
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass

from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

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


@dataclass(frozen=True)
class Refusal:
    """Why a client may not make a request now."""

    http_status: int
    code: str
    message: str
    retry_after_seconds: int | None = None


def client_key(request: HttpRequest) -> str:
    """Return who is making ``request``: the authenticated user, else the remote address."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.pk is not None:
        return f"user:{user.pk}"[:CLIENT_KEY_LENGTH_MAX]
    address = str(request.META.get("REMOTE_ADDR") or "unknown")
    return f"ip:{address}"[:CLIENT_KEY_LENGTH_MAX]


def check(client: str, *, lookup: bool) -> Refusal | None:
    """Return why ``client`` is refused now, or None.

    A block applies to every call; a cooling-off period only to calls that look something up
    by code or reference (``lookup=True``).
    """
    row = LookupThrottle.objects.filter(client=client).first()
    if row is None:
        return None
    if row.blocked_at is not None:
        return Refusal(
            403,
            "client_blocked",
            "This client made too many failed lookups and is blocked; ask staff to lift the block.",
        )
    now = timezone.now()
    if lookup and row.cooled_off_until is not None and row.cooled_off_until > now:
        seconds = max(1, math.ceil((row.cooled_off_until - now).total_seconds()))
        return Refusal(
            429,
            "too_many_failed_lookups",
            f"Too many failed lookups; try again in {seconds} seconds.",
            retry_after_seconds=seconds,
        )
    return None


def record_failure(client: str) -> LookupThrottle:
    """Count one failed lookup by ``client``, starting a cool-off or a block when due."""
    now = timezone.now()
    with transaction.atomic():
        # Create the row first, then lock it: two processes failing at once queue on the lock.
        LookupThrottle.objects.get_or_create(client=client)
        row = LookupThrottle.objects.select_for_update().get(client=client)
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
    return row


def lift(rows: QuerySet[LookupThrottle]) -> int:
    """Lift the blocks and cooling-off periods of ``rows`` and forget their failures."""
    return rows.update(
        window_started_at=None,
        window_failures=0,
        total_failures=0,
        cooled_off_until=None,
        blocked_at=None,
    )
