"""Closing the books in the browser: from the navigation through the confirmation back to the
list, after which a posting dated in the closed days is refused; a day not over is refused.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from django.utils.formats import date_format
from playwright.sync_api import Page, expect

from accounts import exceptions, facade
from accounts.models import Account, ClosedPeriod

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_treasurer_closes_the_books_through_a_day(
    staff_page: Page, manager: Any, screenshot: Any
) -> None:
    card = facade.create_card(amount=Decimal("50.00"), name="Birthday card")
    through = timezone.localdate() - datetime.timedelta(days=3)
    page = staff_page
    page.get_by_role("navigation", name="Dashboard").get_by_role(
        "link", name="Closed periods"
    ).click()
    expect(page.get_by_role("heading", name="Closed periods", level=1)).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text("never been closed")

    page.get_by_role("link", name="Close the books").click()
    expect(page.get_by_role("heading", name="Close the books", level=1)).to_be_visible()
    page.get_by_label("Close the books through").fill(through.isoformat())
    page.get_by_label("Reason").fill("Month end")
    screenshot("close-the-books")
    page.get_by_role("button", name="Close the books").click()

    page.wait_for_url("**/dashboard/periods/")
    expect(page.get_by_role("status")).to_contain_text(
        f"The books are closed through {date_format(through, 'SHORT_DATE_FORMAT')}."
    )
    row = page.locator("tbody tr").first
    expect(row).to_contain_text("Month end")
    expect(row).to_contain_text(manager.username)
    screenshot("closed-periods")
    closing = ClosedPeriod.objects.get()
    assert (closing.closed_through, closing.user_id) == (through, manager.pk)
    with pytest.raises(exceptions.PeriodClosed):
        facade.transfer(
            Account.objects.get(pk=card.pk),
            Account.objects.sales(),
            Decimal("1.00"),
            date=timezone.now() - datetime.timedelta(days=4),
        )


def test_closing_a_day_that_is_not_over_shows_why_and_closes_nothing(staff_page: Page) -> None:
    page = staff_page
    page.goto("/dashboard/periods/close/")
    page.get_by_label("Close the books through").fill(timezone.localdate().isoformat())
    page.get_by_label("Reason").fill("Too soon")
    page.get_by_role("button", name="Close the books").click()
    expect(page.get_by_role("alert").first).to_contain_text("is not over yet")
    assert not ClosedPeriod.objects.exists()
