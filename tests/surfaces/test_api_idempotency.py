"""The ``Idempotency-Key`` header: a retried POST answers as the first one did, once.

Issue 12: a client retrying ``POST /api/v1/redemptions/`` after a timeout must not charge the
card twice. Every POST that moves money or creates a card takes the header, with the facade's
semantics; the OpenAPI document says so.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from accounts import facade
from accounts.api import views
from accounts.models import Account, IdempotencyKey, Transfer

from ..conftest import ledger_snapshot
from ..factories import UserFactory
from .test_api import basic, error_of, grant_api, post, transfer_url_kwargs

pytestmark = pytest.mark.django_db


@pytest.fixture
def api_user(db):
    return grant_api(UserFactory())


@pytest.fixture
def auth(api_user):
    return basic(api_user)


@pytest.fixture
def card(db):
    return facade.create_card(amount=Decimal("50.00"), name="Card")


@pytest.fixture
def redemption(card, api_user):
    """A redemption of 40.00 from ``card`` that ``api_user`` made."""
    return facade.transfer(card, Account.objects.sales(), Decimal("40.00"), user=api_user)


def keyed(auth, key):
    return {**auth, "HTTP_IDEMPOTENCY_KEY": key}


def test_a_retried_redemption_charges_the_card_once(client, auth, card):
    body = {"code": card.code, "amount": "12.50", "merchant_reference": "TILL-7"}
    first = post(client, "redemptions", body, auth=keyed(auth, "till-7-sale-1"))
    before = ledger_snapshot()

    again = post(client, "redemptions", body, auth=keyed(auth, "till-7-sale-1"))

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert ledger_snapshot() == before
    card.refresh_from_db()
    assert card.balance == Decimal("37.50")
    assert Transfer.objects.filter(source=card).count() == 1


def test_without_the_header_a_retry_is_a_second_redemption(client, auth, card):
    body = {"code": card.code, "amount": "12.50"}
    assert post(client, "redemptions", body, auth=auth).status_code == 201
    assert post(client, "redemptions", body, auth=auth).status_code == 201
    assert Transfer.objects.filter(source=card).count() == 2


def test_a_replay_shows_the_transfer_as_it_is_now(client, auth, card):
    body = {"code": card.code, "amount": "12.50"}
    first = post(client, "redemptions", body, auth=keyed(auth, "k-1")).json()
    kwargs = {"reference": first["reference"]}
    post(client, "transfer-refunds", {"amount": "2.50"}, auth=auth, kwargs=kwargs)

    again = post(client, "redemptions", body, auth=keyed(auth, "k-1"))

    assert again.status_code == 201
    assert again.json()["reference"] == first["reference"]
    assert again.json()["refundable_amount"] == "10.00"


def test_the_same_key_with_another_body_is_409_naming_the_fields(client, auth, card, unchanged):
    post(client, "redemptions", {"code": card.code, "amount": "12.50"}, auth=keyed(auth, "k-1"))
    with unchanged():
        response = post(
            client,
            "redemptions",
            {"code": card.code, "amount": "13.00", "description": "Other"},
            auth=keyed(auth, "k-1"),
        )
    assert response.status_code == 409
    assert error_of(response) == "idempotency_conflict"
    assert "amount, description" in response.json()["message"]


def test_another_caller_cannot_replay_a_key_to_see_a_new_cards_code(client, auth):
    created = post(client, "accounts", {"amount": "25.00"}, auth=keyed(auth, "new-card-1"))
    assert created.status_code == 201
    other = basic(grant_api(UserFactory()))

    response = post(client, "accounts", {"amount": "25.00"}, auth=keyed(other, "new-card-1"))

    assert response.status_code == 409
    assert error_of(response) == "idempotency_conflict"
    assert created.json()["account"]["code"] not in response.content.decode()


def test_a_retried_card_creation_creates_one_card(client, auth):
    first = post(client, "accounts", {"amount": "25.00"}, auth=keyed(auth, "new-card-1"))
    again = post(client, "accounts", {"amount": "25.00"}, auth=keyed(auth, "new-card-1"))
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert Account.objects.filter(is_card=True).count() == 1


def test_a_retried_refund_refunds_once(client, auth, card, redemption):
    kwargs = transfer_url_kwargs(redemption)
    first = post(
        client, "transfer-refunds", {"amount": "5.00"}, auth=keyed(auth, "r"), kwargs=kwargs
    )
    again = post(
        client, "transfer-refunds", {"amount": "5.00"}, auth=keyed(auth, "r"), kwargs=kwargs
    )
    assert first.status_code == again.status_code == 201
    assert again.json()["reference"] == first.json()["reference"]
    assert Transfer.objects.filter(parent=redemption).count() == 1


def test_a_retried_reversal_answers_201_again_instead_of_already_reversed(client, auth, redemption):
    kwargs = transfer_url_kwargs(redemption)
    first = post(client, "transfer-reverse", {}, auth=keyed(auth, "rev-1"), kwargs=kwargs)
    again = post(client, "transfer-reverse", {}, auth=keyed(auth, "rev-1"), kwargs=kwargs)
    assert first.status_code == again.status_code == 201
    assert again.json()["reference"] == first.json()["reference"]
    # Without the key, a second reversal is what it always was: refused.
    assert post(client, "transfer-reverse", {}, auth=auth, kwargs=kwargs).status_code == 409


def test_a_refused_redemption_keeps_no_key_and_a_retry_may_succeed(client, auth, card):
    body = {"code": card.code, "amount": "60.00"}
    refused = post(client, "redemptions", body, auth=keyed(auth, "k-1"))
    assert refused.status_code == 409 and error_of(refused) == "insufficient_funds"
    assert not IdempotencyKey.objects.exists()
    post(client, "redemptions", {"code": card.code, "amount": "1.00"}, auth=auth)
    body["amount"] = "49.00"
    assert post(client, "redemptions", body, auth=keyed(auth, "k-1")).status_code == 201


@pytest.mark.parametrize("key", ["", " k", "x" * 256])
def test_a_malformed_key_is_400(client, auth, card, unchanged, key):
    with unchanged():
        response = post(
            client, "redemptions", {"code": card.code, "amount": "1.00"}, auth=keyed(auth, key)
        )
    assert response.status_code == 400
    assert error_of(response) == "invalid_idempotency_key"


def test_looking_a_card_up_ignores_the_header_and_is_safe_to_repeat(client, auth, card):
    for _ in range(2):
        response = post(client, "account-lookup", {"code": card.code}, auth=keyed(auth, "k-1"))
        assert response.status_code == 200
    assert not IdempotencyKey.objects.exists()


MONEY_OPERATIONS = {
    "createAccount",
    "redeem",
    "refund",
    "reverse",
    "authoriseHold",
    "captureHold",
    "voidHold",
}


def test_the_document_declares_the_header_on_every_post_that_moves_money_or_creates_a_card():
    document = views.document()
    declared = {}
    for methods in document["paths"].values():
        for method, operation in methods.items():
            headers = [
                p
                for p in operation.get("parameters", [])
                if p["in"] == "header" and p["name"] == "Idempotency-Key"
            ]
            declared[operation["operationId"]] = (method, headers)
    with_header = {op for op, (_, headers) in declared.items() if headers}
    assert with_header == MONEY_OPERATIONS
    for op in MONEY_OPERATIONS:
        method, (header,) = declared[op]
        assert method == "post"
        assert header["required"] is False
        assert "idempotency_conflict" in header["description"]
    for op in MONEY_OPERATIONS:
        responses = next(
            methods["post"]["responses"]
            for methods in document["paths"].values()
            if methods.get("post", {}).get("operationId") == op
        )
        assert "idempotency_conflict" in responses["409"]["description"]
        assert "invalid_idempotency_key" in responses["400"]["description"]
