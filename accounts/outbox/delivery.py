"""Deliver outbox rows to the webhook: sign, POST, record the outcome, back off on failure.

Each batch is read with ``SELECT ... FOR UPDATE SKIP LOCKED`` (plain ``FOR UPDATE`` where the
database cannot skip locked rows) and stays locked until the outcome of every message in it is
saved, so two deliverers running at once never send one message twice; a crash mid-batch rolls
the batch back and its messages are sent again later. Delivery is therefore *at least once*:
receivers deduplicate by the message's ``id``.

The signature is ``sha256=`` and the hex HMAC-SHA256, keyed by ``ACCOUNTS_OUTBOX_SECRET``, of
the ``X-Accounts-Timestamp`` header's value, a full stop, and the exact body.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connections, transaction
from django.db.models import QuerySet
from django.utils import timezone

from .. import conf
from .models import OutboxMessage

SIGNATURE_HEADER = "X-Accounts-Signature"
TIMESTAMP_HEADER = "X-Accounts-Timestamp"
EVENT_HEADER = "X-Accounts-Event"
DELIVERY_HEADER = "X-Accounts-Delivery"
#: The longest error text kept on a row (the start of a response body, a network error).
LAST_ERROR_LENGTH_MAX = 1000


class DeliveryFailed(Exception):
    """The webhook did not accept a delivery (network error, timeout or a non-2xx answer)."""


@dataclass(frozen=True)
class Target:
    """Where and how to deliver, read from the settings once per run."""

    url: str
    secret: bytes | None
    timeout_seconds: float
    max_attempts: int
    backoff_seconds: float
    backoff_max_seconds: float

    @classmethod
    def from_settings(cls) -> Target | None:
        url = conf.outbox_webhook_url()
        if url is None:
            return None
        return cls(
            url=url,
            secret=conf.outbox_secret(),
            timeout_seconds=conf.outbox_timeout_seconds(),
            max_attempts=conf.outbox_max_attempts(),
            backoff_seconds=conf.outbox_backoff_seconds(),
            backoff_max_seconds=conf.outbox_backoff_max_seconds(),
        )


def body_of(message: OutboxMessage) -> bytes:
    """The exact bytes POSTed: the payload with the delivery's ``id``, as compact JSON."""
    document = {"id": str(message.uuid), **message.payload}
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    """The signature header's value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def headers_for(message: OutboxMessage, body: bytes, target: Target) -> dict[str, str]:
    timestamp = str(int(timezone.now().timestamp()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "django-managed-accounts outbox",
        EVENT_HEADER: message.event,
        DELIVERY_HEADER: str(message.uuid),
        TIMESTAMP_HEADER: timestamp,
    }
    if target.secret is not None:
        headers[SIGNATURE_HEADER] = sign(target.secret, timestamp, body)
    return headers


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is a failure: urllib would follow it as a GET and drop the body."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def post(url: str, body: bytes, headers: dict[str, str], timeout_seconds: float) -> None:
    """POST ``body``; raise :class:`DeliveryFailed` unless the answer is a 2xx."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=timeout_seconds) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        detail = error.read(200).decode("utf-8", "replace")
        raise DeliveryFailed(f"HTTP {error.code}: {detail}".strip()) from error
    except (urllib.error.URLError, OSError) as error:
        raise DeliveryFailed(f"{type(error).__name__}: {error}") from error
    if not 200 <= status < 300:
        raise DeliveryFailed(f"HTTP {status}")


def backoff(attempts: int, target: Target) -> datetime.timedelta:
    """The wait after the ``attempts``-th failure: the base, doubled per failure, capped."""
    seconds = target.backoff_seconds * 2 ** min(attempts - 1, 30)
    return datetime.timedelta(seconds=min(seconds, target.backoff_max_seconds))


#: Sends one message: the default POSTs it; tests may pass another.
Sender = Callable[[str, bytes, dict[str, str], float], None]


def deliver(message: OutboxMessage, target: Target, send: Sender = post) -> bool:
    """Try ``message`` once and save the outcome on its row; True when it was delivered."""
    body = body_of(message)
    message.attempts += 1
    now = timezone.now()
    try:
        send(target.url, body, headers_for(message, body, target), target.timeout_seconds)
    except DeliveryFailed as error:
        message.last_error = str(error)[:LAST_ERROR_LENGTH_MAX]
        message.next_attempt_at = now + backoff(message.attempts, target)
        delivered = False
    else:
        message.delivered_at, message.last_error = now, ""
        delivered = True
    message.save(update_fields=["attempts", "last_error", "next_attempt_at", "delivered_at"])
    return delivered


def due(target: Target, using: str, now: datetime.datetime | None = None) -> QuerySet[Any]:
    """Undelivered messages whose next attempt is due and that have attempts left, oldest first."""
    return (
        OutboxMessage.objects.using(using)
        .filter(
            delivered_at__isnull=True,
            attempts__lt=target.max_attempts,
            next_attempt_at__lte=now or timezone.now(),
        )
        .order_by("pk")
    )


def deliver_batch(
    target: Target, *, batch_size: int, using: str, send: Sender = post
) -> list[tuple[OutboxMessage, bool]]:
    """Lock up to ``batch_size`` due messages, try each once, and commit their outcomes."""
    connection = connections[using]
    features = connection.features
    outermost = not connection.in_atomic_block
    with transaction.atomic(using=using):
        if outermost and connection.vendor == "postgresql":
            # SKIP LOCKED is a READ COMMITTED tool: under SERIALIZABLE, two deliverers that
            # skip each other's rows are aborted as a serialisation failure. Only the queue's
            # own transaction is lowered; it moves no money.
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
        rows = due(target, using)
        if features.has_select_for_update:
            rows = rows.select_for_update(skip_locked=features.has_select_for_update_skip_locked)
        batch = list(rows[:batch_size])
        return [(message, deliver(message, target, send)) for message in batch]
