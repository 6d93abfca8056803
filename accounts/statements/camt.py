"""Bank statements as CAMT.053 (ISO 20022 ``BkToCstmrStmt``), read with the standard library.

Read as a stream with :func:`xml.etree.ElementTree.iterparse`, one ``<Ntry>`` at a time, each
cleared once read. A document type declaration or an entity declaration is refused before the
parser sees it: a statement needs neither, and entities are how an XML file makes a parser
expand a few bytes into gigabytes. Any version of the ``camt.053.001`` namespace is read (the
elements used are the same); only booked entries are imported.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import IO
from xml.etree import ElementTree

from django.utils.translation import gettext

from .. import exceptions, money
from .parsing import FieldError, check_text
from .values import FILE_SIZE_MAX, ROW_COUNT_MAX, DateRun, ParsedLine, Rejection

_FORBIDDEN = (b"<!DOCTYPE", b"<!ENTITY")
_READ_SIZE = 64 * 1024
_NAMESPACE = re.compile(r"^\{[^}]*\}")


def looks_like_camt(head: bytes) -> bool:
    return b"BkToCstmrStmt" in head or b"camt.053" in head


class _GuardedStream:
    """A byte stream that refuses DTDs and entity declarations and bounds the file's size."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream, self.size, self.tail = stream, 0, b""

    def read(self, size: int = -1) -> bytes:
        chunk = self.stream.read(_READ_SIZE if size < 0 else size)
        self.size += len(chunk)
        if self.size > FILE_SIZE_MAX:
            raise exceptions.InvalidStatement(
                gettext("The file is larger than %(limit)d bytes.") % {"limit": FILE_SIZE_MAX}
            )
        window = self.tail + chunk
        if any(marker in window.upper() for marker in _FORBIDDEN):
            raise exceptions.InvalidStatement(
                gettext("The file declares a document type or entities, which is refused.")
            )
        self.tail = window[-16:]
        return chunk


def _local(tag: str) -> str:
    return _NAMESPACE.sub("", tag)


def _find(element: ElementTree.Element, path: str) -> ElementTree.Element | None:
    """The first descendant along ``path`` (``"BookgDt/Dt"``), ignoring namespaces."""
    current: ElementTree.Element | None = element
    for step in path.split("/"):
        if current is None:
            return None
        current = next((child for child in current if _local(child.tag) == step), None)
    return current


def _text(element: ElementTree.Element, *paths: str) -> str:
    for path in paths:
        found = _find(element, path)
        if found is not None and found.text and found.text.strip():
            return found.text.strip()
    return ""


class CamtStatement:
    """A CAMT.053 file: its entries as a stream of lines (or rejections)."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream

    def entries(self) -> Iterator[ElementTree.Element]:
        self.stream.seek(0)
        count = 0
        try:
            for _, element in ElementTree.iterparse(_GuardedStream(self.stream), events=("end",)):
                if _local(element.tag) != "Ntry":
                    continue
                count += 1
                if count > ROW_COUNT_MAX:
                    raise exceptions.InvalidStatement(
                        gettext("The file has more than %(limit)d entries.")
                        % {"limit": ROW_COUNT_MAX}
                    )
                yield element
                element.clear()
        except ElementTree.ParseError as error:
            raise exceptions.InvalidStatement(
                gettext("The file is not valid XML: %(error)s.") % {"error": error}
            ) from error

    def scan(self) -> tuple[int, bool]:
        """Count the entries, reading (and so checking) the whole file; are they in order?"""
        count, run = 0, DateRun()
        for entry in self.entries():
            count += 1
            try:
                run.see(_date(_text(entry, "BookgDt/Dt", "BookgDt/DtTm", "ValDt/Dt")))
            except FieldError:
                pass  # the entry will be rejected when it is read
        if not count:
            raise exceptions.InvalidStatement(gettext("The file has no CAMT.053 entries."))
        return count, run.in_order

    def lines(self, *, currency: str) -> Iterator[ParsedLine | Rejection]:
        for number, entry in enumerate(self.entries(), start=1):
            try:
                yield self._parse(number, entry, currency)
            except FieldError as error:
                yield Rejection(number, str(error))

    def _parse(self, number: int, entry: ElementTree.Element, currency: str) -> ParsedLine:
        status = _text(entry, "Sts/Cd", "Sts")
        if status and status != "BOOK":
            raise FieldError(gettext("The entry is not booked (%(status)s).") % {"status": status})
        amount_element = _find(entry, "Amt")
        if amount_element is None or not (amount_element.text or "").strip():
            raise FieldError(gettext("The entry has no amount."))
        if amount_element.get("Ccy") != currency:
            raise FieldError(
                gettext("The entry is in %(found)s, not %(currency)s.")
                % {"found": amount_element.get("Ccy"), "currency": currency}
            )
        amount = _amount(amount_element.text or "", currency)
        indicator = _text(entry, "CdtDbtInd")
        if indicator not in ("CRDT", "DBIT"):
            raise FieldError(gettext("The entry is neither a credit nor a debit."))
        details = _find(entry, "NtryDtls/TxDtls")
        scope = details if details is not None else entry
        party = "Dbtr" if indicator == "CRDT" else "Cdtr"
        description = " ".join(
            text for text in (_text(scope, "RmtInf/Ustrd"), _text(entry, "AddtlNtryInf")) if text
        )
        return ParsedLine(
            row_number=number,
            date=_date(_text(entry, "BookgDt/Dt", "BookgDt/DtTm", "ValDt/Dt")),
            amount=amount if indicator == "CRDT" else -amount,
            description=check_text(description, gettext("The description")),
            payee=check_text(
                _text(scope, f"RltdPties/{party}/Nm", f"RltdPties/{party}/Pty/Nm"),
                gettext("The payee"),
            ),
            reference=check_text(
                _text(entry, "AcctSvcrRef") or _text(scope, "Refs/EndToEndId"),
                gettext("The reference"),
            ),
            raw_row=ElementTree.tostring(entry, encoding="unicode"),
        )


def _amount(text: str, currency: str) -> Decimal:
    text = text.strip()
    if not re.fullmatch(r"\d{1,18}(\.\d{1,5})?", text):
        raise FieldError(gettext("%(value)s is not an amount.") % {"value": text[:40]})
    amount = Decimal(text)
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
    try:
        return datetime.date.fromisoformat(text[:10])
    except ValueError as error:
        raise FieldError(gettext("%(value)s is not a date.") % {"value": text[:40]}) from error
