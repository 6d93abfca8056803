"""A gift card's life in the browser: created and loaded in the dashboard, spent over the JSON
API, a redemption reversed from its transfer page, and the card's statement and balance chart.
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import APIRequestContext, Page, expect

from accounts import codes, facade
from accounts.models import Account, Transfer, TransferKind

from ..factories import AccountFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FIFTY = Decimal("50.00")


@pytest.fixture
def card(transactional_db: None) -> Account:
    """A gift card with a generated code, holding 50.00 GBP loaded from the source."""
    return facade.create_card(amount=FIFTY, name="Birthday card", description="Sold at the till")


def summary(page: Page, term: str) -> Any:
    """The value shown next to ``term`` in the account's summary."""
    return page.locator(f"section.summary dt:text-is('{term}') + dd")


def redeem(api: APIRequestContext, code: str, amount: str) -> Any:
    return api.post("/api/v1/redemptions/", data={"code": code, "amount": amount})


def test_staff_create_and_load_a_gift_card_in_one_step_and_see_its_balance(
    staff_page: Page, manager: Any, screenshot: Any
) -> None:
    page = staff_page
    page.get_by_role("navigation", name="Dashboard").get_by_role("link", name="New account").click()
    expect(page.get_by_role("heading", name="New account", level=1)).to_be_visible()
    expect(page.get_by_label("Customer card")).to_be_checked()  # what the shop sells most
    page.get_by_label("Name").fill("Birthday card")
    page.get_by_label("Opening balance").fill("50.00")
    # Only the window: a full-page screenshot of this long form leaves Chromium unable to
    # click its button.
    screenshot("account-new", full_page=False)
    page.get_by_role("button", name="Create").click()

    page.wait_for_url(re.compile(r"/dashboard/accounts/\d+/$"))
    expect(page.get_by_role("status")).to_contain_text(
        "Created card Birthday card with an opening balance of 50.00 GBP."
    )
    expect(summary(page, "Balance")).to_have_text("50.00 GBP")
    code = summary(page, "Code").inner_text().strip()
    created = Account.objects.get(code=code)
    assert created.name == "Birthday card" and created.balance == FIFTY and created.is_card
    load = Transfer.objects.get(destination=created)
    assert load.amount == FIFTY and load.user == manager


def test_a_load_the_settings_refuse_leaves_no_account_behind(
    staff_page: Page, settings: Any
) -> None:
    settings.ACCOUNTS_MAX_INITIAL_VALUE = Decimal("100.00")
    page = staff_page
    page.goto("/dashboard/accounts/new/")
    page.get_by_label("Name").fill("Too generous")
    page.get_by_label("Opening balance").fill("500.00")
    page.get_by_role("button", name="Create").click()

    expect(page.locator("form .error[role=alert]")).to_be_visible()
    assert page.url.endswith("/dashboard/accounts/new/")
    assert not Account.objects.filter(name="Too generous").exists()
    assert not Transfer.objects.exists()


def test_a_redemption_over_the_json_api_shows_on_the_card_s_page(
    staff_page: Page, api: APIRequestContext, card: Account
) -> None:
    response = redeem(api, card.code, "20.00")

    assert response.status == 201, response.text()
    assert response.headers["content-type"].startswith("application/json")
    redemption = response.json()
    assert redemption["amount"] == "20.00"
    assert redemption["source"] == codes.mask(card.code)  # receipts never show the full code
    card.refresh_from_db()
    assert card.balance == Decimal("30.00")

    page = staff_page
    page.goto(f"/dashboard/accounts/{card.pk}/")
    expect(summary(page, "Balance")).to_have_text("30.00 GBP")
    line = page.locator("section.statement tbody tr", has_text=redemption["reference"])
    expect(line.locator("td.num")).to_have_text(["-20.00", "30.00"])


def test_a_redemption_the_ledger_refuses_answers_json_and_changes_nothing(
    api: APIRequestContext, card: Account
) -> None:
    response = redeem(api, card.code, "80.00")

    assert response.status == 409
    assert response.json()["code"] == "insufficient_funds"
    card.refresh_from_db()
    assert card.balance == FIFTY
    assert Transfer.objects.count() == 1


def test_staff_reverse_a_redemption_from_its_transfer_page(
    staff_page: Page, api: APIRequestContext, card: Account, manager: Any, screenshot: Any
) -> None:
    reference = redeem(api, card.code, "20.00").json()["reference"]
    page = staff_page
    page.goto(f"/dashboard/accounts/{card.pk}/")
    page.locator("section.statement").get_by_role("link", name=reference).click()
    expect(page.get_by_role("heading", name=f"Transfer {reference}")).to_be_visible()
    expect(page.locator(".refundable")).to_have_text("Remaining refundable: 20.00 GBP")
    screenshot("transfer")

    page.get_by_role("link", name="Reverse 20.00 GBP").click()
    page.get_by_label("Reason").fill("Redeemed in error")
    page.get_by_role("button", name="Reverse").click()

    expect(page.get_by_role("status")).to_contain_text("Reversed 20.00 GBP as transfer")
    reversal = Transfer.objects.get(kind=TransferKind.REVERSAL)
    assert reversal.parent.reference == reference and reversal.user == manager
    related = page.locator("section", has=page.get_by_role("heading", name="Related transfers"))
    expect(related.locator("tbody tr", has_text=reversal.reference)).to_contain_text("Reversal")
    expect(page.locator(".refundable")).to_have_text("Remaining refundable: 0.00 GBP")
    expect(page.get_by_role("link", name=re.compile("^Reverse"))).to_have_count(0)
    screenshot("transfer-reversed")
    card.refresh_from_db()
    assert card.balance == FIFTY


def test_the_account_page_shows_the_statement_with_running_balances_and_a_chart(
    staff_page: Page, transactional_db: None, screenshot: Any
) -> None:
    now = timezone.now()
    card = AccountFactory(name="Store credit")
    source = Account.objects.source()
    sales = Account.objects.sales()
    for days_ago, (debit, credit, amount) in (
        (20, (source, card, "100.00")),
        (12, (card, sales, "30.00")),
        (5, (card, sales, "20.00")),
        (1, (source, card, "25.00")),
    ):
        date = now - datetime.timedelta(days=days_ago)
        facade.transfer(
            debit, credit, Decimal(amount), description=f"{days_ago} days ago", date=date
        )

    page = staff_page
    page.goto(f"/dashboard/accounts/{card.pk}/")

    expect(summary(page, "Balance")).to_have_text("75.00 GBP")
    rows = page.locator("section.statement tbody tr")
    expect(rows).to_have_count(6)  # opening, four postings, closing
    expect(rows.nth(0)).to_contain_text("Opening balance")
    expect(rows.locator("td.num")).to_have_text(
        [
            "0.00",
            "100.00",
            "100.00",
            "-30.00",
            "70.00",
            "-20.00",
            "50.00",
            "25.00",
            "75.00",
            "75.00",
        ]
    )
    expect(rows.nth(5)).to_contain_text("Closing balance")
    chart = page.locator("section.chart svg.accounts-chart")
    expect(chart).to_be_visible()
    expect(chart.locator("path.chart-line")).to_have_count(1)
    assert chart.bounding_box()["height"] > 50
    screenshot("account")
