"""Reconciling statement lines with the ledger: posting, matching, undoing, suggestions."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from accounts import exceptions, facade
from accounts.models import (
    ImportState,
    Kind,
    Reconciliation,
    StatementImport,
    StatementLine,
    Transfer,
    TransferKind,
)
from accounts.statements import import_statement, suggest

from ..factories import AccountFactory
from .conftest import statement, text_file

pytestmark = pytest.mark.django_db


@pytest.fixture
def lines(gbp_bank):
    import_statement(gbp_bank, statement("uk_bank_2026_11.csv"))
    return StatementLine.objects.filter(bank_account=gbp_bank)


@pytest.fixture
def salary_income(db):
    return AccountFactory(kind=Kind.INCOME, currency="GBP", credit_limit=None, name="Salary")


@pytest.fixture
def rent_expense(db):
    return AccountFactory(kind=Kind.EXPENSE, currency="GBP", credit_limit=None, name="Rent")


def test_money_in_debits_the_bank_and_credits_the_other_account(
    lines, gbp_bank, salary_income, staff
):
    salary = lines.get(description="ACME LTD SALARY NOV")
    posted = salary.create_transaction(salary_income, user=staff)
    assert (posted.source, posted.destination, posted.amount) == (
        gbp_bank,
        salary_income,
        Decimal("3150.00"),
    )
    gbp_bank.refresh_from_db()
    salary_income.refresh_from_db()
    assert (gbp_bank.balance, salary_income.balance) == (Decimal("3150.00"), Decimal("3150.00"))
    legs = {leg.account_id: leg for leg in posted.transactions.all()}
    assert legs[gbp_bank.pk].created_at.date() == datetime.date(2026, 11, 1)  # dated as the line
    salary.refresh_from_db()
    assert salary.reconciled_transfer == posted
    assert (salary.reconciliation, salary.reconciled_by) == (Reconciliation.CREATED, staff)
    assert salary.reconciled_at is not None
    assert posted.description == "ACME LTD SALARY NOV"


def test_money_out_credits_the_bank_and_debits_the_other_account(
    lines, gbp_bank, rent_expense, salary_income
):
    lines.get(description="ACME LTD SALARY NOV").create_transaction(salary_income)
    rent = lines.get(description="LANDLORD RENT FLAT 2")
    posted = rent.create_transfer(rent_expense, description="November rent")
    assert (posted.source, posted.destination) == (rent_expense, gbp_bank)
    gbp_bank.refresh_from_db()
    rent_expense.refresh_from_db()
    assert (gbp_bank.balance, rent_expense.balance) == (Decimal("1900.00"), Decimal("1250.00"))
    assert posted.description == "November rent"


def test_a_line_reconciles_once(lines, salary_income, unchanged):
    salary = lines.get(description="ACME LTD SALARY NOV")
    stale = StatementLine.objects.get(pk=salary.pk)  # a copy read before it was reconciled
    salary.create_transaction(salary_income)
    with unchanged(), pytest.raises(exceptions.AlreadyReconciled):
        salary.create_transaction(salary_income)
    with unchanged(), pytest.raises(exceptions.AlreadyReconciled):
        stale.create_transaction(salary_income)


def test_a_refused_posting_leaves_the_line_unreconciled(lines, unchanged):
    euros = AccountFactory(kind=Kind.INCOME, currency="EUR", credit_limit=None)
    salary = lines.get(description="ACME LTD SALARY NOV")
    with unchanged(), pytest.raises(exceptions.CurrencyMismatch):
        salary.create_transaction(euros)
    closed = AccountFactory(kind=Kind.INCOME, currency="GBP", credit_limit=None, status="closed")
    with unchanged(), pytest.raises(exceptions.ClosedAccount):
        salary.create_transaction(closed)
    salary.refresh_from_db()
    assert not salary.is_reconciled


def test_unreconciling_a_created_transfer_reverses_it_and_deletes_nothing(
    lines, gbp_bank, salary_income, staff
):
    salary = lines.get(description="ACME LTD SALARY NOV")
    posted = salary.create_transaction(salary_income)
    reversal = salary.unreconcile(user=staff, reason="wrong account")
    assert reversal.kind == TransferKind.REVERSAL and reversal.parent == posted
    assert Transfer.objects.filter(pk=posted.pk).exists()
    gbp_bank.refresh_from_db()
    assert gbp_bank.balance == Decimal("0.00")
    salary.refresh_from_db()
    assert not salary.is_reconciled and salary.reconciliation == ""
    # The line can be posted again, now to the right account.
    other = AccountFactory(kind=Kind.INCOME, currency="GBP", credit_limit=None)
    assert salary.create_transaction(other).destination == other


def test_unreconciling_a_line_that_is_not_reconciled_is_refused(lines, unchanged):
    with unchanged(), pytest.raises(exceptions.NotReconciled):
        lines.first().unreconcile()


def test_a_line_reconciles_with_a_payment_already_recorded(lines, gbp_bank, rent_expense):
    facade.transfer(
        AccountFactory(kind=Kind.INCOME, currency="GBP", credit_limit=None),
        gbp_bank,
        Decimal("5000.00"),
    )
    paid = facade.transfer(
        rent_expense,
        gbp_bank,
        Decimal("1250.00"),
        description="Rent Nov flat 2",
        date=datetime.datetime(2026, 10, 31, 9, tzinfo=datetime.timezone.utc),
    )
    rent = lines.get(description="LANDLORD RENT FLAT 2")
    rent.reconcile_with(paid)
    rent.refresh_from_db()
    assert (rent.reconciled_transfer, rent.reconciliation) == (paid, Reconciliation.MATCHED)
    # Undoing a match leaves the payment alone: it was there before the statement.
    before = Transfer.objects.count()
    assert rent.unreconcile() is None
    assert Transfer.objects.count() == before
    rent.refresh_from_db()
    assert not rent.is_reconciled


def test_a_transfer_of_another_amount_or_direction_is_refused(lines, gbp_bank, rent_expense):
    facade.transfer(
        AccountFactory(kind=Kind.INCOME, currency="GBP", credit_limit=None),
        gbp_bank,
        Decimal("5000.00"),
    )
    wrong_amount = facade.transfer(rent_expense, gbp_bank, Decimal("1249.99"))
    wrong_way = facade.transfer(gbp_bank, rent_expense, Decimal("1250.00"))
    rent = lines.get(description="LANDLORD RENT FLAT 2")
    for candidate in (wrong_amount, wrong_way):
        with pytest.raises(exceptions.ReconciliationMismatch):
            rent.reconcile_with(candidate)
    rent.refresh_from_db()
    assert not rent.is_reconciled


def test_a_transfer_reconciles_with_one_line_only(lines, gbp_bank, rent_expense):
    coffee_one, coffee_two = lines.filter(description="PRET A MANGER", amount=Decimal("-3.45"))
    facade.transfer(
        AccountFactory(kind=Kind.INCOME, currency="GBP", credit_limit=None),
        gbp_bank,
        Decimal("10.00"),
    )
    paid = facade.transfer(rent_expense, gbp_bank, Decimal("3.45"))
    coffee_one.reconcile_with(paid)
    with pytest.raises(exceptions.AlreadyReconciled):
        coffee_two.reconcile_with(paid)
    # The database holds the same rule: a transfer is one line's at most.
    with pytest.raises(IntegrityError), transaction.atomic():
        StatementLine.objects.filter(pk=coffee_two.pk).update(
            reconciled_transfer=paid, reconciliation="matched", reconciled_at=paid.created_at
        )


def test_the_import_is_reconciled_once_every_line_is(gbp_bank, salary_income):
    data = "Date,Description,Amount\n20/11/2026,Pay,900.00\n21/11/2026,Bonus,100.00\n"
    import_statement(gbp_bank, text_file(data))
    record = StatementImport.objects.get()
    first, second = record.lines.order_by("row_number")
    first.create_transaction(salary_income)
    record.refresh_from_db()
    assert record.state == ImportState.IMPORTED
    second.create_transaction(salary_income)
    record.refresh_from_db()
    assert record.state == ImportState.RECONCILED
    second.unreconcile()
    record.refresh_from_db()
    assert record.state == ImportState.IMPORTED


def test_suggestions_rank_by_date_and_description(lines, gbp_bank, rent_expense):
    facade.transfer(
        AccountFactory(kind=Kind.INCOME, currency="GBP", credit_limit=None),
        gbp_bank,
        Decimal("9000.00"),
    )

    def paid(description: str, day: int) -> Transfer:
        moment = datetime.datetime(2026, 11, day, 10, tzinfo=datetime.timezone.utc)
        return facade.transfer(
            rent_expense, gbp_bank, Decimal("1250.00"), description=description, date=moment
        )

    near_and_alike = paid("Landlord rent flat 2", 2)
    near_unlike = paid("Sofa", 2)
    far_alike = paid("Landlord rent flat 2", 12)
    paid("Landlord rent flat 2", 28)  # outside the window
    facade.transfer(rent_expense, gbp_bank, Decimal("1000.00"))  # another amount
    rent = lines.get(description="LANDLORD RENT FLAT 2")
    ranked = [suggestion.transfer for suggestion in suggest(rent)]
    assert ranked == [near_and_alike, near_unlike, far_alike]
    rent.reconcile_with(near_and_alike)
    assert suggest(rent) == []
    other_line = lines.get(description="ACME LTD SALARY NOV")
    assert suggest(other_line) == []


def test_only_an_asset_can_be_a_bank_account(db):
    with pytest.raises(exceptions.NotBankAccount):
        AccountFactory(kind=Kind.LIABILITY, is_bank=True)
    from accounts.models import Account

    account = AccountFactory(kind=Kind.LIABILITY)
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.filter(pk=account.pk).update(is_bank=True)


def test_a_reversed_transfer_is_neither_suggested_nor_matched(lines, gbp_bank, rent_expense):
    facade.transfer(
        AccountFactory(kind=Kind.INCOME, currency="GBP", credit_limit=None),
        gbp_bank,
        Decimal("5000.00"),
    )
    paid = facade.transfer(
        rent_expense,
        gbp_bank,
        Decimal("1250.00"),
        date=datetime.datetime(2026, 11, 1, 9, tzinfo=datetime.timezone.utc),
    )
    rent = lines.get(description="LANDLORD RENT FLAT 2")
    assert [s.transfer for s in suggest(rent)] == [paid]
    facade.reverse(paid)
    assert suggest(rent) == []
    with pytest.raises(exceptions.ReconciliationMismatch):
        rent.reconcile_with(paid)


def test_only_a_saved_transfer_can_be_matched(lines, unchanged):
    with unchanged(), pytest.raises(exceptions.InvalidTransfer):
        lines.first().reconcile_with("T-123")


def test_unreconciling_a_transfer_reversed_elsewhere_only_detaches_it(
    lines, gbp_bank, salary_income
):
    salary = lines.get(description="ACME LTD SALARY NOV")
    posted = salary.create_transaction(salary_income)
    facade.reverse(posted)
    before = Transfer.objects.count()
    assert salary.unreconcile() is None
    assert Transfer.objects.count() == before
    salary.refresh_from_db()
    assert not salary.is_reconciled


def _funded(gbp_bank):
    facade.transfer(
        AccountFactory(kind=Kind.INCOME, currency="GBP", credit_limit=None),
        gbp_bank,
        Decimal("5000.00"),
    )


def test_a_multi_leg_entry_paid_from_the_bank_is_suggested_and_matched(lines, gbp_bank):
    _funded(gbp_bank)
    food = AccountFactory(kind=Kind.EXPENSE, currency="GBP", credit_limit=None, name="Food")
    house = AccountFactory(kind=Kind.EXPENSE, currency="GBP", credit_limit=None, name="House")
    moment = datetime.datetime(2026, 11, 5, 12, tzinfo=datetime.timezone.utc)
    shop = facade.post(
        [
            facade.Debit(food, Decimal("70.00")),
            facade.Debit(house, Decimal("18.86")),
            facade.Credit(gbp_bank, Decimal("88.86")),
        ],
        description="Sainsburys: food and cleaning things",
        date=moment,
    )
    line = lines.get(description="SAINSBURYS S/MKT", amount=Decimal("-88.86"))
    assert [s.transfer for s in suggest(line)] == [shop]
    line.reconcile_with(shop)
    line.refresh_from_db()
    assert (line.reconciled_transfer, line.reconciliation) == (shop, Reconciliation.MATCHED)


def test_an_entry_whose_bank_leg_is_another_amount_is_neither_suggested_nor_matched(
    lines, gbp_bank, rent_expense
):
    _funded(gbp_bank)
    moment = datetime.datetime(2026, 11, 5, 12, tzinfo=datetime.timezone.utc)
    other = AccountFactory(kind=Kind.EXPENSE, currency="GBP", credit_limit=None)
    # 88.86 in all, but only 80.00 of it out of the bank.
    entry = facade.post(
        [
            facade.Debit(rent_expense, Decimal("88.86")),
            facade.Credit(gbp_bank, Decimal("80.00")),
            facade.Credit(other, Decimal("8.86")),
        ],
        date=moment,
    )
    line = lines.get(description="SAINSBURYS S/MKT", amount=Decimal("-88.86"))
    assert suggest(line) == []
    with pytest.raises(exceptions.ReconciliationMismatch):
        line.reconcile_with(entry)


def test_money_in_is_not_matched_with_money_out_of_the_same_amount(lines, gbp_bank, rent_expense):
    _funded(gbp_bank)
    moment = datetime.datetime(2026, 11, 1, 12, tzinfo=datetime.timezone.utc)
    paid_out = facade.transfer(rent_expense, gbp_bank, Decimal("3150.00"), date=moment)
    salary = lines.get(description="ACME LTD SALARY NOV")  # 3,150.00 in
    assert suggest(salary) == []
    with pytest.raises(exceptions.ReconciliationMismatch):
        salary.reconcile_with(paid_out)


def test_suggestions_compare_descriptions_in_any_word_order(gbp_bank):
    income = AccountFactory(kind=Kind.INCOME, currency="GBP", credit_limit=None)
    moment = datetime.datetime(2026, 11, 7, 12, tzinfo=datetime.timezone.utc)
    rents = {
        name: facade.transfer(
            gbp_bank, income, Decimal("450.00"), description=f"Rent: {name}", date=moment
        )
        for name in ("Ana", "Ben", "Chloe", "Dev")
    }
    csv = "Date,Description,Amount\n" + "".join(
        f"07/11/2026,{name.upper()} RENT,450.00\n" for name in rents
    )
    import_statement(gbp_bank, text_file(csv), date_order="day-first")
    for name, transfer in rents.items():
        line = StatementLine.objects.get(description=f"{name.upper()} RENT")
        assert suggest(line)[0].transfer == transfer, name
