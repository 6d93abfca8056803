"""The hold endpoints (two-phase payments): authorise on a card now, capture or void later.

A till authorises an amount on a card (``POST v1/holds/``), found by its code as a redemption
finds it, for the sales account of the card's currency: the card's available amount drops at
once, its balance does not. It later captures all or part of it (a redemption, posted by
:func:`accounts.facade.capture`) or voids it. Money moves only through the facade, which locks
the hold's row and refuses a hold already resolved or past its expiry.

Who may do what follows the corrections' rule (see :mod:`accounts.api.views`): a caller lists,
captures and voids the holds it authorised itself; ``accounts.view_hold`` lets it list every
hold on a card, and ``accounts.change_hold`` lets it capture or void any of them. A hold is
shown by its reference to any caller, as a transfer is: a reference is printed on receipts and
is no authority to spend. Every lookup by code or reference is a throttled step.
"""

from __future__ import annotations

from typing import Annotated, Any

from django.http import HttpRequest
from django.utils.translation import gettext
from ninja import Path, Query, Router

from .. import facade
from ..models import Account, Hold, HoldStatus
from . import auth, openapi, schemas
from .cards import (
    IdempotencyKey,
    find_card,
    find_hold,
    hold_data,
    holds_on_cards,
    transfer_data,
)
from .http import ApiError

#: The permission that lets a caller list every hold on a card, not only its own.
VIEW_ANY_PERMISSION = "accounts.view_hold"
#: The permission that lets a caller capture or void holds other callers authorised.
RESOLVE_ANY_PERMISSION = "accounts.change_hold"
#: The longest page of the list, and the page given when none is asked for.
HOLD_PAGE_SIZE_MAX = 100
HOLD_PAGE_SIZE_DEFAULT = 50
#: The furthest a page may start, so a count past every real list is refused, not scanned.
HOLD_OFFSET_MAX = 1_000_000

router = Router()

HoldReference = Annotated[
    str,
    Path(
        min_length=1,
        max_length=schemas.CODE_TEXT_LENGTH_MAX,
        description="The hold's reference (case and dashes do not matter).",
    ),
]


def check_may_resolve(call: auth.Caller, hold: Hold) -> None:
    """Refuse to capture or void a hold another caller authorised, without the permission."""
    if hold.user_id is not None and hold.user_id == call.user.pk:
        return
    if call.user.has_perm(RESOLVE_ANY_PERMISSION):
        return
    raise ApiError(
        403,
        "not_your_hold",
        gettext(
            "Hold %(reference)s was not authorised by this user; capturing or voiding it needs "
            "the %(permission)s permission."
        )
        % {"reference": hold.reference, "permission": RESOLVE_ANY_PERMISSION},
    )


def _shown(hold: Hold) -> schemas.Hold:
    """The hold as it is now in the database, not as a possibly stale instance says."""
    fresh = Hold.objects.select_related("source", "destination", "transfer").get(pk=hold.pk)
    return hold_data(fresh)


@router.get(
    "v1/holds/",
    url_name="holds",
    operation_id="listHolds",
    summary="List the holds on cards this caller authorised, newest first",
    description="With accounts.view_hold, every hold on a card. Filter by status; pages of "
    f"at most {HOLD_PAGE_SIZE_MAX} with limit and offset.",
    response={200: schemas.HoldList},
    openapi_extra=openapi.errors(openapi.GET_ERRORS),
)
def list_holds(
    request: HttpRequest,
    status: HoldStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=HOLD_PAGE_SIZE_MAX)] = HOLD_PAGE_SIZE_DEFAULT,
    offset: Annotated[int, Query(ge=0, le=HOLD_OFFSET_MAX)] = 0,
) -> Any:
    call = auth.caller(request)
    found = holds_on_cards().order_by("-created_at", "-pk")
    if not call.user.has_perm(VIEW_ANY_PERMISSION):
        found = found.filter(user_id=call.user.pk)
    if status is not None:
        found = found.filter(status=status)
    page = found.select_related("source", "destination", "transfer")[offset : offset + limit]
    return schemas.HoldList(count=found.count(), holds=[hold_data(hold) for hold in page])


@router.post(
    "v1/holds/",
    url_name="holds",
    operation_id="authoriseHold",
    summary="Reserve an amount on a card for the sales account, to capture or void later",
    description="The card's available amount drops at once; its balance does not until the "
    "hold is captured.",
    response={201: schemas.Hold},
    openapi_extra=openapi.errors(openapi.POST_ERRORS, openapi.LOOKUP_ERRORS),
)
def authorise(
    request: HttpRequest, payload: schemas.AuthoriseHold, idempotency_key: IdempotencyKey = None
) -> Any:
    call = auth.caller(request)
    card = find_card(call, payload.code)
    hold = facade.authorise(
        card,
        Account.objects.sales(currency=card.currency),
        payload.amount,
        expires_at=payload.expires_at,
        user=call.user,
        idempotency_key=idempotency_key,
        **schemas.notes(payload, "Authorisation"),
    )
    return _shown(hold)


@router.get(
    "v1/holds/{reference}/",
    url_name="hold",
    operation_id="getHold",
    summary="Show a hold on a card",
    response={200: schemas.Hold},
    openapi_extra=openapi.errors(openapi.GET_ERRORS, openapi.LOOKUP_ERRORS),
)
def hold_detail(request: HttpRequest, reference: HoldReference) -> Any:
    return _shown(find_hold(auth.caller(request), reference))


@router.post(
    "v1/holds/{reference}/capture/",
    url_name="hold-capture",
    operation_id="captureHold",
    summary="Post all or part of a pending hold; the rest is released",
    description="Only the caller that authorised the hold may capture it, unless it holds "
    "accounts.change_hold. An expired hold cannot be captured.",
    response={201: schemas.CapturedHold},
    openapi_extra=openapi.errors(openapi.POST_ERRORS, openapi.LOOKUP_ERRORS),
)
def capture(
    request: HttpRequest,
    reference: HoldReference,
    payload: schemas.CaptureHold,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    call = auth.caller(request)
    hold = find_hold(call, reference)
    check_may_resolve(call, hold)
    posted = facade.capture(
        hold,
        payload.amount,
        user=call.user,
        description=payload.description or "Capture",
        idempotency_key=idempotency_key,
    )
    return schemas.CapturedHold(hold=_shown(hold), transfer=transfer_data(posted))


@router.post(
    "v1/holds/{reference}/void/",
    url_name="hold-void",
    operation_id="voidHold",
    summary="Release a pending hold in full",
    description="Only the caller that authorised the hold may void it, unless it holds "
    "accounts.change_hold.",
    response={200: schemas.Hold},
    openapi_extra=openapi.errors(openapi.POST_ERRORS, openapi.LOOKUP_ERRORS),
)
def void(
    request: HttpRequest,
    reference: HoldReference,
    payload: schemas.VoidHold,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    call = auth.caller(request)
    hold = find_hold(call, reference)
    check_may_resolve(call, hold)
    facade.void(hold, user=call.user, idempotency_key=idempotency_key)
    return _shown(hold)
