"""Statements live with the ledger's guarantees: a flush empties them, a rollback undoes them."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import transaction

from accounts.models import Kind, StatementImport, StatementLine, Transfer
from accounts.statements import import_statement

from ..factories import AccountFactory
from .conftest import bank_account, statement


@pytest.mark.django_db(transaction=True)
def test_flush_empties_reconciled_statements_with_the_ledger():
    bank = bank_account("GBP")
    income = AccountFactory(kind=Kind.INCOME, currency="GBP", credit_limit=None)
    import_statement(bank, statement("uk_bank_2026_11.csv"))
    StatementLine.objects.get(description="ACME LTD SALARY NOV").create_transaction(income)
    call_command("flush", interactive=False, verbosity=0)
    assert not StatementLine.objects.exists() and not Transfer.objects.exists()


@pytest.mark.django_db
def test_an_import_inside_the_callers_transaction_goes_when_the_caller_rolls_back():
    bank = bank_account("GBP")
    with transaction.atomic():
        import_statement(bank, statement("uk_bank_2026_11.csv"))
        assert StatementLine.objects.count() == 15
        transaction.set_rollback(True)
    assert not StatementImport.objects.exists() and not StatementLine.objects.exists()
