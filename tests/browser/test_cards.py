"""Customer cards in the browser: who sees a card's code, who may correct its transfers, and
creating a card (or a house account) from the "New account" form.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings as django_settings
from playwright.sync_api import BrowserContext, Page, expect

from accounts import facade
from accounts.dashboard.forms import CARD_NEEDS_LIMIT
from accounts.models import Account, Kind, Transfer, TransferKind

from ..conftest import ledger_snapshot
from ..factories import AccountFactory, StaffFactory
from .conftest import grant, log_in_with_a_session

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FIFTY = Decimal("50.00")


@pytest.fixture
def clerk(transactional_db: None) -> Any:
    """A shop assistant, as the sandbox's: every dashboard permission but seeing codes and
    reversing."""
    return grant(
        StaffFactory(username="clerk"),
        "view_account",
        "add_account",
        "change_account",
        "view_transfer",
        "refund_transfer",
        "view_reports",
    )


@pytest.fixture
def redeemed(transactional_db: None) -> Transfer:
    """A card with no name (pages can only call it by its code), spent at the till."""
    card = facade.create_card(amount=FIFTY)
    return facade.transfer(card, Account.objects.sales(), Decimal("20.00"))


def summary(page: Page, term: str) -> Any:
    return page.locator(f"section.summary dt:text-is('{term}') + dd")


def test_staff_without_view_card_code_see_masked_codes_and_cannot_reverse(
    page: Page,
    context: BrowserContext,
    live_server: Any,
    clerk: Any,
    redeemed: Transfer,
    screenshot: Any,
) -> None:
    card = redeemed.source
    log_in_with_a_session(page, live_server, clerk)

    page.goto("/dashboard/accounts/")
    row = page.locator("main tbody tr", has_text=card.display_code)
    expect(row).to_have_count(1)
    screenshot("clerk-accounts", full_page=False)
    row.get_by_role("link", name=card.display_code).click()
    expect(summary(page, "Code")).to_have_text(card.display_code)
    expect(summary(page, "Role")).to_have_text("Customer card")

    page.locator("section.statement").get_by_role("link", name=redeemed.reference).click()
    expect(page.get_by_role("heading", name=f"Transfer {redeemed.reference}")).to_be_visible()
    expect(page.get_by_role("link", name="Refund", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("^Reverse"))).to_have_count(0)
    screenshot("clerk-transfer")
    for shown in (page.content(), page.goto("/dashboard/transfers/").text()):
        assert card.code not in shown

    # Posting the reversal form by hand is refused too, and writes nothing.
    before = ledger_snapshot()
    token = next(
        c["value"] for c in context.cookies() if c["name"] == django_settings.CSRF_COOKIE_NAME
    )
    response = context.request.post(
        f"/dashboard/transfers/{redeemed.reference}/reverse/",
        form={"csrfmiddlewaretoken": token},
    )
    assert response.status == 403
    assert ledger_snapshot() == before
    assert not Transfer.objects.filter(kind=TransferKind.REVERSAL).exists()


def test_staff_holding_reverse_transfer_see_the_reverse_button(
    page: Page, live_server: Any, redeemed: Transfer
) -> None:
    manager = grant(StaffFactory(username="boss"), "view_transfer", "reverse_transfer")
    log_in_with_a_session(page, live_server, manager)
    page.goto(f"/dashboard/transfers/{redeemed.reference}/")

    page.get_by_role("link", name="Reverse 20.00 GBP").click()
    page.get_by_label("Reason").fill("Redeemed in error")
    page.get_by_role("button", name="Reverse").click()

    expect(page.get_by_role("status")).to_contain_text("Reversed 20.00 GBP as transfer")
    assert Transfer.objects.get(kind=TransferKind.REVERSAL).user == manager


def test_a_clerk_creates_a_customer_card_and_sees_its_code_once(
    page: Page, live_server: Any, clerk: Any, screenshot: Any
) -> None:
    log_in_with_a_session(page, live_server, clerk)
    page.goto("/dashboard/accounts/new/")
    page.get_by_label("Customer card").check()
    page.get_by_label("Name").fill("Birthday card")
    # Only the window: a full-page screenshot of this long form leaves Chromium unable to
    # click its button.
    screenshot("card-new", full_page=False)
    page.get_by_label("Opening balance").fill("30.00")
    page.get_by_role("button", name="Create").click()

    page.wait_for_url(re.compile(r"/dashboard/accounts/\d+/$"))
    made = Account.objects.get(name="Birthday card")
    assert made.is_card and made.balance == Decimal("30.00")
    expect(summary(page, "Code").locator("code")).to_have_text(made.code)
    expect(page.get_by_role("note")).to_contain_text("Shown once")
    expect(page.get_by_role("heading", name="Top up")).to_be_visible()
    screenshot("card-created")

    page.reload()
    expect(summary(page, "Code").locator("code")).to_have_text(made.display_code)
    assert made.code not in page.content()


def test_a_card_with_no_credit_limit_is_refused_but_a_house_account_may_have_none(
    staff_page: Page,
) -> None:
    page = staff_page
    page.goto("/dashboard/accounts/new/")
    page.get_by_label("Name").fill("Float")
    page.get_by_label("No credit limit").check()
    page.get_by_role("button", name="Create").click()

    expect(page.locator("form .error", has_text=str(CARD_NEEDS_LIMIT))).to_be_visible()
    assert not Account.objects.filter(name="Float").exists()

    page.get_by_label("House account").check()
    page.get_by_label("Kind").select_option("asset")
    page.get_by_label("Opening balance").fill("")
    page.get_by_role("button", name="Create").click()

    page.wait_for_url(re.compile(r"/dashboard/accounts/\d+/$"))
    made = Account.objects.get(name="Float")
    assert (made.is_card, made.kind, made.credit_limit) == (False, Kind.ASSET, None)
    expect(summary(page, "Role")).to_have_text("House account")
    expect(page.get_by_role("heading", name="Top up")).to_have_count(0)


def test_a_house_account_page_offers_no_money_actions(
    staff_page: Page, transactional_db: None
) -> None:
    bank = AccountFactory(name="Bank", code="HOUSE-BANK", kind=Kind.ASSET)
    staff_page.goto(f"/dashboard/accounts/{bank.pk}/")
    expect(summary(staff_page, "Code")).to_have_text("HOUSE-BANK")
    expect(staff_page.get_by_role("heading", name="Withdraw")).to_have_count(0)
    expect(staff_page.locator("p.note")).to_contain_text("Only customer cards")
