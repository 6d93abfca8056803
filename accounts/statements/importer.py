"""Import a statement file into a bank account: read, check, de-duplicate, write in chunks.

The import is one database transaction, with the bank account's row locked so two imports
into one account queue instead of racing each other's de-duplication:

1. the file is read once to learn its format, encoding, date order and decimal mark, and its
   row count (nothing is kept but counters);
2. it is read again, one row at a time; rows are checked, fingerprinted and, a chunk at a time,
   compared with the lines the bank account already has in the chunk's date range (one query
   per chunk), and the new ones written with one ``bulk_create``;
3. a file with rejected rows is rolled back whole unless ``allow_partial``; a dry run is rolled
   back always, after the counts are known exactly.

A line's fingerprint is what the bank said (date, amount, currency and texts), and its
occurrence counts the identical lines before it in the same file, so the unique (bank account,
fingerprint, occurrence) index refuses nothing a re-import would add twice and keeps two genuine
identical lines. The occurrence counter forgets a date once the next starts when the file's
dates run in one direction (as banks write them), so memory stays flat; for a file out of
order it keeps every count, about a hundred bytes a line, bounded by ``ROW_COUNT_MAX``.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

from django.db import transaction
from django.utils.translation import gettext

from .. import exceptions
from ..models import (
    RAW_ROW_LENGTH_MAX,
    REJECTIONS_KEPT_MAX,
    STATEMENT_NAME_LENGTH_MAX,
    Account,
    ImportState,
    StatementFormat,
    StatementImport,
    StatementLine,
)
from .camt import CamtStatement, looks_like_camt
from .csv_format import CsvStatement
from .matching import apply_rules as apply_matching_rules
from .ofx import OfxStatement, looks_like_ofx
from .parsing import ColumnEvidence
from .values import CHUNK_SIZE, ColumnMapping, DateOrder, ImportResult, ParsedLine, Rejection

#: Other names a format is given by (``--format qfx``): Quicken's QFX is OFX.
FORMAT_ALIASES = {"qfx": StatementFormat.OFX}

#: ``on_progress(done, total)``, called after each chunk of rows.
ProgressCallback = Callable[[int, int], None]


def check_bank_account(account: Any) -> Account:
    if not isinstance(account, Account) or account.pk is None:
        raise exceptions.NotBankAccount(gettext("Statements are imported into a saved account."))
    if not account.is_bank:
        raise exceptions.NotBankAccount(
            gettext("Account %(account)s is not designated as a bank account.")
            % {"account": account}
        )
    return account


def detect_format(stream: IO[bytes]) -> str:
    stream.seek(0)
    head = stream.read(4096)
    stream.seek(0)
    # OFX 2 and QFX are XML too: their <?OFX ...?> instruction names them before CAMT's check.
    if looks_like_ofx(head):
        return StatementFormat.OFX
    if head.lstrip().startswith(b"<") or looks_like_camt(head):
        if looks_like_camt(head):
            return StatementFormat.CAMT053
        raise exceptions.InvalidStatement(
            gettext("The file is XML but neither a CAMT.053 nor an OFX statement.")
        )
    return StatementFormat.CSV


def remembered_mapping(bank_account: Account) -> dict[str, Any]:
    """The mapping of the bank account's last CSV import, or an empty dict."""
    last = (
        StatementImport.objects.filter(bank_account=bank_account, source=StatementFormat.CSV)
        .exclude(mapping={})
        .order_by("-created_at", "-pk")
        .first()
    )
    return dict(last.mapping) if last else {}


def preview_csv(
    stream: IO[bytes], bank_account: Account | None = None, *, header_row: int | None = None
) -> CsvStatement:
    """The CSV file as an import would first read it, for a person to check or change.

    Its mapping is the bank account's remembered one when that fits the file, else the guessed
    one, else ``None``: a file whose columns cannot be guessed is still shown, so the person
    can choose them. ``header_row`` is where the person says the column names are.
    """
    remembered = remembered_mapping(bank_account).get("columns") if bank_account else None
    if remembered:
        try:
            columns = ColumnMapping.from_dict(remembered)
            if header_row is not None:
                columns = dataclasses.replace(columns, header_row=header_row)
            return CsvStatement(stream, mapping=columns)
        except (exceptions.InvalidColumnMapping, KeyError, TypeError, ValueError):
            pass  # another layout than last time
    return CsvStatement(stream, header_row=header_row, mapping_required=False)


def fingerprint(line: ParsedLine, currency: str) -> str:
    """The hash of what the bank said about a line, blind to spacing and letter case."""
    parts = [
        line.date.isoformat(),
        str(line.amount),
        currency,
        " ".join(line.description.split()).casefold(),
        " ".join(line.payee.split()).casefold(),
        line.reference.strip().casefold(),
    ]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def _sha256(stream: IO[bytes]) -> str:
    stream.seek(0)
    digest = hashlib.sha256()
    while chunk := stream.read(64 * 1024):
        digest.update(chunk)
    stream.seek(0)
    return digest.hexdigest()


def _reader(
    stream: IO[bytes],
    statement_format: str,
    bank_account: Account,
    mapping: ColumnMapping | dict[str, Any] | None,
    date_order: str | None,
) -> tuple[Iterator[ParsedLine | Rejection], int, dict[str, Any]]:
    """The rows as a stream, how many there are, and the mapping to remember."""
    currency = bank_account.currency
    if statement_format == StatementFormat.CAMT053:
        camt = CamtStatement(stream)
        count, in_order = camt.scan()
        return camt.lines(currency=currency), count, {"dates_in_order": in_order}
    if statement_format == StatementFormat.OFX:
        ofx = OfxStatement(stream, currency=currency)
        count, in_order = ofx.scan()
        return ofx.lines(), count, {"dates_in_order": in_order}
    if statement_format != StatementFormat.CSV:
        raise exceptions.InvalidStatement(
            gettext("Unknown statement format %(format)s.") % {"format": statement_format}
        )
    remembered = remembered_mapping(bank_account)
    if isinstance(mapping, dict):
        mapping = ColumnMapping.from_dict(mapping)
    reader = None
    if mapping is None and remembered.get("columns"):
        try:
            remembered_columns = ColumnMapping.from_dict(remembered["columns"])
            reader = CsvStatement(stream, mapping=remembered_columns)
        except (exceptions.InvalidColumnMapping, KeyError):
            reader = None  # another layout than last time: guess afresh
    reader = reader or CsvStatement(stream, mapping=mapping)
    evidence, count = reader.scan()
    if reader.mapping is None:  # scan() refuses a reader without a mapping already
        raise exceptions.InvalidColumnMapping()
    order = _date_order(evidence, date_order, remembered.get("date_order"))
    # Remembered only when decided: a file of ISO dates says nothing of the bank's order.
    reading = order or DateOrder.DAY_FIRST
    lines = reader.lines(
        date_order=reading, decimal_comma=evidence.uses_decimal_comma, currency=currency
    )
    remember: dict[str, Any] = {
        "columns": reader.mapping.as_dict(),
        "date_order": order or remembered.get("date_order") or "",
        "decimal_comma": evidence.uses_decimal_comma,
        "dates_in_order": evidence.runs[reading].in_order,
    }
    return lines, count, remember


def _date_order(evidence: ColumnEvidence, given: str | None, remembered: str | None) -> str:
    """As given; else as the file's dates show; else as the bank account's last file."""
    try:
        return evidence.date_order(given)
    except exceptions.AmbiguousDateOrder:
        conflicting = evidence.day_first and evidence.month_first
        if given is None and not conflicting and remembered in DateOrder.CHOICES:
            return str(remembered)
        raise


def import_statement(
    bank_account: Account,
    stream: IO[bytes],
    *,
    file_name: str = "",
    statement_format: str | None = None,
    mapping: ColumnMapping | dict[str, Any] | None = None,
    date_order: str | None = None,
    allow_partial: bool = False,
    dry_run: bool = False,
    user: Any = None,
    apply_rules: bool = True,
    on_progress: ProgressCallback | None = None,
) -> ImportResult:
    """Import a statement file (binary, seekable) into ``bank_account``; see the module."""
    check_bank_account(bank_account)
    if statement_format:
        statement_format = FORMAT_ALIASES.get(statement_format, statement_format)
    else:
        statement_format = detect_format(stream)
    digest = _sha256(stream)
    lines, total, remember = _reader(stream, statement_format, bank_account, mapping, date_order)
    result = ImportResult(dry_run=dry_run, date_order=remember.get("date_order") or None)
    with transaction.atomic():
        Account.objects.select_for_update().filter(pk=bank_account.pk).first()
        record = StatementImport.objects.create(
            bank_account=bank_account,
            source=statement_format,
            file_name=file_name[:255],
            sha256=digest,
            mapping=remember,
            created_by=user if getattr(user, "pk", None) is not None else None,
        )
        _write(record, lines, result, total, on_progress, remember["dates_in_order"])
        if result.lines_rejected and not allow_partial:
            raise exceptions.StatementHasRejectedRows(
                gettext(
                    "%(count)d rows were rejected, so nothing was imported; the first: %(first)s"
                )
                % {"count": result.lines_rejected, "first": result.rejections[0]},
                rejections=tuple(result.rejections),
            )
        record.lines_added = result.lines_added
        record.lines_duplicate = result.lines_duplicate
        record.lines_rejected = result.lines_rejected
        record.rejections = [rejection.as_dict() for rejection in result.rejections]
        record.state = ImportState.PARTIAL if result.lines_rejected else ImportState.IMPORTED
        record.save()
        result.statement_import = record
        if dry_run:
            result.statement_import = None
            transaction.set_rollback(True)
    if apply_rules and not dry_run and result.lines_added:
        new_lines = record.lines.filter(reconciled_transfer__isnull=True).iterator()
        result.lines_reconciled_by_rules = apply_matching_rules(new_lines, user=user)
    return result


def _write(
    record: StatementImport,
    lines: Iterable[ParsedLine | Rejection],
    result: ImportResult,
    total: int,
    on_progress: ProgressCallback | None,
    dates_in_order: bool,
) -> None:
    occurrences = _Occurrences(forget_past_dates=dates_in_order)
    chunk: list[ParsedLine] = []
    for item in lines:
        result.rows_read += 1
        if isinstance(item, Rejection):
            result.lines_rejected += 1
            if len(result.rejections) < REJECTIONS_KEPT_MAX:
                result.rejections.append(item)
        else:
            chunk.append(item)
        if result.rows_read % CHUNK_SIZE == 0:
            _flush(record, chunk, occurrences, result)
            chunk = []
            if on_progress:
                on_progress(result.rows_read, total)
    _flush(record, chunk, occurrences, result)
    if on_progress:
        on_progress(result.rows_read, total)


class _Occurrences:
    """How many identical lines came before each line in the file.

    A file whose dates run in one direction has every line of a date together, so the counts
    of a date are forgotten when the next date starts: memory stays flat. Otherwise every
    count is kept, bounded by ``ROW_COUNT_MAX``.
    """

    def __init__(self, *, forget_past_dates: bool) -> None:
        self.forget_past_dates = forget_past_dates
        self.counts: dict[str, int] = {}
        self.date: Any = None

    def next(self, key: str, date: Any) -> int:
        if self.forget_past_dates and date != self.date:
            self.counts.clear()
            self.date = date
        self.counts[key] = self.counts.get(key, 0) + 1
        return self.counts[key]


def _flush(
    record: StatementImport,
    chunk: list[ParsedLine],
    occurrences: _Occurrences,
    result: ImportResult,
) -> None:
    """Write the chunk's lines the bank account does not have yet."""
    if not chunk:
        return
    bank = record.bank_account
    keyed = []
    for line in chunk:
        key = fingerprint(line, bank.currency)
        keyed.append((line, key, occurrences.next(key, line.date)))
        result.first_date = min(result.first_date or line.date, line.date)
        result.last_date = max(result.last_date or line.date, line.date)
    existing = set(
        StatementLine.objects.filter(
            bank_account=bank,
            date__range=(min(line.date for line in chunk), max(line.date for line in chunk)),
            fingerprint__in={key for _, key, _ in keyed},
        )
        .exclude(statement_import=record)
        .values_list("fingerprint", "occurrence")
    )
    new = [
        StatementLine(
            statement_import=record,
            bank_account=bank,
            date=line.date,
            amount=line.amount,
            currency=bank.currency,
            description=line.description,
            payee=line.payee[:STATEMENT_NAME_LENGTH_MAX],
            bank_reference=line.reference[:STATEMENT_NAME_LENGTH_MAX],
            row_number=line.row_number,
            raw_row=line.raw_row[:RAW_ROW_LENGTH_MAX],
            fingerprint=key,
            occurrence=occurrence,
        )
        for line, key, occurrence in keyed
        if (key, occurrence) not in existing
    ]
    StatementLine.objects.bulk_create(new, batch_size=500)
    result.lines_added += len(new)
    result.lines_duplicate += len(keyed) - len(new)
