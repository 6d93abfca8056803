"""The database itself refuses what would unbalance or rewrite the ledger.

Each test reaches past the ORM with raw SQL, the way a careless script or a bug elsewhere
would, and expects the database to refuse: the triggers T1-T5 described in
:mod:`accounts.integrity` and every CHECK and UNIQUE constraint in the models' ``Meta``.
Every refused statement runs inside its own ``transaction.atomic()`` (a savepoint), so the
test can go on to show that nothing changed.

All three backends raise :class:`django.db.IntegrityError` for every rule here: PostgreSQL
because the triggers raise SQLSTATE ``check_violation``, MariaDB because they signal
errno 4025 (a failed CHECK), and SQLite because ``RAISE(ABORT)`` is a constraint failure.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.db import DataError, IntegrityError, connection, models, transaction
from django.utils import timezone

from accounts import codes, facade, reports
from accounts.facade import Credit, Debit
from accounts.models import Account, AccountType, Kind, Transaction, Transfer

from .. import ledger_rows
from ..factories import AccountFactory, AccountTypeFactory, SourceAccountFactory, UserFactory

pytestmark = pytest.mark.django_db

CURRENCY = "GBP"


# -- raw SQL, spelled from the models' own metadata -------------------------------------------


def _table(model: type[models.Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _field(model: type[models.Model], name: str) -> Any:
    return model._meta.get_field(name)


def _column(model: type[models.Model], name: str) -> str:
    return connection.ops.quote_name(_field(model, name).column)


def _prep(model: type[models.Model], name: str, value: Any) -> Any:
    if value is None:
        return None
    return _field(model, name).get_db_prep_value(value, connection)


def _execute(sql: str, params: list[Any]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def raw_insert(model: type[models.Model], **values: Any) -> None:
    """INSERT one row; columns not named take the field's default, as the ORM would."""
    for field in model._meta.concrete_fields:
        if field.primary_key or field.name in values:
            continue
        if field.has_default():
            values[field.name] = field.get_default()
        elif field.null:
            values[field.name] = None
    columns = ", ".join(_column(model, name) for name in values)
    placeholders = ", ".join(["%s"] * len(values))
    params = [_prep(model, name, value) for name, value in values.items()]
    _execute(f"INSERT INTO {_table(model)} ({columns}) VALUES ({placeholders})", params)


def raw_update(model: type[models.Model], pk: int, **values: Any) -> None:
    assignments = ", ".join(f"{_column(model, name)} = %s" for name in values)
    params = [_prep(model, name, value) for name, value in values.items()]
    _execute(
        f"UPDATE {_table(model)} SET {assignments} WHERE {_column(model, 'id')} = %s", [*params, pk]
    )


def raw_delete(model: type[models.Model], pk: int) -> None:
    _execute(f"DELETE FROM {_table(model)} WHERE {_column(model, 'id')} = %s", [pk])


def raw_transfer(
    *,
    source: Account | None,
    destination: Account | None,
    amount: Decimal,
    leg_count: int = 2,
    **extra: Any,
) -> int:
    """Insert a transfer row with no legs and return its id."""
    reference = extra.pop("reference", None) or codes.generate()
    raw_insert(
        Transfer,
        reference=reference,
        kind=extra.pop("kind", "transfer"),
        source=source.pk if source else None,
        destination=destination.pk if destination else None,
        amount=amount,
        currency=extra.pop("currency", CURRENCY),
        leg_count=leg_count,
        username="",
        description="raw SQL",
        created_at=extra.pop("created_at", None) or timezone.now(),
        **extra,
    )
    return Transfer.objects.get(reference=reference).pk


def raw_leg(transfer_id: int, leg_index: int, account: Account, amount: Decimal, **extra: Any):
    """Insert a leg that continues ``account``'s running balance unless told otherwise."""
    raw_insert(Transaction, transfer=transfer_id, **leg_values(leg_index, account, amount, **extra))


def raw_account(**values: Any) -> None:
    """Insert an account row with every column a real one has."""
    now = timezone.now()
    row = {
        "name": "Raw",
        "code": codes.generate(),
        "description": "",
        "kind": Kind.LIABILITY,
        "tree_path": "/",
        "status": "open",
        "credit_limit": Decimal("0.00"),
        "balance": Decimal("0.00"),
        "version": 0,
        "currency": CURRENCY,
        "created_at": now,
        "updated_at": now,
    }
    row.update(values)
    raw_insert(Account, **row)


@contextmanager
def refused(match: str, error: type[Exception] = IntegrityError) -> Iterator[None]:
    """Expect the block's last statement to be refused, for the reason ``match`` names.

    Only the block is rolled back (a savepoint), so the test goes on.
    """
    with pytest.raises(error, match=f"(?i){match}"):
        with transaction.atomic():
            yield


def snapshot() -> list[list[tuple[Any, ...]]]:
    """Every column of every ledger row, to show that a refused statement changed nothing."""
    return [
        list(
            model.objects.order_by("pk").values_list(
                *(f.attname for f in model._meta.concrete_fields)
            )
        )
        for model in (Account, Transfer, Transaction)
    ]


@dataclass
class Ledger:
    source: Account
    card: Account
    loaded: Transfer


@pytest.fixture
def ledger() -> Ledger:
    """An unlimited asset source and a gift card (liability, no credit) holding 100.00."""
    source = SourceAccountFactory()
    card = AccountFactory()
    loaded = facade.transfer(source, card, Decimal("100.00"))
    return Ledger(source=source, card=card, loaded=loaded)


# -- T2: legs are append-only -----------------------------------------------------------------


def test_updating_a_posted_leg_is_refused(ledger):
    leg = ledger.loaded.transactions.get(leg_index=2)
    before = snapshot()
    with refused("append-only"):
        raw_update(Transaction, leg.pk, amount=Decimal("1000.00"), balance_after=Decimal("1000.00"))
    with refused("append-only"):
        raw_update(Transaction, leg.pk, created_at=timezone.now() - datetime.timedelta(days=1))
    assert snapshot() == before


def test_deleting_a_posted_leg_is_refused(ledger):
    leg = ledger.loaded.transactions.get(leg_index=2)
    before = snapshot()
    with refused("append-only"):
        raw_delete(Transaction, leg.pk)
    assert snapshot() == before


def test_deleting_every_leg_at_once_is_refused(ledger):
    before = snapshot()
    with refused("append-only"):
        _execute(f"DELETE FROM {_table(Transaction)}", [])
    assert snapshot() == before


# -- T1: transfers are append-only, except that their user may be deleted ---------------------


def test_changing_a_transfers_amount_is_refused(ledger):
    before = snapshot()
    with refused("append-only"):
        raw_update(Transfer, ledger.loaded.pk, amount=Decimal("5.00"))
    assert snapshot() == before


def test_changing_a_transfers_reference_is_refused(ledger):
    before = snapshot()
    with refused("append-only"):
        raw_update(Transfer, ledger.loaded.pk, reference="REWRITTEN")
    assert snapshot() == before


def test_deleting_a_transfer_is_refused(ledger):
    before = snapshot()
    with refused("append-only"):
        raw_delete(Transfer, ledger.loaded.pk)
    assert snapshot() == before


def test_giving_a_transfer_to_another_user_is_refused(ledger):
    staff, other = UserFactory(), UserFactory()
    made = facade.transfer(ledger.card, ledger.source, Decimal("1.00"), user=staff)
    assert made.user_id == staff.pk
    before = snapshot()
    with refused("append-only"):
        raw_update(Transfer, made.pk, user=other.pk)
    assert snapshot() == before


def test_setting_a_transfers_user_to_null_is_allowed_so_users_stay_deletable(ledger):
    staff = UserFactory()
    made = facade.transfer(ledger.card, ledger.source, Decimal("1.00"), user=staff)
    raw_update(Transfer, made.pk, user=None)
    made = Transfer.objects.get(pk=made.pk)
    assert made.user_id is None
    assert made.username == staff.get_username()

    other = UserFactory()
    kept = facade.transfer(ledger.card, ledger.source, Decimal("1.00"), user=other)
    other.delete()
    kept = Transfer.objects.get(pk=kept.pk)
    assert kept.user_id is None
    assert kept.username == other.get_username()
    assert kept.amount == Decimal("1.00")
    assert reports.verify().ok


# -- T3: legs are checked when they land ------------------------------------------------------


def test_adding_a_leg_to_a_complete_transfer_is_refused(ledger):
    before = snapshot()
    with refused("leg_count"):
        raw_leg(ledger.loaded.pk, 3, ledger.card, Decimal("5.00"))
    assert snapshot() == before


def test_a_leg_of_zero_is_refused(ledger):
    before = snapshot()
    with refused("accounts_transaction_amount_not_zero"):
        entry = raw_transfer(source=ledger.card, destination=ledger.source, amount=Decimal(1))
        raw_leg(entry, 1, ledger.card, Decimal("0.00"))
    assert snapshot() == before


def test_a_leg_in_another_currency_than_its_account_is_refused(ledger):
    before = snapshot()
    with refused("in its account's currency"):
        entry = raw_transfer(source=ledger.card, destination=ledger.source, amount=Decimal(5))
        raw_leg(entry, 1, ledger.card, Decimal("-5.00"), currency="EUR")
    assert snapshot() == before


def test_a_leg_on_an_account_with_children_is_refused(ledger):
    parent = AccountFactory(kind=Kind.ASSET, credit_limit=None)
    AccountFactory(kind=Kind.ASSET, credit_limit=None, parent=parent)
    before = snapshot()
    with refused("account with children cannot receive legs"):
        entry = raw_transfer(source=parent, destination=ledger.card, amount=Decimal(5))
        raw_leg(entry, 1, parent, Decimal("-5.00"))
    assert snapshot() == before


def test_legs_that_do_not_sum_to_zero_are_refused(ledger):
    other = AccountFactory()
    before = snapshot()
    with refused("must sum to zero"):
        entry = raw_transfer(source=ledger.card, destination=other, amount=Decimal(10))
        raw_leg(entry, 1, other, Decimal("10.00"))
        raw_leg(entry, 2, ledger.card, Decimal("-5.00"))
    assert snapshot() == before


def test_the_same_legs_summing_to_zero_are_accepted(ledger):
    """The control for the test above: only the sum was wrong there."""
    other = AccountFactory()
    entry = raw_transfer(source=ledger.card, destination=other, amount=Decimal(10))
    raw_leg(entry, 1, other, Decimal("10.00"))
    raw_leg(entry, 2, ledger.card, Decimal("-10.00"))
    assert Transaction.objects.filter(transfer=entry).count() == 2


def test_a_leg_that_breaks_its_accounts_running_balance_is_refused(ledger):
    ledger.card.refresh_from_db()
    before = snapshot()
    with refused("balance_after does not follow"):
        entry = raw_transfer(source=ledger.card, destination=ledger.source, amount=Decimal(5))
        raw_leg(entry, 1, ledger.card, Decimal("-5.00"), balance_after=Decimal("500.00"))
    with refused("skips a version"):
        entry = raw_transfer(source=ledger.card, destination=ledger.source, amount=Decimal(5))
        raw_leg(entry, 1, ledger.card, Decimal("-5.00"), account_version=ledger.card.version + 2)
    assert snapshot() == before


def test_a_leg_reusing_an_accounts_version_is_refused(ledger):
    ledger.card.refresh_from_db()
    before = snapshot()
    with refused("account_version|unique_version"):
        entry = raw_transfer(source=ledger.card, destination=ledger.source, amount=Decimal(5))
        raw_leg(
            entry,
            1,
            ledger.card,
            Decimal("-5.00"),
            account_version=ledger.card.version,
            balance_after=Decimal("95.00"),
        )
    assert snapshot() == before


# -- fewer than two legs: CHECK everywhere, T5 at commit on PostgreSQL ------------------------


def test_a_transfer_declaring_fewer_than_two_legs_is_refused(ledger):
    before = snapshot()
    for leg_count in (1, 0):
        with refused("accounts_transfer_at_least_two_legs"):
            raw_transfer(
                source=ledger.card,
                destination=ledger.source,
                amount=Decimal(5),
                leg_count=leg_count,
            )
    assert snapshot() == before


@pytest.mark.django_db(transaction=True)
def test_a_transfer_committed_without_its_legs_is_refused_by_postgresql_and_flagged_elsewhere():
    """PostgreSQL's deferred trigger T5 refuses it at COMMIT.

    MariaDB and SQLite have no deferred triggers, so the commit goes through there; the
    transfer can never move a balance (T4 requires the balance's last leg to belong to a
    complete transfer), and ``verify`` reports it. This is the one rule whose enforcement
    differs by backend.
    """
    source = SourceAccountFactory()
    card = AccountFactory()
    facade.transfer(source, card, Decimal("100.00"))
    before = snapshot()
    if connection.vendor == "postgresql":
        with pytest.raises(IntegrityError, match="without all of its legs"):
            with transaction.atomic():
                raw_transfer(source=card, destination=source, amount=Decimal(5))
        assert snapshot() == before
        assert reports.verify().ok
    else:
        with transaction.atomic():
            orphan = raw_transfer(source=card, destination=source, amount=Decimal(5))
        verification = reports.verify()
        assert not verification.ok
        assert [p.what for p in verification.problems] == ["incomplete transfer"]
        card.refresh_from_db()
        assert card.balance == Decimal("100.00")
        with refused("includes an incomplete transfer"):
            raw_leg(orphan, 1, card, Decimal("-5.00"))
            raw_update(Account, card.pk, balance=Decimal("95.00"), version=card.version + 1)
        assert Transaction.objects.filter(transfer=orphan).count() == 0


# -- T4: balances move only with legs; shape is fixed once an account has legs ----------------


def test_a_balance_that_disagrees_with_its_legs_is_refused(ledger):
    ledger.card.refresh_from_db()
    before = snapshot()
    with refused("changes only by posting legs"):
        raw_update(Account, ledger.card.pk, balance=Decimal("150.00"))
    with refused("balance after its last leg"):
        raw_update(
            Account, ledger.card.pk, balance=Decimal("150.00"), version=ledger.card.version + 1
        )
    with refused("changes only by posting legs"):
        raw_update(Account, ledger.card.pk, balance=Decimal("0.00"), version=0)
    assert snapshot() == before


def test_changing_the_kind_of_an_account_with_legs_is_refused(ledger):
    before = snapshot()
    with refused("fixed once an account has legs"):
        raw_update(Account, ledger.card.pk, kind=Kind.ASSET)
    assert snapshot() == before


def test_changing_the_currency_of_an_account_with_legs_is_refused(ledger):
    before = snapshot()
    with refused("fixed once an account has legs"):
        raw_update(Account, ledger.card.pk, currency="EUR")
    assert snapshot() == before


def test_the_kind_and_currency_of_an_account_without_legs_can_still_change(ledger):
    fresh = AccountFactory()
    raw_update(Account, fresh.pk, kind=Kind.EQUITY, currency="EUR")
    fresh.refresh_from_db()
    assert (fresh.kind, fresh.currency) == (Kind.EQUITY, "EUR")


def test_giving_children_to_an_account_with_legs_is_refused(ledger):
    orphan = AccountFactory()
    before = snapshot()
    with refused("cannot become a parent"):
        raw_account(parent=ledger.card.pk, tree_path=f"/{ledger.card.pk}/")
    with refused("cannot become a parent"):
        raw_update(Account, orphan.pk, parent=ledger.card.pk, tree_path=f"/{ledger.card.pk}/")
    assert snapshot() == before


def test_a_new_account_with_a_balance_is_refused(ledger):
    before = snapshot()
    with refused("starts with balance 0"):
        raw_account(balance=Decimal("50.00"))
    with refused("starts with balance 0"):
        raw_account(balance=Decimal("0.00"), version=3)
    assert snapshot() == before


# -- CHECK constraints of Account -------------------------------------------------------------


def test_a_raw_posting_that_takes_a_balance_below_its_credit_limit_is_refused(ledger):
    """Every leg and the balance agree; only the credit limit is broken, so the CHECK fires."""
    before = snapshot()
    with refused("accounts_account_within_credit_limit"):
        entry = raw_transfer(source=ledger.card, destination=ledger.source, amount=Decimal(150))
        raw_leg(entry, 1, ledger.card, Decimal("-150.00"))
        raw_leg(entry, 2, ledger.source, Decimal("150.00"))
        ledger.card.refresh_from_db()
        raw_update(
            Account, ledger.card.pk, balance=Decimal("-50.00"), version=ledger.card.version + 1
        )
    assert snapshot() == before


def test_lowering_a_credit_limit_below_an_overdrawn_balance_is_refused(ledger):
    line = AccountFactory(credit_limit=Decimal("50.00"))
    facade.transfer(line, ledger.card, Decimal("30.00"))
    line.refresh_from_db()
    assert line.balance == Decimal("-30.00")
    before = snapshot()
    with refused("accounts_account_within_credit_limit"):
        raw_update(Account, line.pk, credit_limit=Decimal("10.00"))
    assert snapshot() == before


def test_a_negative_credit_limit_is_refused(ledger):
    before = snapshot()
    with refused("accounts_account_credit_limit_not_negative"):
        raw_update(Account, ledger.card.pk, credit_limit=Decimal("-1.00"))
    assert snapshot() == before


def test_an_end_date_before_the_start_date_is_refused(ledger):
    start = timezone.now()
    windowed = AccountFactory(start_date=start)
    before = snapshot()
    with refused("accounts_account_end_after_start"):
        raw_update(Account, windowed.pk, end_date=start - datetime.timedelta(days=1))
    assert snapshot() == before


def test_a_negative_account_version_is_refused(ledger):
    """MariaDB stores positive integer fields UNSIGNED: a negative value is out of range there
    (a DataError, before any trigger runs). Elsewhere a trigger or the CHECK refuses it: on
    PostgreSQL the update check runs after the statement, so the CHECK comes first."""
    on_mysql = connection.vendor == "mysql"
    error = DataError if on_mysql else IntegrityError
    before = snapshot()
    updated = "changes only by posting legs|accounts_account_version_check"
    with refused("out of range" if on_mysql else updated, error):
        raw_update(Account, ledger.card.pk, version=-1)
    with refused("out of range" if on_mysql else "starts with balance 0 and version 0", error):
        raw_account(version=-1)
    assert snapshot() == before


def test_two_accounts_with_one_code_are_refused(ledger):
    before = snapshot()
    with refused("code"):
        raw_account(code=ledger.card.code)
    assert snapshot() == before


def test_two_account_types_with_one_code_are_refused(ledger):
    AccountTypeFactory(code="gift-cards")
    before = list(AccountType.objects.values_list("pk", "code"))
    with refused("code"):
        raw_insert(
            AccountType,
            name="Again",
            code="gift-cards",
            description="",
            lft=1,
            rght=2,
            tree_id=99,
            level=0,
        )
    assert list(AccountType.objects.values_list("pk", "code")) == before


# -- CHECK and UNIQUE constraints of Transfer -------------------------------------------------


def test_a_negative_or_zero_transfer_amount_is_refused(ledger):
    before = snapshot()
    for amount in (Decimal("-10.00"), Decimal("0.00")):
        with refused("accounts_transfer_amount_positive"):
            raw_transfer(source=ledger.card, destination=ledger.source, amount=amount)
    assert snapshot() == before


def test_a_transfer_from_an_account_to_itself_is_refused(ledger):
    before = snapshot()
    with refused("accounts_transfer_source_not_destination"):
        raw_transfer(source=ledger.card, destination=ledger.card, amount=Decimal(5))
    assert snapshot() == before


def test_two_transfers_with_one_reference_are_refused(ledger):
    before = snapshot()
    with refused("reference"):
        raw_transfer(
            source=ledger.card,
            destination=ledger.source,
            amount=Decimal(5),
            reference=ledger.loaded.reference,
        )
    assert snapshot() == before


def test_a_second_reversal_of_one_transfer_is_refused(ledger):
    reversal = facade.reverse(ledger.loaded)
    assert reversal.reverses_id == ledger.loaded.pk
    before = snapshot()
    with refused("reverses_id"):
        raw_transfer(
            source=ledger.card,
            destination=ledger.source,
            amount=Decimal(5),
            kind="reversal",
            parent=ledger.loaded.pk,
            reverses=ledger.loaded.pk,
        )
    assert snapshot() == before


# -- CHECK and UNIQUE constraints of Transaction ----------------------------------------------


def test_two_legs_with_one_index_in_a_transfer_are_refused(ledger):
    other = AccountFactory()
    before = snapshot()
    with refused("leg_index"):
        entry = raw_transfer(source=ledger.card, destination=other, amount=Decimal(10))
        raw_leg(entry, 1, other, Decimal("10.00"))
        raw_leg(entry, 1, ledger.card, Decimal("-10.00"))
    assert snapshot() == before


def test_a_leg_index_of_zero_is_refused(ledger):
    before = snapshot()
    with refused("accounts_transaction_leg_index_positive"):
        entry = raw_transfer(source=ledger.card, destination=ledger.source, amount=Decimal(5))
        raw_leg(entry, 0, ledger.card, Decimal("-5.00"))
    assert snapshot() == before


def test_a_leg_version_of_zero_is_refused(ledger):
    fresh = AccountFactory()
    before = snapshot()
    with refused("accounts_transaction_version_positive"):
        entry = raw_transfer(source=fresh, destination=ledger.card, amount=Decimal(5))
        raw_leg(entry, 1, fresh, Decimal("-5.00"), account_version=0)
    assert snapshot() == before


# -- scale --------------------------------------------------------------------------------------


def test_an_entry_of_a_thousand_legs_posts_and_verifies(ledger):
    lines_max = facade.MAX_LEGS_PER_TRANSFER
    assert lines_max == 1000
    Account.objects.bulk_create(
        Account(name=f"Payee {n}", code=f"PAYEE-{n:04}", kind=Kind.LIABILITY)
        for n in range(lines_max - 1)
    )
    payees = list(Account.objects.filter(code__startswith="PAYEE-"))
    lines: list[Debit | Credit] = [Debit(ledger.source, Decimal(lines_max - 1))]
    lines += [Credit(payee, Decimal("1.00")) for payee in payees]
    entry = facade.post(lines)
    assert entry.leg_count == lines_max
    assert entry.transactions.count() == lines_max
    assert Account.objects.filter(code__startswith="PAYEE-", balance=1, version=1).count() == (
        lines_max - 1
    )
    assert reports.verify().ok


@pytest.mark.django_db(transaction=True)  # MySQL commits around trigger DDL
def test_migrate_reinstalls_triggers_a_table_rebuild_dropped():
    """SQLite drops a table's triggers when a migration rebuilds it; post_migrate puts them back."""
    from django.core.management import call_command

    from accounts import integrity

    drop = {
        "postgresql": "DROP TRIGGER accounts_transaction_guard ON accounts_transaction",
        "mysql": "DROP TRIGGER accounts_transaction_no_delete",
        "sqlite": "DROP TRIGGER accounts_transaction_no_delete",
    }[connection.vendor]
    expected = integrity.expected_trigger_count(connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(drop)
    assert integrity.installed_trigger_count(connection) == expected - 1
    call_command("migrate", "accounts", verbosity=0)
    assert integrity.installed_trigger_count(connection) == expected


def test_reopening_a_closed_account_is_refused_even_by_a_stale_save(db):
    account = AccountFactory()
    stale = Account.objects.get(pk=account.pk)
    account.close()
    with refused("a closed account stays closed"):
        raw_update(Account, account.pk, status="open")
    with refused("a closed account stays closed"):
        stale.save()  # its status still says open
    account.refresh_from_db()
    assert account.is_closed()


# -- whole statements: PostgreSQL checks a statement's rows as one set ------------------------


def raw_legs(transfer_id: int, legs: list[dict[str, Any]]) -> None:
    """INSERT several legs in one statement, as the facade does; each dict names its columns."""
    names = list(legs[0])
    columns = ", ".join(_column(Transaction, name) for name in names)
    row = "(" + ", ".join(["%s"] * (len(names) + 1)) + ")"
    params: list[Any] = []
    for leg in legs:
        params += [transfer_id, *(_prep(Transaction, name, leg[name]) for name in names)]
    _execute(
        f"INSERT INTO {_table(Transaction)} ({_column(Transaction, 'transfer')}, {columns}) "
        f"VALUES {', '.join([row] * len(legs))}",
        params,
    )


def leg_values(leg_index: int, account: Account, amount: Decimal, **extra: Any) -> dict[str, Any]:
    """A leg continuing ``account``'s running balance as stored (the account's next version)."""
    account.refresh_from_db()
    return ledger_rows.leg_values(leg_index, account, amount, **extra)


def raw_balances(rows: dict[int, tuple[Decimal, int]]) -> None:
    """UPDATE several accounts' balance and version in one statement, as the facade does."""
    balance, version, pk = (_column(Account, name) for name in ("balance", "version", "id"))
    cases = " ".join(["WHEN %s THEN %s"] * len(rows))
    params: list[Any] = []
    for pk_value, (amount, _) in rows.items():
        params += [pk_value, _prep(Account, "balance", amount)]
    for pk_value, (_, number) in rows.items():
        params += [pk_value, number]
    params += list(rows)
    _execute(
        f"UPDATE {_table(Account)} SET {balance} = CASE {pk} {cases} END, "
        f"{version} = CASE {pk} {cases} END "
        f"WHERE {pk} IN ({', '.join(['%s'] * len(rows))})",
        params,
    )


def test_a_multi_row_insert_with_one_leg_off_its_version_chain_is_refused(ledger):
    other = AccountFactory()
    before = snapshot()
    with refused("skips a version"):
        entry = raw_transfer(source=ledger.card, destination=other, amount=Decimal(5))
        ledger.card.refresh_from_db()
        raw_legs(
            entry,
            [
                leg_values(1, other, Decimal("5.00")),
                leg_values(
                    2,
                    ledger.card,
                    Decimal("-5.00"),
                    account_version=ledger.card.version + 2,
                ),
            ],
        )
    with refused("balance_after does not follow"):
        entry = raw_transfer(source=ledger.card, destination=other, amount=Decimal(5))
        raw_legs(
            entry,
            [
                leg_values(1, other, Decimal("5.00"), balance_after=Decimal("6.00")),
                leg_values(2, ledger.card, Decimal("-5.00")),
            ],
        )
    with refused("must sum to zero"):
        entry = raw_transfer(source=ledger.card, destination=other, amount=Decimal(5))
        raw_legs(
            entry,
            [leg_values(1, other, Decimal("5.00")), leg_values(2, ledger.card, Decimal("-4.00"))],
        )
    assert snapshot() == before


def test_a_multi_row_insert_may_chain_legs_of_one_account_within_the_statement(ledger):
    """The second leg's previous leg is the first, inserted by the same statement."""
    other = AccountFactory()
    entry = raw_transfer(
        source=ledger.card, destination=other, amount=Decimal(5), leg_count=3, kind="entry"
    )
    first = leg_values(1, ledger.card, Decimal("-2.00"))
    second = leg_values(
        2,
        ledger.card,
        Decimal("-3.00"),
        account_version=first["account_version"] + 1,
        balance_after=first["balance_after"] - Decimal("3.00"),
    )
    raw_legs(entry, [first, second, leg_values(3, other, Decimal("5.00"))])
    raw_balances(
        {
            ledger.card.pk: (second["balance_after"], second["account_version"]),
            other.pk: (Decimal("5.00"), 1),
        }
    )
    ledger.card.refresh_from_db()
    assert ledger.card.balance == Decimal("95.00")
    assert reports.verify().ok


def test_a_multi_row_update_of_balances_is_checked_row_by_row(ledger):
    other = AccountFactory()
    entry = raw_transfer(source=ledger.card, destination=other, amount=Decimal(5))
    legs = [leg_values(1, ledger.card, Decimal("-5.00")), leg_values(2, other, Decimal("5.00"))]
    raw_legs(entry, legs)
    before = snapshot()
    with refused("balance after its last leg"):
        raw_balances({ledger.card.pk: (Decimal("95.00"), 2), other.pk: (Decimal("6.00"), 1)})
    with refused("changes only by posting legs"):
        raw_balances({ledger.card.pk: (Decimal("95.00"), 2), other.pk: (Decimal("5.00"), 0)})
    assert snapshot() == before
    with refused("must include every leg"):
        later = raw_transfer(source=ledger.card, destination=other, amount=Decimal(1))
        raw_legs(
            later,
            [
                leg_values(1, ledger.card, Decimal("-1.00"), account_version=3, balance_after=94),
                leg_values(2, other, Decimal("1.00"), account_version=2, balance_after=6),
            ],
        )
        raw_balances({ledger.card.pk: (Decimal("95.00"), 2), other.pk: (Decimal("6.00"), 2)})
    assert snapshot() == before
    raw_balances({ledger.card.pk: (Decimal("95.00"), 2), other.pk: (Decimal("5.00"), 1)})
    assert reports.verify().ok


def test_a_multi_row_update_cannot_move_a_balance_onto_an_incomplete_transfer(ledger):
    other = AccountFactory()
    before = snapshot()
    with refused("includes an incomplete transfer"):
        entry = raw_transfer(source=ledger.card, destination=other, amount=Decimal(5))
        raw_legs(entry, [leg_values(1, ledger.card, Decimal("-5.00"))])
        raw_balances({ledger.card.pk: (Decimal("95.00"), 2)})
    assert snapshot() == before


def test_an_account_with_legs_cannot_become_a_parent_in_a_multi_row_update(ledger):
    first, second = AccountFactory(), AccountFactory()
    pk, parent = _column(Account, "id"), _column(Account, "parent")
    before = snapshot()
    with refused("account with legs cannot become a parent"):
        _execute(
            f"UPDATE {_table(Account)} SET {parent} = %s WHERE {pk} IN (%s, %s)",
            [ledger.card.pk, first.pk, second.pk],
        )
    assert snapshot() == before


# Only PostgreSQL's triggers changed shape since the first release, so the test exists only there.
if connection.vendor == "postgresql":

    @pytest.mark.django_db(transaction=True)  # the DDL must not outlive the test
    def test_installing_replaces_triggers_of_an_earlier_shape():
        """A database migrated by an older release holds T4 as one row trigger for INSERT and
        UPDATE on PostgreSQL; installing leaves only the current triggers."""
        from accounts import integrity

        expected = integrity.expected_trigger_count(connection.vendor)
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE OR REPLACE FUNCTION accounts_account_check() RETURNS trigger "
                "LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$"
            )
            cursor.execute(
                "CREATE TRIGGER accounts_account_check BEFORE INSERT OR UPDATE ON accounts_account "
                "FOR EACH ROW EXECUTE FUNCTION accounts_account_check()"
            )
        assert integrity.installed_trigger_count(connection) == expected + 1
        assert integrity.ensure_installed("default")
        assert integrity.installed_trigger_count(connection) == expected
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_proc WHERE proname = 'accounts_account_check'")
            assert cursor.fetchone()[0] == 0
        assert not integrity.ensure_installed("default")


# -- T8: closed periods -----------------------------------------------------------------------


def test_a_raw_leg_dated_inside_a_closed_period_is_refused(ledger):
    """Hand-written SQL past the facade: the database itself refuses legs in a closed period."""
    import datetime

    through = timezone.localdate() - datetime.timedelta(days=2)
    facade.close_period(through)
    other = AccountFactory()

    def raw_entry(moment: datetime.datetime) -> None:
        entry = raw_transfer(
            source=ledger.card, destination=other, amount=Decimal(5), created_at=moment
        )
        raw_legs(
            entry,
            [
                leg_values(1, other, Decimal("5.00"), created_at=moment),
                leg_values(2, ledger.card, Decimal("-5.00"), created_at=moment, backdated=True),
            ],
        )

    before = snapshot()
    end_of_closed_day = timezone.make_aware(
        datetime.datetime.combine(through, datetime.time(23, 59, 59))
    )
    with refused("inside a closed period"):
        raw_entry(end_of_closed_day)
    assert snapshot() == before
    # The control: the same entry dated a second after the closing is accepted.
    raw_entry(end_of_closed_day + datetime.timedelta(seconds=1))
    assert Transaction.objects.filter(account=other).count() == 1
