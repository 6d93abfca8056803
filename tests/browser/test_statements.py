"""Bank statements in the browser: upload with a preview, import, then reconcile a line."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from accounts.models import Account, Kind, StatementLine

from ..statements.conftest import FILES

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def bank(transactional_db: None) -> Account:
    return Account.objects.create(
        name="Current account", kind=Kind.ASSET, is_bank=True, credit_limit=None, currency="GBP"
    )


@pytest.fixture
def salary_income(transactional_db: None) -> Account:
    return Account.objects.create(
        name="Salary income", kind=Kind.INCOME, credit_limit=None, currency="GBP"
    )


def test_a_statement_is_previewed_imported_and_reconciled(
    staff_page: Page, bank: Account, salary_income: Account, screenshot: Any
) -> None:
    page = staff_page
    page.get_by_role("link", name="Bank statements").click()
    expect(page.get_by_role("heading", name="Bank statements", level=1)).to_be_visible()
    page.get_by_label("Bank account").select_option(label="Current account")
    page.get_by_label("Statement file (CSV or CAMT.053)").set_input_files(
        str(FILES / "uk_bank_2026_11.csv")
    )
    page.get_by_role("button", name="Preview").click()
    preview = page.locator("table.preview")
    expect(preview).to_contain_text("Paid in")
    expect(preview).to_contain_text("ACME LTD SALARY NOV")
    screenshot("statement-preview")
    assert not StatementLine.objects.exists()

    page.get_by_label("Bank account").select_option(label="Current account")
    page.get_by_label("Statement file (CSV or CAMT.053)").set_input_files(
        str(FILES / "uk_bank_2026_11.csv")
    )
    page.get_by_role("button", name="Import").click()
    expect(page.locator("dl.card")).to_contain_text("15")
    screenshot("statement-imported")
    assert StatementLine.objects.count() == 15

    page.get_by_role("link", name="Reconcile").click()
    expect(page.locator("p.count")).to_contain_text("15 lines to reconcile")
    row = page.locator("tr", has_text="ACME LTD SALARY NOV")
    row.get_by_label("Post to").select_option(label="Salary income")
    row.get_by_role("button", name="Post").click()
    expect(page.locator("p.count")).to_contain_text("14 lines to reconcile")
    screenshot("statement-reconciled")
    salary = StatementLine.objects.get(description="ACME LTD SALARY NOV")
    assert salary.reconciled_transfer.destination_id == salary_income.pk
