"""The dashboard's layout on a wide screen and on a phone: nothing wraps or hides that matters."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import Page

from accounts import facade
from accounts.models import Kind

from ..factories import AccountFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

#: A wide desktop window and a phone held upright, in CSS pixels.
WIDE = {"width": 1400, "height": 900}
PHONE = {"width": 420, "height": 860}
#: Transfers in the list; enough rows, with long names and descriptions, to crowd the table.
TRANSFER_COUNT = 8


@pytest.fixture
def crowded_transfers(transactional_db: None) -> None:
    """Transfers between accounts with long names and long descriptions."""
    bank = AccountFactory(
        name="Main operating bank account at the high street branch",
        code="HOUSE-BANK",
        kind=Kind.ASSET,
        credit_limit=None,
    )
    card = AccountFactory(name="Customer store credit for returned goods without a receipt")
    for number in range(TRANSFER_COUNT):
        facade.transfer(
            bank,
            card,
            Decimal("1234.50"),
            description=(
                f"Load number {number} sold at the till by the evening shift, paid partly in "
                "cash and partly by card, with a note about the customer's loyalty scheme"
            ),
        )


def test_references_stay_on_one_line_on_a_wide_screen(
    staff_page: Page, crowded_transfers: None, screenshot: Any
):
    staff_page.set_viewport_size(WIDE)
    staff_page.goto("/dashboard/transfers/")
    references = staff_page.locator("table tbody td:first-child code")
    assert references.count() == TRANSFER_COUNT
    screenshot("layout-transfers-1400")
    for index in range(TRANSFER_COUNT):
        # An inline element broken over several lines has one box per line.
        lines = references.nth(index).evaluate("element => element.getClientRects().length")
        assert lines == 1, references.nth(index).inner_text()
    amounts = staff_page.locator("table tbody td.num")
    for index in range(amounts.count()):
        assert amounts.nth(index).evaluate("element => element.getClientRects().length") == 1
    # So do the moments, written in the language's format ("12/04/2026 4:38 p.m." in en-us).
    moments = staff_page.locator("table tbody td time")
    assert moments.count() == TRANSFER_COUNT
    for index in range(TRANSFER_COUNT):
        lines = moments.nth(index).evaluate("element => element.getClientRects().length")
        assert lines == 1, moments.nth(index).inner_text()


def test_on_a_phone_the_navigation_fits_and_only_tables_scroll_sideways(
    staff_page: Page, crowded_transfers: None, screenshot: Any
):
    staff_page.set_viewport_size(PHONE)
    staff_page.goto("/dashboard/transfers/")
    screenshot("layout-transfers-420", full_page=False)
    links = staff_page.locator("header nav a")
    assert links.count() >= 4
    for index in range(links.count()):
        box = links.nth(index).bounding_box()
        assert box is not None
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], links.nth(
            index
        ).inner_text()
    page_width = staff_page.evaluate("document.documentElement.scrollWidth")
    assert page_width <= PHONE["width"]
    # The table still shows every column: it scrolls inside itself.
    table = staff_page.locator("table").first
    assert table.evaluate("element => element.scrollWidth > element.clientWidth")
