"""Bank statements as OFX (1.x SGML, 2.x XML) and Quicken's QFX, read with ofxtools.

ofxtools is the optional ``ofx`` extra; without it an OFX file is refused with a message that
names the extra. It reads the header (version, character set) and the SGML or XML body into an
element tree; this module walks that tree for the one statement the file holds, a bank
(``STMTRS``) or credit-card (``CCSTMTRS``) statement, and turns each ``STMTTRN`` into a line,
or a rejection of its own, so one bad transaction is reported as a row like a bad CSV row:

- ``DTPOSTED``'s date as the bank wrote it, not moved to UTC (an evening payment in New York
  stays on its day);
- ``TRNAMT``, signed as OFX signs it (money into the account positive), with no more decimal
  places than the currency allows;
- ``NAME`` (or ``PAYEE``'s name) as the payee, ``MEMO`` as the description, ``FITID`` (the
  bank's unique id of the transaction) as the bank reference, so a re-import's fingerprints
  meet the lines already there.

The statement's ``CURDEF`` must be the bank account's currency, else the whole file is refused.
ofxtools reads a file whole, so the file's size is bounded before it sees it; its body reader
is a tag scanner that knows no DTD and expands no entity, and a declaration of either is
refused anyway, as for CAMT.053. A file cut short (no closing ``</OFX>``) is refused rather
than half imported.
"""

from __future__ import annotations

import datetime
import io
import re
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from typing import IO
from xml.etree import ElementTree

from django.utils.translation import gettext

from .. import exceptions, money
from .parsing import FieldError, check_text
from .values import FILE_SIZE_MAX, ROW_COUNT_MAX, DateRun, ParsedLine, Rejection

#: What installs the parser.
OFX_EXTRA = "django-managed-accounts[ofx]"
_STATEMENT_TAGS = ("STMTRS", "CCSTMTRS")
_FORBIDDEN = (b"<!DOCTYPE", b"<!ENTITY")
_AMOUNT = re.compile(r"^[+-]?\d{1,18}([.,]\d{1,5})?$")
_POSTED = re.compile(r"^(\d{4})(\d{2})(\d{2})")


def looks_like_ofx(head: bytes) -> bool:
    """Whether a file's first bytes are an OFX header (1.x) or processing instruction (2.x)."""
    upper = head[:2048].upper()
    return b"OFXHEADER" in upper or b"<OFX>" in upper


def _text(element: ElementTree.Element, path: str) -> str:
    found = element.find(path)
    return (found.text or "").strip() if found is not None else ""


def _read_bounded(stream: IO[bytes]) -> bytes:
    stream.seek(0)
    data = stream.read(FILE_SIZE_MAX + 1)
    if len(data) > FILE_SIZE_MAX:
        raise exceptions.InvalidStatement(
            gettext("The file is larger than %(limit)d bytes.") % {"limit": FILE_SIZE_MAX}
        )
    if b"\x00" in data:
        raise exceptions.InvalidStatement(gettext("The file is binary, not a statement."))
    upper = data.upper()
    if any(marker in upper for marker in _FORBIDDEN):
        raise exceptions.InvalidStatement(
            gettext("The file declares a document type or entities, which is refused.")
        )
    if b"</OFX>" not in upper[-1024:]:
        raise exceptions.InvalidStatement(
            gettext("The OFX file ends before its closing </OFX> tag: it is incomplete.")
        )
    return data


def _parse_tree(data: bytes) -> ElementTree.Element:
    try:
        from ofxtools.header import OFXHeaderError
        from ofxtools.Parser import OFXTree, ParseError
    except ImportError as error:
        raise exceptions.InvalidStatement(
            gettext("Reading OFX statements needs the ofx extra: pip install %(extra)s")
            % {"extra": OFX_EXTRA}
        ) from error
    tree = OFXTree()
    try:
        return tree.parse(io.BytesIO(data))
    except (OFXHeaderError, ParseError, ValueError, LookupError) as error:
        # UnicodeDecodeError is a ValueError; an unknown CHARSET is a LookupError.
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0][:120]
        raise exceptions.InvalidStatement(
            gettext("The file is not a readable OFX statement: %(error)s") % {"error": reason}
        ) from error


class OfxStatement:
    """An OFX or QFX file holding one bank or credit-card statement."""

    def __init__(self, stream: IO[bytes], *, currency: str) -> None:
        root = _parse_tree(_read_bounded(stream))
        found = [element for element in root.iter() if element.tag in _STATEMENT_TAGS]
        if not found:
            raise exceptions.InvalidStatement(
                gettext("The OFX file holds no bank or credit-card statement.")
            )
        if len(found) > 1:
            raise exceptions.InvalidStatement(
                gettext(
                    "The OFX file holds %(count)d statements; import one account's statement "
                    "at a time."
                )
                % {"count": len(found)}
            )
        self.statement = found[0]
        self.currency = _text(self.statement, "CURDEF").upper()
        if self.currency != currency:
            raise exceptions.InvalidStatement(
                gettext("The statement is in %(found)s but the bank account is in %(currency)s.")
                % {"found": self.currency or "?", "currency": currency}
            )
        self.transactions = self.statement.findall("BANKTRANLIST/STMTTRN")
        if len(self.transactions) > ROW_COUNT_MAX:
            raise exceptions.InvalidStatement(
                gettext("The file has more than %(limit)d entries.") % {"limit": ROW_COUNT_MAX}
            )

    def scan(self) -> tuple[int, bool]:
        """Count the transactions; are their dates in order?"""
        run = DateRun()
        for element in self.transactions:
            try:
                run.see(_date(_text(element, "DTPOSTED")))
            except FieldError:
                pass  # the transaction will be rejected when it is read
        if not self.transactions:
            raise exceptions.InvalidStatement(gettext("The OFX statement has no transactions."))
        return len(self.transactions), run.in_order

    def lines(self) -> Iterator[ParsedLine | Rejection]:
        for number, element in enumerate(self.transactions, start=1):
            try:
                yield self._parse(number, element)
            except FieldError as error:
                yield Rejection(number, str(error))

    def _parse(self, number: int, element: ElementTree.Element) -> ParsedLine:
        # A transaction in another currency than the statement's carries <CURRENCY>; its
        # amount is not in the bank account's currency.
        other = _text(element, "CURRENCY/CURSYM").upper()
        if other and other != self.currency:
            raise FieldError(
                gettext("The entry is in %(found)s, not %(currency)s.")
                % {"found": other, "currency": self.currency}
            )
        payee = _text(element, "NAME") or _text(element, "PAYEE/NAME")
        return ParsedLine(
            row_number=number,
            date=_date(_text(element, "DTPOSTED")),
            amount=_amount(_text(element, "TRNAMT"), self.currency),
            description=check_text(_text(element, "MEMO"), gettext("The description")),
            payee=check_text(payee, gettext("The payee")),
            reference=check_text(_text(element, "FITID"), gettext("The reference")),
            raw_row=ElementTree.tostring(element, encoding="unicode"),
        )


def _amount(text: str, currency: str) -> Decimal:
    if not _AMOUNT.match(text):
        raise FieldError(gettext("%(value)s is not an amount.") % {"value": text[:40] or "-"})
    try:
        amount = Decimal(text.replace(",", "."))
    except InvalidOperation as error:  # pragma: no cover - the pattern admits only numbers
        raise FieldError(gettext("%(value)s is not an amount.") % {"value": text}) from error
    quantum = money.quantum(currency)
    if amount != amount.quantize(quantum):
        raise FieldError(
            gettext("%(value)s has more decimal places than %(currency)s allows.")
            % {"value": text, "currency": currency}
        )
    if not amount:
        raise FieldError(gettext("The amount is zero."))
    return amount.quantize(quantum)


def _date(text: str) -> datetime.date:
    """The calendar date an OFX date-time (``20261031120000.000[-7:PDT]``) names."""
    match = _POSTED.match(text)
    try:
        if match is None:
            raise ValueError(text)
        return datetime.date(*(int(part) for part in match.groups()))
    except ValueError as error:
        raise FieldError(gettext("%(value)s is not a date.") % {"value": text[:40]}) from error
