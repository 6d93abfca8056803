"""The OpenAPI 3.1 document of the gift-card API, written by hand.

Served at ``v1/openapi.json`` and used by the test suite to fuzz the API with schemathesis, so
it must describe the real requests and responses exactly: every status a view can answer, every
field, which fields may be null. Limits are taken from the modules that enforce them.
"""

from __future__ import annotations

import copy
from typing import Any

from .. import __version__
from ..models import Status, TransferKind
from . import http, throttle

#: Where the document is served, relative to the API's mount point.
OPENAPI_PATH = "v1/openapi.json"

_ERROR_REF = {"$ref": "#/components/schemas/Error"}
_AMOUNT_REF = {"$ref": "#/components/schemas/Amount"}
_TEXT_NULL = {"type": ["string", "null"]}
_MOMENT_NULL = {"type": ["string", "null"], "format": "date-time"}
_AMOUNT_NULL = {"type": ["string", "null"], "pattern": http.AMOUNT_PATTERN}


def _text(max_length: int, description: str) -> dict[str, Any]:
    return {"type": "string", "maxLength": max_length, "description": description}


def _error(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": _ERROR_REF}},
    }
    if headers:
        response["headers"] = headers
    return response


_RESPONSES: dict[str, Any] = {
    "BadRequest": _error(
        "Malformed input: invalid JSON, a missing, unknown or ill-typed field, or a bad amount "
        "(codes such as `invalid_json`, `missing_field`, `amount_must_be_decimal`)."
    ),
    "Unauthenticated": _error(
        "No credentials, or wrong ones (`not_authenticated`, `invalid_credentials`).",
        headers={
            "WWW-Authenticate": {"required": True, "schema": {"type": "string"}},
        },
    ),
    "Forbidden": _error(
        "The user lacks `accounts.use_api` (`permission_denied`), the client is blocked "
        "(`client_blocked`), a session-authenticated request failed the CSRF check "
        "(`csrf_failed`), or the user may not spend from this card (`user_not_authorised`)."
    ),
    "NotFound": _error(
        "No gift card has this code, or no gift-card transfer this reference "
        "(`account_not_found`, `transfer_not_found`). Counts as a failed lookup."
    ),
    "Conflict": _error(
        "The ledger refuses in its current state: insufficient funds, inactive card, already "
        "reversed, refund above what remains (`insufficient_funds`, `account_expired`, "
        "`transfer_already_reversed`, `refund_exceeds_remaining`, ...)."
    ),
    "TooLarge": _error("The request body is too large (`body_too_large`)."),
    "UnsupportedMediaType": _error(
        "The body is not `application/json` (`unsupported_media_type`)."
    ),
    "Unprocessable": _error(
        "A business rule refuses the request: amount outside the load limits, a currency "
        "the ledger does not offer, not a redemption (`amount_out_of_range`, "
        "`currency_not_offered`, `not_a_redemption`, ...)."
    ),
    "TooManyRequests": _error(
        f"More than {throttle.FAILURES_BEFORE_COOL_OFF - 1} failed lookups within "
        f"{int(throttle.FAILURE_WINDOW.total_seconds() // 60)} minutes: wait "
        "`Retry-After` seconds (`too_many_failed_lookups`).",
        headers={
            "Retry-After": {
                "required": True,
                "description": "Seconds to wait before looking anything up again.",
                "schema": {"type": "integer", "minimum": 1},
            }
        },
    ),
}


def _refs(*names: str) -> dict[str, Any]:
    status_of = {
        "BadRequest": "400",
        "Unauthenticated": "401",
        "Forbidden": "403",
        "NotFound": "404",
        "Conflict": "409",
        "TooLarge": "413",
        "UnsupportedMediaType": "415",
        "Unprocessable": "422",
        "TooManyRequests": "429",
    }
    return {status_of[n]: {"$ref": f"#/components/responses/{n}"} for n in names}


def _json_body(schema_name: str) -> dict[str, Any]:
    return {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": f"#/components/schemas/{schema_name}"}}
        },
    }


def _ok(status: str, description: str, schema_name: str) -> dict[str, Any]:
    return {
        status: {
            "description": description,
            "content": {
                "application/json": {"schema": {"$ref": f"#/components/schemas/{schema_name}"}}
            },
        }
    }


_POST_ERRORS = (
    "BadRequest",
    "Unauthenticated",
    "Forbidden",
    "Conflict",
    "TooLarge",
    "UnsupportedMediaType",
    "Unprocessable",
)
_LOOKUP_ERRORS = ("NotFound", "TooManyRequests")

_REFERENCE_PARAMETER = {
    "name": "reference",
    "in": "path",
    "required": True,
    "description": "The transfer's reference, as printed on the receipt (case and dashes "
    "do not matter).",
    "schema": {"type": "string", "minLength": 1, "maxLength": http.CODE_TEXT_LENGTH_MAX},
}

_MERCHANT_REFERENCE = _text(
    http.MERCHANT_REFERENCE_LENGTH_MAX, "Your own reference, such as an order number."
)
_DESCRIPTION = _text(http.DESCRIPTION_LENGTH_MAX, "Free text stored on the transfer.")
_CODE = {
    "type": "string",
    "maxLength": http.CODE_TEXT_LENGTH_MAX,
    "description": "The gift card's code as the customer gives it; case, spaces and dashes "
    "do not matter.",
}

_SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["code", "message"],
        "additionalProperties": False,
        "properties": {
            "code": {"type": "string", "description": "Stable, machine-readable."},
            "message": {"type": "string", "description": "For people; may change."},
        },
    },
    "Amount": {
        "type": "string",
        "pattern": http.AMOUNT_PATTERN,
        "maxLength": http.AMOUNT_LENGTH_MAX,
        "description": 'A decimal amount written as a JSON string, such as "12.50"; JSON '
        "numbers are refused. No more decimal places than the currency allows.",
    },
    "Account": {
        "type": "object",
        "additionalProperties": False,
        "required": [
            "code",
            "name",
            "currency",
            "balance",
            "amount_available",
            "status",
            "is_active",
            "start_date",
            "end_date",
            "created_at",
        ],
        "properties": {
            "code": {"type": "string"},
            "name": {"type": "string"},
            "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
            "balance": _AMOUNT_REF,
            "amount_available": {
                **_AMOUNT_NULL,
                "description": "How much can still be spent; null means no limit.",
            },
            "status": {"type": "string", "enum": [s.value for s in Status]},
            "is_active": {
                "type": "boolean",
                "description": "Open and inside its start/end window: money can move.",
            },
            "start_date": _MOMENT_NULL,
            "end_date": _MOMENT_NULL,
            "created_at": {"type": "string", "format": "date-time"},
        },
    },
    "Leg": {
        "type": "object",
        "additionalProperties": False,
        "required": ["account", "amount", "balance_after"],
        "properties": {
            "account": {"type": "string", "description": "The account's code."},
            "amount": {
                "type": "string",
                "pattern": http.AMOUNT_PATTERN,
                "description": "Signed: a credit is positive, a debit negative.",
            },
            "balance_after": {
                **_AMOUNT_NULL,
                "description": "The gift card's balance after this leg; null for other accounts.",
            },
        },
    },
    "Transfer": {
        "type": "object",
        "additionalProperties": False,
        "required": [
            "reference",
            "kind",
            "amount",
            "currency",
            "source",
            "destination",
            "parent",
            "merchant_reference",
            "description",
            "created_at",
            "refundable_amount",
            "legs",
        ],
        "properties": {
            "reference": {"type": "string"},
            "kind": {"type": "string", "enum": [k.value for k in TransferKind]},
            "amount": _AMOUNT_REF,
            "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
            "source": {"type": "string", "description": "Code of the debited account."},
            "destination": {"type": "string", "description": "Code of the credited account."},
            "parent": {
                **_TEXT_NULL,
                "description": "Reference of the transfer this one refunds or reverses.",
            },
            "merchant_reference": _TEXT_NULL,
            "description": {"type": "string"},
            "created_at": {"type": "string", "format": "date-time"},
            "refundable_amount": {
                **_AMOUNT_REF,
                "description": "What can still be refunded or reversed of this transfer.",
            },
            "legs": {
                "type": "array",
                "minItems": 2,
                "items": {"$ref": "#/components/schemas/Leg"},
            },
        },
    },
    "CreatedAccount": {
        "type": "object",
        "additionalProperties": False,
        "required": ["account", "transfer"],
        "properties": {
            "account": {"$ref": "#/components/schemas/Account"},
            "transfer": {"$ref": "#/components/schemas/Transfer"},
        },
    },
    "CreateAccount": {
        "type": "object",
        "additionalProperties": False,
        "required": ["amount"],
        "properties": {
            "amount": {
                **_AMOUNT_REF,
                "description": "The opening load, within the limits "
                "set by ACCOUNTS_MIN_INITIAL_VALUE and ACCOUNTS_MAX_INITIAL_VALUE.",
            },
            "name": _text(http.NAME_LENGTH_MAX, "A label for the card."),
            "currency": {
                "type": "string",
                "pattern": "^[A-Z]{3}$",
                "description": "ISO 4217; defaults to ACCOUNTS_DEFAULT_CURRENCY. Other "
                "currencies need a source account in that currency.",
            },
            "end_date": {
                "type": "string",
                "format": "date-time",
                "description": "When the card expires, with a UTC offset "
                f"(years {http.YEAR_MIN} to {http.YEAR_MAX}).",
            },
            "merchant_reference": _MERCHANT_REFERENCE,
            "description": _DESCRIPTION,
        },
    },
    "Lookup": {
        "type": "object",
        "additionalProperties": False,
        "required": ["code"],
        "properties": {"code": _CODE},
    },
    "Redeem": {
        "type": "object",
        "additionalProperties": False,
        "required": ["code", "amount"],
        "properties": {
            "code": _CODE,
            "amount": _AMOUNT_REF,
            "merchant_reference": _MERCHANT_REFERENCE,
            "description": _DESCRIPTION,
        },
    },
    "Refund": {
        "type": "object",
        "additionalProperties": False,
        "required": ["amount"],
        "properties": {
            "amount": _AMOUNT_REF,
            "merchant_reference": _MERCHANT_REFERENCE,
            "description": _DESCRIPTION,
        },
    },
    "Reverse": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "merchant_reference": _MERCHANT_REFERENCE,
            "description": _DESCRIPTION,
        },
    },
}

_PATHS: dict[str, Any] = {
    "/v1/accounts/": {
        "post": {
            "operationId": "createAccount",
            "summary": "Create a gift card with a generated code and load it, in one step",
            "requestBody": _json_body("CreateAccount"),
            "responses": {
                **_ok("201", "The new card and its opening load.", "CreatedAccount"),
                **_refs(*_POST_ERRORS),
            },
        }
    },
    "/v1/accounts/lookup/": {
        "post": {
            "operationId": "lookupAccount",
            "summary": "Find a gift card by its code",
            "description": "A POST so that the code, which is the authority to spend the "
            "card, stays out of URLs and access logs.",
            "requestBody": _json_body("Lookup"),
            "responses": {
                **_ok("200", "The card.", "Account"),
                **_refs(*_POST_ERRORS, *_LOOKUP_ERRORS),
            },
        }
    },
    "/v1/redemptions/": {
        "post": {
            "operationId": "redeem",
            "summary": "Spend from a gift card (move the amount to the sales account)",
            "requestBody": _json_body("Redeem"),
            "responses": {
                **_ok("201", "The redemption.", "Transfer"),
                **_refs(*_POST_ERRORS, *_LOOKUP_ERRORS),
            },
        }
    },
    "/v1/transfers/{reference}/": {
        "parameters": [_REFERENCE_PARAMETER],
        "get": {
            "operationId": "getTransfer",
            "summary": "Show a gift-card transfer and its legs",
            "responses": {
                **_ok("200", "The transfer.", "Transfer"),
                **_refs("Unauthenticated", "Forbidden", *_LOOKUP_ERRORS),
            },
        },
    },
    "/v1/transfers/{reference}/refunds/": {
        "parameters": [_REFERENCE_PARAMETER],
        "post": {
            "operationId": "refund",
            "summary": "Refund (part of) a redemption, up to what remains refundable",
            "requestBody": _json_body("Refund"),
            "responses": {
                **_ok("201", "The refund.", "Transfer"),
                **_refs(*_POST_ERRORS, *_LOOKUP_ERRORS),
            },
        },
    },
    "/v1/transfers/{reference}/reverse/": {
        "parameters": [_REFERENCE_PARAMETER],
        "post": {
            "operationId": "reverse",
            "summary": "Reverse what remains of a transfer, once",
            "requestBody": _json_body("Reverse"),
            "responses": {
                **_ok("201", "The reversal.", "Transfer"),
                **_refs(*_POST_ERRORS, *_LOOKUP_ERRORS),
            },
        },
    },
    "/v1/openapi.json": {
        "get": {
            "operationId": "openapi",
            "summary": "This document",
            "security": [],
            "responses": {
                "200": {
                    "description": "The OpenAPI document.",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                }
            },
        }
    },
}

_DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "django-managed-accounts gift-card API",
        "version": __version__,
        "description": "Create, look up, redeem, refund and reverse gift cards. Amounts are "
        'JSON strings. Every error is {"code", "message"}. Authenticate with HTTP Basic '
        "(servers) or a Django session (with CSRF); the user needs accounts.use_api.",
    },
    "security": [{"basicAuth": []}, {"sessionAuth": []}],
    "paths": _PATHS,
    "components": {
        "securitySchemes": {
            "basicAuth": {"type": "http", "scheme": "basic"},
            "sessionAuth": {
                "type": "apiKey",
                "in": "cookie",
                "name": "sessionid",
                "description": "Django's session cookie (SESSION_COOKIE_NAME); unsafe methods "
                "also need the CSRF token in the X-CSRFToken header.",
            },
        },
        "schemas": _SCHEMAS,
        "responses": _RESPONSES,
    },
}


def document(server_url: str = "/") -> dict[str, Any]:
    """Return the OpenAPI document, with the API's mount point as its server URL."""
    result = copy.deepcopy(_DOCUMENT)
    result["servers"] = [{"url": server_url}]
    return result
