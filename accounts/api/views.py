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

import datetime
import re
from decimal import Decimal
from typing import Annotated, Any

from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.urls import reverse as url_reverse
from django.utils.translation import gettext
from django.views.decorators.csrf import csrf_exempt
from ninja import Header, Path

from .. import __version__, codes, conf, facade, money
from ..models import (
    CORE_CODE_PREFIX,
    SALES_CODE,
    SOURCE_CODE,
    Account,
    Kind,
    Status,
    Transaction,
    Transfer,
    TransferKind,
)
from . import auth, openapi, schemas, throttle
from .http import ApiError, JsonApi, json_response, method_not_allowed

#: The permission that lets a caller refund or reverse transfers other callers made.
CORRECT_ANY_PERMISSION = "accounts.correct_any_transfer"
#: Where the OpenAPI document is served, relative to the API's mount point.
OPENAPI_PATH = "v1/openapi.json"

_GROUP = f"[{codes.ALPHABET}]{{{codes.GROUP_SIZE}}}"
#: The shape of a generated reference: ``7KQ2-M9XD-HT4W-PB3N``.
_REFERENCE_RE = re.compile(f"{_GROUP}(-{_GROUP}){{{codes.CODE_LENGTH // codes.GROUP_SIZE - 1}}}")
#: A transfer's reference in a URL. Over-long text is a 400; any other text that does not
#: name a transfer on a card (NUL bytes included) is a 404 that counts as a failed lookup.
Reference = Annotated[
    str,
    Path(
        min_length=1,
        max_length=schemas.CODE_TEXT_LENGTH_MAX,
        description="The transfer's reference, as printed on the receipt (case and dashes do "
        "not matter).",
    ),
]

#: The ``Idempotency-Key`` header every POST that moves money or creates a card takes.
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="Makes the request safe to retry: a request repeated with the same key and "
        "the same body, by the same user, answers as the first one did (201, the same transfer "
        "or card, shown as it is now) and moves no money again; the same key with a different "
        "request is refused with 409 idempotency_conflict, naming the fields that differ. 1 to "
        "255 characters, unique per ledger, kept for ACCOUNTS_IDEMPOTENCY_KEY_RETENTION (30 days "
        "by default). A request refused for a reason of the ledger, such as insufficient funds, "
        "does not keep its key.",
    ),
]

api = JsonApi(
    title="django-managed-accounts card API",
    version=__version__,
    description="Create, look up, redeem, refund and reverse customer cards (gift cards, store "
    'credit). Amounts are JSON strings. Every error is {"code", "message"}. Authenticate with '
    "an API key (Authorization: Bearer), HTTP Basic, or a Django session with its CSRF token; "
    "the user needs accounts.use_api. Card codes are shown masked, except once when a card "
    "is created; accounts that are not cards are shown as null.",
    auth=auth.authentication(),
    urls_namespace="accounts_api",
    openapi_url=None,
    docs_url=None,
)


# -- finding cards and transfers -------------------------------------------------------------


def is_card(account: Account | None) -> bool:
    """Whether the API may see ``account``: a designated card, limited, not a core account."""
    return (
        account is not None
        and account.is_card
        and account.kind == Kind.LIABILITY
        and account.credit_limit is not None
        and not account.code.startswith(CORE_CODE_PREFIX)
    )


def _cards() -> Any:
    """The accounts :func:`is_card` accepts, as a query."""
    return Account.objects.filter(
        is_card=True, kind=Kind.LIABILITY, credit_limit__isnull=False
    ).exclude(code__startswith=CORE_CODE_PREFIX)


def is_sales_account(account: Account, currency: str) -> bool:
    """Whether ``account`` is the core sales account (or its sibling) for ``currency``."""
    return account.currency == currency and account.code in {
        SALES_CODE,
        f"{SALES_CODE}-{currency}",
    }


def is_currency_offered(currency: str) -> bool:
    """Whether cards may be issued in ``currency``: the default, or one with a source account.

    Checked so that API callers cannot fill the chart of accounts with core accounts for
    every three-letter code they can think of; staff open a currency by creating its source
    account (``Account.objects.source(currency=...)``) or a first card in it.
    """
    if currency == conf.default_currency():
        return True
    return Account.objects.filter(
        code__in=[SOURCE_CODE, f"{SOURCE_CODE}-{currency}"], currency=currency
    ).exists()


def _find_card(code: str) -> Account | None:
    # The schema has refused NUL and over-long text, so the query is safe on every database.
    return _cards().filter(code=codes.normalise(code)).first()


def _find_transfer(text: str) -> Transfer | None:
    # References come from the URL: only a generated shape reaches the database.
    reference = codes.normalise(text)
    if not _REFERENCE_RE.fullmatch(reference):
        return None
    on_a_card = Transaction.objects.filter(account__in=_cards())
    return (
        Transfer.objects.filter(reference=reference, pk__in=on_a_card.values("transfer_id"))
        .select_related("source", "destination")
        .first()
    )


def find_card(call: auth.Caller, code: str) -> Account:
    """Return the card with code ``code`` (as a customer typed it) or raise 404."""
    found = throttle.lookup(call.client, lambda: _find_card(code))
    if found is None:
        raise ApiError(404, "account_not_found", gettext("No card has this code."))
    return found


def find_transfer(call: auth.Caller, reference: str) -> Transfer:
    """Return the transfer with ``reference`` if it moved money on a card, or raise 404."""
    found = throttle.lookup(call.client, lambda: _find_transfer(reference))
    if found is None:
        raise ApiError(
            404, "transfer_not_found", gettext("No transfer on a card has this reference.")
        )
    return found


def check_may_correct(call: auth.Caller, original: Transfer) -> None:
    """Refuse to refund or reverse a transfer another caller made, without the permission."""
    if original.user_id is not None and original.user_id == call.user.pk:
        return
    if call.user.has_perm(CORRECT_ANY_PERMISSION):
        return
    raise ApiError(
        403,
        "not_your_transfer",
        gettext(
            "Transfer %(reference)s was not made by this user; correcting it needs the "
            "%(permission)s permission."
        )
        % {"reference": original.reference, "permission": CORRECT_ANY_PERMISSION},
    )


# -- representations -------------------------------------------------------------------------


def _amount(value: Decimal, currency: str) -> str:
    return money.format_amount(value, currency)


def _moment(value: datetime.datetime) -> str:
    """Write an aware datetime as RFC 3339 in UTC (``2026-01-31T12:00:00Z``)."""
    return value.astimezone(datetime.timezone.utc).isoformat().removesuffix("+00:00") + "Z"


def _moment_or_none(value: datetime.datetime | None) -> str | None:
    return None if value is None else _moment(value)


def _card_code(account: Account | None) -> str | None:
    """The masked code of a card; None for any other account, which the API never names."""
    return codes.mask(account.code) if account is not None and is_card(account) else None


def account_data(account: Account, *, full_code: bool = False) -> schemas.Account:
    available = account.amount_available
    return schemas.Account(
        code=account.code if full_code else codes.mask(account.code),
        name=account.name,
        currency=account.currency,
        balance=_amount(account.balance, account.currency),
        amount_available=None if available is None else _amount(available, account.currency),
        status=Status(account.status),
        is_active=account.is_active(),
        start_date=_moment_or_none(account.start_date),
        end_date=_moment_or_none(account.end_date),
        created_at=_moment(account.created_at),
    )


def transfer_data(transfer: Transfer) -> schemas.Transfer:
    """A transfer with its legs; cards are masked, other accounts null, as is their balance."""
    found = (
        Transfer.objects.select_related("source", "destination", "parent")
        .prefetch_related(
            Prefetch(
                "transactions",
                queryset=Transaction.objects.select_related("account").order_by("leg_index"),
            )
        )
        .get(pk=transfer.pk)
    )
    currency = found.currency
    return schemas.Transfer(
        reference=found.reference,
        kind=TransferKind(found.kind),
        amount=_amount(found.amount, currency),
        currency=currency,
        source=_card_code(found.source),
        destination=_card_code(found.destination),
        parent=found.parent.reference if found.parent else None,
        merchant_reference=found.merchant_reference,
        description=found.description,
        created_at=_moment(found.created_at),
        refundable_amount=_amount(facade.refundable_amount(found), currency),
        legs=[
            schemas.Leg(
                account=_card_code(leg.account),
                amount=_amount(leg.amount, leg.currency),
                balance_after=_amount(leg.balance_after, leg.currency)
                if is_card(leg.account) and leg.balance_after is not None
                else None,
            )
            for leg in found.transactions.all()
        ],
    )


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
