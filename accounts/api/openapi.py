"""What the OpenAPI document says beyond what ninja derives from the schemas: the errors.

ninja documents each operation's success response from its schema. Refusals are raised, not
returned, so it cannot know them: each operation lists its error statuses here, with what they
mean and their headers, all pointing at the ``Error`` schema that
:meth:`accounts.api.http.JsonApi.document` adds to the components. The fuzz test checks that
every status the API answers is listed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import throttle
from .http import JSON_MEDIA_TYPE


@dataclass(frozen=True)
class ErrorDoc:
    """How the OpenAPI document describes one error status."""

    description: str
    headers: dict[str, Any] = field(default_factory=dict)


def error_responses(docs: dict[int, ErrorDoc]) -> dict[str, Any]:
    """The ``responses`` part of an operation's ``openapi_extra`` for these error statuses."""
    return {
        "responses": {
            str(status): {
                "description": doc.description,
                **({"headers": doc.headers} if doc.headers else {}),
                "content": {JSON_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Error"}}},
            }
            for status, doc in sorted(docs.items())
        }
    }


BAD_REQUEST = ErrorDoc(
    "Malformed input: invalid JSON, a key given twice, a missing, unknown or ill-typed field, "
    "a bad amount or `Idempotency-Key` (codes such as `invalid_json`, `duplicate_key`, "
    "`missing_field`, `invalid_field`, `amount_must_be_decimal`, `amount_too_precise`, "
    "`invalid_idempotency_key`, `invalid_expiry`)."
)
UNAUTHENTICATED = ErrorDoc(
    "No credentials, or wrong ones (`not_authenticated`, `invalid_credentials`).",
    headers={"WWW-Authenticate": {"required": True, "schema": {"type": "string"}}},
)
FORBIDDEN = ErrorDoc(
    "The user lacks `accounts.use_api` (`permission_denied`), the client is blocked "
    "(`client_blocked`), a session-authenticated request failed the CSRF check "
    "(`csrf_failed`), the user may not spend from this card (`user_not_authorised`), or "
    "the transfer was made, or the hold authorised, by another caller (`not_your_transfer`, "
    "`not_your_hold`)."
)
NOT_FOUND = ErrorDoc(
    "No card has this code, or no transfer or hold on a card this reference "
    "(`account_not_found`, `transfer_not_found`, `hold_not_found`). Counts as a failed lookup."
)
CONFLICT = ErrorDoc(
    "The ledger refuses in its current state: insufficient funds, inactive card, already "
    "reversed, refund above what remains, a hold already resolved, expired or captured above "
    "its amount, or an `Idempotency-Key` already used for another request "
    "(`insufficient_funds`, `account_expired`, `transfer_already_reversed`, "
    "`refund_exceeds_remaining`, `hold_not_pending`, `hold_expired`, `capture_exceeds_hold`, "
    "`idempotency_conflict`, ...)."
)
TOO_LARGE = ErrorDoc("The request body is too large (`body_too_large`).")
UNSUPPORTED = ErrorDoc("The body is not `application/json` (`unsupported_media_type`).")
UNPROCESSABLE = ErrorDoc(
    "A business rule refuses the request: amount outside the load limits, a currency the "
    "ledger does not offer, not a redemption (`amount_out_of_range`, `currency_not_offered`, "
    "`not_a_redemption`, ...)."
)
TOO_MANY = ErrorDoc(
    f"More than {throttle.FAILURES_BEFORE_COOL_OFF - 1} failed lookups within "
    f"{int(throttle.FAILURE_WINDOW.total_seconds() // 60)} minutes: wait `Retry-After` "
    "seconds (`too_many_failed_lookups`).",
    headers={
        "Retry-After": {
            "required": True,
            "description": "Seconds to wait before looking anything up again.",
            "schema": {"type": "integer", "minimum": 1},
        }
    },
)

POST_ERRORS = {
    400: BAD_REQUEST,
    401: UNAUTHENTICATED,
    403: FORBIDDEN,
    409: CONFLICT,
    413: TOO_LARGE,
    415: UNSUPPORTED,
    422: UNPROCESSABLE,
}
GET_ERRORS = {400: BAD_REQUEST, 401: UNAUTHENTICATED, 403: FORBIDDEN}
LOOKUP_ERRORS = {404: NOT_FOUND, 429: TOO_MANY}


def errors(*groups: dict[int, ErrorDoc]) -> dict[str, Any]:
    merged: dict[int, ErrorDoc] = {}
    for group in groups:
        merged.update(group)
    return error_responses(merged)
