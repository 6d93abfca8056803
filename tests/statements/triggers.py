"""The statement refusals, each made the way a caller would (for tests/engine/test_exceptions.py).

Each function sets the scene and returns the refused call, like the engine's own ``TRIGGERS``.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from decimal import Decimal

from accounts import exceptions, facade
from accounts.models import Kind
from accounts.statements import ColumnMapping, import_statement

from ..factories import AccountFactory
from .conftest import bank_account, text_file

Act = Callable[[], object]

ROWS = "Date,Description,Amount\n20/11/2026,Pay,900.00\n21/11/2026,Rent,-500.00\n"


def _line():
    bank = bank_account("GBP")
    import_statement(bank, text_file(ROWS))
    return bank, bank.statement_lines.get(description="Pay")


def not_a_bank() -> Act:
    account = AccountFactory(kind=Kind.ASSET, currency="GBP")
    return lambda: import_statement(account, text_file(ROWS))


def binary_junk() -> Act:
    bank = bank_account("GBP")
    return lambda: import_statement(bank, io.BytesIO(b"\x00\xffjunk"))


def missing_column() -> Act:
    bank = bank_account("GBP")
    mapping = ColumnMapping(date="Date", amount="Betrag")
    return lambda: import_statement(bank, text_file(ROWS), mapping=mapping)


def ambiguous_dates() -> Act:
    bank = bank_account("GBP")
    return lambda: import_statement(bank, text_file("Date,Description,Amount\n03/04/2026,X,1.00\n"))


def rejected_row() -> Act:
    bank = bank_account("GBP")
    return lambda: import_statement(bank, text_file(ROWS + "22/11/2026,Bad,lots\n"))


def reconciled_twice() -> Act:
    _, line = _line()
    income = AccountFactory(kind=Kind.INCOME, currency="GBP", credit_limit=None)
    line.create_transaction(income)
    return lambda: line.create_transaction(income)


def not_reconciled() -> Act:
    _, line = _line()
    return line.unreconcile


def mismatched_transfer() -> Act:
    bank, line = _line()
    income = AccountFactory(kind=Kind.INCOME, currency="GBP", credit_limit=None)
    other = facade.transfer(bank, income, Decimal("899.00"))
    return lambda: line.reconcile_with(other)


TRIGGERS: dict[type[exceptions.AccountException], tuple[str, Callable[[], Act]]] = {
    exceptions.NotBankAccount: ("not_a_bank_account", not_a_bank),
    exceptions.InvalidStatement: ("invalid_statement", binary_junk),
    exceptions.InvalidColumnMapping: ("invalid_column_mapping", missing_column),
    exceptions.AmbiguousDateOrder: ("ambiguous_date_order", ambiguous_dates),
    exceptions.StatementHasRejectedRows: ("statement_has_rejected_rows", rejected_row),
    exceptions.AlreadyReconciled: ("already_reconciled", reconciled_twice),
    exceptions.NotReconciled: ("statement_line_not_reconciled", not_reconciled),
    exceptions.ReconciliationMismatch: ("reconciliation_mismatch", mismatched_transfer),
}
