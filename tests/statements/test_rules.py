"""Matching rules reconcile future lines on import, and each application is recorded."""

from __future__ import annotations

from decimal import Decimal

import pytest

from accounts.models import Kind, MatchingRule, Reconciliation, RuleApplication, StatementLine
from accounts.statements import apply_rules, import_statement

from ..factories import AccountFactory
from .conftest import bank_account, statement

pytestmark = pytest.mark.django_db


@pytest.fixture
def groceries(db):
    return AccountFactory(kind=Kind.EXPENSE, currency="GBP", credit_limit=None, name="Groceries")


@pytest.fixture
def salary_income(db):
    return AccountFactory(kind=Kind.INCOME, currency="GBP", credit_limit=None, name="Salary")


def test_a_rule_reconciles_matching_lines_of_the_next_import(
    gbp_bank, groceries, salary_income, staff
):
    MatchingRule.objects.create(pattern="salary", account=salary_income, direction="in")
    rule = MatchingRule.objects.create(pattern="tesco", account=groceries, bank_account=gbp_bank)
    result = import_statement(gbp_bank, statement("uk_bank_2026_11.csv"), user=staff)
    tesco = StatementLine.objects.filter(description__icontains="tesco")
    assert tesco.count() == 2
    assert all(line.reconciliation == Reconciliation.CREATED for line in tesco)
    assert result.lines_reconciled_by_rules == 3  # two at Tesco, and the salary
    applications = RuleApplication.objects.filter(rule=rule)
    assert sorted(a.line_id for a in applications) == sorted(line.pk for line in tesco)
    for application in applications:
        assert application.transfer == application.line.reconciled_transfer
        assert application.transfer.source == groceries  # money out: the expense is debited
    groceries.refresh_from_db()
    assert groceries.balance == sum(-line.amount for line in tesco)


def test_a_rule_for_money_in_leaves_money_out_alone(gbp_bank, groceries):
    MatchingRule.objects.create(pattern="tesco", account=groceries, direction="in")
    result = import_statement(gbp_bank, statement("uk_bank_2026_11.csv"))
    assert result.lines_reconciled_by_rules == 0
    assert not RuleApplication.objects.exists()


def test_an_inactive_rule_or_another_banks_rule_does_nothing(gbp_bank, groceries):
    MatchingRule.objects.create(pattern="tesco", account=groceries, is_active=False)
    MatchingRule.objects.create(
        pattern="tesco", account=groceries, bank_account=bank_account("GBP")
    )
    assert (
        import_statement(gbp_bank, statement("uk_bank_2026_11.csv")).lines_reconciled_by_rules == 0
    )


def test_the_first_rule_by_position_wins(gbp_bank, groceries):
    other = AccountFactory(kind=Kind.EXPENSE, currency="GBP", credit_limit=None)
    MatchingRule.objects.create(pattern="TESCO", account=other, position=200)
    first = MatchingRule.objects.create(pattern="TESCO STORES", account=groceries, position=10)
    import_statement(gbp_bank, statement("uk_bank_2026_11.csv"))
    assert set(RuleApplication.objects.values_list("rule", flat=True)) == {first.pk}


def test_a_line_the_ledger_refuses_stays_unreconciled_and_the_others_go_on(gbp_bank, groceries):
    euros = AccountFactory(kind=Kind.EXPENSE, currency="EUR", credit_limit=None)
    MatchingRule.objects.create(pattern="sainsburys", account=euros, position=1)
    MatchingRule.objects.create(pattern="tesco", account=groceries, position=2)
    result = import_statement(gbp_bank, statement("uk_bank_2026_11.csv"))
    assert result.lines_reconciled_by_rules == 2  # the two at Tesco
    sainsburys = StatementLine.objects.filter(description__icontains="sainsburys")
    assert sainsburys.count() == 2
    assert not any(line.is_reconciled for line in sainsburys)


def test_rules_can_be_applied_to_lines_already_imported(gbp_bank, groceries):
    import_statement(gbp_bank, statement("uk_bank_2026_11.csv"), apply_rules=False)
    assert not StatementLine.objects.filter(reconciled_transfer__isnull=False).exists()
    MatchingRule.objects.create(pattern="tesco", account=groceries)
    assert apply_rules(StatementLine.objects.all()) == 2
    assert apply_rules(StatementLine.objects.all()) == 0  # reconciled lines are left alone
    assert RuleApplication.objects.count() == 2
    total = sum(
        line.amount for line in StatementLine.objects.filter(description__icontains="tesco")
    )
    groceries.refresh_from_db()
    assert groceries.balance == -total > Decimal(0)
