"""API keys: long random secrets that tills send instead of a password.

A key reads ``dma_k3x9q2mz.<43 random characters>``: a public prefix, by which staff tell keys
apart and the API finds the key's row, then a secret of 256 random bits. Only the prefix and
the SHA-256 of the whole key are stored (:class:`~accounts.models.ApiKey`); the key itself is
returned once, when it is made. A fast hash is right here, unlike for passwords: nobody can
guess 256 random bits, so there is nothing for a slow hash to slow down, while checking a
password hash on every call costs a till about half a second of server CPU.

A key acts as its user, whose permissions apply. It stops working when it is revoked, when it
expires or when its user is made inactive. ``last_used_at`` is written at most once every
:data:`LAST_USED_INTERVAL`, so a busy till does not write on every call; staff watch it to see
when an old key is no longer used before they revoke it (see ``docs/api_http.rst``).

This module imports no web framework: the admin and the management commands use it too.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import re
import secrets
import string
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from ..models import ApiKey

#: What every key starts with, so that secret scanners and people recognise one.
KEY_TAG = "dma_"
#: Random characters after the tag in the public prefix.
PREFIX_RANDOM_LENGTH = 8
#: Random bytes in the secret part (written as 43 URL-safe characters).
SECRET_BYTES = 32
#: How often, at most, ``last_used_at`` is written for one key.
LAST_USED_INTERVAL = datetime.timedelta(minutes=1)
#: Longest name accepted (the model's own limit).
NAME_LENGTH_MAX = ApiKey._meta.get_field("name").max_length or 100
#: How many times a clashing prefix is drawn again before giving up.
PREFIX_RETRIES_MAX = 5

_PREFIX_ALPHABET = string.ascii_lowercase + string.digits
_PREFIX_PATTERN = rf"{KEY_TAG}[a-z0-9]{{{PREFIX_RANDOM_LENGTH}}}"
_PREFIX_RE = re.compile(_PREFIX_PATTERN, re.ASCII)
_KEY_RE = re.compile(rf"(?P<prefix>{_PREFIX_PATTERN})\.[A-Za-z0-9_-]{{43}}", re.ASCII)
#: A digest compared when no key has the prefix, so a miss costs what a wrong secret costs.
_NO_DIGEST = "0" * 64


class InvalidKeyRequest(ValueError):
    """A key cannot be made as asked (a blank or over-long name, an expiry in the past)."""


def digest(key: str) -> str:
    """Return the SHA-256 of ``key`` in hexadecimal, as stored in ``ApiKey.key_hash``."""
    return hashlib.sha256(key.encode("ascii")).hexdigest()


def _new_prefix() -> str:
    return KEY_TAG + "".join(secrets.choice(_PREFIX_ALPHABET) for _ in range(PREFIX_RANDOM_LENGTH))


def check_name(name: str) -> None:
    """Refuse a blank, over-long or unstorable name (:class:`InvalidKeyRequest`)."""
    if not name or not name.strip():
        raise InvalidKeyRequest(gettext("Give the key a name, such as the till that will use it."))
    if len(name) > NAME_LENGTH_MAX:
        raise InvalidKeyRequest(
            ngettext(
                "A key's name may hold at most %(limit)d character.",
                "A key's name may hold at most %(limit)d characters.",
                NAME_LENGTH_MAX,
            )
            % {"limit": NAME_LENGTH_MAX}
        )
    if not name.isprintable():  # NUL and other control characters
        raise InvalidKeyRequest(gettext("A key's name may not contain control characters."))
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidKeyRequest(gettext("A key's name must be valid Unicode text.")) from None


def check_expiry(expires_at: datetime.datetime | None) -> None:
    """Refuse an expiry without a time zone, or not in the future (:class:`InvalidKeyRequest`)."""
    if expires_at is None:
        return
    if timezone.is_naive(expires_at):
        raise InvalidKeyRequest(gettext("The expiry must carry a time zone (a UTC offset)."))
    try:
        in_utc = expires_at.astimezone(datetime.timezone.utc)
    except OverflowError:  # past 9999-12-31 once in UTC: no database stores it
        raise InvalidKeyRequest(gettext("The expiry must lie before the year 10000.")) from None
    if in_utc <= timezone.now():
        raise InvalidKeyRequest(gettext("The expiry must lie in the future."))


def issue(key: ApiKey) -> str:
    """Give the unsaved ``key`` a new secret, save it, and return the secret (shown once).

    ``key`` carries its user, name and optional expiry; the prefix and hash are set here.
    """
    check_name(key.name)
    check_expiry(key.expires_at)
    for attempt in range(PREFIX_RETRIES_MAX):
        key.prefix = _new_prefix()
        secret = f"{key.prefix}.{secrets.token_urlsafe(SECRET_BYTES)}"
        key.key_hash = digest(secret)
        try:
            with transaction.atomic():
                key.save()
        except IntegrityError:
            if attempt == PREFIX_RETRIES_MAX - 1:
                raise
            continue
        return secret
    raise AssertionError("unreachable")  # pragma: no cover


def create_key(
    user: Any, *, name: str, expires_at: datetime.datetime | None = None
) -> tuple[ApiKey, str]:
    """Make a key for ``user``; return it and its secret, which is never shown again."""
    key = ApiKey(user=user, name=name, expires_at=expires_at)
    return key, issue(key)


def authenticate(presented: str) -> ApiKey | None:
    """Return the usable key ``presented`` is, with its user loaded, or None.

    Finds the row by the public prefix and compares the digests in constant time, so timing
    tells nothing about the secret. Revoked and expired keys, and keys of inactive users,
    authenticate nobody.
    """
    match = _KEY_RE.fullmatch(presented)
    if match is None:
        return None
    key = ApiKey.objects.select_related("user").filter(prefix=match["prefix"]).first()
    matches = hmac.compare_digest(key.key_hash if key else _NO_DIGEST, digest(presented))
    if key is None or not matches:
        return None
    now = timezone.now()
    if not key.is_usable(now):
        return None
    _touch(key, now)
    return key


def _touch(key: ApiKey, now: datetime.datetime) -> None:
    """Record that ``key`` was used, at most once every :data:`LAST_USED_INTERVAL`."""
    if key.last_used_at is not None and now - key.last_used_at < LAST_USED_INTERVAL:
        return
    ApiKey.objects.filter(pk=key.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - LAST_USED_INTERVAL)
    ).update(last_used_at=now)
    key.last_used_at = now


def revoke(keys: QuerySet[ApiKey]) -> int:
    """Revoke ``keys`` at once; return how many were not revoked already."""
    return keys.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())


def revoke_prefix(prefix: str) -> ApiKey:
    """Revoke the key with ``prefix`` (if it is not revoked yet) and return it.

    Raises :class:`~accounts.models.ApiKey.DoesNotExist` if no key has that prefix.
    """
    prefix = prefix.strip()
    if not _PREFIX_RE.fullmatch(prefix):  # never send a NUL or a novel to the database
        raise ApiKey.DoesNotExist(
            gettext("No API key has the prefix %(prefix)s.") % {"prefix": repr(prefix[:32])}
        )
    key = ApiKey.objects.get(prefix=prefix)
    revoke(ApiKey.objects.filter(pk=key.pk))
    key.refresh_from_db()
    return key
