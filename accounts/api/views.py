"""The card endpoints, on django-ninja; money moves only through the facade.

Before a view runs, ninja has answered a wrong method (405), authenticated the caller and
checked the ``accounts.use_api`` permission and the client's block (:mod:`accounts.api.auth`),
and validated the body against its schema (:mod:`accounts.api.schemas`). Every refusal is
``{"code": ..., "message": ...}`` (:mod:`accounts.api.http`).

The API sees designated cards only (``Account.is_card``, which the database allows only on a
liability with a credit limit that is not a core account; checked again here). Core accounts,
accounts with no limit and every other account answer 404 as if they did not exist, so no
caller can spend from a source of money by naming its code; a transfer is visible only if one
of its legs is on a card. Responses show card codes masked and other accounts as ``null``: a
reference is printed on receipts and is no authority to spend, so what it shows must not be
either. Only the response that creates a card shows its code, once.

Codes travel in request bodies, never in URLs, so they stay out of access logs; transfer
references appear in URLs. Every lookup by code or reference is one throttled step
(:func:`accounts.api.throttle.lookup`), held only while looking up, never while money moves.

Refunds and reversals are corrections, which the facade trusts its caller to have authorised:
here a caller may correct only the transfers it made itself, unless it holds
``accounts.correct_any_transfer``; a reversal must also be authorised on the account it takes
money from (reversing a load takes it from the card, whose users must agree).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import reverse as url_reverse
from django.utils.translation import gettext
from django.views.decorators.csrf import csrf_exempt

from .. import __version__, facade
from ..models import Account, TransferKind
from . import auth, holds, openapi, schemas
from .cards import (
    CORRECT_ANY_PERMISSION,
    IdempotencyKey,
    Reference,
    account_data,
    check_may_correct,
    find_card,
    find_transfer,
    is_card,
    is_currency_offered,
    is_sales_account,
    transfer_data,
)
from .http import ApiError, JsonApi, json_response, method_not_allowed

__all__ = ["CORRECT_ANY_PERMISSION", "OPENAPI_PATH", "api", "document", "is_card"]

#: Where the OpenAPI document is served, relative to the API's mount point.
OPENAPI_PATH = "v1/openapi.json"

api = JsonApi(
    title="django-managed-accounts card API",
    version=__version__,
    description="Create, look up, redeem, refund and reverse customer cards (gift cards, store "
    "credit), and authorise, capture and void holds on them. Amounts are JSON strings. "
    'Every error is {"code", "message"}. Authenticate with '
    "an API key (Authorization: Bearer), HTTP Basic, or a Django session with its CSRF token; "
    "the user needs accounts.use_api. Card codes are shown masked, except once when a card "
    "is created; accounts that are not cards are shown as null.",
    auth=auth.authentication(),
    urls_namespace="accounts_api",
    openapi_url=None,
    docs_url=None,
)
api.add_router("", holds.router)


# -- endpoints -------------------------------------------------------------------------------


@api.post(
    "v1/accounts/",
    url_name="accounts",
    operation_id="createAccount",
    summary="Create a card with a generated code and load it, in one step",
    response={201: schemas.CreatedAccount},
    openapi_extra=openapi.errors(openapi.POST_ERRORS),
)
def create_account(
    request: HttpRequest, payload: schemas.CreateAccount, idempotency_key: IdempotencyKey = None
) -> Any:
    """The only response that shows a card's code in full: keep it, it is not shown again."""
    call = auth.caller(request)
    fields: dict[str, Any] = {}
    if payload.name is not None:
        fields["name"] = payload.name
    if payload.currency is not None:
        if not is_currency_offered(payload.currency):
            raise ApiError(
                422,
                "currency_not_offered",
                gettext(
                    "Cards in %(currency)s are not offered: the ledger has no source account in "
                    "that currency."
                )
                % {"currency": payload.currency},
            )
        fields["currency"] = payload.currency
    if payload.end_date is not None:
        fields["end_date"] = payload.end_date
    card = facade.create_card(
        amount=payload.amount,
        user=call.user,
        idempotency_key=idempotency_key,
        **schemas.notes(payload),
        **fields,
    )
    load = card.destination_transfers.get()
    return schemas.CreatedAccount(
        account=account_data(card, full_code=True), transfer=transfer_data(load)
    )


@api.post(
    "v1/accounts/lookup/",
    url_name="account-lookup",
    operation_id="lookupAccount",
    summary="Find a card by its code",
    description="A POST so that the code, which is the authority to spend the card, stays "
    "out of URLs and access logs. The answer shows the code masked.",
    response={200: schemas.Account},
    openapi_extra=openapi.errors(openapi.POST_ERRORS, openapi.LOOKUP_ERRORS),
)
def lookup_account(request: HttpRequest, payload: schemas.Lookup) -> Any:
    return account_data(find_card(auth.caller(request), payload.code))


@api.post(
    "v1/redemptions/",
    url_name="redemptions",
    operation_id="redeem",
    summary="Spend from a card (move the amount to the sales account)",
    response={201: schemas.Transfer},
    openapi_extra=openapi.errors(openapi.POST_ERRORS, openapi.LOOKUP_ERRORS),
)
def redeem(
    request: HttpRequest, payload: schemas.Redeem, idempotency_key: IdempotencyKey = None
) -> Any:
    call = auth.caller(request)
    card = find_card(call, payload.code)
    redemption = facade.transfer(
        card,
        Account.objects.sales(currency=card.currency),
        payload.amount,
        user=call.user,
        idempotency_key=idempotency_key,
        **schemas.notes(payload, "Redemption"),
    )
    return transfer_data(redemption)


@api.get(
    "v1/transfers/{reference}/",
    url_name="transfer",
    operation_id="getTransfer",
    summary="Show a transfer on a card and its legs",
    response={200: schemas.Transfer},
    openapi_extra=openapi.errors(openapi.GET_ERRORS, openapi.LOOKUP_ERRORS),
)
def transfer_detail(request: HttpRequest, reference: Reference) -> Any:
    return transfer_data(find_transfer(auth.caller(request), reference))


@api.post(
    "v1/transfers/{reference}/refunds/",
    url_name="transfer-refunds",
    operation_id="refund",
    summary="Refund (part of) a redemption, up to what remains refundable",
    description="Only the caller that made the redemption may refund it, unless it holds "
    "accounts.correct_any_transfer.",
    response={201: schemas.Transfer},
    openapi_extra=openapi.errors(openapi.POST_ERRORS, openapi.LOOKUP_ERRORS),
)
def refund(
    request: HttpRequest,
    reference: Reference,
    payload: schemas.Refund,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    call = auth.caller(request)
    original = find_transfer(call, reference)
    sales = original.destination
    card = original.source
    if (
        original.kind != TransferKind.TRANSFER
        or sales is None
        or not is_sales_account(sales, original.currency)
        or card is None
        or not is_card(card)
    ):
        raise ApiError(
            422,
            "not_a_redemption",
            gettext("Transfer %(reference)s is not a redemption; only redemptions are refunded.")
            % {"reference": original.reference},
        )
    check_may_correct(call, original)
    new = facade.transfer(
        sales,
        card,
        payload.amount,
        parent=original,
        user=call.user,
        idempotency_key=idempotency_key,
        **schemas.notes(payload, "Refund"),
    )
    return transfer_data(new)


@api.post(
    "v1/transfers/{reference}/reverse/",
    url_name="transfer-reverse",
    operation_id="reverse",
    summary="Reverse what remains of a transfer, once",
    description="Only the caller that made the transfer may reverse it, unless it holds "
    "accounts.correct_any_transfer. Reversing a load onto a card that has users takes the "
    "money from that card, so it also needs one of its users or "
    "accounts.spend_from_any_account.",
    response={201: schemas.Transfer},
    openapi_extra=openapi.errors(openapi.POST_ERRORS, openapi.LOOKUP_ERRORS),
)
def reverse(
    request: HttpRequest,
    reference: Reference,
    payload: schemas.Reverse,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    call = auth.caller(request)
    original = find_transfer(call, reference)
    check_may_correct(call, original)
    new = facade.reverse(
        original,
        user=call.user,
        **schemas.notes(payload, "Reversal"),
        authorise=True,
        idempotency_key=idempotency_key,
    )
    return transfer_data(new)


# -- the document ----------------------------------------------------------------------------


@csrf_exempt
def openapi_document(request: HttpRequest) -> HttpResponse:
    """The OpenAPI document of this API, generated by ninja; public, like any documentation."""
    if request.method != "GET":
        return method_not_allowed("GET")
    here = url_reverse("accounts_api:openapi")
    base = here.removesuffix(OPENAPI_PATH).rstrip("/")
    return json_response(document(server_url=base or "/"))


def document(server_url: str = "/") -> dict[str, Any]:
    """The OpenAPI document, with the API's mount point as its server URL."""
    result = api.document(server_url=server_url, error_schema=schemas.Error.model_json_schema())
    result["paths"][f"/{OPENAPI_PATH}"] = {
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
    }
    return dict(result)
