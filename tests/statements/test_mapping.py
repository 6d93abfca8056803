"""Confirming or changing a CSV file's column mapping, and remembering it per bank account."""

from __future__ import annotations

import datetime
import hashlib
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts import exceptions
from accounts.models import StatementImport, StatementLine
from accounts.statements import ColumnMapping, CsvStatement, import_statement, preview_csv

from ..surfaces.test_dashboard import body, url
from .conftest import FILES, bank_account, statement

pytestmark = pytest.mark.django_db

#: Nothing in it says which column is which: no known header word, dates with a time.
ODD = (
    b"Booked at,Text,Counterparty,Value\n"
    b"2026-11-03 10:15,Coffee,Cafe Blau,-3.20\n"
    b"2026-11-04 09:00,Salary November,ACME GmbH,2500.00\n"
    b"2026-11-05 18:30,Groceries,REWE,-41.07\n"
)
ODD_MAPPING = ColumnMapping(
    date="Booked at",
    amount="Value",
    description=("Text",),
    payee="Counterparty",
    header_row=1,
)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_a_mapping_with_its_header_row_survives_being_remembered():
    assert ColumnMapping.from_dict(ODD_MAPPING.as_dict()) == ODD_MAPPING
    guessed = ColumnMapping(date="Date", amount="Amount")
    assert "header_row" not in guessed.as_dict()  # what older imports stored reads the same


def test_a_file_whose_columns_cannot_be_guessed_can_still_be_previewed():
    with pytest.raises(exceptions.InvalidStatement):
        CsvStatement(io.BytesIO(ODD))
    reader = preview_csv(io.BytesIO(ODD))
    assert reader.mapping is None and reader.columns == ["1", "2", "3", "4"]
    assert reader.top_rows[0] == ["Booked at", "Text", "Counterparty", "Value"]
    named = preview_csv(io.BytesIO(ODD), header_row=1)
    assert named.columns == ["Booked at", "Text", "Counterparty", "Value"]
    assert len(named.sample_rows) == 3


def test_the_chosen_mapping_and_header_row_import_the_file_and_are_remembered(eur_bank):
    result = import_statement(eur_bank, io.BytesIO(ODD), mapping=ODD_MAPPING)
    assert (result.lines_added, result.lines_rejected) == (3, 0)
    salary = StatementLine.objects.get(payee="ACME GmbH")
    assert (salary.date, salary.amount) == (datetime.date(2026, 11, 4), Decimal("2500.00"))
    assert salary.description == "Salary November"
    assert StatementImport.objects.get().mapping["columns"]["header_row"] == 1
    # The next file of that layout needs no mapping: the bank account remembers it.
    later = ODD.replace(b"2026-11-05 18:30", b"2026-11-06 08:00")
    assert import_statement(eur_bank, io.BytesIO(later)).lines_added == 1
    assert preview_csv(io.BytesIO(later), eur_bank).mapping == ODD_MAPPING


def test_a_header_row_that_holds_no_names_is_refused():
    with pytest.raises(exceptions.InvalidColumnMapping, match="Row 3 is not a header"):
        CsvStatement(io.BytesIO(ODD + b"2026-11-03,x,x,x\n"), header_row=3, mapping_required=False)
    with pytest.raises(exceptions.InvalidColumnMapping, match="not among the file's first"):
        CsvStatement(io.BytesIO(ODD), header_row=30)


def test_no_header_row_numbers_the_columns_and_skips_the_names(gbp_bank):
    mapping = ColumnMapping(date="1", money_out="4", money_in="5", description=("3",), header_row=0)
    reader = CsvStatement(statement("uk_bank_2026_11.csv"), mapping=mapping)
    assert reader.header is None and reader.columns[0] == "1"
    assert reader.sample_rows[0][2] == "ACME LTD SALARY NOV"
    assert (
        import_statement(gbp_bank, statement("uk_bank_2026_11.csv"), mapping=mapping).lines_added
        == 15
    )


# -- the dashboard ----------------------------------------------------------------------------


def post(client, bank, data: bytes, **fields):
    upload = SimpleUploadedFile("statement.csv", data)
    return client.post(url("statement_upload"), {"bank_account": bank.pk, "file": upload, **fields})


def test_the_preview_offers_the_guessed_columns_to_confirm(bookkeeper, gbp_bank):
    data = (FILES / "uk_bank_2026_11.csv").read_bytes()
    page = body(post(bookkeeper, gbp_bank, data, preview="1"))
    assert f'name="map-file_sha256" value="{sha256(data)}"' in page
    # Paid out (column 4) and Paid in (column 5) are the guessed pair.
    assert '<option value="3" selected>Paid out</option>' in page
    assert '<option value="4" selected>Paid in</option>' in page
    assert not StatementImport.objects.exists()


def test_an_unguessable_file_shows_the_preview_instead_of_an_error(bookkeeper, eur_bank):
    page = body(post(bookkeeper, eur_bank, ODD, **{"import": "1"}))
    assert "The file has no rows of data." in page  # why it stopped...
    assert 'name="map-date"' in page and "Row 1: Booked at,Text,Counterparty,Value" in page
    assert not StatementImport.objects.exists()


def test_the_columns_chosen_in_the_dashboard_import_the_file_and_come_back_next_time(
    bookkeeper,
    eur_bank,
):
    chosen = {
        "map-file_sha256": sha256(ODD),
        "map-header_row": "1",
        "map-date": "0",
        "map-amount": "3",
        "map-description": ["1"],
        "map-payee": "2",
        "import": "1",
    }
    response = post(bookkeeper, eur_bank, ODD, **chosen)
    record = StatementImport.objects.get()
    assert response.status_code == 302 and record.lines_added == 3
    assert record.mapping["columns"] == ODD_MAPPING.as_dict()
    # Next time the preview starts from what was chosen.
    page = body(post(bookkeeper, eur_bank, ODD, preview="1"))
    assert '<option value="3" selected>Value</option>' in page
    assert '<option value="2" selected>Counterparty</option>' in page


def test_changing_a_guessed_column_is_what_gets_imported(bookkeeper, gbp_bank):
    data = (FILES / "uk_bank_2026_11.csv").read_bytes()
    changed = {
        "map-file_sha256": sha256(data),
        "map-header_row": "1",
        "map-date": "0",
        "map-money_out": "3",
        "map-money_in": "4",
        "map-description": ["1", "2"],  # the type, then the description
        "import": "1",
    }
    assert post(bookkeeper, gbp_bank, data, **changed).status_code == 302
    salary = StatementLine.objects.get(amount=Decimal("3150.00"))
    assert salary.description == "BANK GIRO CREDIT ACME LTD SALARY NOV"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"map-date": "0"}, "Choose an amount column, or a money-in and a money-out column."),
        (
            {"map-date": "0", "map-amount": "3", "map-money_in": "3", "map-money_out": "2"},
            "not both",
        ),
        ({"map-date": "0", "map-amount": "0"}, "chosen more than once: Booked at"),
    ],
)
def test_a_mapping_that_cannot_work_is_shown_again_with_the_reason(
    bookkeeper,
    eur_bank,
    fields,
    message,
):
    data = {"map-file_sha256": sha256(ODD), "map-header_row": "1", "import": "1", **fields}
    page = body(post(bookkeeper, eur_bank, ODD, **data))
    assert message in page
    assert not StatementImport.objects.exists()


def test_a_mapping_drawn_for_another_file_is_not_applied(bookkeeper, gbp_bank):
    data = (FILES / "uk_bank_2026_11.csv").read_bytes()
    stale = {"map-file_sha256": sha256(b"another file"), "map-date": "0", "map-amount": "5"}
    page = body(post(bookkeeper, gbp_bank, data, **stale, **{"import": "1"}))
    assert "This is not the file the columns were chosen for" in page
    assert not StatementImport.objects.exists()


def test_the_mapping_is_remembered_per_bank_account(bookkeeper, eur_bank):
    import_statement(eur_bank, io.BytesIO(ODD), mapping=ODD_MAPPING)
    other = bank_account("EUR", name="Tagesgeld")
    assert preview_csv(io.BytesIO(ODD), other).mapping is None
    page = body(post(bookkeeper, other, ODD, preview="1"))
    assert '<option value="3" selected>' not in page


def test_a_preview_keeps_choices_in_progress_without_judging_them(bookkeeper, eur_bank):
    in_progress = {"map-file_sha256": sha256(ODD), "map-header_row": "1", "map-payee": "2"}
    page = body(post(bookkeeper, eur_bank, ODD, preview="1", **in_progress))
    assert "Choose an amount column" not in page  # not yet: the person is still choosing
    assert '<option value="1" selected>Row 1: Booked at,Text,Counterparty,Value</option>' in page
    assert '<option value="2" selected>Counterparty</option>' in page
    assert "Counterparty<br><small>payee</small>" in page
    assert not StatementImport.objects.exists()
