"""Atomic batches: :func:`accounts.facade.transfer_many` posts many items all or nothing."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.db import transaction
from django.db.models import Max

from accounts import exceptions, facade, reports
from accounts.models import Account, Kind, Transaction, Transfer, TransferKind

from ..factories import AccountFactory, UserFactory

pytestmark = pytest.mark.django_db

TEN = Decimal("10.00")


def assert_books_verify() -> None:
    verification = reports.verify()
    assert verification.ok, verification.problems
    call_command("verify_ledger", stdout=io.StringIO())  # raises CommandError on a problem


def legs_of(account: Account) -> list[tuple[int, Decimal, Decimal]]:
    return list(
        Transaction.objects.filter(account=account)
        .order_by("account_version")
        .values_list("account_version", "amount", "balance_after")
    )


# -- results and order -----------------------------------------------------------------------


def test_a_batch_returns_its_transfers_in_input_order(source):
    cards = AccountFactory.create_batch(3)
    items = [
        {"source": source, "destination": card, "amount": Decimal(n), "merchant_reference": f"r{n}"}
        for n, card in enumerate(cards, start=1)
    ]

    transfers = facade.transfer_many(items, user=None)

    assert [t.merchant_reference for t in transfers] == ["r1", "r2", "r3"]
    assert [t.destination_id for t in transfers] == [card.pk for card in cards]
    assert all(t.pk is not None and t.kind == TransferKind.TRANSFER for t in transfers)
    stored = Transfer.objects.in_bulk([t.pk for t in transfers])
    assert [stored[t.pk].amount for t in transfers] == [Decimal(1), Decimal(2), Decimal(3)]
    assert [Account.objects.get(pk=c.pk).balance for c in cards] == [1, 2, 3]
    assert_books_verify()


def test_a_batch_records_each_items_fields_and_shows_the_callers_objects_their_balances(
    source, account, staff
):
    (t,) = facade.transfer_many(
        [
            {
                "source": source,
                "destination": account,
                "amount": TEN,
                "merchant_reference": "order-9",
                "description": "Monthly points",
            }
        ],
        user=staff,
    )
    t = Transfer.objects.get(pk=t.pk)
    assert (t.merchant_reference, t.description, t.username) == (
        "order-9",
        "Monthly points",
        staff.username,
    )
    assert (account.balance, account.version, source.balance) == (TEN, 1, TEN)


def test_an_empty_batch_posts_nothing(unchanged):
    with unchanged():
        assert facade.transfer_many([]) == []
        assert facade.transfer_many(iter(())) == []


# -- all or nothing --------------------------------------------------------------------------


def test_a_refusal_in_the_middle_writes_nothing_and_names_the_item(source, funded, unchanged):
    other = AccountFactory()
    items = [
        {"source": source, "destination": other, "amount": TEN},
        {"source": funded, "destination": other, "amount": Decimal("30.00")},
        {"source": funded, "destination": other, "amount": Decimal("500.00")},
        {"source": source, "destination": other, "amount": TEN},
    ]
    with unchanged(), pytest.raises(exceptions.InsufficientFunds) as refused:
        facade.transfer_many(items)
    assert refused.value.index == 2
    assert refused.value.message.startswith("Item 2: ")
    assert refused.value.code == "insufficient_funds"
    assert str(refused.value).startswith("Item 2: ")


def test_a_refusal_in_a_later_chunk_undoes_the_chunks_already_written(source, unchanged):
    cards = AccountFactory.create_batch(5)
    items = [{"source": source, "destination": card, "amount": TEN} for card in cards]
    items.append({"source": cards[0], "destination": cards[1], "amount": Decimal("10.01")})
    with unchanged(), pytest.raises(exceptions.InsufficientFunds) as refused:
        facade.transfer_many(items, chunk_size=2)
    assert refused.value.index == 5


def test_a_generator_is_posted_all_or_nothing_too(source, unchanged):
    cards = AccountFactory.create_batch(3)

    def items():
        for card in cards:
            yield {"source": source, "destination": card, "amount": TEN}
        yield {"source": source, "destination": cards[0], "amount": Decimal("-1")}

    with unchanged(), pytest.raises(exceptions.AmountNotPositive) as refused:
        facade.transfer_many(items(), chunk_size=2)
    assert refused.value.index == 3


@pytest.mark.parametrize(
    ("item", "error"),
    [
        ({"destination": None, "amount": TEN, "colour": "red"}, exceptions.InvalidTransfer),
        ({"amount": 1.5}, exceptions.AmountNotDecimal),
        ({"amount": Decimal("0.001")}, exceptions.AmountTooPrecise),
        ({"destination": "same"}, exceptions.SameAccount),
        ({"parent": "any"}, exceptions.InvalidTransfer),
        ({"description": "x" * 5000}, exceptions.TextTooLong),
        ({"destination": "closed"}, exceptions.ClosedAccount),
        ({"destination": "frozen"}, exceptions.FrozenAccount),
        ({"destination": "expired"}, exceptions.AccountExpired),
        ({"destination": "placeholder"}, exceptions.PlaceholderAccount),
        ({"destination": "euro"}, exceptions.CurrencyMismatch),
        ({"destination": "unsaved"}, exceptions.AccountNotSaved),
    ],
)
def test_every_rule_refuses_an_item_with_its_own_class_and_index(source, item, error, unchanged):
    from django.utils import timezone

    good = AccountFactory()
    targets = {
        "same": source,
        "closed": AccountFactory(status="closed"),
        "frozen": AccountFactory(status="frozen"),
        "expired": AccountFactory(end_date=timezone.now() - timezone.timedelta(days=1)),
        "euro": AccountFactory(currency="EUR"),
        "unsaved": Account(name="unsaved"),
    }
    if item.get("destination") == "placeholder":
        parent = AccountFactory()
        AccountFactory(parent=parent)
        targets["placeholder"] = parent
    bad = {"source": source, "destination": good, "amount": TEN, **item}
    if isinstance(bad["destination"], str):
        bad["destination"] = targets[bad["destination"]]
    items = [{"source": source, "destination": good, "amount": TEN}, bad]
    with unchanged(), pytest.raises(error) as refused:
        facade.transfer_many(items)
    assert refused.value.index == 1
    assert "Item 1: " in refused.value.message


def test_a_batch_that_is_refused_leaves_a_callers_transaction_usable(source, account):
    with transaction.atomic():
        facade.transfer(source, account, TEN)
        with pytest.raises(exceptions.InsufficientFunds):
            facade.transfer_many(
                [
                    {"source": source, "destination": account, "amount": TEN},
                    {"source": account, "destination": source, "amount": Decimal("99")},
                ]
            )
        facade.transfer(source, account, TEN)
    assert Account.objects.get(pk=account.pk).balance == Decimal("20.00")
    assert Transfer.objects.count() == 2


def test_a_batch_inside_a_callers_transaction_rolls_back_with_it(source, account, unchanged):
    with unchanged():
        try:
            with transaction.atomic():
                facade.transfer_many([{"source": source, "destination": account, "amount": TEN}])
                assert Account.objects.get(pk=account.pk).balance == TEN
                raise RuntimeError("the order failed")
        except RuntimeError:
            pass


# -- running balances, versions and limits ---------------------------------------------------


def test_limits_are_counted_over_the_batchs_earlier_items(source, funded, unchanged):
    shop = AccountFactory()
    spend = [{"source": funded, "destination": shop, "amount": Decimal("40.00")}] * 3
    with unchanged(), pytest.raises(exceptions.InsufficientFunds) as refused:
        facade.transfer_many(spend)
    assert refused.value.index == 2
    facade.transfer_many(spend[:2] + [{**spend[0], "amount": Decimal("20.00")}])
    assert Account.objects.get(pk=funded.pk).balance == 0


def test_an_account_in_many_items_gets_exact_running_balances_and_versions(source, funded):
    shop = AccountFactory()
    items = []
    for n in range(1, 8):
        items.append({"source": funded, "destination": shop, "amount": Decimal(n)})
        items.append({"source": source, "destination": funded, "amount": Decimal("0.50")})

    facade.transfer_many(items, chunk_size=3)

    legs = legs_of(funded)
    assert [version for version, _, _ in legs] == list(range(1, 16))
    running = Decimal(0)
    for _, amount, balance_after in legs:
        running += amount  # a liability: the natural balance is the sum of its legs
        assert balance_after == running
    funded.refresh_from_db()
    assert funded.balance == Decimal("100.00") - 28 + Decimal("3.50") == running
    assert funded.version == 15
    assert Account.objects.get(pk=shop.pk).balance == 28
    assert_books_verify()


def test_a_batch_larger_than_one_chunk_posts_every_item(source):
    cards = AccountFactory.create_batch(7)
    items = [
        {"source": source, "destination": cards[n % 7], "amount": Decimal(n + 1)}
        for n in range(2 * facade.BATCH_CHUNK_SIZE + 5)
    ]
    transfers = facade.transfer_many(iter(items))
    assert len(transfers) == len(items) == Transfer.objects.count()
    assert [t.amount for t in transfers] == [item["amount"] for item in items]
    assert Transaction.objects.filter(account=source).aggregate(v=Max("account_version"))["v"] == (
        len(items)
    )
    assert_books_verify()


# -- entries, authorisation ------------------------------------------------------------------


def test_an_order_paid_from_a_gift_card_and_store_credit_is_one_entry(source):
    gift_card, store_credit, sales = AccountFactory(), AccountFactory(), AccountFactory()
    facade.transfer(source, gift_card, Decimal("30.00"))
    facade.transfer(source, store_credit, Decimal("50.00"))
    (entry,) = facade.transfer_many(
        [
            {
                "lines": [
                    facade.Debit(gift_card, Decimal("30.00")),
                    facade.Debit(store_credit, Decimal("15.00")),
                    facade.Credit(sales, Decimal("45.00")),
                ],
                "merchant_reference": "order-1",
            }
        ]
    )
    assert (entry.kind, entry.amount, entry.leg_count) == (TransferKind.ENTRY, 45, 3)
    assert [gift_card.balance, store_credit.balance, sales.balance] == [0, 35, 45]
    assert_books_verify()


def test_an_entry_and_transfers_mix_in_one_batch_and_an_unbalanced_entry_is_refused(
    source, unchanged
):
    a, b = AccountFactory(), AccountFactory()
    items = [
        {"source": source, "destination": a, "amount": TEN},
        {"lines": [facade.Debit(a, Decimal("4")), facade.Credit(b, Decimal("4"))]},
        {"lines": [facade.Debit(a, Decimal("4")), facade.Credit(b, Decimal("3"))]},
    ]
    with unchanged(), pytest.raises(exceptions.InvalidEntry) as refused:
        facade.transfer_many(items)
    assert refused.value.index == 2
    facade.transfer_many(items[:2])
    assert (Account.objects.get(pk=a.pk).balance, Account.objects.get(pk=b.pk).balance) == (6, 4)


def test_a_user_must_be_allowed_to_spend_from_every_debited_account(source, unchanged):
    barry, sally = UserFactory(), UserFactory()
    own, shop = AccountFactory(primary_user=barry), AccountFactory()
    others = AccountFactory(primary_user=sally)
    facade.transfer(source, own, TEN)
    facade.transfer(source, others, TEN)
    items = [
        {"source": own, "destination": shop, "amount": Decimal("1")},
        {"source": others, "destination": shop, "amount": Decimal("1")},
    ]
    with unchanged(), pytest.raises(exceptions.Unauthorised) as refused:
        facade.transfer_many(items, user=barry)
    assert refused.value.index == 1
    with unchanged(), pytest.raises(exceptions.Unauthorised) as refused:
        facade.transfer_many(
            [{"lines": [facade.Debit(others, TEN), facade.Credit(shop, TEN)]}], user=barry
        )
    assert refused.value.index == 0
    facade.transfer_many(items[:1], user=barry)
    staff = UserFactory()
    staff.user_permissions.add(Permission.objects.get(codename="spend_from_any_account"))
    facade.transfer_many(items, user=type(staff).objects.get(pk=staff.pk))
    assert Account.objects.get(pk=shop.pk).balance == 3


def test_a_deleted_account_is_refused_with_the_index_of_its_item(source, unchanged):
    gone = AccountFactory()
    Account.objects.filter(pk=gone.pk).delete()
    items = [
        {"source": source, "destination": AccountFactory(), "amount": TEN},
        {"source": source, "destination": gone, "amount": TEN},
    ]
    with unchanged(), pytest.raises(exceptions.AccountNotFound) as refused:
        facade.transfer_many(items)
    assert refused.value.index == 1


def test_a_chunk_size_out_of_range_is_refused(source, account):
    for size in (0, facade.BATCH_CHUNK_SIZE_MAX + 1, 2.5):
        with pytest.raises(exceptions.InvalidTransfer):
            facade.transfer_many(
                [{"source": source, "destination": account, "amount": TEN}], chunk_size=size
            )


def test_monthly_points_credit_a_debit_normal_and_a_credit_normal_account(source):
    points = AccountFactory(kind=Kind.LIABILITY)
    expense = AccountFactory(kind=Kind.EXPENSE, credit_limit=None)
    facade.transfer_many(
        [
            {"source": expense, "destination": points, "amount": Decimal("5")},
            {"source": expense, "destination": points, "amount": Decimal("7")},
        ]
    )
    assert [b for _, _, b in legs_of(expense)] == [Decimal("5"), Decimal("12")]
    assert [b for _, _, b in legs_of(points)] == [Decimal("5"), Decimal("12")]
    assert_books_verify()


def test_a_database_that_returns_no_keys_from_a_bulk_insert_gets_one_insert_per_transfer(
    source, monkeypatch
):
    from django.db import connection

    monkeypatch.setattr(
        type(connection.features), "can_return_rows_from_bulk_insert", False, raising=False
    )
    cards = AccountFactory.create_batch(3)
    transfers = facade.transfer_many(
        [{"source": source, "destination": card, "amount": TEN} for card in cards] * 2
    )
    assert [t.destination_id for t in transfers] == [card.pk for card in cards] * 2
    assert len({t.pk for t in transfers}) == 6
    assert_books_verify()


def test_balances_move_in_several_updates_where_sqlite_has_no_update_from(source, monkeypatch):
    from django.db import connection

    if connection.vendor == "sqlite":  # elsewhere this is the usual join, which must pass too
        monkeypatch.setattr(connection.Database, "sqlite_version_info", (3, 31, 0))
    cards = AccountFactory.create_batch(150)
    facade.transfer_many([{"source": source, "destination": card, "amount": TEN} for card in cards])
    assert Account.objects.get(pk=cards[-1].pk).balance == TEN
    assert_books_verify()


def test_a_streamed_batch_that_keeps_no_results_uses_flat_memory(source):
    import tracemalloc

    cards = AccountFactory.create_batch(10)

    def peak_for(count: int) -> int:
        items = (
            {"source": source, "destination": cards[n % 10], "amount": Decimal("0.01")}
            for n in range(count)
        )
        tracemalloc.start()
        try:
            assert facade.transfer_many(items, chunk_size=200, return_transfers=False) == []
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    peak_for(200)  # warm the statement caches
    small, large = peak_for(400), peak_for(2000)
    assert large < small * 1.5, (small, large)
    assert Transfer.objects.count() == 2600
    assert Account.objects.get(pk=cards[0].pk).balance == Decimal("2.60")


@pytest.mark.parametrize("as_generator", [False, True])
def test_the_first_refused_item_is_reported_whichever_rule_refuses_a_later_one(
    source, funded, unchanged, as_generator
):
    shop = AccountFactory()
    items = [
        {"source": funded, "destination": shop, "amount": TEN},
        {"source": funded, "destination": shop, "amount": Decimal("95.00")},
        {"source": funded, "destination": shop, "amount": "1.00"},
    ]
    with unchanged(), pytest.raises(exceptions.InsufficientFunds) as refused:
        facade.transfer_many(iter(items) if as_generator else items)
    assert refused.value.index == 1
    with unchanged(), pytest.raises(exceptions.AmountNotDecimal) as refused:
        facade.transfer_many(iter(items[::2]) if as_generator else items[::2])
    assert refused.value.index == 1


def test_back_dated_items_between_others_keep_each_accounts_legs_in_order(source, account):
    from django.utils import timezone

    facade.transfer(source, account, TEN)
    last_week = timezone.now() - timezone.timedelta(days=7)
    transfers = facade.transfer_many(
        [
            {"source": source, "destination": account, "amount": Decimal("1")},
            {"source": source, "destination": account, "amount": Decimal("2"), "date": last_week},
            {"source": source, "destination": account, "amount": Decimal("3")},
        ]
    )
    assert transfers[1].created_at == last_week
    flags = list(
        Transaction.objects.filter(account=account)
        .order_by("account_version")
        .values_list("account_version", "backdated")
    )
    assert flags == [(1, False), (2, False), (3, True), (4, False)]
    assert account.balance == Decimal("16.00")
    assert_books_verify()


def test_an_item_that_is_not_a_mapping_is_refused_even_first(unchanged):
    with unchanged(), pytest.raises(exceptions.InvalidTransfer) as refused:
        facade.transfer_many([None])
    assert refused.value.index == 0


def test_an_entry_whose_lines_are_not_a_list_is_refused(source, account, unchanged):
    with unchanged(), pytest.raises(exceptions.InvalidEntry) as refused:
        facade.transfer_many(
            [
                {"source": source, "destination": account, "amount": TEN},
                {"lines": facade.Debit(source, TEN)},
            ]
        )
    assert refused.value.index == 1


def test_a_refusal_names_its_item_in_the_active_language(source, account):
    from django.utils import translation

    with translation.override("de"), pytest.raises(exceptions.SameAccount) as refused:
        facade.transfer_many([{"source": source, "destination": source, "amount": TEN}])
    assert refused.value.message == "Eintrag 0: Quell- und Zielkonto sind dasselbe Konto."


# -- idempotency keys ---------------------------------------------------------------------------


def test_a_keyed_batch_replays_its_transfers_in_order_and_writes_nothing(
    source, account, unchanged
):
    from accounts.models import IdempotencyKey

    other = AccountFactory()
    items = [
        {"source": source, "destination": account, "amount": Decimal("2.00")},
        {"source": source, "destination": other, "amount": Decimal("3.00")},
    ]
    first = facade.transfer_many(items, idempotency_key="month-2026-11")
    with unchanged():
        again = facade.transfer_many(list(items), idempotency_key="month-2026-11")
    assert [t.pk for t in again] == [t.pk for t in first]
    assert IdempotencyKey.objects.get(key="month-2026-11").transfers == [t.pk for t in first]


def test_a_keyed_batch_with_other_items_is_refused(source, account, unchanged):
    items = [{"source": source, "destination": account, "amount": Decimal("2.00")}]
    facade.transfer_many(items, idempotency_key="batch-1")
    changed = [{"source": source, "destination": account, "amount": Decimal("2.01")}]
    with unchanged(), pytest.raises(exceptions.IdempotencyConflict) as refused:
        facade.transfer_many(changed, idempotency_key="batch-1")
    assert refused.value.fields == ("items",)


def test_a_refused_keyed_batch_leaves_the_key_free(source, account, unchanged):
    card = AccountFactory()
    items = [{"source": card, "destination": account, "amount": Decimal("5.00")}]
    with unchanged(), pytest.raises(exceptions.InsufficientFunds):
        facade.transfer_many(items, idempotency_key="batch-2")
    facade.transfer(source, card, Decimal("5.00"))
    assert len(facade.transfer_many(items, idempotency_key="batch-2")) == 1


def test_a_keyed_batch_must_be_a_list_or_tuple(source, account, unchanged):
    items = ({"source": source, "destination": account, "amount": Decimal("1.00")} for _ in "ab")
    with unchanged(), pytest.raises(exceptions.InvalidTransfer):
        facade.transfer_many(items, idempotency_key="batch-3")
