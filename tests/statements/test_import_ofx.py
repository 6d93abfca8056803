"""Importing OFX 1.x (SGML) and OFX 2.x / QFX (XML) statements through ofxtools."""

from __future__ import annotations

import datetime
import io
import sys
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from accounts import exceptions
from accounts.models import StatementFormat, StatementImport, StatementLine
from accounts.statements import detect_format, import_statement

from .conftest import bank_account, statement

pytestmark = pytest.mark.django_db

CHECKING = "us_checking_2026_10.ofx"
CARD = "us_card_2026_11.qfx"


def edited(name: str, old: str, new: str, count: int = 1) -> io.BytesIO:
    text = statement(name).read().decode("ascii")
    assert old in text
    return io.BytesIO(text.replace(old, new, count).encode("ascii"))


def test_a_month_of_a_checking_account_in_ofx_1_sgml_is_imported(usd_bank):
    result = import_statement(usd_bank, statement(CHECKING), file_name=CHECKING)
    assert (result.lines_added, result.lines_rejected) == (21, 0)
    assert StatementImport.objects.get().source == StatementFormat.OFX
    rent = StatementLine.objects.get(row_number=1)
    assert (rent.date, rent.amount, rent.payee) == (
        datetime.date(2026, 10, 1),
        Decimal("-1850.00"),
        "PINE STREET PROPERTIES",
    )
    assert rent.description == "OCT RENT CHECK 1042"
    assert rent.bank_reference == "202610010001"
    assert "<TRNAMT>-1850.00</TRNAMT>" in rent.raw_row
    pay = StatementLine.objects.get(row_number=2)
    assert (pay.amount, pay.payee) == (Decimal("2412.77"), "ACME WIDGETS PAYROLL")
    assert (result.first_date, result.last_date) == (
        datetime.date(2026, 10, 1),
        datetime.date(2026, 10, 31),
    )


def test_a_credit_card_statement_in_qfx_xml_is_imported(usd_bank):
    result = import_statement(usd_bank, statement(CARD))
    assert (result.lines_added, result.lines_rejected) == (15, 0)
    payment = StatementLine.objects.get(payee="PAYMENT - THANK YOU")
    assert (payment.amount, payment.date) == (Decimal("1250.00"), datetime.date(2026, 11, 11))
    food = StatementLine.objects.get(row_number=1)
    # 20261102000000[-5:EST] is 05:00 UTC; the date is the one the bank wrote either way.
    assert (food.date, food.amount) == (datetime.date(2026, 11, 2), Decimal("-54.20"))


def test_the_date_is_the_one_written_not_moved_to_utc(usd_bank):
    late = edited(CHECKING, "<DTPOSTED>20261001120000.000", "<DTPOSTED>20261001233000.000")
    import_statement(usd_bank, late)
    assert StatementLine.objects.get(row_number=1).date == datetime.date(2026, 10, 1)


def test_ofx_and_qfx_are_detected_from_the_content_and_qfx_is_an_alias(usd_bank):
    assert detect_format(statement(CHECKING)) == StatementFormat.OFX
    assert detect_format(statement(CARD)) == StatementFormat.OFX
    result = import_statement(usd_bank, statement(CARD), statement_format="qfx")
    assert result.lines_added == 15


def test_reimporting_an_ofx_file_adds_nothing_and_same_day_twins_both_survive(usd_bank):
    import_statement(usd_bank, statement(CHECKING))
    coffees = StatementLine.objects.filter(payee="BLUE BOTTLE COFFEE", date="2026-10-08")
    # Two identical purchases on one day, told apart by their FITIDs: both are kept.
    assert coffees.count() == 2
    again = import_statement(usd_bank, statement(CHECKING))
    assert (again.lines_added, again.lines_duplicate) == (0, 21)
    assert StatementLine.objects.count() == 21


def test_an_overlapping_ofx_file_adds_only_its_new_transactions(usd_bank):
    import_statement(usd_bank, statement(CHECKING))
    extra = (
        "<STMTTRN>\r\n<TRNTYPE>POS\r\n<DTPOSTED>20261101120000\r\n<TRNAMT>-9.99\r\n"
        "<FITID>202611010001\r\n<NAME>BLUE BOTTLE COFFEE\r\n</STMTTRN>\r\n</BANKTRANLIST>"
    )
    result = import_statement(usd_bank, edited(CHECKING, "</BANKTRANLIST>", extra))
    assert (result.lines_added, result.lines_duplicate) == (1, 21)


def test_a_statement_in_another_currency_than_the_bank_account_is_refused(db):
    euros = bank_account("EUR")
    with pytest.raises(exceptions.InvalidStatement, match="in USD but the bank account is in EUR"):
        import_statement(euros, statement(CHECKING))
    assert not StatementImport.objects.exists()


def test_a_transaction_in_a_foreign_currency_is_rejected_with_its_number(usd_bank):
    foreign = edited(
        CARD,
        "<MEMO>AIRFARE ATL-JFK</MEMO>",
        "<MEMO>AIRFARE</MEMO><CURRENCY><CURRATE>1.08</CURRATE><CURSYM>EUR</CURSYM></CURRENCY>",
    )
    with pytest.raises(exceptions.StatementHasRejectedRows) as caught:
        import_statement(usd_bank, foreign)
    assert [str(r) for r in caught.value.rejections] == ["5: The entry is in EUR, not USD."]
    assert not StatementLine.objects.exists()


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        ("<TRNAMT>-54.20", "<TRNAMT>-54.2O", "-54.2O is not an amount."),
        ("<TRNAMT>-54.20", "<TRNAMT>-54.201", "more decimal places than USD allows"),
        ("<DTPOSTED>20261102", "<DTPOSTED>20261302", "is not a date."),
        ("<NAME>WHOLE FOODS MKT #10233", "<NAME>=HYPERLINK(1)", "spreadsheet formula"),
    ],
)
def test_a_bad_transaction_is_rejected_and_nothing_is_imported(usd_bank, old, new, reason):
    with pytest.raises(exceptions.StatementHasRejectedRows) as caught:
        import_statement(usd_bank, edited(CARD, old, new))
    (rejection,) = caught.value.rejections
    assert rejection.row_number == 1 and reason in rejection.reason
    assert not StatementLine.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"OFXHEADER:100\r\nDATA:OFXSGML\r\n\x00\x01\x02</OFX>", "binary"),
        (b"OFXHEADER:100\r\nthis is not a header at all\r\n<OFX></OFX>", "not a readable OFX"),
        (b"OFXHEADER:100\r\nDATA:OFXSGML\r\n<OFX><BANKMSGSRSV1>", "incomplete"),
        (
            b'<?xml version="1.0"?><!DOCTYPE OFX [<!ENTITY a "aaaa">]><?OFX OFXHEADER="200"?>'
            b"<OFX>&a;</OFX>",
            "document type or entities",
        ),
    ],
)
def test_a_malicious_or_garbage_ofx_file_is_refused_cleanly(usd_bank, data, message):
    with pytest.raises(exceptions.InvalidStatement, match=message):
        import_statement(usd_bank, io.BytesIO(data), statement_format="ofx")
    assert not StatementImport.objects.exists()


def test_an_ofx_file_without_a_statement_is_refused(usd_bank):
    empty = edited(CHECKING, "<BANKMSGSRSV1>", "<BANKMSGSRSV1><X>")
    text = empty.read().decode().split("<BANKMSGSRSV1>")[0] + "</OFX>\r\n"
    with pytest.raises(exceptions.InvalidStatement, match="no bank or credit-card statement"):
        import_statement(usd_bank, io.BytesIO(text.encode()))


def test_an_ofx_file_with_two_statements_is_refused(usd_bank):
    text = statement(CHECKING).read().decode()
    end = text.index("</STMTTRNRS>") + len("</STMTTRNRS>")
    twice = text[:end] + text[text.index("<STMTTRNRS>") : end] + text[end:]
    with pytest.raises(exceptions.InvalidStatement, match="holds 2 statements"):
        import_statement(usd_bank, io.BytesIO(twice.encode()))


def test_without_the_ofx_extra_the_error_names_it(usd_bank, monkeypatch):
    # A None entry in sys.modules makes the import fail as if ofxtools were not installed.
    monkeypatch.setitem(sys.modules, "ofxtools.Parser", None)
    with pytest.raises(exceptions.InvalidStatement, match=r"django-managed-accounts\[ofx\]"):
        import_statement(usd_bank, statement(CHECKING))


def test_the_command_imports_an_ofx_file_given_as_qfx(usd_bank, tmp_path):
    path = tmp_path / "card.qfx"
    path.write_bytes(statement(CARD).read())
    out = io.StringIO()
    call_command(
        "import_statement", usd_bank.code, str(path), "--format", "qfx", "--no-progress", stdout=out
    )
    assert "15 lines added" in out.getvalue()
    with pytest.raises(CommandError, match="in USD but the bank account is in EUR"):
        call_command("import_statement", bank_account("EUR").code, str(path), "--no-progress")
