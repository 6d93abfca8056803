"""The printable card and receipt, as a browser prints them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from accounts import facade
from accounts.models import Transfer

from ..factories import AccountFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def card(transactional_db: None) -> Any:
    source = AccountFactory(code="HOUSE-TILL", kind="asset", credit_limit=None)
    made = AccountFactory(code="7KQ3-ABCD-EFGH-PB3N", name="Birthday card", is_card=True)
    facade.transfer(source, made, Decimal("25.00"), description="Sold at the till")
    return made


def test_a_card_prints_its_code_large_with_a_qr_code_and_no_navigation(
    staff_page: Page, card: Any, screenshot: Any
):
    staff_page.goto(f"/dashboard/accounts/{card.pk}/")
    staff_page.get_by_role("link", name="Print card").click()
    expect(staff_page.locator(".print-code")).to_have_text("7KQ3-ABCD-EFGH-PB3N")
    qr = staff_page.locator(".print-qr svg")
    expect(qr).to_be_visible()
    box = qr.bounding_box()
    assert box is not None and box["width"] > 100 and box["width"] == box["height"]
    staff_page.emulate_media(media="print")
    expect(staff_page.locator("header.dashboard-header")).to_be_hidden()
    expect(staff_page.get_by_role("button", name="Print")).to_be_hidden()
    expect(staff_page.locator(".print-code")).to_be_visible()
    screenshot("print-card")


def test_a_transfer_prints_as_a_receipt_with_the_card_masked(
    staff_page: Page, card: Any, screenshot: Any
):
    made = Transfer.objects.get(destination=card)
    staff_page.goto(f"/dashboard/transfers/{made.reference}/")
    staff_page.get_by_role("link", name="Printable receipt").click()
    receipt = staff_page.locator(".print-receipt")
    expect(receipt).to_contain_text(made.reference)
    expect(receipt).to_contain_text("25.00 GBP")
    expect(receipt).to_contain_text(card.display_code)
    expect(receipt).not_to_contain_text("7KQ3-ABCD")
    staff_page.emulate_media(media="print")
    expect(staff_page.locator("header.dashboard-header")).to_be_hidden()
    screenshot("print-receipt")
