"""Reading one field of a statement: amounts, dates and texts, each refused with a reason.

The two choices a file makes for all its rows, whether its dates are day-first or month-first
and whether its decimal mark is a comma, are guessed once from the whole column
(:class:`ColumnEvidence`) and never row by row: a row that alone read 04/03 as the fourth of
March in a month-first file would be silently wrong.
"""

from __future__ import annotations

import datetime
import functools
import re
from decimal import Decimal, InvalidOperation

from dateutil import parser as date_parser
from django.utils.translation import gettext

from .. import exceptions, money
from .values import FIELD_LENGTH_MAX, DateOrder, DateRun

#: What a spreadsheet would run as a formula when the text starts with it (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_DIGIT_GROUPS = re.compile(r"\d+")
_LETTERS = re.compile(r"[A-Za-zÀ-ÿ]{3,}")
_ISO_DATE = re.compile(r"^\s*\d{4}[-/.]\d{1,2}[-/.]\d{1,2}")
_DECIMAL_COMMA = re.compile(r"\d,\d{1,2}(?!\d)")
_DECIMAL_POINT = re.compile(r"\d\.\d{1,2}(?!\d)")
#: What is dropped from an amount: currency symbols, currency codes as whole words, and the
#: spaces and apostrophes some banks group thousands with. Anything else left over refuses it.
_AMOUNT_DROPPED = re.compile(r"[€$£¥₹\s'\u00a0\u202f]|(?<![A-Za-z])[A-Za-z]{3}(?![A-Za-z])")
_PLAIN_NUMBER = re.compile(r"^\d+(\.\d+)?$")


class FieldError(ValueError):
    """A field that cannot be read; its message is the row's rejection reason."""


def check_text(value: str, label: str) -> str:
    """Return ``value`` stripped, or refuse a field too long, binary or a formula."""
    value = value.strip()
    if len(value) > FIELD_LENGTH_MAX:
        raise FieldError(
            gettext("%(field)s is longer than %(limit)d characters.")
            % {"field": label, "limit": FIELD_LENGTH_MAX}
        )
    if _CONTROL.search(value):
        raise FieldError(gettext("%(field)s contains control characters.") % {"field": label})
    if value.startswith(FORMULA_PREFIXES):
        raise FieldError(
            gettext("%(field)s starts like a spreadsheet formula (%(start)s).")
            % {"field": label, "start": value[:1]}
        )
    return value


class ColumnEvidence:
    """What a whole column says about the file's date order and decimal mark."""

    def __init__(self) -> None:
        self.day_first = 0  # dates whose first number can only be a day
        self.month_first = 0  # dates whose second number can only be a day
        self.decimal_comma = 0
        self.decimal_point = 0
        self.ambiguous = 0  # dates such as 03/04 that read two ways
        self.runs = {order: DateRun() for order in DateOrder.CHOICES}

    def see_date(self, text: str) -> None:
        for order, run in self.runs.items():
            if run.in_order:
                try:
                    run.see(parse_date(text, order))
                except FieldError:
                    pass  # the row will be rejected when it is read
        if _ISO_DATE.match(text) or _LETTERS.search(text):
            return  # year first, or a month name: no order to guess
        numbers = [int(group) for group in _DIGIT_GROUPS.findall(text)[:2]]
        if len(numbers) == 2:
            first, second = numbers
            if 12 < first <= 31 and second <= 12:
                self.day_first += 1
            elif 12 < second <= 31 and first <= 12:
                self.month_first += 1
            elif first != second and first <= 12 and second <= 12:
                self.ambiguous += 1

    def see_amount(self, text: str) -> None:
        comma, point = text.rfind(","), text.rfind(".")
        if comma > point and _DECIMAL_COMMA.search(text[comma - 1 :]):
            self.decimal_comma += 1
        elif point > comma and _DECIMAL_POINT.search(text[point - 1 :]):
            self.decimal_point += 1

    def date_order(self, given: str | None) -> str:
        """The file's date order: as given, else as the column shows it, else refused.

        ``""`` when no date of the file reads two ways (ISO dates, or days that are also their
        month): then the order changes nothing and nothing was learnt about the bank.
        """
        if given is not None:
            if given not in DateOrder.CHOICES:
                raise exceptions.AmbiguousDateOrder(
                    gettext("The date order must be day-first or month-first, not %(value)s.")
                    % {"value": given}
                )
            return given
        if self.day_first and self.month_first:
            raise exceptions.AmbiguousDateOrder(
                gettext(
                    "The dates read day-first in %(day)d rows and month-first in %(month)d; "
                    "choose the date order."
                )
                % {"day": self.day_first, "month": self.month_first}
            )
        if self.month_first:
            return DateOrder.MONTH_FIRST
        if self.day_first:
            return DateOrder.DAY_FIRST
        if self.ambiguous:
            raise exceptions.AmbiguousDateOrder(
                gettext(
                    "Every date in the file reads both day-first and month-first; choose the "
                    "date order."
                )
            )
        return ""  # no date reads two ways: nothing was decided, and either order reads them

    @property
    def uses_decimal_comma(self) -> bool:
        return self.decimal_comma > self.decimal_point


def parse_date(text: str, date_order: str) -> datetime.date:
    """Read a date in the file's order; refuse one without a year or that is not a date.

    A statement repeats a few dozen dates over thousands of rows, and dateutil takes tens of
    microseconds a date: each text is read once per order (a bounded cache).
    """
    return _parse_date(text.strip(), date_order)


@functools.lru_cache(maxsize=4096)
def _parse_date(text: str, date_order: str) -> datetime.date:
    if not text or len(text) > 40:
        raise FieldError(gettext("The date is missing or not a date."))
    try:
        parsed = date_parser.parse(
            text,
            # Year first is always year-month-day: dateutil, told day-first, would read
            # 2026-11-04 as the 11th of April.
            dayfirst=date_order == DateOrder.DAY_FIRST and not _ISO_DATE.match(text),
            default=datetime.datetime(1, 1, 1),
        )
    except (ValueError, OverflowError) as error:
        raise FieldError(gettext("%(value)s is not a date.") % {"value": text[:40]}) from error
    if parsed.year < 1900:
        raise FieldError(gettext("%(value)s has no year.") % {"value": text[:40]})
    return parsed.date()


def parse_amount(text: str, *, decimal_comma: bool, currency: str) -> Decimal:
    """Read a signed amount: thousands marks, decimal comma, (parentheses), trailing minus.

    Currency symbols and codes are dropped; an amount with more places than ``currency``
    allows is refused, not rounded.
    """
    original = text.strip()
    cleaned = _AMOUNT_DROPPED.sub("", original)
    negative = False
    if cleaned.startswith("(") and cleaned.endswith(")"):
        negative, cleaned = True, cleaned[1:-1]
    if cleaned.endswith("-"):
        negative, cleaned = True, cleaned[:-1]
    elif cleaned.startswith("-"):
        negative, cleaned = True, cleaned[1:]
    elif cleaned.startswith("+"):
        cleaned = cleaned[1:]
    thousands, decimal = (".", ",") if decimal_comma else (",", ".")
    cleaned = cleaned.replace(thousands, "").replace(decimal, ".")
    if not _PLAIN_NUMBER.match(cleaned) or len(cleaned) > 24:
        raise FieldError(gettext("%(value)s is not an amount.") % {"value": original[:40]})
    try:
        amount = Decimal(cleaned)
    except InvalidOperation as error:  # pragma: no cover - the pattern admits only numbers
        raise FieldError(gettext("%(value)s is not an amount.") % {"value": original}) from error
    quantum = money.quantum(currency)
    if amount != amount.quantize(quantum):
        raise FieldError(
            gettext("%(value)s has more decimal places than %(currency)s allows.")
            % {"value": original[:40], "currency": currency}
        )
    amount = amount.quantize(quantum)  # exact: 12.500 is 12.50, never rounded
    return -amount if negative else amount
