"""The values the statement importer passes between its steps, and its named limits.

Each limit bounds what one file can make the importer do; a file past one is refused whole
(:class:`~accounts.exceptions.InvalidStatement`) or, for a field, has its row rejected.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

#: The largest statement file read, in bytes (a year of a busy account is a few megabytes).
FILE_SIZE_MAX = 25 * 1024 * 1024
#: The most rows one file may hold.
ROW_COUNT_MAX = 200_000
#: The longest a single field may be, in characters; a longer one rejects its row.
FIELD_LENGTH_MAX = 1000
#: How many rows are checked against the ledger and written at a time.
CHUNK_SIZE = 2000
#: How many leading rows the CSV reader looks at to find the delimiter, header and columns.
SNIFF_ROWS = 40


class DateOrder:
    """How an ambiguous date such as 03/04/2024 is read."""

    DAY_FIRST = "day-first"
    MONTH_FIRST = "month-first"
    CHOICES = (DAY_FIRST, MONTH_FIRST)


class DateRun:
    """Whether a file's dates run in one direction (oldest first or newest first).

    In such a file every line of one date comes together, so the importer's occurrence counter
    can forget a date once the next one starts, and its memory stays flat however long the
    file; in a file out of order it remembers every line (bounded by ``ROW_COUNT_MAX``).
    """

    def __init__(self) -> None:
        self.last: datetime.date | None = None
        self.direction = 0  # 1 rising, -1 falling, 0 not yet known
        self.in_order = True

    def see(self, date: datetime.date) -> None:
        if self.last is not None and date != self.last:
            step = 1 if date > self.last else -1
            if self.direction and step != self.direction:
                self.in_order = False
            self.direction = step
        self.last = date


@dataclass(frozen=True)
class ColumnMapping:
    """Which CSV column holds what: by header name when the file has a header, else by index.

    Either ``amount`` (signed) or ``money_in`` and ``money_out`` (both unsigned) is set.
    ``header_row``, when set, is where the column names are, as the person chose it: the
    row's number among the file's first rows (1 is the first), or 0 for a file without names;
    ``None`` lets the reader find it.
    """

    date: str
    amount: str | None = None
    money_in: str | None = None
    money_out: str | None = None
    description: tuple[str, ...] = ()
    payee: str | None = None
    reference: str | None = None
    header_row: int | None = None

    def as_dict(self) -> dict[str, Any]:
        chosen = {} if self.header_row is None else {"header_row": self.header_row}
        return chosen | {
            "date": self.date,
            "amount": self.amount,
            "money_in": self.money_in,
            "money_out": self.money_out,
            "description": list(self.description),
            "payee": self.payee,
            "reference": self.reference,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ColumnMapping:
        description = data.get("description") or ()
        if isinstance(description, str):
            description = (description,)
        return cls(
            date=str(data["date"]),
            amount=data.get("amount"),
            money_in=data.get("money_in"),
            money_out=data.get("money_out"),
            description=tuple(str(name) for name in description),
            payee=data.get("payee"),
            reference=data.get("reference"),
            header_row=None if data.get("header_row") is None else int(data["header_row"]),
        )

    def columns(self) -> list[str]:
        named = [self.date, self.amount, self.money_in, self.money_out, self.payee, self.reference]
        return [name for name in named if name] + list(self.description)


@dataclass(frozen=True)
class ParsedLine:
    """One row of a statement, read and checked, not yet compared with the ledger."""

    row_number: int
    date: datetime.date
    amount: Decimal
    description: str
    payee: str = ""
    reference: str = ""
    raw_row: str = ""


@dataclass(frozen=True)
class Rejection:
    """A row that was not imported: its line (or entry) number in the file, and why."""

    row_number: int
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row_number, "reason": self.reason}

    def __str__(self) -> str:
        return f"{self.row_number}: {self.reason}"


@dataclass
class ImportResult:
    """What an import did (or, in a dry run, would do)."""

    rows_read: int = 0
    lines_added: int = 0
    lines_duplicate: int = 0
    lines_rejected: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    lines_reconciled_by_rules: int = 0
    dry_run: bool = False
    statement_import: Any = None
    date_order: str | None = None
    first_date: datetime.date | None = None
    last_date: datetime.date | None = None
