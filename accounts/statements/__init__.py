"""Bank statements: import a bank's file into a bank account, and reconcile it with the ledger.

The public surface, documented in ``docs/statements.rst``:

- :func:`import_statement` reads a CSV, CAMT.053 or OFX/QFX file into a bank account
  (:attr:`Account.is_bank <accounts.models.Account.is_bank>`), de-duplicated per account, and
  returns an :class:`ImportResult`; :class:`CsvStatement` shows what it detected in a CSV file
  (encoding, delimiter, header, the guessed :class:`ColumnMapping`) for a preview, and
  :func:`preview_csv` reads a file as the next import into a bank account would (its
  remembered mapping first), keeping going when no mapping can be guessed;
- :func:`suggest` ranks the transfers a line could be reconciled with, and :func:`apply_rules`
  reconciles lines by the saved :class:`~accounts.models.MatchingRule`\\ s, and
  :func:`reconcile_lines` posts up to :data:`BULK_RECONCILE_MAX` lines to one account, all or
  nothing;
- reconciling one line is the line's own business:
  :meth:`StatementLine.create_transaction <accounts.models.StatementLine.create_transaction>`,
  ``reconcile_with`` and ``unreconcile``;
- the limits: :data:`FILE_SIZE_MAX`, :data:`ROW_COUNT_MAX`, :data:`FIELD_LENGTH_MAX`,
  :data:`CHUNK_SIZE`.

Money moves only through :mod:`accounts.facade`.
"""

from __future__ import annotations

from .csv_format import CsvStatement
from .importer import (
    FORMAT_ALIASES,
    check_bank_account,
    detect_format,
    fingerprint,
    import_statement,
    preview_csv,
)
from .matching import (
    BULK_RECONCILE_MAX,
    SUGGESTION_WINDOW_DAYS,
    SUGGESTIONS_MAX,
    Suggestion,
    apply_rules,
    reconcile_lines,
    suggest,
)
from .values import (
    CHUNK_SIZE,
    FIELD_LENGTH_MAX,
    FILE_SIZE_MAX,
    ROW_COUNT_MAX,
    ColumnMapping,
    DateOrder,
    ImportResult,
    ParsedLine,
    Rejection,
)

__all__ = [
    "BULK_RECONCILE_MAX",
    "CHUNK_SIZE",
    "FIELD_LENGTH_MAX",
    "FILE_SIZE_MAX",
    "FORMAT_ALIASES",
    "ROW_COUNT_MAX",
    "SUGGESTIONS_MAX",
    "SUGGESTION_WINDOW_DAYS",
    "ColumnMapping",
    "CsvStatement",
    "DateOrder",
    "ImportResult",
    "ParsedLine",
    "Rejection",
    "Suggestion",
    "apply_rules",
    "check_bank_account",
    "detect_format",
    "fingerprint",
    "import_statement",
    "preview_csv",
    "reconcile_lines",
    "suggest",
]
