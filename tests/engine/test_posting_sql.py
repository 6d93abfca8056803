"""The facade's hand-written posting statements behave as the ORM's save() would.

:mod:`accounts.ledger.posting_sql` sends a posting's statements as plain SQL. These tests pin what a
user of the ORM would otherwise get for free: the returned transfer is a saved instance, the
model signals for it are sent, the locked copies carry converted Python values, and every column
round-trips through the database. The single account's as-of read, the ORM's expression compiled
once, must answer what the ORM's annotation of the same question answers.
"""

from __future__ import annotations

import datetime
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, transaction
from django.db.models.signals import post_save, pre_save
from django.utils import timezone

from accounts import codes, exceptions, facade
from accounts.ledger import checks, posting, posting_sql
from accounts.ledger.balances import balance_as_of_or_zero
from accounts.models import (
    Account,
    Kind,
    Transaction,
    Transfer,
    TransferKind,
)

from ..factories import AccountFactory, SourceAccountFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_the_returned_transfer_is_a_saved_instance_with_every_column_stored():
    user = UserFactory()
    source, card = SourceAccountFactory(), AccountFactory()
    new = facade.transfer(
        source,
        card,
        Decimal("12.34"),
        user=user,
        merchant_reference="order-17",
        description="Birthday card",
    )
    assert new.pk is not None
    assert new._state.adding is False
    assert new._state.db == "default"
    stored = Transfer.objects.get(pk=new.pk)
    for field in Transfer._meta.concrete_fields:
        assert getattr(stored, field.attname) == getattr(new, field.attname), field.name
    assert stored.amount == Decimal("12.34")
    assert stored.user_id == user.pk and stored.username == user.get_username()
    assert stored.kind == TransferKind.TRANSFER


def test_legs_store_what_the_facade_computed():
    source, card = SourceAccountFactory(), AccountFactory()
    facade.transfer(source, card, Decimal("5.00"))
    new = facade.transfer(card, source, Decimal("1.25"))
    legs = list(Transaction.objects.filter(transfer=new).order_by("leg_index"))
    assert [(leg.account_id, leg.amount) for leg in legs] == [
        (card.pk, Decimal("-1.25")),
        (source.pk, Decimal("1.25")),
    ]
    assert legs[0].balance_after == Decimal("3.75")
    assert legs[0].account_version == 2
    assert legs[0].created_at == new.created_at
    assert legs[0].backdated is False
    assert all(leg.currency == card.currency for leg in legs)


def test_save_signals_are_sent_for_the_new_transfer():
    seen: list[tuple[str, Any]] = []

    def before(sender: Any, instance: Transfer, **kwargs: Any) -> None:
        seen.append(("pre_save", instance.pk))

    def after(sender: Any, instance: Transfer, created: bool, **kwargs: Any) -> None:
        stored = Transfer.objects.filter(pk=instance.pk).exists()
        seen.append(("post_save", (created, stored, kwargs["using"])))

    pre_save.connect(before, sender=Transfer)
    post_save.connect(after, sender=Transfer)
    try:
        new = facade.transfer(SourceAccountFactory(), AccountFactory(), Decimal("1.00"))
    finally:
        pre_save.disconnect(before, sender=Transfer)
        post_save.disconnect(after, sender=Transfer)
    assert seen == [("pre_save", None), ("post_save", (True, True, "default"))]
    assert new.pk is not None


def test_a_post_save_receiver_that_fails_leaves_nothing_behind(unchanged):
    def fail(sender: Any, instance: Transfer, **kwargs: Any) -> None:
        raise RuntimeError("receiver failed")

    source, card = SourceAccountFactory(), AccountFactory()
    post_save.connect(fail, sender=Transfer)
    try:
        with unchanged(), pytest.raises(RuntimeError, match="receiver failed"):
            with transaction.atomic():
                facade.transfer(source, card, Decimal("1.00"))
    finally:
        post_save.disconnect(fail, sender=Transfer)


def test_locked_accounts_carry_python_values():
    owner, helper = UserFactory(), UserFactory()
    start = timezone.now() - datetime.timedelta(days=1)
    card = AccountFactory(primary_user=owner, start_date=start, credit_limit=Decimal("2.50"))
    card.secondary_users.add(helper)
    facade.transfer(SourceAccountFactory(), card, Decimal("4.00"))
    with transaction.atomic():
        rows = posting.lock([card], helper, "default")
    locked, facts = rows[card.pk], rows.facts[card.pk]
    assert isinstance(locked, Account) and locked._state.adding is False
    assert locked.balance == Decimal("4.00") and isinstance(locked.balance, Decimal)
    assert locked.credit_limit == Decimal("2.50") and isinstance(locked.credit_limit, Decimal)
    assert locked.start_date == start and timezone.is_aware(locked.start_date)
    assert locked.version == 1
    assert locked.primary_user_id == owner.pk
    last = Transaction.objects.get(account=card).created_at
    assert facts.last_leg_at == last and timezone.is_aware(facts.last_leg_at)
    assert facts.has_children is False
    assert facts.has_secondary_users is True
    assert facts.user_is_secondary is True
    # What the lock read travels beside the row, never on the model instance.
    assert not any(name.startswith(("_has_", "_last_", "_user_")) for name in vars(locked))


def test_a_lock_without_a_user_says_it_did_not_ask_and_cannot_authorise():
    card = AccountFactory()
    with transaction.atomic():
        rows = posting.lock([card], None, "default")
    facts = rows.facts_of(card)
    assert facts.has_secondary_users is None and facts.user_is_secondary is None
    assert facts.last_leg_at is None  # no legs yet
    with pytest.raises(RuntimeError, match="without the user"):
        checks.is_authorised(rows[card.pk], facts, UserFactory())


def test_an_anonymous_users_lock_reads_that_it_is_nobodys_secondary_user():
    from django.contrib.auth.models import AnonymousUser

    card = AccountFactory()
    with transaction.atomic():
        rows = posting.lock([card], AnonymousUser(), "default")
    facts = rows.facts_of(card)
    assert (facts.has_secondary_users, facts.user_is_secondary) == (False, False)


def test_locking_a_missing_account_is_refused():
    card = AccountFactory()
    ghost = Account(pk=card.pk + 1000, name="ghost")
    with pytest.raises(exceptions.AccountNotFound), transaction.atomic():
        posting.lock([card, ghost], None, "default")


def test_statements_are_built_once_per_database_alias():
    assert posting_sql.for_connection(connection) is posting_sql.for_connection(connection)
    sql = posting_sql.for_connection(connection)
    assert sql.legs_sql(3).count("(") == 4  # the column list and three rows
    assert sql.balances_sql(2).upper().startswith("UPDATE")


def test_codes_use_the_whole_alphabet_evenly():
    counts = Counter(ch for _ in range(3000) for ch in codes.token(16))
    assert set(counts) == set(codes.ALPHABET)
    expected = 3000 * 16 / len(codes.ALPHABET)
    assert all(abs(n - expected) < expected * 0.2 for n in counts.values())


@pytest.mark.parametrize("kind", [Kind.LIABILITY, Kind.ASSET])
def test_the_as_of_read_answers_what_the_orm_annotation_answers(kind, django_assert_num_queries):
    """At moments before, between and after legs, with and without back-dated legs, for a
    credit-normal and a debit-normal account: the fixed SQL and the ORM agree, in one query."""
    now = timezone.now()
    source = SourceAccountFactory()
    account = AccountFactory(kind=kind, credit_limit=None)
    day = datetime.timedelta(days=1)
    moments = [now - 10 * day]
    for days, amount in [(6, "10.00"), (4, "2.50"), (2, "0.25")]:
        facade.transfer(source, account, Decimal(amount), date=now - days * day)
        moments.append(now - (days - 1) * day)
    orm = Account.objects.filter(pk=account.pk)
    for backdated in (False, True):
        if backdated:
            facade.transfer(account, source, Decimal("1.00"), date=now - 5 * day)
        for moment in moments:
            expected = orm.annotate(b=balance_as_of_or_zero(moment)).get().b
            with django_assert_num_queries(1):
                got = account.get_balance(as_of=moment)
            assert got == expected
            assert isinstance(got, Decimal)
    assert account.get_balance(as_of=moments[0]) == 0
    assert account.get_balance(as_of=now) == Account.objects.get(pk=account.pk).get_balance()
