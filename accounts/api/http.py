"""HTTP plumbing of the JSON API: errors, authentication, CSRF and request bodies.

Kept apart from the views so each view reads as the business step it performs. Every answer is
JSON; every refusal is ``{"code": ..., "message": ...}`` with the status the rule calls for.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.contrib.auth import authenticate
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.utils.cache import add_never_cache_headers
from django.utils.dateparse import parse_datetime

from .. import exceptions, money

#: Longest request body read, in bytes; the API's bodies are a few hundred bytes.
BODY_SIZE_MAX = 16 * 1024
#: Longest amount string accepted, so parsing never works on huge numbers.
AMOUNT_LENGTH_MAX = 32
#: Longest username and password taken from a Basic ``Authorization`` header.
USERNAME_LENGTH_MAX = 150
PASSWORD_LENGTH_MAX = 4096
#: Longest texts accepted; ``merchant_reference`` and ``name`` are the model's own limits.
NAME_LENGTH_MAX = 128
MERCHANT_REFERENCE_LENGTH_MAX = 128
DESCRIPTION_LENGTH_MAX = 500
#: Longest code or reference text looked at; anything longer cannot be a generated code.
CODE_TEXT_LENGTH_MAX = 64
#: Years an ``end_date`` may fall in (every database stores these; MySQL stops at 9999).
YEAR_MIN = 1970
YEAR_MAX = 9999

#: A decimal written plainly, as in ``"12.50"``: no exponent, no spaces, no thousands marks.
AMOUNT_PATTERN = r"^-?[0-9]+(\.[0-9]+)?$"
_AMOUNT_RE = re.compile(AMOUNT_PATTERN)

_REALM = 'Basic realm="accounts api", charset="UTF-8"'
_UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class ApiError(Exception):
    """A refusal made by the API layer itself (as opposed to the ledger's rules)."""

    def __init__(
        self,
        http_status: int,
        code: str,
        message: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.http_status = http_status
        self.code = code
        self.message = message
        self.headers = headers or {}


def json_response(
    data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> JsonResponse:
    """Answer ``data`` as JSON, never cached: balances and codes must not linger in caches."""
    response = JsonResponse(data, status=status, safe=False)
    for name, value in (headers or {}).items():
        response[name] = value
    add_never_cache_headers(response)
    return response


def error_response(error: ApiError | exceptions.AccountException) -> JsonResponse:
    headers = error.headers if isinstance(error, ApiError) else None
    return json_response(
        {"code": error.code, "message": error.message}, status=error.http_status, headers=headers
    )


# -- authentication --------------------------------------------------------------------------


class _CsrfCheck(CsrfViewMiddleware):
    """Django's own CSRF check, answering the reason instead of an HTML 403 page."""

    def _reject(self, request: HttpRequest, reason: str) -> Any:
        return reason


def _unauthenticated(code: str, message: str) -> ApiError:
    return ApiError(401, code, message, headers={"WWW-Authenticate": _REALM})


def _basic_user(request: HttpRequest, credentials: str) -> Any:
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise _unauthenticated("invalid_credentials", "Malformed Basic credentials.") from None
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
        raise _unauthenticated("invalid_credentials", "Invalid username or password.")
    user = authenticate(request, username=username, password=password)
    if user is None:
        raise _unauthenticated("invalid_credentials", "Invalid username or password.")
    return user


def authenticate_request(request: HttpRequest) -> Any:
    """Return the user making ``request``, or raise 401 (or 403 for a failed CSRF check).

    HTTP Basic credentials, checked by :func:`django.contrib.auth.authenticate` against the
    project's authentication backends, are for servers calling the API; such requests carry no
    cookie, so CSRF does not apply to them. Otherwise the session's user is used, and unsafe
    methods must pass Django's CSRF check exactly as a form post would.
    """
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header:
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() != "basic":
            raise _unauthenticated(
                "invalid_credentials", "Only HTTP Basic authentication is supported."
            )
        user = _basic_user(request, credentials)
        request.user = user
        return user
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        raise _unauthenticated("not_authenticated", "Authentication credentials were not provided.")
    if request.method in _UNSAFE_METHODS:
        check = _CsrfCheck(lambda req: None)  # type: ignore[arg-type]
        check.process_request(request)
        reason = check.process_view(request, None, (), {})  # type: ignore[arg-type]
        if reason is not None:
            raise ApiError(403, "csrf_failed", f"CSRF check failed: {reason}")
    return user


# -- request bodies --------------------------------------------------------------------------


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _content_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def read_json_object(request: HttpRequest) -> dict[str, Any]:
    """Parse the body as a JSON object, with numbers that have a fraction read as Decimal.

    Every POST must be sent as ``application/json`` (``; charset=utf-8`` allowed), even one
    whose body is just ``{}``; anything else is 415. Besides being the API's format, this keeps
    browsers out: a page on another site cannot send that content type without a CORS
    preflight, which the API never grants, so credentials a browser cached cannot be abused.
    """
    charset = (request.content_params or {}).get("charset")
    if request.content_type != "application/json" or (
        charset is not None and charset.lower() != "utf-8"
    ):
        raise ApiError(
            415,
            "unsupported_media_type",
            "Send the body as application/json (optionally with charset=utf-8).",
        )
    too_large = ApiError(413, "body_too_large", f"The body may hold at most {BODY_SIZE_MAX} bytes.")
    if _content_length(request) > BODY_SIZE_MAX:
        raise too_large
    try:
        body = request.body
    except RequestDataTooBig:
        raise too_large from None
    if len(body) > BODY_SIZE_MAX:
        raise too_large
    try:
        data = json.loads(
            body.decode("utf-8"), parse_float=Decimal, parse_constant=_refuse_constant
        )
    except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise ApiError(400, "invalid_json", "The body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_json", "The body must be a JSON object.")
    return data


class Fields:
    """Typed access to the fields of a JSON object, refusing anything unexpected with 400."""

    def __init__(self, data: dict[str, Any], allowed: Iterable[str]) -> None:
        unknown = sorted(set(data) - set(allowed))
        if unknown:
            raise ApiError(400, "unknown_field", f"Unknown field: {unknown[0]!r}.")
        self.data = data

    def _present(self, name: str, required: bool) -> bool:
        if name in self.data:
            return True
        if required:
            raise ApiError(400, "missing_field", f"The field {name!r} is required.")
        return False

    def text(self, name: str, *, max_length: int, required: bool = False) -> str | None:
        """A string of at most ``max_length`` characters that every database can store."""
        if not self._present(name, required):
            return None
        value = self.data[name]
        if not isinstance(value, str):
            raise ApiError(400, "invalid_field", f"The field {name!r} must be a string.")
        if len(value) > max_length:
            raise ApiError(
                400,
                "invalid_field",
                f"The field {name!r} may hold at most {max_length} characters.",
            )
        if "\x00" in value:
            raise ApiError(400, "invalid_field", f"The field {name!r} may not contain NUL.")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate such as "\ud800"
            raise ApiError(
                400, "invalid_field", f"The field {name!r} is not valid Unicode text."
            ) from None
        return value

    def required_text(self, name: str, *, max_length: int) -> str:
        self._present(name, True)
        value = self.text(name, max_length=max_length)
        if value is None:  # unreachable: the field is present
            raise ApiError(400, "missing_field", f"The field {name!r} is required.")
        return value

    def amount(self, name: str) -> Decimal:
        """A positive amount written as a JSON string (``"12.50"``), never a JSON number."""
        self._present(name, True)
        value = self.data[name]
        if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
            raise exceptions.AmountNotDecimal(
                f'Send {name!r} as a string such as "12.50", not as a JSON number: '
                "JSON numbers are read as binary floats by many clients."
            )
        if not isinstance(value, str):
            raise ApiError(400, "invalid_field", f"The field {name!r} must be a string.")
        if len(value) > AMOUNT_LENGTH_MAX or not _AMOUNT_RE.fullmatch(value):
            raise exceptions.InvalidAmount(
                f'The field {name!r} must be a decimal number written as a string, like "12.50".'
            )
        return Decimal(value)

    def currency(self, name: str) -> str | None:
        value = self.text(name, max_length=3)
        if value is not None and not money.is_valid_currency(value):
            raise ApiError(
                400, "invalid_currency", f"The field {name!r} must be an ISO 4217 code like GBP."
            )
        return value

    def moment(self, name: str) -> datetime.datetime | None:
        """An ISO 8601 date and time with its UTC offset, returned in UTC."""
        value = self.text(name, max_length=40)
        if value is None:
            return None
        message = (
            f"The field {name!r} must be an ISO 8601 date and time with a UTC offset, "
            f"between the years {YEAR_MIN} and {YEAR_MAX}."
        )
        try:
            parsed = parse_datetime(value)
            if parsed is None or parsed.tzinfo is None:
                raise ValueError(value)
            parsed = parsed.astimezone(datetime.timezone.utc)
        except (ValueError, OverflowError):
            raise ApiError(400, "invalid_datetime", message) from None
        if not YEAR_MIN <= parsed.year <= YEAR_MAX:
            raise ApiError(400, "invalid_datetime", message)
        return parsed


# -- formatting ------------------------------------------------------------------------------


def format_moment(value: datetime.datetime | None) -> str | None:
    """Write an aware datetime as RFC 3339 in UTC (``2026-01-31T12:00:00Z``)."""
    if value is None:
        return None
    text = value.astimezone(datetime.timezone.utc).isoformat()
    return text.removesuffix("+00:00") + "Z"
