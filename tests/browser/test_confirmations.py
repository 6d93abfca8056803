"""Freezing a card from its page: a confirmation asks why, refuses a blank reason, and the
reason shows in the card's history of changes.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from accounts import facade
from accounts.models import Account, AuditEntry, Status, Surface

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def card(transactional_db: None) -> Account:
    return facade.create_card(amount=Decimal("50.00"), name="Birthday card")


def test_freezing_a_card_asks_for_a_reason_and_keeps_it_in_the_history(
    staff_page: Page, manager: Any, card: Account, screenshot: Any
) -> None:
    page = staff_page
    page.goto(f"/dashboard/accounts/{card.pk}/")
    page.get_by_role("link", name="Freeze").click()

    expect(page.get_by_role("heading", name="Freeze this account", level=1)).to_be_visible()
    expect(page.locator("section.summary")).to_contain_text("50.00 GBP")
    # The browser would refuse an empty required field itself; send a blank reason instead.
    page.get_by_label("Reason").fill("   ")
    page.get_by_role("button", name="Freeze").click()
    expect(page.locator(".field.has-errors")).to_contain_text("This field is required.")
    card.refresh_from_db()
    assert card.status == Status.OPEN
    screenshot("freeze-confirmation-error")

    page.get_by_label("Reason").fill("Reported lost by its holder")
    page.get_by_role("button", name="Freeze").click()

    page.wait_for_url(f"**/dashboard/accounts/{card.pk}/")
    expect(page.get_by_role("status")).to_contain_text("frozen")
    expect(page.locator("h1 .status")).to_have_text("Frozen")
    history = page.locator("section.history")
    expect(history).to_contain_text("Reported lost by its holder")
    expect(history).to_contain_text(manager.username)
    screenshot("freeze-history")
    card.refresh_from_db()
    assert card.status == Status.FROZEN
    entry = AuditEntry.objects.get(account=card, action="frozen")
    assert (entry.user, entry.surface) == (manager, Surface.DASHBOARD)
