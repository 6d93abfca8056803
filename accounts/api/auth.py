"""Who may call the API: API keys, HTTP Basic and Django sessions, then the permission.

Three django-ninja authentication classes, tried in this order; the OpenAPI document lists
them as the API's security schemes:

:class:`ApiKeyAuth`
    ``Authorization: Bearer <key>``, for tills and servers. Checking a key costs one indexed
    query and a SHA-256 (see :mod:`accounts.api.keys`).
:class:`BasicAuth`
    ``Authorization: Basic ...``, checked by :func:`django.contrib.auth.authenticate` against
    the project's backends (so inactive users and ``user_login_failed`` work as usual). It
    hashes the password on every call, by design slow: prefer keys.
:class:`SessionAuth`
    The logged-in user of a page of the same site; unsafe methods must pass Django's CSRF check
    exactly as a form post would. Requests with an ``Authorization`` header never fall back
    to the session, so a bad key is an error rather than silently someone else.

Once a class knows the user, :func:`admit` applies what every call needs: the
``accounts.use_api`` permission (403), no block on the client (403) and, for a POST, a JSON
body of a bearable size (415, 413). What ninja stores as ``request.auth`` is a :class:`Caller`.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.http import HttpRequest
from django.middleware.csrf import CsrfViewMiddleware
from django.utils.translation import gettext
from ninja.security import APIKeyCookie, HttpBasicAuth, HttpBearer

from . import keys, throttle
from .http import BODY_METHODS, ApiError, require_json_body, unauthenticated

#: The permission every endpoint requires, in ``app_label.codename`` form.
PERMISSION = "accounts.use_api"
#: Longest username and password taken from a Basic ``Authorization`` header.
USERNAME_LENGTH_MAX = 150
PASSWORD_LENGTH_MAX = 4096


@dataclass(frozen=True)
class Caller:
    """Who is calling: the authenticated user and the throttle's key for them."""

    user: Any
    client: str


def caller(request: HttpRequest) -> Caller:
    """The :class:`Caller` that authentication stored on ``request``."""
    found = getattr(request, "auth", None)
    if not isinstance(found, Caller):  # a view reached without authentication is a bug
        raise TypeError("The request was not authenticated by accounts.api.auth.")
    return found


def admit(request: HttpRequest, user: Any) -> Caller:
    """Check what every call by ``user`` needs, and return the caller."""
    request.user = user
    if not user.has_perm(PERMISSION):
        raise ApiError(
            403,
            "permission_denied",
            gettext("This user lacks the %(permission)s permission.") % {"permission": PERMISSION},
        )
    client = throttle.client_key(request)
    throttle.check_not_blocked(client)
    if request.method in BODY_METHODS:
        require_json_body(request)
    return Caller(user, client)


def _credentials(request: HttpRequest, scheme: str) -> str | None:
    """The credentials of an ``Authorization`` header in ``scheme``, or None for another."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    found, _, credentials = header.partition(" ")
    if not header or found.lower() != scheme:
        return None
    return credentials.strip()


class ApiKeyAuth(HttpBearer):
    """``Authorization: Bearer <key>`` with a key made by :mod:`accounts.api.keys`."""

    openapi_description = (
        "An API key made in the admin or with `manage.py create_api_key`: "
        "`Authorization: Bearer dma_...`. It acts as its user."
    )

    def __call__(self, request: HttpRequest) -> Caller | None:
        presented = _credentials(request, "bearer")
        if presented is None:
            return None
        return self.authenticate(request, presented)

    def authenticate(self, request: HttpRequest, token: str) -> Caller:
        key = keys.authenticate(token)
        if key is None:
            raise unauthenticated(
                "invalid_credentials", gettext("Invalid, expired or revoked API key.")
            )
        return admit(request, key.user)


class BasicAuth(HttpBasicAuth):
    """``Authorization: Basic ...`` checked by Django's authentication backends."""

    openapi_description = (
        "A username and password, checked by the project's authentication backends; "
        "slower than an API key, since the password is hashed on every call."
    )

    def __call__(self, request: HttpRequest) -> Caller | None:
        encoded = _credentials(request, "basic")
        if encoded is None:
            return None
        try:
            decoded = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise unauthenticated(
                "invalid_credentials", gettext("Malformed Basic credentials.")
            ) from None
        try:
            text = decoded.decode("utf-8")
        except UnicodeDecodeError:
            text = decoded.decode("latin-1")
        username, colon, password = text.partition(":")
        if (
            not colon
            or not username
            or len(username) > USERNAME_LENGTH_MAX
            or len(password) > PASSWORD_LENGTH_MAX
            or "\x00" in text
        ):
            raise unauthenticated("invalid_credentials", gettext("Invalid username or password."))
        return self.authenticate(request, username, password)

    def authenticate(self, request: HttpRequest, username: str, password: str) -> Caller:
        user = authenticate(request, username=username, password=password)
        if user is None:
            raise unauthenticated("invalid_credentials", gettext("Invalid username or password."))
        return admit(request, user)


class _CsrfCheck(CsrfViewMiddleware):
    """Django's own CSRF check, answering the reason instead of an HTML 403 page."""

    def _reject(self, request: HttpRequest, reason: str) -> Any:
        return reason


class SessionAuth(APIKeyCookie):
    """The session's user, for pages of the same site; unsafe methods need the CSRF token."""

    openapi_description = (
        "Django's session cookie, for pages of the same site; POSTs also need the CSRF "
        "token in the X-CSRFToken header."
    )

    def __init__(self) -> None:
        # Named after the session cookie only for the OpenAPI document; the session
        # middleware reads the cookie.
        self.param_name = settings.SESSION_COOKIE_NAME
        super().__init__(csrf=True)

    def __call__(self, request: HttpRequest) -> Caller | None:
        if request.META.get("HTTP_AUTHORIZATION"):
            raise unauthenticated(
                "invalid_credentials",
                gettext("Only Bearer (API key) and Basic authentication are supported."),
            )
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        return self.authenticate(request, None)

    def authenticate(self, request: HttpRequest, key: str | None) -> Caller:
        # Django's check passes safe methods (GET, HEAD, ...) by itself.
        check = _CsrfCheck(lambda req: None)  # type: ignore[arg-type]
        check.process_request(request)
        reason = check.process_view(request, None, (), {})  # type: ignore[arg-type]
        if reason is not None:
            # Django's reasons are English constants, as in its own CSRF failure page.
            raise ApiError(
                403, "csrf_failed", gettext("CSRF check failed: %(reason)s") % {"reason": reason}
            )
        return admit(request, request.user)


def authentication() -> list[Any]:
    """The authentication classes of the API, in the order they are tried."""
    return [ApiKeyAuth(), BasicAuth(), SessionAuth()]
