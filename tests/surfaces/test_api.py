"""The gift-card JSON API: every endpoint's success, every refusal, auth, CSRF and throttling."""

from __future__ import annotations

import base64
import datetime
import json
import re
from decimal import Decimal

import pytest
from django.contrib.admin import AdminSite
from django.contrib.auth.models import Permission
from django.contrib.messages.storage.fallback import FallbackStorage
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse
from django.utils import timezone

from accounts import codes, facade
from accounts.api import schemas, throttle, views
from accounts.api.admin import LookupThrottleAdmin
from accounts.models import Account, Kind, LookupThrottle, Transfer, TransferKind

from ..factories import AccountFactory, UserFactory

CODE_SHAPE = re.compile(r"^[2-9A-HJKMNP-Z]{4}(-[2-9A-HJKMNP-Z]{4}){3}$")
UNKNOWN_CODE = "2222-3333-4444-5555"


# -- helpers ---------------------------------------------------------------------------------


def grant_api(user):
    user.user_permissions.add(Permission.objects.get(codename="use_api"))
    return user


def basic(user, password="password"):
    token = base64.b64encode(f"{user.get_username()}:{password}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {token}"}


def post(client, name, body=None, *, auth=None, kwargs=None, content_type="application/json"):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body if body is not None else {})
    return client.post(
        reverse(f"accounts_api:{name}", kwargs=kwargs),
        data=data,
        content_type=content_type,
        **(auth or {}),
    )


def get(client, name, *, auth=None, kwargs=None):
    return client.get(reverse(f"accounts_api:{name}", kwargs=kwargs), **(auth or {}))


def error_of(response):
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"code", "message"}
    return body["code"]


@pytest.fixture
def api_user(db):
    return grant_api(UserFactory())


@pytest.fixture
def auth(api_user):
    return basic(api_user)


@pytest.fixture
def card(db):
    """A gift card with a generated code, holding 50.00."""
    return facade.create_card(amount=Decimal("50.00"), name="Card")


@pytest.fixture
def redemption(card, api_user):
    """A redemption of 40.00 from ``card`` that ``api_user`` (the till) made."""
    return facade.transfer(card, Account.objects.sales(), Decimal("40.00"), user=api_user)


def transfer_url_kwargs(transfer):
    return {"reference": transfer.reference}


# -- create ----------------------------------------------------------------------------------


def test_creating_an_account_generates_a_code_and_loads_it_in_one_step(client, auth):
    response = post(
        client,
        "accounts",
        {"amount": "25.00", "name": "Birthday", "merchant_reference": "ORDER-1"},
        auth=auth,
    )
    assert response.status_code == 201
    body = response.json()
    account, load = body["account"], body["transfer"]
    assert CODE_SHAPE.match(account["code"])
    assert account["balance"] == "25.00"
    assert account["name"] == "Birthday"
    assert account["status"] == "open" and account["is_active"] is True
    assert load["source"] is None  # the source of money is not a card: never named
    assert load["destination"] == codes.mask(account["code"])
    assert load["amount"] == "25.00" and load["merchant_reference"] == "ORDER-1"
    created = Account.objects.get(code=account["code"])
    assert created.balance == Decimal("25.00")
    assert created.is_card
    assert Transfer.objects.get(reference=load["reference"]).source == Account.objects.source()


def test_creating_an_account_accepts_currency_and_end_date(client, auth):
    response = post(
        client,
        "accounts",
        {"amount": "10.00", "currency": "GBP", "end_date": "2099-12-31T23:00:00+01:00"},
        auth=auth,
    )
    assert response.status_code == 201
    assert response.json()["account"]["end_date"] == "2099-12-31T22:00:00Z"


@override_settings(ACCOUNTS_MIN_INITIAL_VALUE=Decimal("5.00"))
def test_creating_an_account_below_the_minimum_load_is_refused_and_leaves_no_account(client, auth):
    before = Account.objects.count()
    response = post(client, "accounts", {"amount": "4.99"}, auth=auth)
    assert response.status_code == 422
    assert error_of(response) == "amount_out_of_range"
    assert Account.objects.count() == before


@override_settings(ACCOUNTS_MAX_INITIAL_VALUE=Decimal("500.00"))
def test_creating_an_account_above_the_maximum_load_is_refused(client, auth):
    response = post(client, "accounts", {"amount": "500.01"}, auth=auth)
    assert response.status_code == 422
    assert error_of(response) == "amount_out_of_range"


def test_a_credit_limit_cannot_be_set_through_the_api(client, auth):
    response = post(client, "accounts", {"amount": "5.00", "credit_limit": "100.00"}, auth=auth)
    assert response.status_code == 400
    assert error_of(response) == "unknown_field"


def test_cards_are_issued_only_in_currencies_the_ledger_has_a_source_for(client, auth, unchanged):
    before = Account.objects.count()
    with unchanged():
        response = post(client, "accounts", {"amount": "5.00", "currency": "EUR"}, auth=auth)
    assert response.status_code == 422
    assert error_of(response) == "currency_not_offered"
    assert Account.objects.count() == before


def test_a_card_in_another_offered_currency_loads_from_that_currencys_source(client, auth):
    euro_source = Account.objects.source(currency="EUR")
    response = post(client, "accounts", {"amount": "5.00", "currency": "EUR"}, auth=auth)
    assert response.status_code == 201
    body = response.json()
    assert body["account"]["currency"] == "EUR"
    assert Transfer.objects.get(reference=body["transfer"]["reference"]).source == euro_source


def test_a_card_in_another_currency_is_redeemed_and_refunded_in_that_currency(client, auth):
    Account.objects.source(currency="EUR")
    card = facade.create_card(amount=Decimal("30.00"), currency="EUR")
    response = post(client, "redemptions", {"code": card.code, "amount": "10.00"}, auth=auth)
    assert response.status_code == 201
    redemption = response.json()
    assert redemption["currency"] == "EUR"
    stored = Transfer.objects.get(reference=redemption["reference"])
    assert stored.destination == Account.objects.sales(currency="EUR")
    refund = post(
        client,
        "transfer-refunds",
        {"amount": "4.00"},
        auth=auth,
        kwargs={"reference": redemption["reference"]},
    )
    assert refund.status_code == 201
    card.refresh_from_db()
    assert card.balance == Decimal("24.00")


@pytest.mark.parametrize(
    "end_date", ["2099-12-31T23:00:00", "tomorrow", "0001-01-01T00:00:00+01:00", 5]
)
def test_an_end_date_must_be_an_aware_iso_datetime(client, auth, end_date):
    response = post(client, "accounts", {"amount": "5.00", "end_date": end_date}, auth=auth)
    assert response.status_code == 400
    assert error_of(response) in {"invalid_datetime", "invalid_field"}


def test_an_invalid_currency_is_refused(client, auth):
    response = post(client, "accounts", {"amount": "5.00", "currency": "gbp"}, auth=auth)
    assert response.status_code == 400
    assert error_of(response) == "invalid_currency"


# -- look up ---------------------------------------------------------------------------------


def test_looking_up_a_card_by_code_shows_its_balance(client, auth, card):
    response = post(client, "account-lookup", {"code": card.code}, auth=auth)
    assert response.status_code == 200
    assert response.json() == {
        "code": codes.mask(card.code),
        "name": "Card",
        "currency": "GBP",
        "balance": "50.00",
        "amount_available": "50.00",
        "posted": "50.00",
        "pending": "0.00",
        "status": "open",
        "is_active": True,
        "start_date": None,
        "end_date": None,
        "created_at": card.created_at.astimezone(datetime.timezone.utc)
        .isoformat()
        .replace("+00:00", "Z"),
    }


def test_a_code_is_found_however_the_customer_types_it(client, auth, card):
    typed = card.code.replace("-", " ").lower()
    response = post(client, "account-lookup", {"code": typed}, auth=auth)
    assert response.status_code == 200
    assert response.json()["code"] == codes.mask(card.code)


def test_an_unknown_code_is_404(client, auth):
    response = post(client, "account-lookup", {"code": UNKNOWN_CODE}, auth=auth)
    assert response.status_code == 404
    assert error_of(response) == "account_not_found"


@pytest.mark.parametrize("code", ["CORE-SOURCE", "CORE-SALES", "CORE-EXPIRED"])
def test_core_accounts_cannot_be_found_by_code(client, auth, code):
    Account.objects.create_core_accounts()
    response = post(client, "account-lookup", {"code": code}, auth=auth)
    assert response.status_code == 404


def test_accounts_that_are_not_gift_cards_are_invisible(client, auth):
    hand_chosen = AccountFactory(code="HOUSE-BILLS")
    asset = AccountFactory(kind=Kind.ASSET)  # a generated code, but not a liability
    for code in (hand_chosen.code, asset.code):
        response = post(client, "account-lookup", {"code": code}, auth=auth)
        assert response.status_code == 404


# -- redeem ----------------------------------------------------------------------------------


def test_redeeming_moves_money_from_the_card_to_sales(client, auth, card):
    sales_before = Account.objects.sales().balance
    response = post(
        client,
        "redemptions",
        {"code": card.code, "amount": "12.50", "merchant_reference": "TILL-7"},
        auth=auth,
    )
    assert response.status_code == 201
    body = response.json()
    assert body["kind"] == "transfer"
    masked = codes.mask(card.code)
    assert body["source"] == masked and body["destination"] is None  # sales is not a card
    assert body["amount"] == "12.50" and body["merchant_reference"] == "TILL-7"
    assert body["refundable_amount"] == "12.50"
    card_leg = next(leg for leg in body["legs"] if leg["account"] == masked)
    sales_leg = next(leg for leg in body["legs"] if leg["account"] is None)
    assert card_leg == {"account": masked, "amount": "-12.50", "balance_after": "37.50"}
    assert sales_leg["amount"] == "12.50" and sales_leg["balance_after"] is None
    card.refresh_from_db()
    assert card.balance == Decimal("37.50")
    assert Account.objects.sales().balance == sales_before + Decimal("12.50")


def test_loads_record_the_api_user(client, api_user):
    response = post(client, "accounts", {"amount": "5.00"}, auth=basic(api_user))
    load = Transfer.objects.get(reference=response.json()["transfer"]["reference"])
    assert load.user == api_user


def test_redemptions_record_the_api_user(client, api_user, card):
    response = post(
        client, "redemptions", {"code": card.code, "amount": "1.00"}, auth=basic(api_user)
    )
    transfer = Transfer.objects.get(reference=response.json()["reference"])
    assert transfer.user == api_user
    assert transfer.username == api_user.get_username()


def test_redeeming_more_than_the_balance_is_409(client, auth, card, unchanged):
    with unchanged():
        response = post(client, "redemptions", {"code": card.code, "amount": "50.01"}, auth=auth)
    assert response.status_code == 409
    assert error_of(response) == "insufficient_funds"


def test_redeeming_from_a_frozen_card_is_409(client, auth, card):
    facade.freeze_account(card)
    response = post(client, "redemptions", {"code": card.code, "amount": "1.00"}, auth=auth)
    assert response.status_code == 409
    assert error_of(response) == "account_frozen"


def test_redeeming_from_an_expired_card_is_409(client, auth, card):
    Account.objects.filter(pk=card.pk).update(end_date=timezone.now() - datetime.timedelta(days=1))
    response = post(client, "redemptions", {"code": card.code, "amount": "1.00"}, auth=auth)
    assert response.status_code == 409
    assert error_of(response) == "account_expired"


def test_redeeming_an_unknown_code_is_404(client, auth, unchanged):
    with unchanged():
        response = post(client, "redemptions", {"code": UNKNOWN_CODE, "amount": "1.00"}, auth=auth)
    assert response.status_code == 404
    assert error_of(response) == "account_not_found"


def test_redeeming_a_card_that_belongs_to_someone_else_is_403(client, auth):
    owned = facade.create_card(amount=Decimal("20.00"), primary_user=UserFactory())
    response = post(client, "redemptions", {"code": owned.code, "amount": "1.00"}, auth=auth)
    assert response.status_code == 403
    assert error_of(response) == "user_not_authorised"


def test_redeeming_with_more_places_than_the_currency_allows_is_400(client, auth, card):
    response = post(client, "redemptions", {"code": card.code, "amount": "1.005"}, auth=auth)
    assert response.status_code == 400
    assert error_of(response) == "amount_too_precise"


# -- transfers -------------------------------------------------------------------------------


def test_looking_up_a_transfer_shows_it_with_its_legs(client, auth, card, redemption):
    response = get(client, "transfer", auth=auth, kwargs=transfer_url_kwargs(redemption))
    assert response.status_code == 200
    body = response.json()
    assert body["reference"] == redemption.reference
    assert body["amount"] == "40.00" and body["parent"] is None
    assert [leg["amount"] for leg in body["legs"]] == ["-40.00", "40.00"]
    assert body["legs"][0]["balance_after"] == "10.00"


def test_a_reference_is_found_however_it_is_typed(client, auth, redemption):
    typed = redemption.reference.replace("-", "").lower()
    response = get(client, "transfer", auth=auth, kwargs={"reference": typed})
    assert response.status_code == 200


def test_an_unknown_reference_is_404(client, auth):
    response = get(client, "transfer", auth=auth, kwargs={"reference": UNKNOWN_CODE})
    assert response.status_code == 404
    assert error_of(response) == "transfer_not_found"


def test_transfers_that_touch_no_gift_card_are_invisible(client, auth, source):
    ledger = AccountFactory(code="HOUSE-RENT")
    internal = facade.transfer(source, ledger, Decimal("5.00"))
    response = get(client, "transfer", auth=auth, kwargs=transfer_url_kwargs(internal))
    assert response.status_code == 404


# -- refund ----------------------------------------------------------------------------------


def test_refunding_part_of_a_redemption_returns_it_to_the_card(client, auth, card, redemption):
    response = post(
        client,
        "transfer-refunds",
        {"amount": "15.00"},
        auth=auth,
        kwargs=transfer_url_kwargs(redemption),
    )
    assert response.status_code == 201
    body = response.json()
    assert body["kind"] == TransferKind.REFUND
    assert body["parent"] == redemption.reference
    assert body["source"] is None and body["destination"] == codes.mask(card.code)
    card.refresh_from_db()
    assert card.balance == Decimal("25.00")
    assert facade.refundable_amount(redemption) == Decimal("25.00")


def test_refunds_are_capped_by_what_remains_refundable(client, auth, redemption, unchanged):
    kwargs = transfer_url_kwargs(redemption)
    assert (
        post(client, "transfer-refunds", {"amount": "30.00"}, auth=auth, kwargs=kwargs).status_code
        == 201
    )
    with unchanged():
        response = post(client, "transfer-refunds", {"amount": "10.01"}, auth=auth, kwargs=kwargs)
    assert response.status_code == 409
    assert error_of(response) == "refund_exceeds_remaining"
    assert (
        post(client, "transfer-refunds", {"amount": "10.00"}, auth=auth, kwargs=kwargs).status_code
        == 201
    )
    again = post(client, "transfer-refunds", {"amount": "0.01"}, auth=auth, kwargs=kwargs)
    assert again.status_code == 409
    assert error_of(again) == "transfer_already_reversed"


def test_only_redemptions_can_be_refunded(client, auth, card):
    load = card.destination_transfers.get()
    response = post(
        client, "transfer-refunds", {"amount": "1.00"}, auth=auth, kwargs=transfer_url_kwargs(load)
    )
    assert response.status_code == 422
    assert error_of(response) == "not_a_redemption"


def test_refunding_an_unknown_reference_is_404(client, auth):
    response = post(
        client,
        "transfer-refunds",
        {"amount": "1.00"},
        auth=auth,
        kwargs={"reference": UNKNOWN_CODE},
    )
    assert response.status_code == 404


# -- reverse ---------------------------------------------------------------------------------


def test_reversing_a_redemption_returns_the_money(client, auth, card, redemption):
    response = post(
        client,
        "transfer-reverse",
        {"description": "Till error"},
        auth=auth,
        kwargs=transfer_url_kwargs(redemption),
    )
    assert response.status_code == 201
    body = response.json()
    assert body["kind"] == "reversal" and body["parent"] == redemption.reference
    assert body["description"] == "Till error"
    assert body["refundable_amount"] == "0.00"
    card.refresh_from_db()
    assert card.balance == Decimal("50.00")


def test_reversing_takes_an_empty_json_object(client, auth, redemption):
    response = post(
        client, "transfer-reverse", {}, auth=auth, kwargs=transfer_url_kwargs(redemption)
    )
    assert response.status_code == 201


def test_a_post_without_a_json_content_type_is_refused_even_when_empty(client, auth, redemption):
    # A page on another site can send this request (no preflight) with credentials a browser
    # cached; without the JSON content type it must do nothing.
    url = reverse("accounts_api:transfer-reverse", kwargs=transfer_url_kwargs(redemption))
    response = client.generic("POST", url, **auth)
    assert response.status_code == 415
    assert facade.refundable_amount(redemption) == Decimal("40.00")


def test_reversing_twice_is_409(client, auth, redemption, unchanged):
    kwargs = transfer_url_kwargs(redemption)
    assert post(client, "transfer-reverse", auth=auth, kwargs=kwargs).status_code == 201
    with unchanged():
        response = post(client, "transfer-reverse", auth=auth, kwargs=kwargs)
    assert response.status_code == 409
    assert error_of(response) == "transfer_already_reversed"


def test_reversing_a_reversal_is_409(client, auth, api_user, redemption):
    reversal = facade.reverse(redemption, user=api_user)
    response = post(client, "transfer-reverse", auth=auth, kwargs=transfer_url_kwargs(reversal))
    assert response.status_code == 409
    assert error_of(response) == "cannot_reverse_a_reversal"


# -- malformed input -------------------------------------------------------------------------


@pytest.mark.parametrize("amount", [12.5, 12, 0.1])
def test_an_amount_sent_as_a_json_number_is_400(client, auth, card, amount):
    response = post(client, "redemptions", {"code": card.code, "amount": amount}, auth=auth)
    assert response.status_code == 400
    assert error_of(response) == "amount_must_be_decimal"


@pytest.mark.parametrize("amount", ["12,50", "1e3", " 1.00", "1.00\n", "NaN", "", "½"])
def test_an_amount_that_is_not_a_plain_decimal_string_is_400(client, auth, card, amount):
    response = post(client, "redemptions", {"code": card.code, "amount": amount}, auth=auth)
    assert response.status_code == 400
    assert error_of(response) == "invalid_amount"


@pytest.mark.parametrize("amount", ["0", "-5.00", "0.00"])
def test_an_amount_that_is_not_positive_is_400(client, auth, card, amount):
    response = post(client, "redemptions", {"code": card.code, "amount": amount}, auth=auth)
    assert response.status_code == 400
    assert error_of(response) == "amount_must_be_positive"


@pytest.mark.parametrize(
    "body", ["{", "[1, 2]", '"text"', '{"amount": NaN}', "[" * 5000, "\xff\xfe"]
)
def test_a_body_that_is_not_a_json_object_is_400(client, auth, body):
    response = post(client, "accounts", body, auth=auth)
    assert response.status_code == 400
    assert error_of(response) == "invalid_json"


def test_a_missing_field_is_400(client, auth):
    response = post(client, "redemptions", {"amount": "1.00"}, auth=auth)
    assert response.status_code == 400
    assert error_of(response) == "missing_field"


@pytest.mark.parametrize("name", [None, 5, "x" * 129, "nul\x00byte", "\ud800"])
def test_a_bad_text_field_is_400(client, auth, name):
    body = json.dumps({"amount": "5.00", "name": name})
    response = post(client, "accounts", body, auth=auth)
    assert response.status_code == 400
    assert error_of(response) == "invalid_field"


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin-1"],
)
def test_a_body_that_is_not_json_is_415(client, auth, card, content_type):
    body = json.dumps({"code": card.code})
    response = post(client, "account-lookup", body, auth=auth, content_type=content_type)
    assert response.status_code == 415
    assert error_of(response) == "unsupported_media_type"


def test_json_with_a_utf8_charset_is_accepted(client, auth, card):
    response = post(
        client,
        "account-lookup",
        {"code": card.code},
        auth=auth,
        content_type="application/json; charset=utf-8",
    )
    assert response.status_code == 200


def test_a_body_over_the_size_limit_is_413(client, auth):
    response = post(client, "accounts", {"amount": "1.00", "name": "x" * 20_000}, auth=auth)
    assert response.status_code == 413
    assert error_of(response) == "body_too_large"


@pytest.mark.parametrize(
    "method, name, kwargs",
    [
        ("get", "accounts", None),
        ("put", "redemptions", None),
        ("delete", "transfer", {"reference": UNKNOWN_CODE}),
        ("post", "openapi", None),
    ],
)
def test_a_wrong_method_is_405_with_the_allowed_ones(client, auth, method, name, kwargs):
    response = getattr(client, method)(reverse(f"accounts_api:{name}", kwargs=kwargs), **auth)
    assert response.status_code == 405
    assert error_of(response) == "method_not_allowed"
    assert response["Allow"] in {"GET", "POST"}


def test_an_unknown_path_under_the_api_is_a_json_404(client, auth):
    response = client.get("/api/v2/nothing-here", **auth)
    assert response.status_code == 404
    assert error_of(response) == "not_found"


def test_responses_are_never_cached(client, auth, card):
    response = post(client, "account-lookup", {"code": card.code}, auth=auth)
    assert "no-store" in response["Cache-Control"]


# -- authentication and permission -----------------------------------------------------------


def test_anonymous_requests_get_401_with_a_bearer_and_a_basic_challenge(client, card):
    response = post(client, "account-lookup", {"code": card.code})
    assert response.status_code == 401
    assert error_of(response) == "not_authenticated"
    challenge = response["WWW-Authenticate"]
    assert challenge.startswith("Bearer ")  # API keys first: they are the way for tills
    assert ", Basic " in challenge


@pytest.mark.parametrize(
    "header",
    [
        "Basic " + base64.b64encode(b"user0:wrong").decode(),
        "Basic not-base64!",
        "Basic " + base64.b64encode(b"no-colon").decode(),
        "Bearer abc",
    ],
)
def test_bad_credentials_get_401(client, api_user, header):
    response = post(client, "accounts", {"amount": "1.00"}, auth={"HTTP_AUTHORIZATION": header})
    assert response.status_code == 401
    assert error_of(response) == "invalid_credentials"


def test_an_inactive_user_cannot_authenticate(client, api_user):
    api_user.is_active = False
    api_user.save()
    response = post(client, "accounts", {"amount": "1.00"}, auth=basic(api_user))
    assert response.status_code == 401


def test_a_logged_in_user_without_the_api_permission_gets_403(client, user, card):
    client.force_login(user)
    response = post(client, "account-lookup", {"code": card.code})
    assert response.status_code == 403
    assert error_of(response) == "permission_denied"


def test_a_basic_user_without_the_api_permission_gets_403(client, user, card):
    response = post(client, "account-lookup", {"code": card.code}, auth=basic(user))
    assert response.status_code == 403
    assert error_of(response) == "permission_denied"


def test_staff_status_alone_does_not_grant_the_api(client, staff, card):
    response = post(client, "account-lookup", {"code": card.code}, auth=basic(staff))
    assert response.status_code == 403


# -- CSRF ------------------------------------------------------------------------------------


@pytest.fixture
def csrf_client():
    return Client(enforce_csrf_checks=True)


def test_a_session_post_without_a_csrf_token_is_refused(csrf_client, api_user, unchanged):
    csrf_client.force_login(api_user)
    before = Account.objects.count()
    with unchanged():
        response = post(csrf_client, "accounts", {"amount": "5.00"})
    assert response.status_code == 403
    assert error_of(response) == "csrf_failed"
    assert Account.objects.count() == before


def test_a_session_post_with_a_csrf_token_is_accepted(csrf_client, api_user):
    csrf_client.force_login(api_user)
    secret = "a" * 32  # an unmasked CSRF secret is a valid token for itself
    csrf_client.cookies["csrftoken"] = secret
    response = csrf_client.post(
        reverse("accounts_api:accounts"),
        data=json.dumps({"amount": "5.00"}),
        content_type="application/json",
        HTTP_X_CSRFTOKEN=secret,
    )
    assert response.status_code == 201


def test_a_session_get_needs_no_csrf_token(csrf_client, api_user, redemption):
    csrf_client.force_login(api_user)
    response = get(csrf_client, "transfer", kwargs=transfer_url_kwargs(redemption))
    assert response.status_code == 200


def test_a_basic_authenticated_post_needs_no_csrf_token(csrf_client, api_user):
    response = post(csrf_client, "accounts", {"amount": "5.00"}, auth=basic(api_user))
    assert response.status_code == 201


# -- throttling ------------------------------------------------------------------------------


def fail_lookups(client, auth, times):
    for _ in range(times):
        response = post(client, "account-lookup", {"code": UNKNOWN_CODE}, auth=auth)
        assert response.status_code == 404


def let_cool_off_pass(client_key):
    """Move the throttle's clock back, as if the window and cooling-off period had passed."""
    past = timezone.now() - throttle.COOL_OFF - throttle.FAILURE_WINDOW
    LookupThrottle.objects.filter(client=client_key).update(
        cooled_off_until=past, window_started_at=None
    )


def test_repeated_failed_lookups_start_a_cooling_off_period(client, auth, api_user, card):
    fail_lookups(client, auth, throttle.FAILURES_BEFORE_COOL_OFF)
    response = post(client, "account-lookup", {"code": card.code}, auth=auth)
    assert response.status_code == 429
    assert error_of(response) == "too_many_failed_lookups"
    assert 0 < int(response["Retry-After"]) <= throttle.COOL_OFF.total_seconds()
    redeem = post(client, "redemptions", {"code": card.code, "amount": "1.00"}, auth=auth)
    assert redeem.status_code == 429


def test_fewer_failures_than_the_limit_do_not_throttle(client, auth, card):
    fail_lookups(client, auth, throttle.FAILURES_BEFORE_COOL_OFF - 1)
    assert post(client, "account-lookup", {"code": card.code}, auth=auth).status_code == 200


def test_failed_reference_lookups_count_too(client, auth):
    for _ in range(throttle.FAILURES_BEFORE_COOL_OFF):
        assert get(client, "transfer", auth=auth, kwargs={"reference": "nope"}).status_code == 404
    response = get(client, "transfer", auth=auth, kwargs={"reference": "nope"})
    assert response.status_code == 429


def test_lookups_work_again_after_cooling_off(client, auth, api_user, card):
    fail_lookups(client, auth, throttle.FAILURES_BEFORE_COOL_OFF)
    let_cool_off_pass(f"user:{api_user.pk}")
    assert post(client, "account-lookup", {"code": card.code}, auth=auth).status_code == 200


def test_cooling_off_does_not_stop_creating_cards(client, auth):
    fail_lookups(client, auth, throttle.FAILURES_BEFORE_COOL_OFF)
    assert post(client, "accounts", {"amount": "5.00"}, auth=auth).status_code == 201


def test_failures_are_counted_per_client(client, auth, card):
    fail_lookups(client, auth, throttle.FAILURES_BEFORE_COOL_OFF)
    other = basic(grant_api(UserFactory()))
    assert post(client, "account-lookup", {"code": card.code}, auth=other).status_code == 200


def test_many_failed_lookups_block_the_client_for_good(client, auth, api_user, card):
    key = f"user:{api_user.pk}"
    failed = 0
    while failed < throttle.FAILURES_BEFORE_BLOCK:
        batch = min(throttle.FAILURES_BEFORE_COOL_OFF, throttle.FAILURES_BEFORE_BLOCK - failed)
        fail_lookups(client, auth, batch)
        failed += batch
        let_cool_off_pass(key)
    for response in (
        post(client, "account-lookup", {"code": card.code}, auth=auth),
        post(client, "accounts", {"amount": "5.00"}, auth=auth),
    ):
        assert response.status_code == 403
        assert error_of(response) == "client_blocked"
    assert LookupThrottle.objects.get(client=key).blocked_at is not None


def test_staff_lift_a_block_in_the_admin(client, auth, api_user, card, staff):
    key = f"user:{api_user.pk}"
    LookupThrottle.objects.create(
        client=key, total_failures=throttle.FAILURES_BEFORE_BLOCK, blocked_at=timezone.now()
    )
    assert post(client, "account-lookup", {"code": card.code}, auth=auth).status_code == 403

    staff.user_permissions.add(Permission.objects.get(codename="change_lookupthrottle"))
    staff = type(staff).objects.get(pk=staff.pk)  # drop the permission cache
    site = AdminSite()
    model_admin = LookupThrottleAdmin(LookupThrottle, site)
    request = RequestFactory().post("/admin/")
    request.user = staff
    request.session = {}
    request._messages = FallbackStorage(request)
    assert "lift" in model_admin.get_actions(request)
    model_admin.lift(request, LookupThrottle.objects.filter(client=key))

    row = LookupThrottle.objects.get(client=key)
    assert row.blocked_at is None and row.total_failures == 0
    assert post(client, "account-lookup", {"code": card.code}, auth=auth).status_code == 200


def test_the_lift_action_needs_the_change_permission(staff):
    request = RequestFactory().post("/admin/")
    request.user = staff
    model_admin = LookupThrottleAdmin(LookupThrottle, AdminSite())
    assert "lift" not in model_admin.get_actions(request)


def test_a_client_without_a_user_is_known_by_its_address():
    request = RequestFactory().get("/", REMOTE_ADDR="203.0.113.9")
    assert throttle.client_key(request) == "ip:203.0.113.9"


# -- the schema ------------------------------------------------------------------------------


def test_the_openapi_document_is_served_without_authentication(client):
    response = get(client, "openapi")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.1")
    assert document["servers"] == [{"url": "/api"}]
    assert "/v1/redemptions/" in document["paths"]


# -- cards only (issue 9, finding 1) ------------------------------------------------------------


@pytest.fixture
def readme_bank(db):
    """The README's old quick start: a liability with a generated code and no credit limit."""
    bank = Account.objects.create(name="Bank", credit_limit=None)
    assert CODE_SHAPE.match(bank.code) and bank.kind == Kind.LIABILITY
    return bank


def test_a_source_of_money_cannot_be_spent_or_seen_through_the_api(client, auth, readme_bank):
    before = readme_bank.balance
    redeem = post(
        client, "redemptions", {"code": readme_bank.code, "amount": "100000.00"}, auth=auth
    )
    assert redeem.status_code == 404
    assert error_of(redeem) == "account_not_found"
    lookup = post(client, "account-lookup", {"code": readme_bank.code}, auth=auth)
    assert lookup.status_code == 404
    readme_bank.refresh_from_db()
    assert readme_bank.balance == before


def test_an_account_that_is_not_designated_a_card_is_invisible(client, auth, funded):
    # A liability with a generated code and a limit: what the API used to take for a card.
    assert CODE_SHAPE.match(funded.code) and not funded.is_card
    for name, body in [
        ("account-lookup", {"code": funded.code}),
        ("redemptions", {"code": funded.code, "amount": "1.00"}),
    ]:
        response = post(client, name, body, auth=auth)
        assert response.status_code == 404
        assert error_of(response) == "account_not_found"
    funded.refresh_from_db()
    assert funded.balance == Decimal("100.00")


def test_transfers_that_touch_no_designated_card_are_invisible(client, api_user, funded):
    load = funded.destination_transfers.get()
    grant_correct_any(api_user)
    auth = basic(api_user)
    kwargs = transfer_url_kwargs(load)
    for response in (
        get(client, "transfer", auth=auth, kwargs=kwargs),
        post(client, "transfer-reverse", {}, auth=auth, kwargs=kwargs),
        post(client, "transfer-refunds", {"amount": "1.00"}, auth=auth, kwargs=kwargs),
    ):
        assert response.status_code == 404
        assert error_of(response) == "transfer_not_found"
    assert facade.refundable_amount(load) == Decimal("100.00")


def test_the_api_refuses_what_is_not_a_limited_card_even_if_flagged():
    # The database refuses such flags; the API does not rely on that alone.
    assert views.is_card(Account(is_card=True, kind=Kind.LIABILITY, credit_limit=Decimal(0)))
    for account in (
        Account(is_card=False, kind=Kind.LIABILITY, credit_limit=Decimal(0)),
        Account(is_card=True, kind=Kind.LIABILITY, credit_limit=None),
        Account(is_card=True, kind=Kind.ASSET, credit_limit=Decimal(0)),
        Account(is_card=True, kind=Kind.LIABILITY, credit_limit=Decimal(0), code="CORE-X"),
        None,
    ):
        assert not views.is_card(account)


def test_cards_made_through_the_api_are_designated_cards(client, auth):
    response = post(client, "accounts", {"amount": "5.00"}, auth=auth)
    created = Account.objects.get(code=response.json()["account"]["code"])
    assert created.is_card and created.kind == Kind.LIABILITY
    assert created.credit_limit == Decimal("0.00")


# -- no full codes (finding 2) -------------------------------------------------------------------


def test_only_the_creation_response_shows_a_card_s_full_code(client, auth, api_user):
    created = post(client, "accounts", {"amount": "30.00"}, auth=auth)
    assert created.status_code == 201
    code = created.json()["account"]["code"]
    assert created.content.decode().count(code) == 1  # account.code only, not the load
    masked = codes.mask(code)
    assert masked.endswith(code[-4:]) and masked.startswith("****-")
    load = created.json()["transfer"]["reference"]

    redeemed = post(client, "redemptions", {"code": code, "amount": "10.00"}, auth=auth)
    reference = redeemed.json()["reference"]
    answers = [
        post(client, "account-lookup", {"code": code}, auth=auth),
        redeemed,
        get(client, "transfer", auth=auth, kwargs={"reference": reference}),
        get(client, "transfer", auth=auth, kwargs={"reference": load}),
        post(
            client,
            "transfer-refunds",
            {"amount": "1.00"},
            auth=auth,
            kwargs={"reference": reference},
        ),
        post(client, "transfer-reverse", {}, auth=auth, kwargs={"reference": reference}),
    ]
    for response in answers:
        assert response.status_code in {200, 201}, response.content
        text = response.content.decode()
        assert code not in text
        assert masked in text


def test_accounts_that_are_not_cards_are_shown_as_null(client, auth, card, redemption):
    body = get(client, "transfer", auth=auth, kwargs=transfer_url_kwargs(redemption)).json()
    assert body["source"] == codes.mask(card.code)
    assert body["destination"] is None
    assert [leg["account"] for leg in body["legs"]] == [codes.mask(card.code), None]
    assert "CORE-" not in json.dumps(body)


def test_refusal_messages_do_not_show_a_card_s_code(client, auth):
    unnamed = facade.create_card(amount=Decimal("5.00"))
    facade.freeze_account(unnamed)
    response = post(client, "redemptions", {"code": unnamed.code, "amount": "1.00"}, auth=auth)
    assert response.status_code == 409
    message = response.json()["message"]
    assert unnamed.code not in message
    assert codes.mask(unnamed.code) in message
    short = post(client, "redemptions", {"code": unnamed.code, "amount": "9.00"}, auth=auth)
    assert unnamed.code not in short.content.decode()


# -- corrections only of one's own transfers (finding 3) -----------------------------------------


def grant_correct_any(user):
    user.user_permissions.add(Permission.objects.get(codename="correct_any_transfer"))
    return user


@pytest.fixture
def other_till(db):
    return grant_api(UserFactory())


@pytest.fixture
def others_redemption(card, other_till):
    return facade.transfer(card, Account.objects.sales(), Decimal("40.00"), user=other_till)


@pytest.mark.parametrize(
    "name, body", [("transfer-reverse", {}), ("transfer-refunds", {"amount": "5.00"})]
)
def test_a_till_cannot_correct_another_till_s_redemption(
    client, auth, others_redemption, unchanged, name, body
):
    with unchanged():
        response = post(
            client, name, body, auth=auth, kwargs=transfer_url_kwargs(others_redemption)
        )
    assert response.status_code == 403
    assert error_of(response) == "not_your_transfer"


@pytest.mark.parametrize(
    "name, body", [("transfer-reverse", {}), ("transfer-refunds", {"amount": "5.00"})]
)
def test_correct_any_transfer_lets_a_till_correct_another_s(
    client, api_user, others_redemption, name, body
):
    grant_correct_any(api_user)
    kwargs = transfer_url_kwargs(others_redemption)
    response = post(client, name, body, auth=basic(api_user), kwargs=kwargs)
    assert response.status_code == 201
    assert Transfer.objects.get(reference=response.json()["reference"]).user == api_user


def test_transfers_made_by_nobody_need_the_permission_too(client, auth, card, unchanged):
    staff_redemption = facade.transfer(card, Account.objects.sales(), Decimal("5.00"))
    with unchanged():
        response = post(
            client, "transfer-reverse", {}, auth=auth, kwargs=transfer_url_kwargs(staff_redemption)
        )
    assert response.status_code == 403
    assert error_of(response) == "not_your_transfer"


@pytest.fixture
def customer(db):
    return UserFactory()


@pytest.fixture
def store_credit(customer):
    """A customer's store credit, loaded by staff: the issue's 'customer's card'."""
    return facade.create_card(amount=Decimal("75.00"), name="Store credit", primary_user=customer)


def test_a_till_cannot_empty_a_customer_s_card_by_reversing_its_load(
    client, api_user, store_credit, unchanged
):
    load = store_credit.destination_transfers.get()
    kwargs = transfer_url_kwargs(load)
    with unchanged():
        response = post(client, "transfer-reverse", {}, auth=basic(api_user), kwargs=kwargs)
    assert response.status_code == 403
    assert error_of(response) == "not_your_transfer"
    # Correcting other tills' transfers is not spending from a customer's card.
    grant_correct_any(api_user)
    with unchanged():
        response = post(client, "transfer-reverse", {}, auth=basic(api_user), kwargs=kwargs)
    assert response.status_code == 403
    assert error_of(response) == "user_not_authorised"


def test_reversing_one_s_own_load_onto_a_customer_s_card_needs_its_user(
    client, api_user, customer, unchanged
):
    card = facade.create_card(amount=Decimal("20.00"), primary_user=customer, user=api_user)
    kwargs = transfer_url_kwargs(card.destination_transfers.get())
    with unchanged():
        response = post(client, "transfer-reverse", {}, auth=basic(api_user), kwargs=kwargs)
    assert response.status_code == 403
    assert error_of(response) == "user_not_authorised"


def test_spend_from_any_account_lets_a_till_reverse_a_load_onto_a_customer_s_card(
    client, api_user, store_credit
):
    grant_correct_any(api_user)
    api_user.user_permissions.add(Permission.objects.get(codename="spend_from_any_account"))
    load = store_credit.destination_transfers.get()
    response = post(
        client, "transfer-reverse", {}, auth=basic(api_user), kwargs=transfer_url_kwargs(load)
    )
    assert response.status_code == 201
    store_credit.refresh_from_db()
    assert store_credit.balance == Decimal("0.00")


def test_the_card_s_own_user_may_reverse_a_load_it_made(client, customer):
    grant_api(customer)
    card = facade.create_card(amount=Decimal("20.00"), primary_user=customer, user=customer)
    response = post(
        client,
        "transfer-reverse",
        {},
        auth=basic(customer),
        kwargs=transfer_url_kwargs(card.destination_transfers.get()),
    )
    assert response.status_code == 201


# -- strict JSON (finding 7) ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "body, key",
    [
        ('{"code": "%(code)s", "amount": "1000.00", "amount": "1.00"}', "amount"),
        ('{"code": "%(code)s", "amount": "1.00", "code": "%(code)s"}', "code"),
        ('{"code": "%(code)s", "amount": "1.00", "x": {"a": 1, "a": 2}}', "a"),
        ('{"code": "%(code)s", "amount": "1.00", "x": [{"b": 1, "b": 1}]}', "b"),
    ],
)
def test_a_key_given_twice_anywhere_in_the_body_is_400(client, auth, card, unchanged, body, key):
    with unchanged():
        response = post(client, "redemptions", body % {"code": card.code}, auth=auth)
    assert response.status_code == 400
    assert error_of(response) == "duplicate_key"
    assert repr(key) in response.json()["message"]


# -- no server error on hostile input (issue 9, "No 500 on bad input") --------------------------

HOSTILE_TEXTS = [
    "\x00",
    "GIFT\x00CARD",
    "\ud800",
    "\udfff-lone",
    "x" * 5000,
    "9999-12-31T23:59:59Z",
    "0001-01-01T00:00:00Z",
    "‮",
    "'; DROP TABLE accounts_account; --",
]
HOSTILE_DATES = [
    "9999-12-31T23:59:59Z",
    "9999-12-31T23:59:59-23:59",
    "0001-01-01T00:00:00Z",
    "0001-01-01T00:00:00+14:00",
    "1969-12-31T23:59:59Z",
    "2026-02-30T00:00:00Z",
    "\x00",
]
FIELDS_OF = {
    "accounts": {"amount": "5.00"},
    "account-lookup": {"code": UNKNOWN_CODE},
    "redemptions": {"code": UNKNOWN_CODE, "amount": "1.00"},
}
TEXT_FIELDS = {
    "accounts": ["amount", "name", "currency", "end_date", "merchant_reference", "description"],
    "account-lookup": ["code"],
    "redemptions": ["code", "amount", "merchant_reference", "description"],
}


def hostile_cases():
    for name, fields in TEXT_FIELDS.items():
        for field in fields:
            for text in HOSTILE_TEXTS:
                yield name, field, text
    for text in HOSTILE_DATES:
        yield "accounts", "end_date", text


def no_server_error(response):
    assert response.status_code < 500, response.content
    assert 400 <= response.status_code < 500 or response.status_code in {200, 201}
    if response.status_code >= 400:
        error_of(response)


@pytest.mark.parametrize("name, field, text", list(hostile_cases()))
def test_hostile_text_in_any_field_is_a_4xx_with_a_code(client, auth, name, field, text):
    body = {**FIELDS_OF[name], field: text}
    response = post(client, name, json.dumps(body), auth=auth)
    no_server_error(response)
    if "\x00" in text or "\ud800" in text or "\udfff" in text:
        assert response.status_code == 400


@pytest.mark.parametrize("text", [*HOSTILE_DATES, "9999-12-31T23:59:59Z"])
def test_far_end_dates_are_stored_or_refused_never_a_server_error(client, auth, text):
    response = post(client, "accounts", {"amount": "5.00", "end_date": text}, auth=auth)
    no_server_error(response)
    if response.status_code == 201:
        card = Account.objects.get(code=response.json()["account"]["code"])
        assert card.end_date.year == 9999
        lookup = post(client, "account-lookup", {"code": card.code}, auth=auth)
        assert lookup.status_code == 200


HOSTILE_SEGMENTS = [
    "%00",
    "%00" + UNKNOWN_CODE,
    UNKNOWN_CODE.replace("-", "%00"),
    "%ED%A0%80",  # an encoded lone surrogate
    "%FF%FE",
    "x" * 65,
    "9999-12-31T23:59:59Z",
    "..%2F..%2Fetc%2Fpasswd",
]


@pytest.mark.parametrize("segment", HOSTILE_SEGMENTS)
@pytest.mark.parametrize(
    "method, suffix, body",
    [("get", "", None), ("post", "refunds/", {"amount": "1.00"}), ("post", "reverse/", {})],
)
def test_hostile_references_in_the_path_are_a_4xx_with_a_code(
    client, auth, segment, method, suffix, body
):
    url = f"/api/v1/transfers/{segment}/{suffix}"
    if method == "get":
        response = client.get(url, **auth)
    else:
        response = client.post(url, json.dumps(body), content_type="application/json", **auth)
    no_server_error(response)
    assert response.status_code in {400, 404}


@pytest.mark.parametrize(
    "header",
    [
        "Bearer \x00",
        "Bearer " + "x" * 10_000,
        "Basic " + base64.b64encode(b"user\x00:password").decode(),
        "Basic " + base64.b64encode("\ud800:x".encode("utf-8", "surrogatepass")).decode(),
        "Basic " + base64.b64encode(b"u" * 10_000 + b":p").decode(),
        "\x00",
    ],
)
def test_hostile_credentials_are_a_401(client, card, header):
    response = post(
        client, "account-lookup", {"code": card.code}, auth={"HTTP_AUTHORIZATION": header}
    )
    assert response.status_code == 401
    assert error_of(response) == "invalid_credentials"


def test_refusals_of_a_field_name_the_field(client, auth):
    missing = post(client, "redemptions", {"amount": "1.00"}, auth=auth)
    assert "'code'" in missing.json()["message"]
    unknown = post(client, "accounts", {"amount": "1.00", "credit_limit": "9"}, auth=auth)
    assert "'credit_limit'" in unknown.json()["message"]
    number = post(client, "accounts", {"amount": 5}, auth=auth)
    assert "'amount'" in number.json()["message"]
    null = post(client, "accounts", {"amount": "5.00", "name": None}, auth=auth)
    assert error_of(null) == "invalid_field" and "'name'" in null.json()["message"]


def test_an_entry_of_several_legs_on_a_card_is_shown_without_naming_its_accounts(
    client, api_user, card
):
    grant_correct_any(api_user)
    auth = basic(api_user)
    sales, expired = Account.objects.sales(), Account.objects.expired_account()
    entry = facade.post(
        [
            facade.Debit(card, Decimal("10.00")),
            facade.Credit(sales, Decimal("6.00")),
            facade.Credit(expired, Decimal("4.00")),
        ],
        user=api_user,
    )
    body = get(client, "transfer", auth=auth, kwargs=transfer_url_kwargs(entry)).json()
    assert body["source"] is None and body["destination"] is None
    assert [leg["account"] for leg in body["legs"]] == [codes.mask(card.code), None, None]
    reverse_it = post(client, "transfer-reverse", {}, auth=auth, kwargs=transfer_url_kwargs(entry))
    assert reverse_it.status_code == 400
    assert error_of(reverse_it) == "invalid_transfer"


def test_the_document_describes_errors_authentication_and_string_amounts(client):
    document = get(client, "openapi").json()
    assert set(document["components"]["securitySchemes"]) == {
        "ApiKeyAuth",
        "BasicAuth",
        "SessionAuth",
    }
    assert document["components"]["securitySchemes"]["ApiKeyAuth"]["scheme"] == "bearer"
    error = document["components"]["schemas"]["Error"]
    assert error["required"] == ["code", "message"]
    redeem = document["paths"]["/v1/redemptions/"]["post"]
    for status in ("400", "401", "403", "404", "409", "413", "415", "422", "429"):
        response = redeem["responses"][status]
        assert response["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Error"
        }
    assert "WWW-Authenticate" in redeem["responses"]["401"]["headers"]
    assert "Retry-After" in redeem["responses"]["429"]["headers"]
    amount = document["components"]["schemas"]["Redeem"]["properties"]["amount"]
    assert amount["type"] == "string" and amount["pattern"] == schemas.AMOUNT_PATTERN
    assert "not_your_transfer" in redeem["responses"]["403"]["description"]
