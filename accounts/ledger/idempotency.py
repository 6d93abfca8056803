"""Idempotency keys: a retried call with the same key replays the first call's result.

How a call with a key runs (:func:`accounts.facade.common.once` drives it):

1. :func:`check_key` refuses a malformed key before anything touches the database;
2. in a savepoint of the posting's transaction, :func:`claim` *inserts* the key's row first.
   The unique index on the key is the lock: a second first attempt with the same key blocks on
   it until the first commits (its insert then fails, and it reads the committed row) or rolls
   back (its insert then succeeds, and it goes ahead);
3. a found row with the same operation and arguments is a replay: the original result, read
   again from the database, is returned and nothing is written; different arguments raise
   :class:`~accounts.exceptions.IdempotencyConflict` naming them;
4. otherwise the posting runs and :func:`record` stores its result on the key's row.

The claim and the posting share one savepoint, so a refused first attempt (insufficient funds,
say) takes its claim with it: the key is not remembered and a retry may succeed later.

Arguments are compared in a canonical form (:func:`fingerprint`): accounts, transfers and users
by primary key, amounts as normalised decimals (``10`` and ``10.00`` are one amount), moments
in UTC. Only a SHA-256 digest of each argument is stored.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, models, transaction
from django.utils.translation import gettext

from .. import exceptions
from ..models import IDEMPOTENCY_KEY_LENGTH_MAX, Account, Hold, IdempotencyKey, Transfer
from . import retries

#: The name under which the operation itself is compared, as if it were an argument.
OPERATION_FIELD = "operation"


def check_key(key: Any) -> str:
    """Return ``key`` if it is a usable idempotency key, else refuse it."""
    if not isinstance(key, str):
        raise exceptions.InvalidIdempotencyKey(
            gettext("An idempotency key must be text, not %(type)s.") % {"type": type(key).__name__}
        )
    if not key or len(key) > IDEMPOTENCY_KEY_LENGTH_MAX:
        raise exceptions.InvalidIdempotencyKey(
            gettext(
                "An idempotency key must be 1 to %(limit)d characters long; this has %(length)d."
            )
            % {"limit": IDEMPOTENCY_KEY_LENGTH_MAX, "length": len(key)}
        )
    try:
        key.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate
        raise exceptions.InvalidIdempotencyKey(
            gettext("An idempotency key must be valid Unicode text.")
        ) from None
    # Outer spaces: MySQL's binary collations still ignore trailing spaces; and a key copied
    # with a stray space is a mistake better refused than remembered as another key.
    if key != key.strip() or any(not char.isprintable() for char in key):
        raise exceptions.InvalidIdempotencyKey(
            gettext(
                "An idempotency key may not contain control characters or begin or end with "
                "a space."
            )
        )
    return key


def canonical(value: Any) -> Any:
    """``value`` as plain JSON data that is equal for equal arguments."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, Decimal):
        return {"decimal": format(value.normalize(), "f") if value.is_finite() else str(value)}
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(datetime.timezone.utc)
        return {"datetime": value.isoformat()}
    if isinstance(value, datetime.date):
        return {"date": value.isoformat()}
    if isinstance(value, models.Model):
        return {value._meta.label_lower: value.pk}
    if isinstance(value, Mapping):
        return {str(k): canonical(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple)):
        return [canonical(item) for item in value]
    if hasattr(value, "__dataclass_fields__"):  # Debit and Credit lines
        return {
            type(value).__name__.lower(): {
                name: canonical(getattr(value, name)) for name in sorted(value.__dataclass_fields__)
            }
        }
    return {type(value).__name__: repr(value)}


def fingerprint(arguments: Mapping[str, Any]) -> dict[str, str]:
    """A digest of each argument's canonical form, by name."""
    return {
        name: hashlib.sha256(
            json.dumps(canonical(value), sort_keys=True, separators=(",", ":")).encode()
        ).hexdigest()
        for name, value in sorted(arguments.items())
    }


def differences(row: IdempotencyKey, operation: str, digests: Mapping[str, str]) -> list[str]:
    """The names of the arguments (or the operation) in which a call differs from ``row``'s."""
    if row.operation != operation:
        return [OPERATION_FIELD]
    stored: Mapping[str, str] = row.arguments or {}
    return sorted(name for name in {*stored, *digests} if stored.get(name) != digests.get(name))


def claim(using: str, key: str, operation: str, digests: dict[str, str]) -> Any:
    """Insert ``key``'s row, or replay the call that holds it.

    Returns None when this call now holds the key (go ahead, then :func:`record`), or the first
    call's result, read again from the database. Raises
    :class:`~accounts.exceptions.IdempotencyConflict` when the key was used for another call.
    Must run inside a transaction: the claim lasts as long as it does.
    """
    try:
        with transaction.atomic(using=using):
            IdempotencyKey.objects.using(using).create(
                key=key, operation=operation, arguments=digests
            )
    except IntegrityError:
        pass
    else:
        return None
    # A locking read: on MySQL's REPEATABLE READ a plain read could use a snapshot taken before
    # the first attempt committed.
    row = IdempotencyKey.objects.using(using).select_for_update().filter(key=key).first()
    if row is None:
        # The key's row was committed after this transaction's snapshot was taken (REPEATABLE
        # READ, SERIALIZABLE): a new attempt will see it.
        raise retries.StaleSnapshot(f"idempotency key {key!r} is held by a newer transaction")
    differing = differences(row, operation, digests)
    if differing:
        raise exceptions.IdempotencyConflict(
            gettext(
                "The idempotency key %(key)s was used for another call; these arguments "
                "differ: %(fields)s."
            )
            % {"key": repr(key), "fields": ", ".join(differing)},
            fields=tuple(differing),
        )
    return result_of(row, using)


def result_of(row: IdempotencyKey, using: str) -> Transfer | Account | Hold | list[Transfer]:
    """The result a key's first call recorded, read again from the database."""
    if row.transfers is not None:  # a batch: its transfers in order
        found = Transfer.objects.using(using).in_bulk(row.transfers)
        return [found[pk] for pk in row.transfers]
    if row.hold_id is not None:
        return Hold.objects.using(using).select_for_update().get(pk=row.hold_id)
    if row.transfer_id is not None:
        return Transfer.objects.using(using).select_for_update().get(pk=row.transfer_id)
    if row.account_id is not None:
        return Account.objects.using(using).select_for_update().get(pk=row.account_id)
    # Only the call that holds the key sees its row without a result: a call that reuses its
    # own key from inside itself.
    raise exceptions.IdempotencyConflict(
        gettext("The idempotency key %(key)s is in use by a call that has not finished.")
        % {"key": repr(row.key)},
        fields=(),
    )


def stale(before: datetime.datetime) -> models.QuerySet[IdempotencyKey]:
    """The keys created before ``before``, oldest first: what a purge deletes."""
    return IdempotencyKey.objects.filter(created_at__lt=before).order_by("created_at", "pk")


def purge(pks: list[int]) -> int:
    """Delete these keys (one batch of :func:`stale`); return how many went."""
    deleted, _ = IdempotencyKey.objects.filter(pk__in=pks).delete()
    return deleted


def record(using: str, key: str, result: Any) -> None:
    """Store what the call holding ``key`` produced on the key's row."""
    if isinstance(result, Transfer):
        IdempotencyKey.objects.using(using).filter(key=key).update(transfer=result)
    elif isinstance(result, Account):
        IdempotencyKey.objects.using(using).filter(key=key).update(account=result)
    elif isinstance(result, Hold):
        IdempotencyKey.objects.using(using).filter(key=key).update(hold=result)
    elif isinstance(result, list):
        IdempotencyKey.objects.using(using).filter(key=key).update(
            transfers=[transfer.pk for transfer in result]
        )
    else:  # pragma: no cover - the facade's calls return one or the other
        raise TypeError(f"cannot record a {type(result).__name__} as an idempotent result")
