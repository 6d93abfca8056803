"""A pending hold on a card's page: capture part of it through its confirmation, then find the
capture's transfer from the holds list.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from accounts import facade
from accounts.models import Account, Hold, HoldStatus

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def card(transactional_db: None) -> Account:
    return facade.create_card(amount=Decimal("50.00"), name="Birthday card")


def test_staff_capture_part_of_a_hold_from_the_cards_page(
    staff_page: Page, card: Account, screenshot: Any
) -> None:
    hold = facade.authorise(card, Account.objects.sales(), Decimal("20.00"))
    page = staff_page
    page.goto(f"/dashboard/accounts/{card.pk}/")
    summary = page.locator("section.summary")
    expect(summary).to_contain_text("-20.00 GBP")  # pending
    expect(summary).to_contain_text("30.00 GBP")  # available
    holds = page.locator("section.holds")
    expect(holds).to_contain_text(hold.reference)
    screenshot("holds-on-the-card")

    holds.get_by_role("link", name="Capture").click()
    expect(page.get_by_role("heading", name="Capture this hold", level=1)).to_be_visible()
    page.get_by_label("Amount").fill("12.50")
    page.get_by_role("button", name="Capture").click()

    page.wait_for_url(f"**/dashboard/holds/{hold.reference}/")
    expect(page.get_by_role("status")).to_contain_text("Captured 12.50")
    expect(page.locator("h1 .status")).to_have_text("Captured")
    stored = Hold.objects.get(pk=hold.pk)
    assert stored.status == HoldStatus.CAPTURED and stored.captured_amount == Decimal("12.50")
    assert Account.objects.get(pk=card.pk).balance == Decimal("37.50")

    page.get_by_role("link", name="Holds").first.click()
    page.get_by_label("Status").select_option("captured")
    page.get_by_role("button", name="Filter").click()
    page.get_by_role("link", name=stored.transfer.reference).click()
    page.wait_for_url(f"**/dashboard/transfers/{stored.transfer.reference}/")
    screenshot("hold-capture-transfer")
