"""The audit trail: every administrative act is recorded by the facade, append-only.

Who did it, when, from which surface and why; code paths are recorded as surely as the
dashboard's, and a refused act leaves no entry.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from accounts import audit, exceptions, facade
from accounts.models import Account, AuditAction, AuditEntry, Surface

from ..factories import AccountFactory, SourceAccountFactory, StaffFactory

pytestmark = pytest.mark.django_db


def only_entry() -> AuditEntry:
    entries = list(AuditEntry.objects.all())
    assert len(entries) == 1, entries
    return entries[0]


def test_creating_a_card_records_who_from_where_why_and_the_opening_load():
    staff = StaffFactory()

    card = facade.create_card(
        amount=Decimal("20.00"), user=staff, surface=Surface.DASHBOARD, reason="Prize"
    )

    entry = only_entry()
    assert (entry.action, entry.account, entry.user, entry.username) == (
        AuditAction.CREATED,
        card,
        staff,
        staff.username,
    )
    assert (entry.surface, entry.reason) == (Surface.DASHBOARD, "Prize")
    assert entry.transfer == card.destination_transfers.get()


@pytest.mark.parametrize(
    ("act", "action"),
    [
        (facade.freeze_account, AuditAction.FROZEN),
        (facade.close_account, AuditAction.CLOSED),
    ],
    ids=["freeze", "close"],
)
def test_status_changes_record_their_user_and_reason(act, action):
    account, staff = AccountFactory(), StaffFactory()

    act(account, user=staff, reason="Reported stolen", surface=Surface.API)

    entry = only_entry()
    assert (entry.action, entry.account, entry.user) == (action, account, staff)
    assert (entry.reason, entry.surface) == ("Reported stolen", Surface.API)


def test_thawing_is_recorded_and_a_change_that_changes_nothing_is_not():
    account, staff = AccountFactory(), StaffFactory()
    facade.thaw_account(account, user=staff)  # already open: nothing happens
    assert not AuditEntry.objects.exists()

    account.freeze(user=staff)
    account.thaw(user=staff, reason="Found")

    assert list(AuditEntry.objects.order_by("pk").values_list("action", "reason")) == [
        (AuditAction.FROZEN, ""),
        (AuditAction.THAWED, "Found"),
    ]


def test_code_that_closes_an_account_is_recorded_with_its_user():
    """The predecessor accepted ``user`` in close_account and dropped it."""
    account, staff = AccountFactory(), StaffFactory()

    account.close(user=staff)

    entry = only_entry()
    assert (entry.action, entry.user, entry.surface) == (AuditAction.CLOSED, staff, Surface.CODE)


def test_a_refused_act_leaves_no_entry(funded):
    with pytest.raises(exceptions.AccountNotEmpty):
        facade.close_account(funded, user=StaffFactory(), reason="Tidy up")
    assert not AuditEntry.objects.exists()


def test_edits_record_the_old_and_new_values_and_a_limit_change_on_its_own():
    account, staff = AccountFactory(name="Old", credit_limit=Decimal("0.00")), StaffFactory()

    facade.edit_account(
        account,
        user=staff,
        surface=Surface.ADMIN,
        reason="Agreed with the customer",
        name="New",
        credit_limit=Decimal("50.00"),
    )

    account.refresh_from_db()
    assert (account.name, account.credit_limit) == ("New", Decimal("50.00"))
    entries = {e.action: e for e in AuditEntry.objects.all()}
    assert set(entries) == {AuditAction.EDITED, AuditAction.CREDIT_LIMIT_CHANGED}
    assert entries[AuditAction.EDITED].changes == {"name": ["Old", "New"]}
    limit = entries[AuditAction.CREDIT_LIMIT_CHANGED]
    assert [Decimal(v) for v in limit.changes["credit_limit"]] == [Decimal(0), Decimal(50)]
    assert (limit.user, limit.surface, limit.reason) == (
        staff,
        Surface.ADMIN,
        "Agreed with the customer",
    )


def test_an_edit_that_breaks_the_balance_is_refused_and_recorded_nowhere(unchanged):
    account = AccountFactory(credit_limit=Decimal("50.00"))
    facade.transfer(account, SourceAccountFactory(), Decimal("30.00"))

    with unchanged(), pytest.raises(exceptions.InvalidCreditLimit):
        facade.edit_account(account, credit_limit=Decimal("10.00"))
    with pytest.raises(exceptions.InvalidAccount, match="balance"):
        facade.edit_account(account, balance=Decimal("1000.00"))

    account.refresh_from_db()
    assert account.credit_limit == Decimal("50.00")
    assert not AuditEntry.objects.exists()


def test_reversals_and_refunds_are_recorded_on_the_accounts_they_touched(funded):
    staff, sales = StaffFactory(), Account.objects.sales()
    sale = facade.transfer(funded, sales, Decimal("30.00"))

    refund = facade.transfer(
        sales, funded, Decimal("10.00"), parent=sale, user=staff, reason="Damaged"
    )
    reversal = facade.reverse(sale, user=staff, reason="Till error", surface=Surface.DASHBOARD)

    assert list(audit.entries_for(funded).values_list("action", "transfer", "reason")) == [
        (AuditAction.REVERSED, reversal.pk, "Till error"),
        (AuditAction.REFUNDED, refund.pk, "Damaged"),
    ]
    assert audit.entries_for(AccountFactory()).count() == 0


def test_the_expiry_sweep_from_cron_is_recorded_as_a_command():
    source = SourceAccountFactory()
    card = AccountFactory(end_date=timezone.now() + datetime.timedelta(seconds=1))
    facade.transfer(source, card, Decimal("5.00"))
    Account.objects.filter(pk=card.pk).update(end_date=timezone.now())

    call_command("close_expired_accounts", verbosity=0)

    entry = only_entry()
    assert (entry.action, entry.account, entry.surface) == (
        AuditAction.EXPIRED,
        card,
        Surface.COMMAND,
    )
    assert entry.transfer is not None and entry.transfer.amount == Decimal("5.00")


@pytest.mark.parametrize(
    "text", ["x" * (audit.REASON_LENGTH_MAX + 1), "nul\x00"], ids=["long", "nul"]
)
def test_a_reason_the_database_would_refuse_is_refused_before_acting(text):
    account = AccountFactory()
    with pytest.raises(exceptions.InvalidText):
        facade.freeze_account(account, reason=text)
    account.refresh_from_db()
    assert account.is_open() and not AuditEntry.objects.exists()


# -- append-only ---------------------------------------------------------------------------


def an_entry() -> AuditEntry:
    facade.freeze_account(AccountFactory(), user=StaffFactory(), reason="why")
    return only_entry()


def test_entries_cannot_be_changed_or_deleted_through_the_orm():
    entry = an_entry()
    entry.reason = "rewritten"
    with pytest.raises(exceptions.LedgerImmutable):
        entry.save()
    with pytest.raises(exceptions.LedgerImmutable):
        entry.delete()
    with pytest.raises(exceptions.LedgerImmutable):
        AuditEntry.objects.all().update(reason="rewritten")
    with pytest.raises(exceptions.LedgerImmutable):
        AuditEntry.objects.all().delete()


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE accounts_auditentry SET reason = 'rewritten'",
        "UPDATE accounts_auditentry SET action = 'thawed'",
        "UPDATE accounts_auditentry SET user_id = NULL, username = ''",
        "DELETE FROM accounts_auditentry",
    ],
    ids=["reason", "action", "user-and-name", "delete"],
)
def test_the_database_refuses_raw_changes_to_the_trail(sql):
    entry = an_entry()
    with pytest.raises(IntegrityError), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(sql)
    assert AuditEntry.objects.get(pk=entry.pk).reason == "why"


def test_deleting_the_user_keeps_the_entry_and_their_name():
    entry = an_entry()
    name = entry.username

    entry.user.delete()

    kept = AuditEntry.objects.get(pk=entry.pk)
    assert (kept.user, kept.username) == (None, name)


def test_an_account_with_a_history_cannot_be_deleted():
    entry = an_entry()
    with pytest.raises(ProtectedError), transaction.atomic():
        entry.account.delete()
    assert AuditEntry.objects.filter(pk=entry.pk).exists()
