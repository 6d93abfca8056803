"""Reconciling several lines to one account in one step: all of them, or none."""

from __future__ import annotations

from decimal import Decimal

import pytest

from accounts import exceptions
from accounts.models import Kind, StatementLine, Transfer
from accounts.statements import BULK_RECONCILE_MAX, import_statement, reconcile_lines

from ..factories import AccountFactory, StaffFactory
from ..surfaces.test_dashboard import body, client_for, grant, url
from .conftest import PERMISSIONS, bank_account, statement, text_file

pytestmark = pytest.mark.django_db

#: A week of a small account: money in first, then three payments that together exceed it.
WEEK = (
    "Date,Description,Amount\n"
    "2026-11-02,Member dues,100.00\n"
    "2026-11-03,Hall hire,-50.00\n"
    "2026-11-04,Hall cleaning,-30.00\n"
    "2026-11-05,Hall repairs,-80.00\n"
)


@pytest.fixture
def club_bank(db):
    # No overdraft: the ledger refuses a payment the bank account cannot cover.
    return AccountFactory(
        kind=Kind.ASSET, is_bank=True, currency="GBP", credit_limit=Decimal("0"), name="Club"
    )


@pytest.fixture
def hall(db):
    return AccountFactory(kind=Kind.EXPENSE, currency="GBP", credit_limit=None, name="Hall")


def lines_of(bank, *descriptions):
    """The first line of ``bank`` with each description."""
    found = StatementLine.objects.filter(bank_account=bank).order_by("date", "pk")
    return [found.filter(description=d).first().pk for d in descriptions]


def test_several_lines_are_posted_to_one_account_oldest_first(gbp_bank, hall):
    import_statement(gbp_bank, statement("uk_bank_2026_11.csv"))
    chosen = lines_of(gbp_bank, "SAINSBURYS S/MKT", "TESCO STORES 2041 LONDON")
    posted = reconcile_lines(gbp_bank, chosen, hall)
    assert [t.amount for t in posted] == [Decimal("20.00"), Decimal("88.86")]  # by date
    for line in StatementLine.objects.filter(pk__in=chosen):
        assert line.reconciled_transfer.source == hall  # money out: the expense is debited
        assert line.reconciled_transfer.destination == gbp_bank


def test_one_refusal_of_the_ledger_leaves_every_line_unreconciled(club_bank, hall):
    import_statement(club_bank, text_file(WEEK))
    income = AccountFactory(kind=Kind.INCOME, currency="GBP", credit_limit=None)
    reconcile_lines(club_bank, lines_of(club_bank, "Member dues"), income)
    before = Transfer.objects.count()
    chosen = lines_of(club_bank, "Hall hire", "Hall cleaning", "Hall repairs")
    # 100 in covers the hire and the cleaning, not the repairs as well.
    with pytest.raises(exceptions.InsufficientFunds):
        reconcile_lines(club_bank, chosen, hall)
    assert Transfer.objects.count() == before
    assert not StatementLine.objects.filter(pk__in=chosen, reconciled_transfer__isnull=False)
    club_bank.refresh_from_db()
    assert club_bank.balance == Decimal("100.00")


def test_a_line_already_reconciled_refuses_the_whole_step(gbp_bank, hall):
    import_statement(gbp_bank, statement("uk_bank_2026_11.csv"))
    tesco, sainsburys = lines_of(gbp_bank, "TESCO STORES 2041 LONDON", "SAINSBURYS S/MKT")
    reconcile_lines(gbp_bank, [tesco], hall)
    with pytest.raises(exceptions.AlreadyReconciled, match="already reconciled"):
        reconcile_lines(gbp_bank, [tesco, sainsburys], hall)
    assert not StatementLine.objects.get(pk=sainsburys).is_reconciled


def test_a_line_of_another_bank_account_or_none_at_all_is_refused(gbp_bank, hall):
    import_statement(gbp_bank, statement("uk_bank_2026_11.csv"))
    other = bank_account("GBP", name="Savings")
    import_statement(other, statement("uk_bank_2026_11.csv"))
    mine = lines_of(gbp_bank, "TESCO STORES 2041 LONDON")
    theirs = lines_of(other, "SAINSBURYS S/MKT")
    with pytest.raises(exceptions.ReconciliationMismatch, match=f"Lines {theirs[0]} are not"):
        reconcile_lines(gbp_bank, mine + theirs, hall)
    with pytest.raises(exceptions.ReconciliationMismatch, match="are not statement lines"):
        reconcile_lines(gbp_bank, [999_999], hall)
    assert not StatementLine.objects.filter(reconciled_transfer__isnull=False).exists()


def test_more_lines_than_the_limit_or_none_are_refused(gbp_bank, hall):
    with pytest.raises(exceptions.ReconciliationMismatch, match=f"between 1 and {50}"):
        reconcile_lines(gbp_bank, range(1, BULK_RECONCILE_MAX + 2), hall)
    with pytest.raises(exceptions.ReconciliationMismatch):
        reconcile_lines(gbp_bank, [], hall)
    assert BULK_RECONCILE_MAX == 50


# -- the dashboard ----------------------------------------------------------------------------


def test_ticked_lines_are_posted_from_the_screen(bookkeeper, gbp_bank, hall):
    import_statement(gbp_bank, statement("uk_bank_2026_11.csv"))
    screen = url("statement_reconcile", gbp_bank.pk)
    page = body(bookkeeper.get(screen))
    assert 'form="bulk-reconcile"' in page and 'name="bulk"' in page
    chosen = lines_of(gbp_bank, "TESCO STORES 2041 LONDON", "SAINSBURYS S/MKT")
    response = bookkeeper.post(
        screen, {"bulk": "1", "lines": chosen, "account": hall.pk}, follow=True
    )
    assert "2 lines are reconciled with Hall." in body(response)
    assert StatementLine.objects.filter(pk__in=chosen, reconciled_transfer__isnull=False).count()


def test_a_refused_bulk_step_is_a_message_and_changes_nothing(bookkeeper, gbp_bank, hall):
    import_statement(gbp_bank, statement("uk_bank_2026_11.csv"))
    other = bank_account("GBP", name="Savings")
    import_statement(other, statement("uk_bank_2026_11.csv"))
    screen = url("statement_reconcile", gbp_bank.pk)
    theirs = lines_of(other, "SAINSBURYS S/MKT")
    mine = lines_of(gbp_bank, "TESCO STORES 2041 LONDON")
    cases = [
        ({"lines": mine + theirs, "account": hall.pk}, "No line was reconciled: Lines"),
        ({"account": hall.pk}, "Choose the lines to reconcile."),
        ({"lines": ["1x"], "account": hall.pk}, "Statement lines are named by their numbers."),
        ({"lines": list(range(1, 52)), "account": hall.pk}, "Choose at most 50 lines at once."),
        ({"lines": mine, "account": gbp_bank.pk}, "Select a valid choice."),
    ]
    for fields, message in cases:
        response = bookkeeper.post(screen, {"bulk": "1", **fields}, follow=True)
        assert message in body(response), message
    assert not StatementLine.objects.filter(reconciled_transfer__isnull=False).exists()


def test_bulk_reconcile_needs_the_permission_to_reconcile(gbp_bank, hall):
    import_statement(gbp_bank, statement("uk_bank_2026_11.csv"))
    chosen = lines_of(gbp_bank, "TESCO STORES 2041 LONDON")
    viewer = client_for(grant(StaffFactory(), "view_statementimport", "add_statementimport"))
    response = viewer.post(
        url("statement_reconcile", gbp_bank.pk),
        {"bulk": "1", "lines": chosen, "account": hall.pk},
    )
    assert response.status_code == 403
    assert not StatementLine.objects.filter(reconciled_transfer__isnull=False).exists()
    assert PERMISSIONS[-1] == "change_statementline"
