"""Statement counts: what a transfer and a balance read cost, asserted instead of timings.

A plain transfer locks both rows (``SELECT ... FOR UPDATE``), inserts the transfer, inserts its
legs in one statement and moves both balances in one ``UPDATE``. On PostgreSQL the three writes
are one statement (``WITH`` holding the two INSERTs and the UPDATE), so a transfer is two
statements there and four elsewhere. Outside any transaction the facade opens its own: Django
5.2 captures its BEGIN and COMMIT too (older versions do not on every backend), so those are
counted apart, for at most six in all.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, transaction

from accounts import facade
from accounts.models import Account

from ..factories import AccountFactory, SourceAccountFactory, UserFactory

pytestmark = pytest.mark.django_db

TEN = Decimal("10.00")


@pytest.fixture(autouse=True)
def without_the_outbox():
    """Count the posting alone: the optional outbox, installed in the test settings, adds its one
    INSERT per event (tests/outbox/ counts that)."""
    from accounts import events
    from accounts.outbox import recording

    events.event_recorded.disconnect(recording.record, dispatch_uid="accounts_outbox.record")
    yield
    events.event_recorded.connect(recording.record, dispatch_uid="accounts_outbox.record")


def statements(captured: Any) -> list[str]:
    """The SQL of the captured queries, without transaction control and savepoints."""
    control = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT")
    return [q["sql"] for q in captured.captured_queries if not q["sql"].upper().startswith(control)]


def per_transfer() -> int:
    """Statements one transfer takes inside a transaction: the lock, then the writes."""
    return 2 if connection.vendor == "postgresql" else 4


def assert_is_one_transfer(sql: list[str]) -> None:
    assert len(sql) == per_transfer(), "\n".join(sql)
    lock, *writes = (s.upper() for s in sql)
    assert lock.startswith("SELECT")
    if connection.features.has_select_for_update:
        assert "FOR UPDATE" in lock
    if connection.vendor == "postgresql":
        (write,) = writes
        assert write.startswith("WITH ")
        transfer, legs, balances = (
            write.index(f"{verb} {quote(table)}")
            for verb, table in [
                ("INSERT INTO", "accounts_transfer"),
                ("INSERT INTO", "accounts_transaction"),
                ("UPDATE", "accounts_account"),
            ]
        )
        assert transfer < legs < balances
        return
    transfer, legs, balances = writes
    assert transfer.startswith("INSERT") and "ACCOUNTS_TRANSFER" in transfer
    assert legs.startswith("INSERT") and "ACCOUNTS_TRANSACTION" in legs
    assert balances.startswith("UPDATE") and "ACCOUNTS_ACCOUNT" in balances


def quote(table: str) -> str:
    return connection.ops.quote_name(table).upper()


@pytest.mark.django_db(transaction=True)
def test_a_transfer_outside_any_transaction_takes_at_most_six_statements(
    django_assert_max_num_queries,
):
    source, card = SourceAccountFactory(), AccountFactory()
    with django_assert_max_num_queries(6) as captured:
        facade.transfer(source, card, TEN)
    assert_is_one_transfer(statements(captured))
    control = [q["sql"].upper() for q in captured.captured_queries]
    control = [sql for sql in control if sql.startswith(("BEGIN", "COMMIT"))]
    assert control in ([], ["BEGIN", "COMMIT"], ["COMMIT"])


def test_a_transfer_inside_a_transaction_takes_the_lock_and_the_writes(django_assert_num_queries):
    source, card = SourceAccountFactory(), AccountFactory()
    with transaction.atomic(), django_assert_num_queries(per_transfer()) as captured:
        facade.transfer(source, card, TEN)
    assert_is_one_transfer(statements(captured))


def test_an_authorised_user_costs_no_extra_statement(django_assert_num_queries):
    owner, helper = UserFactory(), UserFactory()
    card = AccountFactory(primary_user=owner)
    card.secondary_users.add(helper)
    shop = AccountFactory()
    facade.transfer(SourceAccountFactory(), card, TEN)
    for person in (owner, helper):
        with django_assert_num_queries(per_transfer()):
            facade.transfer(card, shop, Decimal("1.00"), user=person)


def test_a_transfer_costs_the_same_however_long_the_history(django_assert_num_queries):
    source, card = SourceAccountFactory(), AccountFactory()
    for _ in range(20):
        facade.transfer(source, card, Decimal("1.00"))
    with django_assert_num_queries(per_transfer()):
        facade.transfer(source, card, TEN)


def test_refreshing_a_balance_is_one_query(funded, django_assert_num_queries):
    with django_assert_num_queries(1):
        funded.refresh_from_db()
    assert funded.balance == Decimal("100.00")


def test_reading_a_leaf_balance_is_at_most_one_query(funded, django_assert_max_num_queries):
    for _ in range(20):
        facade.transfer(funded, AccountFactory(), Decimal("1.00"))
    fresh = Account.objects.get(pk=funded.pk)
    with django_assert_max_num_queries(1):
        assert fresh.get_balance() == Decimal("80.00")
