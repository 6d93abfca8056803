"""HTTP plumbing of the JSON API: the django-ninja API object, strict JSON bodies and errors.

django-ninja validates requests against the pydantic schemas in :mod:`accounts.api.schemas`,
runs the authentication classes in :mod:`accounts.api.auth` and generates the OpenAPI document.
This module adapts it to the API's contract, which predates it and which clients rely on:

* every refusal is ``{"code": ..., "message": ...}`` with the status the rule calls for; ninja's
  own errors (validation, authentication, unparseable bodies) are turned into that here, once;
* ``code`` is a fixed English identifier; ``message`` is in the active language, which is the
  client's (``Accept-Language``) when the project enables Django's ``LocaleMiddleware``;
* bodies are strict JSON objects: ``application/json`` only, at most :data:`BODY_SIZE_MAX`
  bytes, no ``NaN``, and no key twice (a proxy reading the first of two ``amount`` keys would
  disagree with an API reading the last);
* every answer is ``application/json`` and never cached.

Only refusals become responses (:class:`ApiError`, :class:`~accounts.exceptions.AccountException`
and the throttle's :class:`~accounts.api.throttle.Refused`); anything else is a bug and
propagates like in any Django view.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from decimal import Decimal
from functools import wraps
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext, ngettext
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.openapi.schema import OpenAPISchema
from ninja.parser import Parser

from .. import exceptions
from . import throttle
from .statuses import status_for

#: Longest request body read, in bytes; the API's bodies are a few hundred bytes.
BODY_SIZE_MAX = 16 * 1024
#: The one media type of request and response bodies.
JSON_MEDIA_TYPE = "application/json"
#: Methods whose body is read.
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
#: Longest field name quoted back in an error message.
QUOTED_NAME_LENGTH_MAX = 64


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


Refusal = ApiError | exceptions.AccountException | throttle.Refused

#: The challenge of every 401: an API key (preferred) or a username and password.
AUTH_CHALLENGE = 'Bearer realm="accounts api", Basic realm="accounts api", charset="UTF-8"'


def unauthenticated(code: str, message: str) -> ApiError:
    """A 401 refusal, with the challenge that names the schemes a client may use."""
    return ApiError(401, code, message, headers={"WWW-Authenticate": AUTH_CHALLENGE})


def json_response(
    data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> HttpResponse:
    """Answer ``data`` as JSON, never cached: balances and codes must not linger in caches."""
    response = JsonResponse(data, status=status, safe=False)
    for name, value in (headers or {}).items():
        response[name] = value
    add_never_cache_headers(response)
    return response


def error_response(error: Refusal) -> HttpResponse:
    headers = error.headers if isinstance(error, ApiError) else {}
    if isinstance(error, throttle.Refused) and error.retry_after_seconds is not None:
        headers = {"Retry-After": str(error.retry_after_seconds)}
    status = (
        status_for(error) if isinstance(error, exceptions.AccountException) else error.http_status
    )
    return json_response(
        {"code": error.code, "message": error.message}, status=status, headers=headers
    )


# -- request bodies --------------------------------------------------------------------------


def require_json_body(request: HttpRequest) -> None:
    """Refuse a body that is not a non-empty ``application/json`` body of a bearable size.

    Every POST must be sent as ``application/json`` (``; charset=utf-8`` allowed), even one
    whose body is just ``{}``; anything else is 415. Besides being the API's format, this keeps
    browsers out: a page on another site cannot send that content type without a CORS
    preflight, which the API never grants, so credentials a browser cached cannot be abused.
    Run before the body is parsed, because ninja does not call the parser for an empty body.
    """
    charset = (request.content_params or {}).get("charset")
    if request.content_type != JSON_MEDIA_TYPE or (
        charset is not None and charset.lower() != "utf-8"
    ):
        raise ApiError(
            415,
            "unsupported_media_type",
            gettext("Send the body as application/json (optionally with charset=utf-8)."),
        )
    too_large = _too_large()
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > BODY_SIZE_MAX:
        raise too_large
    try:
        body = request.body
    except RequestDataTooBig:
        raise too_large from None
    if len(body) > BODY_SIZE_MAX:
        raise too_large
    if not body:
        raise ApiError(
            400, "invalid_json", gettext("The body must be a JSON object; send {} for none.")
        )


def _too_large() -> ApiError:
    return ApiError(
        413,
        "body_too_large",
        ngettext(
            "The body may hold at most %(limit)d byte.",
            "The body may hold at most %(limit)d bytes.",
            BODY_SIZE_MAX,
        )
        % {"limit": BODY_SIZE_MAX},
    )


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ApiError(
                400,
                "duplicate_key",
                gettext("The key %(key)s appears more than once in an object.")
                % {"key": repr(key[:QUOTED_NAME_LENGTH_MAX])},
            )
        result[key] = value
    return result


def parse_json_object(body: bytes) -> dict[str, Any]:
    """Parse ``body`` as one strict JSON object; numbers with a fraction are read as Decimal."""
    try:
        data = json.loads(
            body.decode("utf-8"),
            parse_float=Decimal,
            parse_constant=_refuse_constant,
            object_pairs_hook=_object_without_duplicates,
        )
    except ApiError:
        raise
    except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise ApiError(400, "invalid_json", gettext("The body is not valid JSON.")) from None
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_json", gettext("The body must be a JSON object."))
    return data


class StrictJsonParser(Parser):
    """ninja's body parser, refusing duplicate keys, ``NaN`` and anything but an object."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        return parse_json_object(request.body)


# -- refusals ninja makes, in the API's words --------------------------------------------------

#: pydantic error types with a code of their own; the schemas raise the API's codes directly.
_CODE_OF_ERROR_TYPE = {"extra_forbidden": "unknown_field", "missing": "missing_field"}
#: Codes the schemas raise themselves (see ``accounts.api.schemas``).
FIELD_ERROR_CODES = frozenset(
    {
        "invalid_field",
        "invalid_amount",
        "amount_must_be_decimal",
        "invalid_currency",
        "invalid_datetime",
    }
)


#: The step pydantic adds to an error's location inside a union, such as an optional field's
#: ``function-plain[validate()]``: the member's name, never a name clients sent.
_UNION_MEMBER = re.compile(r"[\w-]+\[.*\]")


def _field_name(location: tuple[Any, ...]) -> str:
    """The field a ninja error location names: ``("body", "payload", "amount")`` is amount."""
    source, *parts = location
    if source == "body" and len(parts) > 1:
        parts = parts[1:]  # the view's name for the body, which clients never see
    parts = [p for p in parts if not (isinstance(p, str) and _UNION_MEMBER.fullmatch(p))]
    return ".".join(str(part) for part in parts)[:QUOTED_NAME_LENGTH_MAX] or str(source)


def validation_refusal(errors: list[dict[str, Any]]) -> ApiError:
    """The one refusal to report for ninja's validation ``errors``.

    Unknown fields first (a misspelt field explains the missing one), then missing fields,
    then the first other error in field order. The schemas' own refusals carry a whole
    sentence, already in the active language, with ``%(field)s`` where the field's name goes
    and their other values in the error's context.
    """

    def rank(error: dict[str, Any]) -> int:
        return {"extra_forbidden": 0, "missing": 1}.get(error["type"], 2)

    error = min(errors, key=rank)
    field = repr(_field_name(tuple(error["loc"])))
    kind = error["type"]
    if kind == "extra_forbidden":
        return ApiError(
            400, "unknown_field", gettext("Unknown field: %(field)s.") % {"field": field}
        )
    if kind == "missing":
        return ApiError(
            400, "missing_field", gettext("The field %(field)s is required.") % {"field": field}
        )
    if kind in FIELD_ERROR_CODES:
        return ApiError(400, kind, str(error["msg"]) % {**error.get("ctx", {}), "field": field})
    # pydantic's own words (it has no translations), inside a sentence of ours.
    reason = str(error.get("msg", "")).rstrip(".")
    return ApiError(
        400,
        "invalid_field",
        gettext("The field %(field)s is invalid: %(reason)s.") % {"field": field, "reason": reason},
    )


def _unauthenticated(request: HttpRequest, error: Any) -> HttpResponse:
    # No authentication class recognised the request: it carried no credentials at all.
    return error_response(
        unauthenticated(
            "not_authenticated", gettext("Authentication credentials were not provided.")
        )
    )


def _http_error(request: HttpRequest, error: Any) -> HttpResponse:
    # ninja wraps whatever the body parser raises in HttpError(400, ...) "from" it.
    if isinstance(error.__cause__, ApiError):
        return error_response(error.__cause__)
    return error_response(ApiError(error.status_code, "invalid_request", str(error)))


def _body_too_large(request: HttpRequest, error: Any) -> HttpResponse:
    return error_response(_too_large())


def _refused(request: HttpRequest, error: Any) -> HttpResponse:
    return error_response(error)


def _invalid(request: HttpRequest, error: Any) -> HttpResponse:
    return error_response(validation_refusal(error.errors))


# -- the API object -------------------------------------------------------------------------


class JsonApi(NinjaAPI):
    """A NinjaAPI that answers in the API's error format, never cached, with its OpenAPI extras.

    The error schema is added to the document's components, where every operation's error
    responses point (see :mod:`accounts.api.openapi`); the server URL is the mount point, so
    the paths read ``/v1/...`` as they always have.
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("parser", StrictJsonParser())
        super().__init__(**kwargs)
        self.add_exception_handler(ApiError, _refused)
        self.add_exception_handler(exceptions.AccountException, _refused)
        self.add_exception_handler(throttle.Refused, _refused)
        self.add_exception_handler(ValidationError, _invalid)
        self.add_exception_handler(AuthenticationError, _unauthenticated)
        self.add_exception_handler(HttpError, _http_error)
        self.add_exception_handler(RequestDataTooBig, _body_too_large)

    def get_content_type(self) -> str:
        return JSON_MEDIA_TYPE

    def create_response(self, request: HttpRequest, data: Any, **kwargs: Any) -> HttpResponse:
        response = super().create_response(request, data, **kwargs)
        add_never_cache_headers(response)
        return response

    def document(self, *, server_url: str, error_schema: dict[str, Any]) -> OpenAPISchema:
        """The OpenAPI document, with ``server_url`` as the server and the error schema."""
        document = self.get_openapi_schema(path_prefix="")
        document["servers"] = [{"url": server_url}]
        document["components"].setdefault("schemas", {})["Error"] = error_schema
        return document


# -- plain Django views around ninja's ------------------------------------------------------


def method_not_allowed(allowed: str) -> HttpResponse:
    return error_response(
        ApiError(
            405,
            "method_not_allowed",
            gettext("This method is not allowed here; use %(allowed)s.") % {"allowed": allowed},
            headers={"Allow": allowed},
        )
    )


def json_method_not_allowed(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Wrap a ninja view so that a wrong method answers in the API's format.

    ninja answers a method no operation of a path takes with Django's plain-text
    ``HttpResponseNotAllowed`` before any of its hooks run; this is the one place to catch it.
    """

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if isinstance(response, HttpResponseNotAllowed):
            allowed = ", ".join(sorted(m.strip() for m in response["Allow"].split(",")))
            return method_not_allowed(allowed)
        return response

    return wrapped


@csrf_exempt
def not_found(request: HttpRequest, path: str = "") -> HttpResponse:
    """Answer unknown paths under the API's prefix in JSON too."""
    return error_response(ApiError(404, "not_found", gettext("There is no such API endpoint.")))
