"""Reading single fields: amounts in the ways banks write them, dates, and refused texts."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from accounts.statements.parsing import (
    ColumnEvidence,
    FieldError,
    check_text,
    parse_amount,
    parse_date,
)


@pytest.mark.parametrize(
    ("text", "decimal_comma", "expected"),
    [
        ("1,234.56", False, Decimal("1234.56")),
        ("-1,234.56", False, Decimal("-1234.56")),
        ("(1,234.56)", False, Decimal("-1234.56")),
        ("($1,234.56)", False, Decimal("-1234.56")),
        ("£3,150.00", False, Decimal("3150.00")),
        ("+12.5", False, Decimal("12.50")),
        ("12.500", False, Decimal("12.50")),
        ("1.234,56", True, Decimal("1234.56")),
        ("1.234,56-", True, Decimal("-1234.56")),
        ("-980,00 €", True, Decimal("-980.00")),
        ("EUR 2 874,31", True, Decimal("2874.31")),
        ("1'234.50 CHF", False, Decimal("1234.50")),
        ("12.00EUR", False, Decimal("12.00")),
    ],
)
def test_amounts_are_read_as_banks_write_them(text, decimal_comma, expected):
    assert parse_amount(text, decimal_comma=decimal_comma, currency="EUR") == expected


@pytest.mark.parametrize("text", ["", "ten", "1.2.3", "12.345", "1e5", "--1", "NaN"])
def test_what_is_not_an_amount_of_euros_is_refused(text):
    with pytest.raises(FieldError):
        parse_amount(text, decimal_comma=False, currency="EUR")


def test_yen_have_no_places():
    assert parse_amount("1,500", decimal_comma=False, currency="JPY") == Decimal("1500")
    with pytest.raises(FieldError, match="more decimal places than JPY"):
        parse_amount("1,500.5", decimal_comma=False, currency="JPY")


def test_dates_follow_the_order_given():
    assert parse_date("03/04/2026", "day-first") == datetime.date(2026, 4, 3)
    assert parse_date("03/04/2026", "month-first") == datetime.date(2026, 3, 4)
    assert parse_date("2026-04-03", "month-first") == datetime.date(2026, 4, 3)
    assert parse_date("3 Apr 2026", "month-first") == datetime.date(2026, 4, 3)
    for text in ("31/02/2026", "soon", "03/04", ""):
        with pytest.raises(FieldError):
            parse_date(text, "day-first")


@pytest.mark.parametrize("order", ["day-first", "month-first"])
@pytest.mark.parametrize("text", ["2026-11-04", "2026-11-04 09:00", "2026/11/04"])
def test_a_year_first_date_is_year_month_day_in_either_order(text, order):
    assert parse_date(text, order) == datetime.date(2026, 11, 4)


def test_the_column_decides_the_date_order_and_the_decimal_mark():
    evidence = ColumnEvidence()
    for text in ("01.11.2026", "13.11.2026", "2026-11-14"):
        evidence.see_date(text)
    for text in ("-980,00", "2.874,31", "1.000"):
        evidence.see_amount(text)
    assert evidence.date_order(None) == "day-first"
    assert evidence.uses_decimal_comma


@pytest.mark.parametrize("text", ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "a\x00b", "x" * 1001])
def test_formulas_control_characters_and_huge_fields_are_refused(text):
    with pytest.raises(FieldError):
        check_text(text, "The description")


def test_ordinary_text_passes_stripped():
    assert check_text("  Miete November  ", "The description") == "Miete November"
