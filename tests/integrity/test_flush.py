"""Django's ``flush`` empties the ledger on every backend; nothing else may delete from it.

Guarantee 7 of the design: every ``TransactionTestCase`` (and ``django_db(transaction=True)``)
in a project that installs this app ends with a flush, so the append-only guard must let that
wholesale reset through, while a row-by-row or bulk DELETE from anywhere else is still refused.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction

from accounts import facade, reports
from accounts.facade import Credit, Debit
from accounts.models import (
    EXPIRED_CODE,
    SALES_CODE,
    SOURCE_CODE,
    Account,
    AuditEntry,
    Transaction,
    Transfer,
)

from ..factories import AccountFactory, SourceAccountFactory, UserFactory

CORE_CODES = sorted([SOURCE_CODE, SALES_CODE, EXPIRED_CODE])

#: References posted by the first test below; the second shows that flush removed them.
posted_references: list[str] = []


def post_some_transfers() -> list[Transfer]:
    """A load, a reversal, a refund and a three-legged entry, one with a user."""
    source, card, other = SourceAccountFactory(), AccountFactory(), AccountFactory()
    loaded = facade.transfer(source, card, Decimal("100.00"), user=UserFactory())
    spent = facade.transfer(card, other, Decimal("30.00"))
    refunded = facade.transfer(other, card, Decimal("10.00"), parent=spent)
    reversal = facade.reverse(spent)
    entry = facade.post(
        [
            Debit(source, Decimal("5.00")),
            Credit(card, Decimal("2.00")),
            Credit(other, Decimal("3.00")),
        ]
    )
    return [loaded, spent, refunded, reversal, entry]


def assert_only_the_core_accounts_remain() -> None:
    assert AuditEntry.objects.count() == 0
    assert Transfer.objects.count() == 0
    assert Transaction.objects.count() == 0
    core = Account.objects.order_by("code")
    assert list(core.values_list("code", "balance", "version")) == [
        (code, Decimal("0.00"), 0) for code in CORE_CODES
    ]


@pytest.mark.django_db(transaction=True)
def test_a_transactional_test_posts_and_commits_transfers():
    transfers = post_some_transfers()
    posted_references.extend(t.reference for t in transfers)
    assert Transfer.objects.filter(reference__in=posted_references).count() == len(transfers)
    assert Transaction.objects.count() == 11
    assert reports.verify().ok


@pytest.mark.django_db(transaction=True)
def test_the_next_transactional_test_finds_the_ledger_emptied_by_djangos_flush():
    assert not Transfer.objects.filter(reference__in=posted_references).exists()
    assert_only_the_core_accounts_remain()


@pytest.mark.django_db(transaction=True)
def test_the_flush_command_empties_the_ledger_and_post_migrate_recreates_the_core_accounts():
    post_some_transfers()
    assert Transfer.objects.count() == 5
    assert AuditEntry.objects.count() == 2  # the refund and the reversal

    call_command("flush", interactive=False, verbosity=0)

    assert_only_the_core_accounts_remain()
    # The guard is on again at once: the books work, and deleting from them is refused.
    card = AccountFactory()
    loaded = facade.transfer(Account.objects.source(), card, Decimal("20.00"))
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        Transfer.objects.filter(pk=loaded.pk)._raw_delete(using=connection.alias)
    assert Transfer.objects.filter(pk=loaded.pk).exists()
    assert reports.verify().ok


@pytest.mark.django_db(transaction=True)
def test_deleting_or_truncating_ledger_rows_outside_flush_is_refused():
    """Bulk deletes are refused everywhere, and TRUNCATE too on PostgreSQL.

    The rows are committed first: PostgreSQL will not truncate a table with trigger events
    still pending in the same transaction, which would hide what the guard does. SQLite has
    no TRUNCATE. MariaDB has no TRUNCATE triggers, so there it can be stopped only by
    withholding the DROP privilege on the ledger tables from the application's user.
    """
    post_some_transfers()
    counts = (Transfer.objects.count(), Transaction.objects.count())
    for model in (Transaction, Transfer):
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
            model.objects.all()._raw_delete(using=connection.alias)
        table = connection.ops.quote_name(model._meta.db_table)
        statements = [f"DELETE FROM {table}"]
        if connection.vendor == "postgresql":
            statements.append(f"TRUNCATE {table} CASCADE")
        for sql in statements:
            with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute(sql)
    assert (Transfer.objects.count(), Transaction.objects.count()) == counts
    assert reports.verify().ok
