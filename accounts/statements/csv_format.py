"""Bank statements as CSV: encoding, delimiter, header, columns, then one row at a time.

The file is read as a stream, never whole: once to learn what the whole date and amount
columns say (:class:`~accounts.statements.parsing.ColumnEvidence`) and count the rows, and
once more to read them. Banks put lines of account details before the header; the header is
the first row as wide as the table, when none of its cells reads as a date or an amount.

A person may say otherwise: a mapping's ``header_row`` names the row of column names (or 0 for
none), and its columns override the guess. A reader for a preview (``mapping_required=False``)
keeps going when nothing can be guessed, so the person can choose the columns; its ``mapping``
is then ``None`` and it reads no rows until given one.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from typing import IO

from django.utils.translation import gettext

from .. import exceptions
from .parsing import ColumnEvidence, FieldError, check_text, parse_amount, parse_date
from .values import (
    FILE_SIZE_MAX,
    ROW_COUNT_MAX,
    SNIFF_ROWS,
    ColumnMapping,
    ParsedLine,
    Rejection,
)

DELIMITERS = (",", ";", "\t", "|")
#: Tried in order: UTF-8 (a BOM is dropped), then Windows' Western European code page, which
#: German and French banks export (Latin-1 with the euro sign), then Latin-1 itself.
ENCODINGS = ("utf-8-sig", "cp1252", "latin-1")
_READ_SIZE = 64 * 1024
_DATE_SHAPE = re.compile(r"^\d{1,4}[./\-]\d{1,2}[./\-]\d{2,4}$")
_NAMED_MONTH = re.compile(
    r"^(\d{1,2}[ \-][A-Za-zä]{3,9}\.?[ \-]\d{2,4}|[A-Za-z]{3,9} \d{1,2},? \d{4})$"
)
_LOOKS_NUMERIC = re.compile(r"^[\s(+\-]*[\d.,' ]*\d[\d.,' ]*[)\-]?\s*[A-Z€$£]{0,3}$")

#: Header words (lower case, in English, German and French) for each role, best first.
HEADER_WORDS: dict[str, tuple[str, ...]] = {
    "date": (
        "date",
        "booking date",
        "transaction date",
        "posting date",
        "buchungstag",
        "buchungsdatum",
        "datum",
        "date d'opération",
        "date opération",
        "valuta",
        "wertstellung",
        "value date",
    ),
    "amount": ("amount", "betrag", "montant", "umsatz", "betrag (eur)", "amount (gbp)"),
    "money_in": ("paid in", "money in", "credit", "credits", "deposit", "haben", "gutschrift"),
    "money_out": ("paid out", "money out", "debit", "debits", "withdrawal", "soll", "lastschrift"),
    "description": (
        "description",
        "details",
        "memo",
        "narrative",
        "transaction description",
        "verwendungszweck",
        "buchungstext",
        "libellé",
        "libelle",
    ),
    "payee": (
        "payee",
        "name",
        "counterparty",
        "beguenstigter/zahlungspflichtiger",
        "begünstigter/zahlungspflichtiger",
        "empfänger",
        "auftraggeber",
        "auftraggeber/empfänger",
        "zahlungsempfänger",
        "bénéficiaire",
    ),
    "reference": ("reference", "transaction id", "referenz", "kundenreferenz", "référence"),
}


def detect_encoding(stream: IO[bytes]) -> str:
    """Read the whole file once: refuse it if too large or binary, and name its encoding."""
    stream.seek(0)
    decoders = {name: codecs.getincrementaldecoder(name)() for name in ENCODINGS[:2]}
    size = 0
    while chunk := stream.read(_READ_SIZE):
        size += len(chunk)
        if size > FILE_SIZE_MAX:
            raise exceptions.InvalidStatement(
                gettext("The file is larger than %(limit)d bytes.") % {"limit": FILE_SIZE_MAX}
            )
        if b"\x00" in chunk:
            raise exceptions.InvalidStatement(gettext("The file is binary, not a statement."))
        for name, decoder in list(decoders.items()):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                del decoders[name]
    stream.seek(0)
    for name in ENCODINGS:
        if name in decoders:
            try:
                decoders[name].decode(b"", final=True)
            except UnicodeDecodeError:
                continue
            return name
    return ENCODINGS[-1]


def _sniff_delimiter(lines: list[str]) -> tuple[str, int]:
    """The delimiter that splits the most sample rows into one width (the widest wins)."""
    best = (0, 0, ",")
    for delimiter in DELIMITERS:
        widths = Counter(len(row) for row in csv.reader(lines, delimiter=delimiter) if row)
        width, rows = max(widths.items(), key=lambda item: (item[1], item[0]), default=(0, 0))
        if width > 1 and (rows, width) > best[:2]:
            best = (rows, width, delimiter)
    if best[1] < 2:
        raise exceptions.InvalidStatement(gettext("No delimiter splits the file into columns."))
    return best[2], best[1]


def _looks_like_data(cell: str) -> bool:
    cell = cell.strip()
    return bool(cell) and bool(_LOOKS_NUMERIC.match(cell) or _is_date(cell))


class CsvStatement:
    """A CSV statement file: what was detected about it, and its rows as a stream."""

    def __init__(
        self,
        stream: IO[bytes],
        *,
        mapping: ColumnMapping | None = None,
        header_row: int | None = None,
        mapping_required: bool = True,
    ) -> None:
        self.stream = stream
        self.encoding = detect_encoding(stream)
        sample = self._sample_lines()
        try:
            self.delimiter, self.width = _sniff_delimiter(sample)
            rows = list(csv.reader(sample, delimiter=self.delimiter))
        except csv.Error as error:  # a field past csv's own limit, a stray NUL
            raise exceptions.InvalidStatement(
                gettext("The file is not valid CSV: %(error)s.") % {"error": error}
            ) from error
        #: The file's first rows as they are, for a person to point at the header row.
        self.top_rows = rows
        if header_row is None and mapping is not None:
            header_row = mapping.header_row
        self.header_row = header_row
        self.skip_rows, self.header = self._header(rows, header_row, mapping_required)
        first = self.skip_rows + (1 if self.header else 0)
        self.sample_rows = [row for row in rows[first:] if any(cell.strip() for cell in row)]
        self.columns = self.header or [str(index + 1) for index in range(self.width)]
        if mapping is None:
            try:
                mapping = self.guess_mapping()
            except exceptions.InvalidColumnMapping:
                if mapping_required:
                    raise
        self.mapping: ColumnMapping | None = mapping
        self._indexes = self._resolve(mapping) if mapping else {}

    def _text(self) -> io.TextIOWrapper:
        self.stream.seek(0)
        return io.TextIOWrapper(self.stream, encoding=self.encoding, newline="")

    def _sample_lines(self) -> list[str]:
        text = self._text()
        try:
            return [line for _, line in zip(range(SNIFF_ROWS), text)]
        except UnicodeDecodeError as error:  # pragma: no cover - detect_encoding read it all
            raise exceptions.InvalidStatement(gettext("The file cannot be decoded.")) from error
        finally:
            text.detach()

    def _header(
        self, rows: list[list[str]], header_row: int | None, mapping_required: bool
    ) -> tuple[int, list[str] | None]:
        """Rows to skip and the header: as the person chose it, else as found."""
        if header_row:
            return self._given_header(rows, header_row)
        try:
            skip_rows, header = self._find_header(rows)
        except exceptions.InvalidStatement:
            if mapping_required:
                raise
            # For a preview: every row is shown, and the person says where the data starts.
            return 0, None
        if header_row == 0 and header:  # no header, says the person: its row is skipped too
            return skip_rows + 1, None
        return skip_rows, header

    def _given_header(self, rows: list[list[str]], number: int) -> tuple[int, list[str]]:
        if not 1 <= number <= len(rows):
            raise exceptions.InvalidColumnMapping(
                gettext("The header row %(row)d is not among the file's first %(count)d rows.")
                % {"row": number, "count": len(rows)}
            )
        names = [cell.strip() for cell in rows[number - 1]]
        unique = len(names) == self.width and len(set(names)) == len(names) and all(names)
        if not unique or any(_looks_like_data(name) for name in names):
            raise exceptions.InvalidColumnMapping(
                gettext(
                    "Row %(row)d is not a header: it holds data, or names that are missing or "
                    "repeated."
                )
                % {"row": number}
            )
        return number - 1, names

    def _find_header(self, rows: list[list[str]]) -> tuple[int, list[str] | None]:
        """Rows to skip, and the header: the full-width row of names just before the data."""
        index = next(
            (
                number
                for number, row in enumerate(rows)
                if len(row) == self.width and any(_is_date(cell) for cell in row)
            ),
            None,
        )
        if index is None:
            raise exceptions.InvalidStatement(gettext("The file has no rows of data."))
        above = rows[index - 1] if index else []
        if len(above) != self.width or any(_looks_like_data(cell) for cell in above):
            return index, None
        names = [cell.strip() for cell in above]
        if len(set(names)) != len(names) or not all(names):
            raise exceptions.InvalidColumnMapping(
                gettext("The header row has empty or repeated column names.")
            )
        return index - 1, names

    def guess_mapping(self) -> ColumnMapping:
        """Name the columns from the header's words, else from what the cells hold."""
        found: dict[str, str] = {}
        lowered = {name.lower(): name for name in self.columns}
        for role, words in HEADER_WORDS.items():
            for word in words:
                if word in lowered and lowered[word] not in found.values():
                    found[role] = lowered[word]
                    break
        if "date" not in found or not (
            "amount" in found or ("money_in" in found and "money_out" in found)
        ):
            found = self._guess_from_cells(found)
        return ColumnMapping(
            date=found["date"],
            amount=found.get("amount"),
            money_in=found.get("money_in") if "amount" not in found else None,
            money_out=found.get("money_out") if "amount" not in found else None,
            description=(found["description"],) if "description" in found else (),
            payee=found.get("payee"),
            reference=found.get("reference"),
        )

    def _guess_from_cells(self, found: dict[str, str]) -> dict[str, str]:
        """The first column of dates, the first of amounts after it, the widest text."""
        found = {role: name for role, name in found.items() if role not in ("date", "amount")}
        rows = self.sample_rows or [[]]
        for index, name in enumerate(self.columns):
            cells = [row[index] for row in rows if index < len(row) and row[index].strip()]
            if not cells or name in found.values():
                continue
            if "date" not in found and all(_is_date(cell) for cell in cells):
                found["date"] = name
            elif "amount" not in found and all(_LOOKS_NUMERIC.match(c) for c in cells):
                found["amount"] = name
        if "date" not in found or "amount" not in found:
            raise exceptions.InvalidColumnMapping(
                gettext("No date and amount columns could be found; give the mapping.")
            )
        if "description" not in found:
            widths = {
                name: sum(len(row[i]) for row in rows if i < len(row))
                for i, name in enumerate(self.columns)
                if name not in found.values()
            }
            if widths:
                found["description"] = max(widths, key=lambda name: widths[name])
        return found

    def _resolve(self, mapping: ColumnMapping) -> dict[str, int]:
        """Column indexes by role; refuse a mapping that names a column the file lacks."""
        if not (mapping.amount or (mapping.money_in and mapping.money_out)):
            raise exceptions.InvalidColumnMapping(
                gettext("The mapping needs an amount column, or money-in and money-out columns.")
            )
        positions = {name: index for index, name in enumerate(self.columns)}
        missing = [name for name in mapping.columns() if name not in positions]
        if missing:
            raise exceptions.InvalidColumnMapping(
                gettext("The file has no column %(names)s.") % {"names": ", ".join(missing)}
            )
        roles = ("date", "amount", "money_in", "money_out", "payee", "reference")
        indexes = {
            role: positions[getattr(mapping, role)] for role in roles if getattr(mapping, role)
        }
        for number, name in enumerate(mapping.description):
            indexes[f"description{number}"] = positions[name]
        return indexes

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """Each data row with its line number in the file, skipping blank rows."""
        text = self._text()
        try:
            reader = csv.reader(text, delimiter=self.delimiter)
            count = 0
            for row in reader:
                if reader.line_num <= self.skip_rows + (1 if self.header else 0):
                    continue
                if not any(cell.strip() for cell in row):
                    continue
                count += 1
                if count > ROW_COUNT_MAX:
                    raise exceptions.InvalidStatement(
                        gettext("The file has more than %(limit)d rows.") % {"limit": ROW_COUNT_MAX}
                    )
                yield reader.line_num, row
        except csv.Error as error:
            raise exceptions.InvalidStatement(
                gettext("The file is not valid CSV: %(error)s.") % {"error": error}
            ) from error
        finally:
            text.detach()

    def scan(self) -> tuple[ColumnEvidence, int]:
        """Read the whole date and amount columns for what they say; count the rows."""
        if self.mapping is None:
            raise exceptions.InvalidColumnMapping(
                gettext("No date and amount columns could be found; give the mapping.")
            )
        evidence, count = ColumnEvidence(), 0
        amount_columns = [
            self._indexes[r] for r in ("amount", "money_in", "money_out") if r in self._indexes
        ]
        for _, row in self.rows():
            count += 1
            if self._indexes["date"] < len(row):
                evidence.see_date(row[self._indexes["date"]])
            for index in amount_columns:
                if index < len(row):
                    evidence.see_amount(row[index])
        return evidence, count

    def lines(
        self, *, date_order: str, decimal_comma: bool, currency: str
    ) -> Iterator[ParsedLine | Rejection]:
        for number, row in self.rows():
            try:
                yield self._parse(number, row, date_order, decimal_comma, currency)
            except FieldError as error:
                yield Rejection(number, str(error))

    def _parse(
        self, number: int, row: list[str], date_order: str, decimal_comma: bool, currency: str
    ) -> ParsedLine:
        if len(row) != self.width:
            raise FieldError(
                gettext("The row has %(found)d columns, not %(expected)d.")
                % {"found": len(row), "expected": self.width}
            )
        cells = self._indexes
        date = parse_date(row[cells["date"]], date_order)
        if "amount" in cells:
            amount = parse_amount(
                row[cells["amount"]], decimal_comma=decimal_comma, currency=currency
            )
        else:
            amount = self._in_out(row, decimal_comma, currency)
        if not amount:
            raise FieldError(gettext("The amount is zero."))
        texts = [
            check_text(row[index], gettext("The description"))
            for role, index in cells.items()
            if role.startswith("description")
        ]
        return ParsedLine(
            row_number=number,
            date=date,
            amount=amount,
            description=" ".join(text for text in texts if text),
            payee=check_text(row[cells["payee"]], gettext("The payee")) if "payee" in cells else "",
            reference=(
                check_text(row[cells["reference"]], gettext("The reference"))
                if "reference" in cells
                else ""
            ),
            raw_row=self.delimiter.join(row),
        )

    def _in_out(self, row: list[str], decimal_comma: bool, currency: str) -> Decimal:
        money_in, money_out = row[self._indexes["money_in"]], row[self._indexes["money_out"]]
        if money_in.strip() and money_out.strip():
            raise FieldError(gettext("The row has money both in and out."))
        if money_in.strip():
            return abs(parse_amount(money_in, decimal_comma=decimal_comma, currency=currency))
        if money_out.strip():
            return -abs(parse_amount(money_out, decimal_comma=decimal_comma, currency=currency))
        raise FieldError(gettext("The row has no amount."))


def _is_date(cell: str) -> bool:
    """Whether a cell has the shape of a date (03.04.2024, 2024-04-03, 3 Apr 2024)."""
    cell = cell.strip()
    if not (_DATE_SHAPE.match(cell) or _NAMED_MONTH.match(cell)):
        return False
    try:
        parse_date(cell, "day-first")
    except FieldError:
        return False
    return True
