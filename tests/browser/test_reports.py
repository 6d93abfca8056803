"""Each report opens from the reports page, shows the shop's figures and downloads as CSV."""

from __future__ import annotations

import csv
import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts import facade
from accounts.models import Account, Kind

from ..factories import AccountFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

#: (link on the reports page, file name of the download, its header row, a row it must hold).
REPORTS = [
    (
        "Trial balance",
        "trial-balance.csv",
        ["currency", "code", "name", "kind", "debit", "credit"],
        ["GBP", "CORE-SALES", "Sales", "income", "0.00", "30.00"],
    ),
    (
        "Account tree",
        "account-tree.csv",
        ["depth", "code", "name", "kind", "currency", "balance"],
        ["0", "HOUSE", "House", "asset", "GBP", "1200.00"],
    ),
    (
        "Deferred income",
        "deferred-income.csv",
        ["bucket", "currency", "amount"],
        ["≤30 days", "GBP", "70.00"],
    ),
    (
        "Gift-card flows",
        "gift-card-flows.csv",
        ["line", "currency", "amount"],
        ["Redemptions", "GBP", "30.00"],
    ),
    (
        "Profit and loss",
        "profit-and-loss.csv",
        ["section", "code", "currency", "amount"],
        ["income", "HOUSE-RENT", "GBP", "1200.00"],
    ),
    (
        "Balance sheet",
        "balance-sheet.csv",
        ["section", "code", "currency", "amount"],
        ["assets", "HOUSE", "GBP", "1200.00"],
    ),
]


@pytest.fixture
def shop(transactional_db: None) -> None:
    """A small shop's books, all posted this month so the period reports show them.

    Two gift cards, one spent from and one swept into the expired account when it lapsed, an
    open-ended store credit, and a house's bank account under a parent that only sums it.
    """
    now = timezone.now()
    soon = facade.create_account(
        amount=Decimal("100.00"), name="Gift card A", end_date=now + datetime.timedelta(days=20)
    )
    facade.transfer(soon, Account.objects.sales(), Decimal("30.00"), description="Redemption")
    lapsing = facade.create_account(
        amount=Decimal("15.00"), name="Gift card B", end_date=now + datetime.timedelta(days=1)
    )
    Account.objects.filter(pk=lapsing.pk).update(end_date=now - datetime.timedelta(seconds=1))
    facade.expire_account(Account.objects.get(pk=lapsing.pk))
    facade.create_account(amount=Decimal("40.00"), name="Store credit")
    house = AccountFactory(name="House", code="HOUSE", kind=Kind.ASSET)
    bank = AccountFactory(name="Bank", code="HOUSE-BANK", kind=Kind.ASSET, parent=house)
    rent = AccountFactory(name="Rent", code="HOUSE-RENT", kind=Kind.INCOME)
    facade.transfer(bank, rent, Decimal("1200.00"), description="Rent for the month")


@pytest.mark.parametrize(
    ("link", "filename", "header", "row"), REPORTS, ids=[r[1] for r in REPORTS]
)
def test_each_report_opens_and_downloads_as_csv(
    staff_page: Page,
    shop: None,
    screenshot: Any,
    link: str,
    filename: str,
    header: list[str],
    row: list[str],
) -> None:
    page = staff_page
    page.get_by_role("navigation", name="Dashboard").get_by_role("link", name="Reports").click()
    page.get_by_role("link", name=link, exact=True).click()
    expect(page.get_by_role("heading", name=link, level=1)).to_be_visible()
    screenshot("report-" + filename.removesuffix(".csv"))

    with page.expect_download() as started:
        page.get_by_role("link", name="Download CSV").click()
    download = started.value

    assert download.suggested_filename == filename
    with open(download.path(), encoding="utf-8", newline="") as saved:
        rows = list(csv.reader(saved))
    assert rows[0] == header
    assert row in rows[1:]


def test_the_trial_balance_shows_the_accounting_equation_holding(
    staff_page: Page, shop: None
) -> None:
    page = staff_page
    page.goto("/dashboard/reports/trial-balance/")

    equation = page.locator("section", has=page.get_by_role("heading", name="Accounting equation"))
    gbp = equation.locator("tbody tr", has=page.get_by_role("rowheader", name="GBP"))
    expect(gbp.locator("td.num")).to_have_text(["1355.00", "1355.00"])
    expect(gbp.locator(".ok")).to_have_text("Yes")
    expect(page.get_by_role("row", name="Total (balanced)")).to_have_count(1)


def test_the_deferred_income_report_follows_the_date_chosen(staff_page: Page, shop: None) -> None:
    page = staff_page
    page.goto("/dashboard/reports/deferred-income/")
    table = page.locator("main table")
    expect(table.locator("tbody tr", has_text="≤30 days").locator("td")).to_have_text("70.00")

    later = timezone.localdate() + datetime.timedelta(days=40)
    page.get_by_label("As of the end of").fill(later.isoformat())
    page.get_by_role("button", name="Show").click()

    expect(table.locator("tbody tr", has_text="expired").locator("td")).to_have_text("70.00")
    expect(table.locator("tfoot td")).to_have_text("110.00")
