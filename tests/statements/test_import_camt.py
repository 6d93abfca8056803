"""Importing CAMT.053 statements, and refusing XML that declares a DTD or entities."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

import pytest

from accounts import exceptions
from accounts.models import StatementFormat, StatementImport, StatementLine
from accounts.statements import detect_format, import_statement

from .conftest import bank_account, statement

pytestmark = pytest.mark.django_db


def test_a_camt_053_statement_is_imported_with_its_parties_and_references(eur_bank):
    result = import_statement(eur_bank, statement("camt053_2026_11.xml"))
    assert (result.lines_added, result.lines_rejected) == (11, 0)
    assert StatementImport.objects.get().source == StatementFormat.CAMT053
    salary = StatementLine.objects.get(row_number=1)
    assert (salary.date, salary.amount, salary.payee) == (
        datetime.date(2026, 11, 2),
        Decimal("2874.31"),
        "Arbeitgeber Beispiel AG",
    )
    assert salary.description == "Gehalt November"
    assert salary.bank_reference == "2026110020001"
    rent = StatementLine.objects.get(row_number=2)
    assert (rent.amount, rent.payee) == (Decimal("-980.00"), "Hausverwaltung Mueller GmbH")
    assert "Miete November" in rent.raw_row


def test_the_format_is_detected_from_the_content(eur_bank):
    assert detect_format(statement("camt053_2026_11.xml")) == StatementFormat.CAMT053
    assert detect_format(statement("de_bank_2026_11.csv")) == StatementFormat.CSV


def test_two_identical_camt_entries_both_survive_and_a_reimport_adds_nothing(eur_bank):
    import_statement(eur_bank, statement("camt053_2026_11.xml"))
    shares = StatementLine.objects.filter(payee="Anna Schmidt")
    # Each entry carries its bank's own reference, so these two differ; both are kept.
    assert shares.count() == 2
    again = import_statement(eur_bank, statement("camt053_2026_11.xml"))
    assert (again.lines_added, again.lines_duplicate) == (0, 11)


def test_an_entry_in_another_currency_is_rejected(db):
    dollars = bank_account("USD")
    with pytest.raises(exceptions.StatementHasRejectedRows, match="in EUR, not USD"):
        import_statement(dollars, statement("camt053_2026_11.xml"))
    assert not StatementLine.objects.exists()


def test_a_pending_entry_is_rejected_with_its_number(eur_bank):
    text = statement("camt053_2026_11.xml").read().decode()
    text = text.replace("<Sts>BOOK</Sts>", "<Sts>PDNG</Sts>", 1)
    result = import_statement(eur_bank, io.BytesIO(text.encode()), allow_partial=True)
    assert (result.lines_added, result.lines_rejected) == (10, 1)
    assert result.rejections[0].row_number == 1
    assert "not booked" in result.rejections[0].reason


BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt><Stmt>
<Ntry><Amt Ccy="EUR">1.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><BookgDt><Dt>2026-11-02</Dt></BookgDt>
<AddtlNtryInf>&lol2;</AddtlNtryInf></Ntry></Stmt></BkToCstmrStmt></Document>
"""


def test_a_document_type_declaration_is_refused(eur_bank):
    with pytest.raises(exceptions.InvalidStatement, match="document type"):
        import_statement(eur_bank, io.BytesIO(BOMB))
    assert not StatementImport.objects.exists()


def test_broken_xml_is_refused_cleanly(eur_bank):
    broken = statement("camt053_2026_11.xml").read()[:2000]
    with pytest.raises(exceptions.InvalidStatement, match="not valid XML"):
        import_statement(eur_bank, io.BytesIO(broken), statement_format=StatementFormat.CAMT053)


def test_xml_that_is_neither_camt_nor_ofx_is_refused(eur_bank):
    with pytest.raises(exceptions.InvalidStatement, match="neither a CAMT.053 nor an OFX"):
        import_statement(eur_bank, io.BytesIO(b"<?xml version='1.0'?><Invoice></Invoice>"))
