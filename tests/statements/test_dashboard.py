"""Bank statements in the dashboard: upload with a preview, the result, the reconciliation."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts import facade
from accounts.models import Kind, Reconciliation, StatementImport, StatementLine, Transfer

from ..factories import AccountFactory, StaffFactory
from ..surfaces.test_dashboard import body, client_for, grant, url
from .conftest import FILES, PERMISSIONS

pytestmark = pytest.mark.django_db


def upload(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, (FILES / name).read_bytes())


def test_the_preview_shows_the_columns_found_and_imports_nothing(bookkeeper, eur_bank):
    response = bookkeeper.post(
        url("statement_upload"),
        {"bank_account": eur_bank.pk, "file": upload("de_bank_2026_11.csv"), "preview": "1"},
    )
    page = body(response)
    assert response.status_code == 200
    assert "cp1252" in page and "Buchungstag" in page and "Hausverwaltung Müller GmbH" in page
    assert not StatementImport.objects.exists()


def test_an_upload_imports_and_shows_the_result(bookkeeper, gbp_bank):
    response = bookkeeper.post(
        url("statement_upload"),
        {"bank_account": gbp_bank.pk, "file": upload("uk_bank_2026_11.csv"), "import": "1"},
        follow=True,
    )
    record = StatementImport.objects.get()
    assert response.redirect_chain[-1][0] == url("statement_import", record.pk)
    assert record.lines_added == 15 and "uk_bank_2026_11.csv" in body(response)
    assert url("statement_reconcile", gbp_bank.pk) in body(response)


def test_a_file_with_rejected_rows_lists_them_and_imports_nothing(bookkeeper, gbp_bank):
    bad = SimpleUploadedFile(
        "bad.csv", b"Date,Description,Amount\n20/11/2026,Ok,1.00\n21/11/2026,X,lots\n"
    )
    response = bookkeeper.post(url("statement_upload"), {"bank_account": gbp_bank.pk, "file": bad})
    assert "lots is not an amount." in body(response)
    assert not StatementLine.objects.exists()


def test_only_bank_accounts_are_offered(bookkeeper, gbp_bank):
    other = AccountFactory(kind=Kind.ASSET, credit_limit=None)
    response = bookkeeper.post(
        url("statement_upload"), {"bank_account": other.pk, "file": upload("uk_bank_2026_11.csv")}
    )
    assert response.status_code == 200 and not StatementImport.objects.exists()


def test_a_line_is_posted_to_an_account_or_matched_from_the_screen(bookkeeper, gbp_bank):
    from accounts.statements import import_statement

    from .conftest import statement

    import_statement(gbp_bank, statement("uk_bank_2026_11.csv"))
    salary_income = AccountFactory(kind=Kind.INCOME, currency="GBP", credit_limit=None)
    rent_expense = AccountFactory(kind=Kind.EXPENSE, currency="GBP", credit_limit=None)
    screen = url("statement_reconcile", gbp_bank.pk)
    assert "15 lines to reconcile" in body(bookkeeper.get(screen))
    salary = StatementLine.objects.get(description="ACME LTD SALARY NOV")
    bookkeeper.post(screen, {"line": salary.pk, "account": salary_income.pk})
    salary.refresh_from_db()
    assert salary.reconciled_transfer.destination == salary_income
    paid = facade.transfer(
        rent_expense,
        gbp_bank,
        Decimal("1250.00"),
        description="Rent",
        date=datetime.datetime(2026, 11, 1, 9, tzinfo=datetime.timezone.utc),
    )
    rent = StatementLine.objects.get(description="LANDLORD RENT FLAT 2")
    assert f'name="transfer" value="{paid.pk}"' in body(bookkeeper.get(screen))  # suggested
    bookkeeper.post(screen, {"line": rent.pk, "transfer": paid.pk})
    rent.refresh_from_db()
    assert (rent.reconciled_transfer, rent.reconciliation) == (paid, Reconciliation.MATCHED)
    # A refusal is a message; nothing moves.
    before = Transfer.objects.count()
    response = bookkeeper.post(screen, {"line": rent.pk, "account": salary_income.pk}, follow=True)
    assert "already reconciled" in body(response)
    assert Transfer.objects.count() == before


def test_staff_without_the_statement_permissions_are_refused(gbp_bank):
    client = client_for(grant(StaffFactory(), "view_account"))
    assert client.get(url("statement_upload")).status_code == 403
    assert client.get(url("statement_reconcile", gbp_bank.pk)).status_code == 403
    assert (
        client.post(url("statement_reconcile", gbp_bank.pk), {"apply_rules": "1"}).status_code
        == 403
    )


def test_undoing_a_posted_line_needs_the_reverse_permission(gbp_bank):
    from accounts.statements import import_statement

    from .conftest import statement

    import_statement(gbp_bank, statement("uk_bank_2026_11.csv"))
    income = AccountFactory(kind=Kind.INCOME, currency="GBP", credit_limit=None)
    salary = StatementLine.objects.get(description="ACME LTD SALARY NOV")
    posted = salary.create_transaction(income)
    screen = url("statement_reconcile", gbp_bank.pk)
    bookkeeper = client_for(grant(StaffFactory(), *PERMISSIONS))
    assert "Reverse and unreconcile" not in body(bookkeeper.get(screen))
    refused = bookkeeper.post(screen, {"line": salary.pk, "unreconcile": "1"})
    assert refused.status_code == 403
    assert StatementLine.objects.get(pk=salary.pk).reconciled_transfer == posted
    supervisor = client_for(grant(StaffFactory(), *PERMISSIONS, "reverse_transfer"))
    assert "Reverse and unreconcile" in body(supervisor.get(screen))
    supervisor.post(screen, {"line": salary.pk, "unreconcile": "1"})
    salary.refresh_from_db()
    assert not salary.is_reconciled
    assert Transfer.objects.filter(reverses=posted).exists()


def test_visitors_and_users_who_are_not_staff_are_kept_out(client, gbp_bank):
    from ..factories import UserFactory

    pages = [url("statement_upload"), url("statement_reconcile", gbp_bank.pk)]
    for page in pages:
        response = client.get(page)
        assert response.status_code == 302 and "login" in response.url
    outsider = client_for(grant(UserFactory(), *PERMISSIONS))
    for page in pages:
        assert outsider.get(page).status_code == 403


def test_the_reconciliation_screen_of_an_account_that_is_no_bank_is_not_found(bookkeeper):
    other = AccountFactory(kind=Kind.ASSET, credit_limit=None)
    assert bookkeeper.get(url("statement_reconcile", other.pk)).status_code == 404


def test_the_screen_shows_amounts_to_the_currencys_places_and_what_each_suggestion_is(
    bookkeeper, gbp_bank
):
    from accounts.statements import import_statement

    from .conftest import statement

    import_statement(gbp_bank, statement("uk_bank_2026_11.csv"))
    income = AccountFactory(kind=Kind.INCOME, currency="GBP", credit_limit=None)
    rent_expense = AccountFactory(kind=Kind.EXPENSE, currency="GBP", credit_limit=None)
    facade.transfer(gbp_bank, income, Decimal("5000.00"))
    facade.transfer(
        rent_expense,
        gbp_bank,
        Decimal("1250.00"),
        description="Flat 2, November's rent",
        date=datetime.datetime(2026, 11, 1, 9, tzinfo=datetime.timezone.utc),
    )
    page = body(bookkeeper.get(url("statement_reconcile", gbp_bank.pk)))
    assert ">-1250.00 GBP<" in page  # the test settings group no thousands
    assert "1250.0000" not in page and ".0000 " not in page
    assert "Flat 2, November&#x27;s rent" in page


def test_placeholders_are_not_offered_to_post_to(bookkeeper, gbp_bank):
    parent = AccountFactory(kind=Kind.EXPENSE, currency="GBP", credit_limit=None, name="Costs")
    child = AccountFactory(
        kind=Kind.EXPENSE, currency="GBP", credit_limit=None, name="Food", parent=parent
    )
    response = bookkeeper.get(url("statement_reconcile", gbp_bank.pk))
    offered = set(response.context["targets"])
    assert child in offered and parent not in offered


def test_no_account_is_chosen_in_advance_to_post_lines_to(bookkeeper, gbp_bank):
    from accounts.statements import import_statement

    from .conftest import statement

    import_statement(gbp_bank, statement("uk_bank_2026_11.csv"))
    AccountFactory(kind=Kind.EXPENSE, currency="GBP", credit_limit=None, name="Aardvark food")
    page = body(bookkeeper.get(url("statement_reconcile", gbp_bank.pk)))
    selects = page.count('<select name="account"')
    assert selects == 1 + 15  # the ticked lines' and each line's
    assert page.count("required>\n") >= selects
    assert page.count('<option value="">Choose an account</option>') == selects
    # Posting without choosing says so and posts nothing.
    line = StatementLine.objects.first()
    response = bookkeeper.post(
        url("statement_reconcile", gbp_bank.pk), {"line": line.pk, "account": ""}, follow=True
    )
    assert "Choose an account or a transfer." in body(response)
    assert not Transfer.objects.exists()


def test_an_imports_page_lists_its_lines_with_their_dates_and_sums(bookkeeper, gbp_bank, staff):
    from accounts.statements import import_statement

    from .conftest import statement

    result = import_statement(gbp_bank, statement("uk_bank_2026_11.csv"), user=staff)
    record = result.statement_import
    lines = StatementLine.objects.filter(statement_import=record)
    income = AccountFactory(kind=Kind.INCOME, currency="GBP", credit_limit=None)
    salary = lines.get(description="ACME LTD SALARY NOV")
    posted = salary.create_transaction(income)
    response = bookkeeper.get(url("statement_import", record.pk))
    page = body(response)
    summary = response.context["summary"]
    money_in = sum(line.amount for line in lines if line.amount > 0)
    money_out = sum(line.amount for line in lines if line.amount < 0)
    assert (summary["count"], summary["reconciled"]) == (15, 1)
    assert (summary["first"], summary["last"]) == (
        min(line.date for line in lines),
        max(line.date for line in lines),
    )
    assert (summary["money_in"], summary["money_out"]) == (money_in, money_out)
    assert f">{money_in:.2f} GBP<" in page and f">{money_out:.2f} GBP<" in page
    assert "1 of 15 lines" in page
    assert [line.pk for line in response.context["lines"]] == list(
        lines.order_by("date", "row_number", "pk").values_list("pk", flat=True)
    )
    assert posted.reference in page and "LANDLORD RENT FLAT 2" in page
    assert staff.get_username() in page
