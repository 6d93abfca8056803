"""The dashboard's main pages over the sandbox's demo data, as a newcomer sees them.

The demo data (``sandbox/demo/loader.py``: a gift-card shop, a business customer's credit
line and a shared house's month of books) exercises every kind of row the pages draw, so
these tests check that each page renders it and save the screenshots the docs show.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from accounts.models import Account, Transfer, TransferKind
from sandbox.demo import loader

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

#: The sandbox's own settings that the demo data and the pages depend on.
SANDBOX_SETTINGS = {
    "ACCOUNTS_SOURCE_NAME": "Shop till",
    "ACCOUNTS_SALES_NAME": "Shop sales",
    "ACCOUNTS_EXPIRED_NAME": "Expired gift cards",
}


@pytest.fixture
def demo_page(page: Page, settings: Any, transactional_db: None) -> Page:
    """The demo data loaded, and a page logged in as its ``staff`` user."""
    for name, value in SANDBOX_SETTINGS.items():
        setattr(settings, name, value)
    loader.load()
    username, password, _ = next(login for login in loader.LOGINS if login[0] == "staff")
    log_in(page, username, password=password)
    return page


def heading(page: Page, text: str) -> Any:
    return page.get_by_role("heading", name=text, level=1)


def test_the_account_and_transfer_pages_draw_the_demo_s_shop(
    demo_page: Page, screenshot: Any
) -> None:
    page = demo_page
    expect(heading(page, "Accounts")).to_be_visible()
    expect(page.locator("p.count")).to_have_text(f"{Account.objects.count()} accounts")
    screenshot("demo-accounts", full_page=False)

    # A gift card that was spent and partly refunded: its statement, chart and transfers.
    refund = Transfer.objects.get(kind=TransferKind.REFUND)
    page.get_by_label("Search").fill(refund.destination.code)
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("p.count")).to_have_text("1 account")
    page.locator("main tbody").get_by_role("link", name=refund.destination.code).click()
    expect(heading(page, refund.destination.name)).to_be_visible()
    expect(page.locator("svg.accounts-chart path.chart-line")).to_have_count(1)
    statement = page.locator("section.statement")
    expect(statement.locator("tbody tr", has_text=refund.reference)).to_contain_text("Refund")
    screenshot("demo-account")

    statement.get_by_role("link", name=refund.reference).click()
    expect(heading(page, f"Transfer {refund.reference}")).to_be_visible()
    page.get_by_role("link", name=refund.parent.reference).click()
    expect(heading(page, f"Transfer {refund.parent.reference}")).to_be_visible()
    children = page.locator("tbody tr", has_text=refund.reference)
    expect(children).to_contain_text("Refund")
    screenshot("demo-transfer")

    # The business customer's credit line: a balance below zero, within the limit.
    customer = Account.objects.get(code=loader.CREDIT_LINE_CODE)
    assert customer.balance < 0
    page.goto(f"/dashboard/accounts/{customer.pk}/")
    balance = page.locator("section.summary dt:text-is('Balance') + dd")
    expect(balance).to_have_text(f"{customer.balance:.2f} GBP")
    screenshot("demo-credit-line")

    page.get_by_role("navigation", name="Dashboard").get_by_role("link", name="Transfers").click()
    expect(heading(page, "Transfers")).to_be_visible()
    latest = Transfer.objects.order_by("-created_at", "-pk").first()
    assert latest is not None
    expect(page.locator("main table tbody tr").first).to_contain_text(latest.reference)
    screenshot("demo-transfers", full_page=False)


def test_every_report_draws_the_demo_s_books(demo_page: Page, screenshot: Any) -> None:
    page = demo_page
    # The first two grow with the number of accounts; the top of the page shows their look.
    for path, title, full_page in (
        ("trial-balance", "Trial balance", False),
        ("account-tree", "Account tree", False),
        ("deferred-income", "Deferred income", True),
        ("profit-and-loss", "Profit and loss", True),
        ("balance-sheet", "Balance sheet", True),
        ("gift-card-flows", "Gift-card flows", True),
    ):
        page.goto(f"/dashboard/reports/{path}/")
        expect(heading(page, title)).to_be_visible()
        expect(page.locator("main .bad")).to_have_count(0)  # nothing fails to balance
        expect(page.locator("main .empty")).to_have_count(0)  # every table has rows
        if path == "account-tree":
            # The house's accounts sit under their parents; show that part of the tree.
            bank = page.locator("tr.depth-1", has_text="HOUSE-BANK")
            expect(bank.locator("td.num")).to_have_text("2381.30")
            parent = page.locator("tr.depth-0.parent", has_text="HOUSE-ASSETS")
            expect(parent.locator("td.num")).to_have_text("2381.30")
            parent.evaluate("row => row.scrollIntoView({block: 'start'})")
        screenshot(f"demo-report-{path}", full_page=full_page)


def test_the_admin_lists_the_demo_s_accounts_with_their_balances(
    demo_page: Page, screenshot: Any
) -> None:
    page = demo_page
    page.goto("/admin/accounts/account/")

    expect(page.locator("#result_list")).to_be_visible()
    expect(page.locator("#result_list tbody tr", has_text="Northwind Traders")).to_have_count(1)
    screenshot("demo-admin-accounts", full_page=False)
