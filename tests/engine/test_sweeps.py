"""The expiry sweep in bulk (facade.expire_accounts): the rules of expire_account, a chunk at a
time, through the batch writer."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts import exceptions, facade, reports
from accounts.models import Account, AuditAction, AuditEntry, Status, Transfer, TransferKind

from ..factories import AccountFactory

pytestmark = pytest.mark.django_db

D = Decimal


def expired_cards(source: Account, amounts: list[str]) -> list[Account]:
    """Cards loaded with ``amounts``, whose end date has just passed."""
    cards = []
    for amount in amounts:
        card = AccountFactory(end_date=timezone.now() + timedelta(days=1))
        if D(amount):
            facade.transfer(source, card, D(amount))
        cards.append(card)
    Account.objects.filter(pk__in=[c.pk for c in cards]).update(
        end_date=timezone.now() - timedelta(seconds=1)
    )
    return cards


def test_a_chunk_is_swept_and_closed_with_exact_running_balances(source):
    cards = expired_cards(source, ["10.00", "0", "2.50", "7.25"])
    result = facade.expire_accounts([c.pk for c in cards])
    assert set(result.closed) == {c.pk for c in cards} and result.skipped == {}
    assert result.moved() == {"GBP": D("19.75")}
    assert set(Account.objects.filter(pk__in=result.closed).values_list("status", flat=True)) == {
        Status.CLOSED
    }
    assert result.closed[cards[1].pk] is None  # nothing to move
    expired = Account.objects.expired_account(currency="GBP")
    assert expired.balance == D("19.75")
    assert Transfer.objects.filter(kind=TransferKind.EXPIRY).count() == 3
    assert AuditEntry.objects.filter(action=AuditAction.EXPIRED).count() == 4
    assert reports.verify().ok


def test_refused_accounts_are_skipped_and_the_rest_swept(source):
    shop = AccountFactory()
    held, overdrawn, fine = expired_cards(source, ["5.00", "0", "3.00"])
    Account.objects.filter(pk=held.pk).update(end_date=timezone.now() + timedelta(days=1))
    facade.authorise(Account.objects.get(pk=held.pk), shop, D("1.00"))
    Account.objects.filter(pk=held.pk).update(end_date=timezone.now() - timedelta(seconds=1))
    Account.objects.filter(pk=overdrawn.pk).update(credit_limit=D("5.00"))
    Account.objects.filter(pk=overdrawn.pk).update(end_date=timezone.now() + timedelta(days=1))
    facade.transfer(Account.objects.get(pk=overdrawn.pk), shop, D("2.00"))
    Account.objects.filter(pk=overdrawn.pk).update(end_date=timezone.now() - timedelta(seconds=1))

    result = facade.expire_accounts([held.pk, overdrawn.pk, fine.pk])

    assert list(result.closed) == [fine.pk]
    assert isinstance(result.skipped[held.pk], exceptions.PendingHolds)
    assert isinstance(result.skipped[overdrawn.pk], exceptions.AccountNotEmpty)
    assert Account.objects.get(pk=held.pk).status == Status.OPEN
    assert Account.objects.get(pk=overdrawn.pk).balance == D("-2.00")
    assert reports.verify().ok


def test_open_unexpired_and_closed_accounts_are_passed_over(source):
    (swept,) = expired_cards(source, ["1.00"])
    current = AccountFactory(end_date=timezone.now() + timedelta(days=1))
    facade.expire_accounts([swept.pk])
    again = facade.expire_accounts([swept.pk, current.pk])
    assert again.closed == {} and again.skipped == {}
    assert Account.objects.get(pk=current.pk).status == Status.OPEN


def ledger_statements(queries: CaptureQueriesContext) -> int:
    ledger = ("accounts_transfer", "accounts_transaction", "accounts_account")
    return sum(
        1
        for query in queries.captured_queries
        if any(f'"{table}"' in query["sql"] or f"`{table}`" in query["sql"] for table in ledger)
        and "accounts_auditentry" not in query["sql"]
        and "outbox" not in query["sql"]
    )


def test_the_sweep_writes_in_bulk(source):
    """The sweep's ledger statements are the same for 2 accounts as for 40."""
    few = expired_cards(source, ["1.00"] * 2)
    many = expired_cards(source, ["1.00"] * 40)
    with CaptureQueriesContext(connection) as small:
        facade.expire_accounts([c.pk for c in few])
    with CaptureQueriesContext(connection) as large:
        facade.expire_accounts([c.pk for c in many])
    # The ledger's statements (lock, transfers, legs, balances, statuses) do not grow with the
    # chunk; only the audit trail and the outbox write a row per account.
    assert ledger_statements(large) == ledger_statements(small)
    assert reports.verify().ok


def test_the_command_sweeps_through_the_bulk_path(source):
    from io import StringIO

    from django.core.management import call_command

    expired_cards(source, ["4.00", "6.00"])
    out, err = StringIO(), StringIO()
    call_command("close_expired_accounts", "--no-progress", stdout=out, stderr=err)
    assert "Closed 2 expired accounts" in out.getvalue()
    assert "10.00 GBP" in out.getvalue()
