"""Importing CSV statements: two English layouts and a German one, re-imports and bad rows."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from accounts import exceptions
from accounts.models import ImportState, StatementImport, StatementLine
from accounts.statements import ColumnMapping, CsvStatement, DateOrder, import_statement

from .conftest import bank_account, statement, text_file

pytestmark = pytest.mark.django_db


def amounts(account) -> list[Decimal]:
    return list(
        StatementLine.objects.filter(bank_account=account)
        .order_by("date", "row_number")
        .values_list("amount", flat=True)
    )


def test_a_uk_statement_with_paid_in_and_out_columns_is_imported(gbp_bank, staff):
    result = import_statement(
        gbp_bank, statement("uk_bank_2026_11.csv"), file_name="nov.csv", user=staff
    )
    assert (result.lines_added, result.lines_duplicate, result.lines_rejected) == (15, 0, 0)
    assert result.date_order == DateOrder.DAY_FIRST
    salary, rent = StatementLine.objects.filter(bank_account=gbp_bank).order_by("row_number")[:2]
    assert (salary.date, salary.amount, salary.description) == (
        datetime.date(2026, 11, 1),
        Decimal("3150.00"),
        "ACME LTD SALARY NOV",
    )
    assert (rent.amount, rent.currency, rent.row_number) == (Decimal("-1250.00"), "GBP", 3)
    record = StatementImport.objects.get()
    assert (record.file_name, record.created_by, record.lines_added) == ("nov.csv", staff, 15)
    assert record.state == ImportState.IMPORTED and len(record.sha256) == 64
    assert record.mapping["columns"]["money_in"] == "Paid in"


def test_two_identical_lines_on_one_day_both_survive(gbp_bank):
    import_statement(gbp_bank, statement("uk_bank_2026_11.csv"))
    coffees = StatementLine.objects.filter(
        bank_account=gbp_bank, date=datetime.date(2026, 11, 15), amount=Decimal("-3.45")
    )
    assert sorted(coffees.values_list("occurrence", flat=True)) == [1, 2]
    assert len({line.fingerprint for line in coffees}) == 1


def test_importing_the_same_file_again_adds_nothing(gbp_bank):
    import_statement(gbp_bank, statement("uk_bank_2026_11.csv"))
    again = import_statement(gbp_bank, statement("uk_bank_2026_11.csv"))
    assert (again.lines_added, again.lines_duplicate) == (0, 15)
    assert StatementLine.objects.count() == 15


def test_an_overlapping_file_adds_only_its_new_lines(gbp_bank):
    rows = statement("uk_bank_2026_11.csv").read().decode("utf-8-sig").splitlines()
    header, data = rows[0], rows[1:]
    first_half = "\n".join([header, *data[:9]])
    second_half = "\n".join([header, *data[6:]])  # rows 7 to 9 are in both
    import_statement(gbp_bank, text_file(first_half))
    result = import_statement(gbp_bank, text_file(second_half))
    assert (result.lines_added, result.lines_duplicate) == (6, 3)
    assert StatementLine.objects.count() == 15


def test_the_same_file_imports_into_another_bank_account_too(gbp_bank):
    other = bank_account("GBP")
    import_statement(gbp_bank, statement("uk_bank_2026_11.csv"))
    result = import_statement(other, statement("uk_bank_2026_11.csv"))
    assert result.lines_added == 15


def test_a_us_statement_reads_month_first_with_parentheses_and_dollar_signs(usd_bank):
    result = import_statement(usd_bank, statement("us_bank_2026_10.csv"))
    assert result.date_order == DateOrder.MONTH_FIRST
    assert result.lines_added == 17
    first = StatementLine.objects.order_by("row_number").first()
    assert (first.date, first.amount, first.bank_reference) == (
        datetime.date(2026, 10, 1),
        Decimal("-28.79"),
        "REF26100",
    )
    payroll = StatementLine.objects.get(description__startswith="PAYROLL")
    assert (payroll.date, payroll.amount) == (datetime.date(2026, 10, 15), Decimal("2480.00"))


def test_a_german_statement_in_latin_1_with_decimal_commas_and_a_preamble(eur_bank):
    result = import_statement(eur_bank, statement("de_bank_2026_11.csv"))
    assert (result.lines_added, result.lines_rejected) == (12, 0)
    assert amounts(eur_bank)[:3] == [Decimal("-980.00"), Decimal("2874.31"), Decimal("-54.87")]
    train = StatementLine.objects.get(payee="Deutsche Bahn")
    assert (train.date, train.amount) == (datetime.date(2026, 11, 13), Decimal("-1249.90"))
    assert train.description == "Fahrkarte Köln–Berlin"
    assert StatementLine.objects.get(payee="Hausverwaltung Müller GmbH").row_number == 5


def test_the_csv_reader_reports_what_it_detected(eur_bank):
    reader = CsvStatement(statement("de_bank_2026_11.csv"))
    assert (reader.encoding, reader.delimiter, reader.skip_rows) == ("cp1252", ";", 3)
    assert reader.header[0] == "Buchungstag"
    assert reader.mapping == ColumnMapping(
        date="Buchungstag",
        amount="Betrag (EUR)",
        description=("Verwendungszweck",),
        payee="Auftraggeber/Empfänger",
    )
    assert reader.sample_rows[0][2] == "Hausverwaltung Müller GmbH"


def test_a_file_without_a_header_is_mapped_by_what_its_cells_hold(eur_bank):
    data = "03.11.2026;Bäckerei Schmitz;-4,20\n17.11.2026;Gutschrift Anna;150,00\n"
    result = import_statement(eur_bank, text_file(data))
    assert amounts(eur_bank) == [Decimal("-4.20"), Decimal("150.00")]
    assert result.date_order == DateOrder.DAY_FIRST
    assert StatementLine.objects.get(amount=Decimal("-4.20")).description == "Bäckerei Schmitz"


def test_an_explicit_mapping_is_used_and_remembered_for_the_bank_account(gbp_bank):
    data = "When,What,Value\n02/11/2026,Coffee,-2.50\n20/11/2026,Refund,10.00\n"
    mapping = ColumnMapping(date="When", amount="Value", description=("What",))
    import_statement(gbp_bank, text_file(data), mapping=mapping)
    # The next file of that layout needs no mapping: the bank account remembers it.
    later = "When,What,Value\n03/12/2026,Tea,-1.80\n"
    result = import_statement(gbp_bank, text_file(later))
    assert result.lines_added == 1
    assert StatementLine.objects.get(description="Tea").amount == Decimal("-1.80")


def test_a_mapping_naming_a_missing_column_is_refused(gbp_bank):
    mapping = ColumnMapping(date="Date", amount="Betrag")
    with pytest.raises(exceptions.InvalidColumnMapping):
        import_statement(gbp_bank, statement("uk_bank_2026_11.csv"), mapping=mapping)
    assert not StatementImport.objects.exists()


# -- date order, decided once per file -----------------------------------------------------------


AMBIGUOUS = "Date,Description,Amount\n03/04/2026,Rent,-500.00\n05/06/2026,Pay,900.00\n"


def test_a_file_whose_every_date_reads_two_ways_needs_an_order(gbp_bank):
    with pytest.raises(exceptions.AmbiguousDateOrder):
        import_statement(gbp_bank, text_file(AMBIGUOUS))
    assert not StatementLine.objects.exists()


@pytest.mark.parametrize(
    ("order", "dates"),
    [
        (DateOrder.DAY_FIRST, [datetime.date(2026, 4, 3), datetime.date(2026, 6, 5)]),
        (DateOrder.MONTH_FIRST, [datetime.date(2026, 3, 4), datetime.date(2026, 5, 6)]),
    ],
)
def test_the_order_given_reads_every_date(gbp_bank, order, dates):
    import_statement(gbp_bank, text_file(AMBIGUOUS), date_order=order)
    assert (
        list(StatementLine.objects.order_by("row_number").values_list("date", flat=True)) == dates
    )


def test_one_unambiguous_date_decides_the_order_for_the_whole_file(gbp_bank):
    # 04/03 alone reads two ways; 25/03 can only be day-first, so 04/03 is the 4th of March.
    data = "Date,Description,Amount\n04/03/2026,Gas,-40.00\n25/03/2026,Pay,900.00\n"
    result = import_statement(gbp_bank, text_file(data))
    assert result.date_order == DateOrder.DAY_FIRST
    assert StatementLine.objects.get(description="Gas").date == datetime.date(2026, 3, 4)


def test_a_file_whose_dates_contradict_each_other_is_refused(gbp_bank):
    data = "Date,Description,Amount\n25/03/2026,Gas,-40.00\n03/25/2026,Pay,900.00\n"
    with pytest.raises(exceptions.AmbiguousDateOrder):
        import_statement(gbp_bank, text_file(data))


def test_an_ambiguous_file_follows_the_order_of_the_bank_accounts_last_file(gbp_bank):
    import_statement(gbp_bank, statement("uk_bank_2026_11.csv"))
    data = "Date,Type,Description,Paid out,Paid in,Balance\n03/12/2026,X,Gas,40.00,,1.00\n"
    result = import_statement(gbp_bank, text_file(data))
    assert result.date_order == DateOrder.DAY_FIRST
    assert StatementLine.objects.get(description="Gas").date == datetime.date(2026, 12, 3)


# -- rejected rows and malicious files ---------------------------------------------------------


MALFORMED = (
    "Date,Description,Amount\n"
    "02/11/2026,Good one,-10.00\n"
    "31/02/2026,No such day,-1.00\n"
    "14/11/2026,Not money,ten pounds\n"
    '15/11/2026,=HYPERLINK("http://evil"),-5.00\n'
    "16/11/2026,Too precise,-1.005\n"
    "17/11/2026,Nothing,0.00\n"
    "18/11/2026,Fine too,12.00\n"
)


def test_a_file_with_rejected_rows_imports_nothing_and_says_which_and_why(gbp_bank):
    with pytest.raises(exceptions.StatementHasRejectedRows) as caught:
        import_statement(gbp_bank, text_file(MALFORMED))
    rows = [rejection.row_number for rejection in caught.value.rejections]
    assert rows == [3, 4, 5, 6, 7]
    reasons = [rejection.reason for rejection in caught.value.rejections]
    assert "31/02/2026 is not a date." in reasons[0]
    assert "formula" in reasons[2]
    assert "decimal places" in reasons[3]
    assert reasons[4] == "The amount is zero."
    assert not StatementImport.objects.exists() and not StatementLine.objects.exists()


def test_allow_partial_imports_the_valid_rows_and_records_the_rest(gbp_bank):
    result = import_statement(gbp_bank, text_file(MALFORMED), allow_partial=True)
    assert (result.lines_added, result.lines_rejected) == (2, 5)
    record = StatementImport.objects.get()
    assert record.state == ImportState.PARTIAL
    assert record.lines_rejected == 5
    assert record.rejections[0] == {"row": 3, "reason": "31/02/2026 is not a date."}


def test_a_dry_run_counts_exactly_and_writes_nothing(gbp_bank):
    import_statement(gbp_bank, statement("uk_bank_2026_11.csv"))
    rows = statement("uk_bank_2026_11.csv").read().decode("utf-8-sig")
    extra = rows + '30/11/2026,CARD PAYMENT,NEW SHOP,"£9.99",,"£1.00"\r\n'
    result = import_statement(gbp_bank, text_file(extra), dry_run=True)
    assert (result.lines_added, result.lines_duplicate, result.dry_run) == (1, 15, True)
    assert StatementLine.objects.count() == 15 and StatementImport.objects.count() == 1


@pytest.mark.parametrize(
    "content",
    [
        b"\x00\x01\x02PK\x03\x04" + bytes(range(256)) * 4,
        b"just one column\nand no dates\n",
        b"",
    ],
    ids=["binary", "no-table", "empty"],
)
def test_junk_is_refused_cleanly(gbp_bank, content):
    import io

    with pytest.raises(exceptions.InvalidStatement):
        import_statement(gbp_bank, io.BytesIO(content))
    assert not StatementImport.objects.exists()


def test_a_huge_field_is_refused(gbp_bank):
    data = "Date,Description,Amount\n02/11/2026," + "A" * 200_000 + ",-1.00\n"
    with pytest.raises(exceptions.InvalidStatement):
        import_statement(gbp_bank, text_file(data))


def test_a_field_over_the_limit_rejects_its_row(gbp_bank):
    data = "Date,Description,Amount\n20/11/2026," + "A" * 1001 + ",-1.00\n"
    with pytest.raises(exceptions.StatementHasRejectedRows, match="longer than 1000"):
        import_statement(gbp_bank, text_file(data))


def test_the_file_size_limit_is_enforced(gbp_bank, monkeypatch):
    from accounts.statements import csv_format

    monkeypatch.setattr(csv_format, "FILE_SIZE_MAX", 100)
    with pytest.raises(exceptions.InvalidStatement, match="larger than 100 bytes"):
        import_statement(gbp_bank, statement("uk_bank_2026_11.csv"))


def test_the_row_limit_is_enforced(gbp_bank, monkeypatch):
    from accounts.statements import csv_format

    monkeypatch.setattr(csv_format, "ROW_COUNT_MAX", 10)
    with pytest.raises(exceptions.InvalidStatement, match="more than 10 rows"):
        import_statement(gbp_bank, statement("uk_bank_2026_11.csv"))
    assert not StatementLine.objects.exists()


def test_only_a_bank_account_takes_statements(gbp_bank):
    from ..factories import SourceAccountFactory

    with pytest.raises(exceptions.NotBankAccount):
        import_statement(SourceAccountFactory(), statement("uk_bank_2026_11.csv"))


def test_writing_in_chunks_keeps_every_line_and_counts_duplicates_across_chunks(
    gbp_bank, monkeypatch
):
    from accounts.statements import importer

    monkeypatch.setattr(importer, "CHUNK_SIZE", 4)
    first = import_statement(gbp_bank, statement("uk_bank_2026_11.csv"))
    second = import_statement(gbp_bank, statement("uk_bank_2026_11.csv"))
    assert (first.lines_added, second.lines_duplicate) == (15, 15)


# -- the occurrence counter, in files in and out of date order ---------------------------------


def occurrences_of(description: str) -> list[int]:
    lines = StatementLine.objects.filter(description=description).order_by("row_number")
    return list(lines.values_list("occurrence", flat=True))


def test_identical_lines_far_apart_in_a_file_out_of_order_are_still_counted(gbp_bank):
    data = (
        "Date,Description,Amount\n"
        "20/11/2026,Coffee,-3.00\n"
        "21/11/2026,Lunch,-9.00\n"
        "20/11/2026,Coffee,-3.00\n"
    )
    result = import_statement(gbp_bank, text_file(data))
    assert StatementImport.objects.get().mapping["dates_in_order"] is False
    assert occurrences_of("Coffee") == [1, 2]
    assert import_statement(gbp_bank, text_file(data)).lines_added == 0
    assert result.lines_added == 3


def test_a_newest_first_file_counts_identical_lines_per_date(gbp_bank):
    data = (
        "Date,Description,Amount\n"
        "21/11/2026,Coffee,-3.00\n"
        "20/11/2026,Coffee,-3.00\n"
        "20/11/2026,Coffee,-3.00\n"
        "19/11/2026,Coffee,-3.00\n"
    )
    import_statement(gbp_bank, text_file(data))
    assert StatementImport.objects.get().mapping["dates_in_order"] is True
    assert occurrences_of("Coffee") == [1, 1, 2, 1]
    assert import_statement(gbp_bank, text_file(data)).lines_duplicate == 4


def test_a_file_of_iso_dates_teaches_nothing_about_the_banks_date_order(usd_bank):
    iso = "Date,Description,Amount\n2026-10-01,Gas,-40.00\n2026-10-02,Pay,900.00\n"
    assert import_statement(usd_bank, text_file(iso)).date_order is None
    # The next file of that bank reads two ways and must not be taken as day-first.
    with pytest.raises(exceptions.AmbiguousDateOrder):
        import_statement(usd_bank, text_file("Date,Description,Amount\n10/03/2026,Tea,-2.00\n"))
    import_statement(usd_bank, statement("us_bank_2026_10.csv"))  # month-first, learnt
    later = import_statement(usd_bank, text_file("Date,Description,Amount\n11/03/2026,Tea,-2.00\n"))
    assert later.date_order == DateOrder.MONTH_FIRST
    assert StatementLine.objects.get(description="Tea").date == datetime.date(2026, 11, 3)
