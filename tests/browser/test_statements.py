"""Bank statements in the browser: upload with a preview, choose the columns, import, then
reconcile a line or several at once."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from accounts.models import Account, Kind, StatementLine

from ..statements.conftest import FILES

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FILE_LABEL = "Statement file (CSV, CAMT.053 or OFX)"
#: A file nothing can be guessed from: no known header word, dates with a time.
ODD = (
    "Booked at,Text,Counterparty,Value\n"
    "2026-11-03 10:15,Coffee,Cafe Blau,-3.20\n"
    "2026-11-04 09:00,Salary November,ACME Ltd,2500.00\n"
    "2026-11-05 18:30,Groceries,Tesco,-41.07\n"
)


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
    page.get_by_label(FILE_LABEL).set_input_files(str(FILES / "uk_bank_2026_11.csv"))
    page.get_by_role("button", name="Preview").click()
    preview = page.locator("table.preview")
    expect(preview).to_contain_text("Paid in")
    expect(preview).to_contain_text("ACME LTD SALARY NOV")
    screenshot("statement-preview")
    assert not StatementLine.objects.exists()

    page.get_by_label("Bank account").select_option(label="Current account")
    page.get_by_label(FILE_LABEL).set_input_files(str(FILES / "uk_bank_2026_11.csv"))
    page.get_by_role("button", name="Import").click()
    expect(page.locator("section.summary")).to_contain_text("15")
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


def test_the_columns_of_an_unguessable_file_are_chosen_and_remembered(
    staff_page: Page, bank: Account, tmp_path: Path, screenshot: Any
) -> None:
    page = staff_page
    odd = tmp_path / "odd.csv"
    odd.write_text(ODD, encoding="utf-8")
    page.get_by_role("link", name="Bank statements").click()
    page.get_by_label("Bank account").select_option(label="Current account")
    page.get_by_label(FILE_LABEL).set_input_files(str(odd))
    page.get_by_role("button", name="Import").click()
    # Not a dead end: the reason, the file's rows and a form to say which column is which.
    expect(page.get_by_role("alert").first).to_contain_text("no rows of data")
    expect(page.locator("table.preview")).to_contain_text("Cafe Blau")
    page.get_by_label("Column names are in").select_option(label="Row 1: " + ODD.split("\n")[0])
    page.get_by_label(FILE_LABEL).set_input_files(str(odd))
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("table.preview thead")).to_contain_text("Counterparty")
    page.locator("#id_map-date").select_option(label="Booked at")
    page.get_by_label("Amount (signed)").select_option(label="Value")
    page.locator("#id_map-payee").select_option(label="Counterparty")
    page.locator("fieldset", has_text="Description").get_by_label("Text").check()
    screenshot("statement-mapping")
    page.get_by_label(FILE_LABEL).set_input_files(str(odd))
    page.get_by_role("button", name="Import").click()
    expect(page.locator("section.summary")).to_contain_text("3")
    salary = StatementLine.objects.get(payee="ACME Ltd")
    assert (salary.amount, salary.description) == (Decimal("2500.00"), "Salary November")

    # The next file from this bank starts from the columns chosen.
    page.get_by_role("link", name="Bank statements").click()
    page.get_by_label("Bank account").select_option(label="Current account")
    page.get_by_label(FILE_LABEL).set_input_files(str(odd))
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_label("Amount (signed)")).to_have_value("3")
    expect(page.locator("table.preview thead")).to_contain_text("amount")


def test_several_lines_are_reconciled_to_one_account_at_once(
    staff_page: Page, bank: Account, screenshot: Any
) -> None:
    from accounts.statements import import_statement

    from ..statements.conftest import statement

    groceries = Account.objects.create(
        name="Groceries", kind=Kind.EXPENSE, credit_limit=None, currency="GBP"
    )
    import_statement(bank, statement("uk_bank_2026_11.csv"))
    page = staff_page
    page.get_by_role("link", name="Bank statements").click()
    page.get_by_role("link", name="Current account").click()
    expect(page.locator("p.count")).to_contain_text("15 lines to reconcile")
    for shop in ("TESCO STORES 2041 LONDON", "SAINSBURYS S/MKT"):
        page.locator("tr", has_text=shop).first.get_by_role("checkbox").check()
    page.get_by_label("Post the ticked lines (at most 50) to").select_option(label="Groceries")
    page.get_by_role("button", name="Post the ticked lines").click()
    expect(page.locator("p.count")).to_contain_text("13 lines to reconcile")
    expect(page.get_by_text("2 lines are reconciled with Groceries.")).to_be_visible()
    screenshot("statement-bulk-reconciled")
    posted = StatementLine.objects.filter(reconciled_transfer__source=groceries)
    assert sorted(line.amount for line in posted) == [Decimal("-88.86"), Decimal("-20.00")]
