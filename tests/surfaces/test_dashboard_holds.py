"""Holds in the staff dashboard: on the account page, their list and page, capture and void."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.contrib.admin.models import LogEntry
from django.utils import timezone

from accounts import facade
from accounts.dashboard.common import DASHBOARD_PERMISSIONS
from accounts.models import Account, Hold, HoldStatus, Transfer

from ..factories import StaffFactory
from .test_dashboard import CardFactory, body, client_for, errors_of, grant, messages_of, url

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def card(source):
    acct = CardFactory(name="Birthday card", code="CARD-0001")
    facade.transfer(source, acct, D("50.00"))
    return Account.objects.get(pk=acct.pk)


@pytest.fixture
def hold(card):
    return facade.authorise(
        card,
        Account.objects.sales(),
        D("20.00"),
        merchant_reference="ORDER-5",
        expires_at=timezone.now() + datetime.timedelta(days=3),
    )


@pytest.fixture
def staff_client():
    return client_for(grant(StaffFactory(), *DASHBOARD_PERMISSIONS))


@pytest.fixture
def viewer_client():
    """Staff who may see accounts, transfers and holds, but not capture or void them."""
    return client_for(grant(StaffFactory(), "view_account", "view_transfer", "view_hold"))


def fresh(hold):
    return Hold.objects.get(pk=hold.pk)


# -- the account page --------------------------------------------------------------------------


def test_the_account_page_shows_posted_pending_and_available(staff_client, card, hold):
    response = staff_client.get(url("account_detail", card.pk))
    assert response.status_code == 200
    page = body(response)
    assert response.context["account"].pending == D("-20.00")
    assert "-20.00" in page and "30.00" in page  # pending, and what is still available
    assert [h.pk for h in response.context["pending_holds"]] == [hold.pk]
    assert hold.reference in page
    assert url("hold_capture", hold.reference) in page
    assert url("hold_void", hold.reference) in page


def test_the_account_page_lists_only_pending_holds(staff_client, card, hold):
    done = facade.authorise(card, Account.objects.sales(), D("1.00"))
    facade.void(done)
    response = staff_client.get(url("account_detail", card.pk))
    assert [h.pk for h in response.context["pending_holds"]] == [hold.pk]
    assert done.reference not in body(response)


def test_staff_without_change_hold_see_holds_without_buttons(viewer_client, card, hold):
    page = body(viewer_client.get(url("account_detail", card.pk)))
    assert hold.reference in page
    assert url("hold_capture", hold.reference) not in page
    assert url("hold_void", hold.reference) not in page


# -- the list and the page ---------------------------------------------------------------------


def test_the_holds_list_filters_by_status(staff_client, card, hold):
    captured = facade.authorise(card, Account.objects.sales(), D("5.00"))
    facade.capture(captured)
    everything = staff_client.get(url("hold_list"))
    assert {h.pk for h in everything.context["holds"]} == {hold.pk, captured.pk}
    pending = staff_client.get(url("hold_list"), {"status": "pending"})
    assert [h.pk for h in pending.context["holds"]] == [hold.pk]
    by_order = staff_client.get(url("hold_list"), {"reference": "ORDER-5"})
    assert [h.pk for h in by_order.context["holds"]] == [hold.pk]
    # A captured hold links to its transfer.
    assert url("transfer_detail", fresh(captured).transfer.reference) in body(everything)


def test_the_holds_list_is_linked_from_the_transfer_list_and_the_nav(staff_client):
    page = body(staff_client.get(url("transfer_list")))
    assert page.count(url("hold_list")) >= 2  # the button and the navigation bar


def test_the_hold_page_links_its_transfer_once_captured(staff_client, hold):
    transfer = facade.capture(hold, D("15.00"))
    response = staff_client.get(url("hold_detail", hold.reference))
    assert response.status_code == 200
    page = body(response)
    assert url("transfer_detail", transfer.reference) in page
    assert "5.00" in page  # released
    assert url("hold_capture", hold.reference) not in page  # resolved: no more buttons


def test_an_unknown_hold_is_404(staff_client):
    assert staff_client.get(url("hold_detail", "2222-3333-4444-5555")).status_code == 404


@pytest.mark.parametrize("name", ["hold_list", "hold_detail", "hold_capture", "hold_void"])
def test_hold_pages_need_their_permission(name, hold):
    other = client_for(grant(StaffFactory(), "view_account", "view_transfer"))
    args = [] if name == "hold_list" else [hold.reference]
    assert other.get(url(name, *args)).status_code == 403


@pytest.mark.parametrize("name", ["hold_capture", "hold_void"])
def test_viewers_cannot_capture_or_void(name, viewer_client, hold):
    response = viewer_client.post(url(name, hold.reference), {"reason": "x"})
    assert response.status_code == 403
    assert fresh(hold).status == HoldStatus.PENDING


def test_the_nav_shows_holds_only_with_view_hold(viewer_client):
    other = client_for(grant(StaffFactory(), "view_account", "view_transfer"))
    assert url("hold_list") in body(viewer_client.get(url("account_list")))
    assert url("hold_list") not in body(other.get(url("account_list")))


# -- capture and void --------------------------------------------------------------------------


def test_capturing_asks_for_confirmation_then_posts(staff_client, card, hold):
    confirm = staff_client.get(url("hold_capture", hold.reference))
    assert confirm.status_code == 200
    assert confirm.context["form"].initial["amount"] == "20.00"
    assert not Transfer.objects.filter(hold__isnull=False).exists()
    response = staff_client.post(
        url("hold_capture", hold.reference), {"amount": "12.00"}, follow=True
    )
    stored = fresh(hold)
    assert stored.status == HoldStatus.CAPTURED and stored.captured_amount == D("12.00")
    assert stored.transfer.description == f"Capture of hold {hold.reference}"
    assert any(stored.transfer.reference in m for m in messages_of(response))
    assert Account.objects.get(pk=card.pk).balance == D("38.00")


def test_capturing_with_no_amount_takes_it_all(staff_client, hold):
    staff_client.post(url("hold_capture", hold.reference), {"amount": ""})
    assert fresh(hold).captured_amount == D("20.00")


def test_capturing_more_than_held_is_refused_and_writes_nothing(staff_client, hold):
    response = staff_client.post(url("hold_capture", hold.reference), {"amount": "20.01"})
    assert response.status_code == 200
    assert errors_of(response)
    assert fresh(hold).status == HoldStatus.PENDING


def test_capturing_an_expired_hold_is_refused(staff_client, hold):
    Hold.objects.filter(pk=hold.pk).update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    response = staff_client.post(url("hold_capture", hold.reference), {"amount": ""})
    assert response.status_code == 200
    assert errors_of(response)
    assert fresh(hold).status == HoldStatus.PENDING


def test_voiding_needs_a_reason_and_records_it(staff_client, card, hold):
    refused = staff_client.post(url("hold_void", hold.reference), {"reason": ""})
    assert refused.status_code == 200 and fresh(hold).status == HoldStatus.PENDING
    staff_client.post(url("hold_void", hold.reference), {"reason": "Customer cancelled"})
    assert fresh(hold).status == HoldStatus.VOIDED
    assert Account.objects.get(pk=card.pk).amount_available == D("50.00")
    entry = LogEntry.objects.get(object_id=str(hold.pk))
    assert "Customer cancelled" in entry.change_message


def test_a_resolved_hold_offers_no_confirmation(staff_client, hold):
    facade.void(hold)
    response = staff_client.get(url("hold_capture", hold.reference))
    assert response.context["refusal"]
    posted = staff_client.post(url("hold_capture", hold.reference), {"amount": ""})
    assert errors_of(posted)
    assert fresh(hold).status == HoldStatus.VOIDED
