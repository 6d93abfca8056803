"""The management commands: sweeping expired accounts, verifying the ledger, making groups."""

from __future__ import annotations

import datetime
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounts import facade, integrity
from accounts.models import Account, Transfer, TransferKind

from ..conftest import ledger_snapshot
from ..factories import AccountFactory

pytestmark = pytest.mark.django_db


def run(name: str, *args: str) -> tuple[str, str]:
    """Run a command and return what it wrote to stdout and stderr."""
    out, err = StringIO(), StringIO()
    call_command(name, *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def sweep(*args: str) -> tuple[str, str]:
    return run("close_expired_accounts", "--no-progress", *args)


def card_holding(source: Account, amount: Decimal, **fields: object) -> Account:
    card = AccountFactory(**fields)
    if amount:
        facade.transfer(source, card, amount)
    return card


def let_expire(*accounts: Account) -> None:
    yesterday = timezone.now() - datetime.timedelta(days=1)
    Account.objects.filter(pk__in=[a.pk for a in accounts]).update(end_date=yesterday)


def expired_balance() -> Decimal:
    return Account.objects.expired_account().balance


# -- close_expired_accounts ---------------------------------------------------------------------


def test_expired_balances_move_to_the_expired_account_and_the_accounts_close(source):
    cards = [card_holding(source, amount) for amount in (Decimal("12.50"), Decimal("7.25"))]
    let_expire(*cards)
    before = expired_balance()
    sweep()
    for card in cards:
        card.refresh_from_db()
        assert card.is_closed() and card.balance == 0
    assert expired_balance() == before + Decimal("19.75")
    sweeps = Transfer.objects.filter(kind=TransferKind.EXPIRY)
    assert sorted(t.amount for t in sweeps) == [Decimal("7.25"), Decimal("12.50")]


def test_expired_accounts_with_a_zero_balance_are_closed_too(source):
    empty = card_holding(source, Decimal(0))
    let_expire(empty)
    transfers_before = Transfer.objects.count()
    sweep()
    empty.refresh_from_db()
    assert empty.is_closed()
    assert Transfer.objects.count() == transfers_before


def test_accounts_that_have_not_expired_are_left_alone(source):
    open_ended = card_holding(source, Decimal("5.00"))
    later = card_holding(
        source, Decimal("5.00"), end_date=timezone.now() + datetime.timedelta(days=1)
    )
    sweep()
    for card in (open_ended, later):
        card.refresh_from_db()
        assert card.is_open() and card.balance == Decimal("5.00")


def test_frozen_expired_accounts_are_left_alone(source):
    frozen = card_holding(source, Decimal("5.00"))
    frozen.freeze()
    let_expire(frozen)
    sweep()
    frozen.refresh_from_db()
    assert frozen.is_frozen() and frozen.balance == Decimal("5.00")


def test_a_dry_run_changes_nothing_and_lists_what_would_happen(source):
    card = card_holding(source, Decimal("12.50"))
    let_expire(card)
    before = ledger_snapshot()
    out, _ = sweep("--dry-run")
    assert ledger_snapshot() == before
    assert card.code in out and "12.50" in out
    assert "1 expired account would be closed (dry run)" in out


def test_a_second_run_changes_nothing(source):
    cards = [card_holding(source, Decimal("3.00")), card_holding(source, Decimal(0))]
    let_expire(*cards)
    sweep()
    after_first = ledger_snapshot()
    out, _ = sweep()
    assert ledger_snapshot() == after_first
    assert "Closed 0 expired accounts; moved nothing" in out


def test_the_summary_says_what_was_closed_and_moved(source):
    cards = [card_holding(source, Decimal("2.00")), card_holding(source, Decimal(0))]
    let_expire(*cards)
    out, _ = sweep()
    assert "Closed 2 expired accounts; moved 2.00 GBP" in out
    assert "2.00" in out and "GBP" in out
    assert "skipped 0" in out


def test_an_expired_account_in_another_currency_is_swept_to_the_expired_account_of_that_currency():
    euro_source = AccountFactory(credit_limit=None, kind="asset", currency="EUR")
    euro_card = card_holding(euro_source, Decimal("4.00"), currency="EUR")
    let_expire(euro_card)
    out, _ = sweep()
    euro_card.refresh_from_db()
    assert euro_card.is_closed() and euro_card.balance == 0
    euro_expired = Account.objects.expired_account(currency="EUR")
    assert euro_expired.code == "CORE-EXPIRED-EUR" and euro_expired.balance == Decimal("4.00")
    assert Account.objects.expired_account().balance == 0
    assert "skipped 0" in out


def test_an_overdrawn_expired_account_is_skipped_and_reported(source):
    overdrawn = AccountFactory(credit_limit=Decimal("50.00"))
    facade.transfer(overdrawn, source, Decimal("20.00"))
    healthy = card_holding(source, Decimal("1.00"))
    let_expire(overdrawn, healthy)
    out, err = sweep()
    overdrawn.refresh_from_db()
    healthy.refresh_from_db()
    assert overdrawn.is_open() and overdrawn.balance == Decimal("-20.00")
    assert healthy.is_closed()
    assert overdrawn.code in err and "overdrawn" in err
    assert "skipped 1" in out


def test_limit_sweeps_at_most_that_many_accounts(source):
    cards = [card_holding(source, Decimal("1.00")) for _ in range(3)]
    let_expire(*cards)
    sweep("--limit", "2")
    assert sum(Account.objects.get(pk=c.pk).is_closed() for c in cards) == 2


@pytest.mark.parametrize("limit", ["0", "-1"])
def test_a_limit_below_one_is_refused(limit):
    with pytest.raises(CommandError):
        sweep("--limit", limit)


def test_the_progress_bar_goes_to_stderr(source):
    let_expire(card_holding(source, Decimal("1.00")))
    out, err = run("close_expired_accounts")
    assert "Closing expired accounts: 1/1" in err
    assert "Closing expired accounts" not in out


def test_sweeping_leaves_a_ledger_that_verifies(source):
    let_expire(card_holding(source, Decimal("9.99")), card_holding(source, Decimal(0)))
    sweep()
    run("verify_ledger")


# -- verify_ledger ------------------------------------------------------------------------------


def test_verify_ledger_passes_on_a_healthy_ledger(source):
    card = card_holding(source, Decimal("30.00"))
    facade.reverse(facade.transfer(card, AccountFactory(), Decimal("10.00")))
    out, _ = run("verify_ledger")
    assert "The ledger balances" in out


def test_verify_ledger_passes_on_an_empty_ledger():
    out, _ = run("verify_ledger")
    assert "The ledger balances" in out


def drift(account: Account, balance: Decimal) -> None:
    """Change a stored balance behind the ledger's back, as a bad migration might."""
    table = connection.ops.quote_name(Account._meta.db_table)
    with transaction.atomic():
        integrity.set_unlocked(connection.alias, True)
        try:
            with connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {table} SET balance = %s WHERE id = %s", [balance, account.pk]
                )
        finally:
            integrity.set_unlocked(connection.alias, False)


def test_verify_ledger_fails_and_names_a_drifted_balance(source):
    card = card_holding(source, Decimal("30.00"))
    drift(card, Decimal("31.00"))
    out = StringIO()
    with pytest.raises(CommandError, match="problem"):
        call_command("verify_ledger", stdout=out)
    assert card.code in out.getvalue()
    assert "balance drift" in out.getvalue()


def test_the_database_refuses_the_same_drift_when_not_unlocked(source):
    card = card_holding(source, Decimal("30.00"))
    table = connection.ops.quote_name(Account._meta.db_table)
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET balance = %s WHERE id = %s", [31, card.pk])
    card.refresh_from_db()
    assert card.balance == Decimal("30.00")


# -- create_account_groups ------------------------------------------------------------------


def test_create_account_groups_gives_each_role_its_permissions_and_is_safe_to_repeat():
    from django.contrib.auth.models import Group

    from accounts.roles import ROLES, STAFF, SUPERVISOR, TILL

    call_command("create_account_groups", stdout=StringIO())
    call_command("create_account_groups", stdout=StringIO())

    for role in ROLES:
        group = Group.objects.get(name=role.name)
        codes = set(group.permissions.values_list("codename", flat=True))
        assert codes == set(role.permissions)
    assert set(STAFF.permissions) < set(SUPERVISOR.permissions)
    assert "reverse_transfer" not in STAFF.permissions and "view_card_code" not in STAFF.permissions
    assert TILL.permissions == ("use_api",)


def test_create_account_groups_dry_run_changes_nothing_and_never_removes_a_permission():
    from django.contrib.auth.models import Group, Permission

    from accounts.roles import TILL

    out = StringIO()
    call_command("create_account_groups", "--dry-run", stdout=out)
    assert "would create 'Accounts: till'" in out.getvalue()
    assert not Group.objects.exists()

    till = Group.objects.create(name=TILL.name)
    extra = Permission.objects.get(codename="view_reports")
    till.permissions.add(extra)
    call_command("create_account_groups", stdout=StringIO())
    assert set(till.permissions.values_list("codename", flat=True)) == {"use_api", "view_reports"}
