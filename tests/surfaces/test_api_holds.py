"""Holds in the JSON API: authorise on a card, capture or void later, list and show them."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from accounts import codes, facade
from accounts.api import views
from accounts.models import Account, Hold, HoldStatus, Kind, LookupThrottle, Transfer

from ..conftest import ledger_snapshot
from ..factories import AccountFactory, UserFactory
from .test_api import basic, error_of, get, grant_api, post

pytestmark = pytest.mark.django_db

D = Decimal


def grant(user, codename):
    user.user_permissions.add(Permission.objects.get(codename=codename))
    return type(user).objects.get(pk=user.pk)  # a fresh instance: no cached permissions


@pytest.fixture
def api_user(db):
    return grant_api(UserFactory())


@pytest.fixture
def auth(api_user):
    return basic(api_user)


@pytest.fixture
def other_till(db):
    return grant_api(UserFactory())


@pytest.fixture
def card(db):
    return facade.create_card(amount=D("50.00"), name="Card")


@pytest.fixture
def hold(card, api_user):
    """A hold of 30.00 on ``card`` for the sales account, authorised by ``api_user``."""
    return facade.authorise(card, Account.objects.sales(), D("30.00"), user=api_user)


def hold_kwargs(hold):
    return {"reference": hold.reference}


def fresh(model_instance):
    return type(model_instance).objects.get(pk=model_instance.pk)


# -- authorise -------------------------------------------------------------------------------


def test_authorising_reserves_the_amount_on_the_card_without_posting(client, auth, card, api_user):
    response = post(
        client,
        "holds",
        {"code": card.code, "amount": "20.00", "merchant_reference": "ORDER-9"},
        auth=auth,
    )
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "pending" and body["amount"] == "20.00"
    assert body["source"] == codes.mask(card.code)
    assert body["destination"] is None  # the sales account is never named
    assert body["merchant_reference"] == "ORDER-9"
    assert body["captured_amount"] is None and body["transfer"] is None
    stored = Hold.objects.get(reference=body["reference"])
    assert stored.user == api_user and stored.destination == Account.objects.sales()
    card = fresh(card)
    assert card.balance == D("50.00") and card.amount_available == D("30.00")
    assert not Transfer.objects.filter(source=card, destination=Account.objects.sales()).exists()


def test_the_card_shows_posted_pending_and_available_amounts(client, auth, card, hold):
    response = post(client, "account-lookup", {"code": card.code}, auth=auth)
    body = response.json()
    assert body["balance"] == body["posted"] == "50.00"
    assert body["pending"] == "-30.00"
    assert body["amount_available"] == "20.00"


def test_authorising_with_an_expiry_stores_it(client, auth, card):
    when = (timezone.now() + timedelta(days=2)).replace(microsecond=0)
    response = post(
        client,
        "holds",
        {"code": card.code, "amount": "5.00", "expires_at": when.isoformat()},
        auth=auth,
    )
    assert response.status_code == 201
    assert Hold.objects.get(reference=response.json()["reference"]).expires_at == when


def test_an_expiry_in_the_past_is_refused_and_reserves_nothing(client, auth, card):
    before = ledger_snapshot()
    response = post(
        client,
        "holds",
        {"code": card.code, "amount": "5.00", "expires_at": "2020-01-01T00:00:00Z"},
        auth=auth,
    )
    assert response.status_code == 400
    assert error_of(response) == "invalid_expiry"
    assert ledger_snapshot() == before and not Hold.objects.exists()


def test_authorising_more_than_is_available_is_refused(client, auth, card, hold):
    response = post(client, "holds", {"code": card.code, "amount": "20.01"}, auth=auth)
    assert response.status_code == 409
    assert error_of(response) == "insufficient_funds"
    assert Hold.objects.count() == 1


def test_authorising_on_an_unknown_code_is_a_throttled_404(client, auth, api_user):
    response = post(client, "holds", {"code": "2222-3333-4444-5555", "amount": "1.00"}, auth=auth)
    assert response.status_code == 404
    assert error_of(response) == "account_not_found"
    assert LookupThrottle.objects.get().total_failures == 1


def test_authorising_on_an_account_that_is_not_a_card_is_404(client, auth):
    house = AccountFactory(kind=Kind.LIABILITY, credit_limit=D("0"))
    response = post(client, "holds", {"code": house.code, "amount": "1.00"}, auth=auth)
    assert response.status_code == 404
    assert not Hold.objects.exists()


def test_authorising_on_a_card_with_users_needs_one_of_them(client, auth, card):
    card.primary_user = UserFactory()
    card.save()
    response = post(client, "holds", {"code": card.code, "amount": "1.00"}, auth=auth)
    assert response.status_code == 403
    assert error_of(response) == "user_not_authorised"
    assert not Hold.objects.exists()


def test_a_retried_authorisation_reserves_once(client, auth, card):
    body = {"code": card.code, "amount": "10.00"}
    first = post(client, "holds", body, auth={**auth, "HTTP_IDEMPOTENCY_KEY": "auth-1"})
    again = post(client, "holds", body, auth={**auth, "HTTP_IDEMPOTENCY_KEY": "auth-1"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert Hold.objects.count() == 1
    assert fresh(card).amount_available == D("40.00")


def test_a_key_reused_for_another_authorisation_is_a_conflict(client, auth, card):
    keyed = {**auth, "HTTP_IDEMPOTENCY_KEY": "auth-2"}
    post(client, "holds", {"code": card.code, "amount": "10.00"}, auth=keyed)
    response = post(client, "holds", {"code": card.code, "amount": "11.00"}, auth=keyed)
    assert response.status_code == 409
    assert error_of(response) == "idempotency_conflict"
    assert Hold.objects.count() == 1


def test_an_authorisation_without_a_description_is_called_one(client, auth, card):
    response = post(client, "holds", {"code": card.code, "amount": "1.00"}, auth=auth)
    assert response.json()["description"] == "Authorisation"


def test_an_over_long_hold_reference_is_400_and_a_nul_byte_is_404(client, auth):
    too_long = get(client, "hold", auth=auth, kwargs={"reference": "A" * 65})
    assert too_long.status_code == 400
    assert error_of(too_long) == "invalid_field"
    nul = client.get(reverse("accounts_api:holds") + "AB%00CD/", **auth)
    assert nul.status_code == 404


# -- show and list ---------------------------------------------------------------------------


def test_a_hold_is_shown_by_its_reference(client, auth, hold):
    response = get(client, "hold", auth=auth, kwargs=hold_kwargs(hold))
    assert response.status_code == 200
    assert response.json()["reference"] == hold.reference
    assert response.json()["status"] == "pending"


def test_an_unknown_hold_reference_is_a_throttled_404(client, auth):
    response = get(client, "hold", auth=auth, kwargs={"reference": "2222-3333-4444-5555"})
    assert response.status_code == 404
    assert error_of(response) == "hold_not_found"
    assert LookupThrottle.objects.get().total_failures == 1


def test_a_hold_between_accounts_that_are_not_cards_is_not_shown(client, auth, source):
    house = AccountFactory(kind=Kind.INCOME, credit_limit=None)
    hidden = facade.authorise(source, house, D("5.00"))
    response = get(client, "hold", auth=auth, kwargs=hold_kwargs(hidden))
    assert response.status_code == 404
    listed = get(client, "holds", auth=basic(grant(grant_api(UserFactory()), "view_hold")))
    assert listed.json()["count"] == 0


def test_the_list_shows_only_the_callers_own_holds(client, card, hold, other_till):
    facade.authorise(card, Account.objects.sales(), D("5.00"), user=other_till)
    response = get(client, "holds", auth=basic(other_till))
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    assert [h["amount"] for h in body["holds"]] == ["5.00"]


def test_the_view_hold_permission_lists_every_hold_on_a_card(client, card, hold, other_till):
    facade.authorise(card, Account.objects.sales(), D("5.00"), user=other_till)
    response = get(client, "holds", auth=basic(grant(other_till, "view_hold")))
    assert response.json()["count"] == 2
    # Newest first.
    assert [h["amount"] for h in response.json()["holds"]] == ["5.00", "30.00"]


def test_the_list_filters_by_status_and_pages(client, auth, card, api_user):
    sales = Account.objects.sales()
    first = facade.authorise(card, sales, D("1.00"), user=api_user)
    facade.authorise(card, sales, D("2.00"), user=api_user)
    facade.authorise(card, sales, D("3.00"), user=api_user)
    facade.void(first, user=api_user)
    url = reverse("accounts_api:holds")
    voided = client.get(url, {"status": "voided"}, **auth).json()
    assert [h["amount"] for h in voided["holds"]] == ["1.00"]
    page = client.get(url, {"status": "pending", "limit": 1, "offset": 1}, **auth).json()
    assert page["count"] == 2 and [h["amount"] for h in page["holds"]] == ["2.00"]


@pytest.mark.parametrize(
    "query", [{"status": "lost"}, {"limit": 0}, {"limit": 101}, {"offset": -1}]
)
def test_a_bad_list_query_is_refused(client, auth, query):
    response = client.get(reverse("accounts_api:holds"), query, **auth)
    assert response.status_code == 400
    error_of(response)


def test_the_holds_need_the_api_permission(client, hold):
    stranger = UserFactory()
    assert get(client, "holds", auth=basic(stranger)).status_code == 403
    response = post(client, "hold-void", {}, auth=basic(stranger), kwargs=hold_kwargs(hold))
    assert response.status_code == 403
    assert error_of(response) == "permission_denied"
    assert fresh(hold).status == HoldStatus.PENDING


# -- capture ---------------------------------------------------------------------------------


def test_capturing_in_full_posts_a_redemption(client, auth, card, hold):
    response = post(client, "hold-capture", {}, auth=auth, kwargs=hold_kwargs(hold))
    assert response.status_code == 201
    body = response.json()
    assert body["hold"]["status"] == "captured"
    assert body["hold"]["captured_amount"] == "30.00"
    assert body["hold"]["released_amount"] == "0.00"
    assert body["hold"]["transfer"] == body["transfer"]["reference"]
    assert body["transfer"]["amount"] == "30.00"
    assert body["transfer"]["source"] == codes.mask(card.code)
    assert body["transfer"]["legs"][0]["balance_after"] == "20.00"
    card = fresh(card)
    assert card.balance == D("20.00") and card.amount_available == D("20.00")


def test_capturing_part_releases_the_rest(client, auth, card, hold):
    response = post(
        client, "hold-capture", {"amount": "12.50"}, auth=auth, kwargs=hold_kwargs(hold)
    )
    assert response.status_code == 201
    assert response.json()["hold"]["released_amount"] == "17.50"
    card = fresh(card)
    assert card.balance == D("37.50") and card.amount_available == D("37.50")


def test_capturing_more_than_was_held_is_refused(client, auth, hold):
    before = ledger_snapshot()
    response = post(
        client, "hold-capture", {"amount": "30.01"}, auth=auth, kwargs=hold_kwargs(hold)
    )
    assert response.status_code == 409
    assert error_of(response) == "capture_exceeds_hold"
    assert ledger_snapshot() == before


def test_capturing_twice_is_refused(client, auth, hold):
    post(client, "hold-capture", {}, auth=auth, kwargs=hold_kwargs(hold))
    response = post(client, "hold-capture", {}, auth=auth, kwargs=hold_kwargs(hold))
    assert response.status_code == 409
    assert error_of(response) == "hold_not_pending"
    assert Transfer.objects.filter(hold__isnull=False).count() == 1


def test_capturing_an_expired_hold_is_refused(client, auth, card, api_user):
    hold = facade.authorise(
        card,
        Account.objects.sales(),
        D("5.00"),
        user=api_user,
        expires_at=timezone.now() + timedelta(days=1),
    )
    Hold.objects.filter(pk=hold.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = post(client, "hold-capture", {}, auth=auth, kwargs=hold_kwargs(hold))
    assert response.status_code == 409
    assert error_of(response) == "hold_expired"
    assert fresh(card).balance == D("50.00")


def test_a_retried_capture_posts_once(client, auth, card, hold):
    keyed = {**auth, "HTTP_IDEMPOTENCY_KEY": "capture-1"}
    first = post(client, "hold-capture", {"amount": "10.00"}, auth=keyed, kwargs=hold_kwargs(hold))
    again = post(client, "hold-capture", {"amount": "10.00"}, auth=keyed, kwargs=hold_kwargs(hold))
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert fresh(card).balance == D("40.00")


def test_another_tills_hold_cannot_be_captured_without_the_permission(client, hold, other_till):
    response = post(client, "hold-capture", {}, auth=basic(other_till), kwargs=hold_kwargs(hold))
    assert response.status_code == 403
    assert error_of(response) == "not_your_hold"
    assert fresh(hold).status == HoldStatus.PENDING


def test_the_change_hold_permission_captures_any_hold(client, hold, other_till):
    supervisor = grant(other_till, "change_hold")
    response = post(client, "hold-capture", {}, auth=basic(supervisor), kwargs=hold_kwargs(hold))
    assert response.status_code == 201
    assert fresh(hold).status == HoldStatus.CAPTURED


# -- void ------------------------------------------------------------------------------------


def test_voiding_releases_the_hold(client, auth, card, hold):
    response = post(client, "hold-void", {}, auth=auth, kwargs=hold_kwargs(hold))
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "voided" and body["released_amount"] == "30.00"
    assert body["resolved_at"] is not None
    card = fresh(card)
    assert card.balance == D("50.00") and card.amount_available == D("50.00")


def test_a_voided_hold_cannot_be_captured(client, auth, hold):
    post(client, "hold-void", {}, auth=auth, kwargs=hold_kwargs(hold))
    response = post(client, "hold-capture", {}, auth=auth, kwargs=hold_kwargs(hold))
    assert response.status_code == 409
    assert error_of(response) == "hold_not_pending"


def test_a_retried_void_answers_as_the_first(client, auth, hold):
    keyed = {**auth, "HTTP_IDEMPOTENCY_KEY": "void-1"}
    first = post(client, "hold-void", {}, auth=keyed, kwargs=hold_kwargs(hold))
    again = post(client, "hold-void", {}, auth=keyed, kwargs=hold_kwargs(hold))
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()


def test_another_tills_hold_cannot_be_voided_without_the_permission(client, hold, other_till):
    response = post(client, "hold-void", {}, auth=basic(other_till), kwargs=hold_kwargs(hold))
    assert response.status_code == 403
    assert error_of(response) == "not_your_hold"
    supervisor = grant(other_till, "change_hold")
    response = post(client, "hold-void", {}, auth=basic(supervisor), kwargs=hold_kwargs(hold))
    assert response.status_code == 200


def test_voiding_takes_no_fields(client, auth, hold):
    response = post(client, "hold-void", {"amount": "1.00"}, auth=auth, kwargs=hold_kwargs(hold))
    assert response.status_code == 400
    assert fresh(hold).status == HoldStatus.PENDING


# -- the document ----------------------------------------------------------------------------


def test_the_document_describes_the_hold_endpoints():
    document = views.document()
    paths = document["paths"]
    assert set(paths["/v1/holds/"]) == {"get", "post"}
    assert paths["/v1/holds/{reference}/capture/"]["post"]["operationId"] == "captureHold"
    assert paths["/v1/holds/{reference}/void/"]["post"]["operationId"] == "voidHold"
    assert "404" in paths["/v1/holds/{reference}/"]["get"]["responses"]
    schemas = document["components"]["schemas"]
    assert {"posted", "pending", "amount_available"} <= set(schemas["Account"]["properties"])
    assert set(schemas["Hold"]["properties"]["status"].get("enum", [])) or "$ref" in str(
        schemas["Hold"]["properties"]["status"]
    )
    assert (
        "not_your_hold"
        in paths["/v1/holds/{reference}/void/"]["post"]["responses"]["403"]["description"]
    )
