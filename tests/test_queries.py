"""Statement counts: what a transfer and a balance read cost, asserted instead of timings.

A plain transfer is four statements: lock both rows (``SELECT ... FOR UPDATE``), insert the
transfer, insert its legs in one statement and move both balances in one ``UPDATE``. Outside any
transaction the facade opens its own: Django 5.2 captures its BEGIN and COMMIT too (older
versions do not on every backend), so those are counted apart, for at most six in all.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, transaction

from accounts import facade
from accounts.models import Account

from .factories import AccountFactory, SourceAccountFactory, UserFactory

pytestmark = pytest.mark.django_db

TEN = Decimal("10.00")


def statements(captured: Any) -> list[str]:
    """The SQL of the captured queries, without transaction control and savepoints."""
    control = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT")
    return [q["sql"] for q in captured.captured_queries if not q["sql"].upper().startswith(control)]


def assert_is_one_transfer(sql: list[str]) -> None:
    assert len(sql) == 4, "\n".join(sql)
    lock, transfer, legs, balances = (s.upper() for s in sql)
    assert lock.startswith("SELECT")
    if connection.features.has_select_for_update:
        assert "FOR UPDATE" in lock
    assert transfer.startswith("INSERT") and "ACCOUNTS_TRANSFER" in transfer
    assert legs.startswith("INSERT") and "ACCOUNTS_TRANSACTION" in legs
    assert balances.startswith("UPDATE") and "ACCOUNTS_ACCOUNT" in balances


@pytest.mark.django_db(transaction=True)
def test_a_transfer_outside_any_transaction_takes_four_statements(django_assert_max_num_queries):
    source, card = SourceAccountFactory(), AccountFactory()
    with django_assert_max_num_queries(6) as captured:
        facade.transfer(source, card, TEN)
    assert_is_one_transfer(statements(captured))
    control = [q["sql"].upper() for q in captured.captured_queries]
    control = [sql for sql in control if sql.startswith(("BEGIN", "COMMIT"))]
    assert control in ([], ["BEGIN", "COMMIT"], ["COMMIT"])


def test_a_transfer_inside_a_transaction_takes_four_statements(django_assert_num_queries):
    source, card = SourceAccountFactory(), AccountFactory()
    with transaction.atomic(), django_assert_num_queries(4) as captured:
        facade.transfer(source, card, TEN)
    assert_is_one_transfer(statements(captured))


def test_an_authorised_user_costs_no_extra_statement(django_assert_num_queries):
    owner, helper = UserFactory(), UserFactory()
    card = AccountFactory(primary_user=owner)
    card.secondary_users.add(helper)
    shop = AccountFactory()
    facade.transfer(SourceAccountFactory(), card, TEN)
    for person in (owner, helper):
        with django_assert_num_queries(4):
            facade.transfer(card, shop, Decimal("1.00"), user=person)


def test_a_transfer_costs_the_same_however_long_the_history(django_assert_num_queries):
    source, card = SourceAccountFactory(), AccountFactory()
    for _ in range(20):
        facade.transfer(source, card, Decimal("1.00"))
    with django_assert_num_queries(4):
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
