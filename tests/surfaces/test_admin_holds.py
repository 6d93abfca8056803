"""Holds in the admin: listed, filtered, searched and shown, never added, changed or deleted."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib import admin

from accounts import facade
from accounts.models import Account, Hold, HoldStatus

from ..conftest import ledger_snapshot
from .test_admin import admin_url

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def holds(funded):
    sales = Account.objects.sales()
    pending = facade.authorise(funded, sales, D("10.00"), merchant_reference="ORDER-77")
    voided = facade.authorise(funded, sales, D("4.00"), merchant_reference="ORDER-78")
    facade.void(voided)
    return pending, voided


def listed(response):
    return set(response.context["cl"].result_list)


def test_holds_are_registered(holds):
    assert admin.site.is_registered(Hold)


def test_the_hold_list_filters_by_status(admin_client, holds):
    pending, voided = holds
    response = admin_client.get(admin_url(Hold, "changelist"), {"status__exact": "voided"})
    assert response.status_code == 200
    assert listed(response) == {voided}
    assert listed(admin_client.get(admin_url(Hold, "changelist"))) == {pending, voided}


def test_the_hold_list_searches_references_and_merchant_references(admin_client, holds):
    pending, voided = holds
    by_reference = admin_client.get(admin_url(Hold, "changelist"), {"q": pending.reference})
    assert listed(by_reference) == {pending}
    by_order = admin_client.get(admin_url(Hold, "changelist"), {"q": "ORDER-78"})
    assert listed(by_order) == {voided}


def test_a_hold_is_shown_read_only(admin_client, holds):
    pending, _ = holds
    response = admin_client.get(admin_url(Hold, "change", pending.pk))
    assert response.status_code == 200
    page = response.content.decode()
    assert pending.reference in page
    assert 'name="_save"' not in page


def test_a_hold_cannot_be_added_changed_or_deleted(admin_client, holds):
    pending, _ = holds
    before = ledger_snapshot()
    assert admin_client.get(admin_url(Hold, "add")).status_code == 403
    changed = admin_client.post(
        admin_url(Hold, "change", pending.pk), {"status": "voided", "amount": "1.00"}
    )
    assert changed.status_code == 403
    assert (
        admin_client.post(admin_url(Hold, "delete", pending.pk), {"post": "yes"}).status_code == 403
    )
    assert Hold.objects.get(pk=pending.pk).status == HoldStatus.PENDING
    assert ledger_snapshot() == before
