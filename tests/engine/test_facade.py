"""The facade as a careful user meets it: transfers, refusals, reversals, refunds, loads."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser, Permission
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError
from django.test import override_settings
from django.utils import timezone

from accounts import codes, exceptions, facade
from accounts.models import Account, Kind, Status, Transaction, Transfer, TransferKind

from ..factories import AccountFactory, SourceAccountFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

TEN = Decimal("10.00")


def days(n: float) -> datetime.timedelta:
    return datetime.timedelta(days=n)


def refresh(*accounts: Account) -> None:
    for account in accounts:
        account.refresh_from_db()


def user_with_spend_permission() -> Any:
    user = UserFactory()
    user.user_permissions.add(Permission.objects.get(codename="spend_from_any_account"))
    # Permissions are cached on the instance: fetch it again as a request would.
    return type(user).objects.get(pk=user.pk)


# -- the happy path ---------------------------------------------------------------------------


def test_a_transfer_debits_the_source_and_credits_the_destination(source, account):
    t = facade.transfer(source=source, destination=account, amount=TEN)
    legs = {leg.account_id: leg.amount for leg in t.transactions.all()}
    assert legs == {source.pk: -TEN, account.pk: TEN}
    refresh(source, account)
    assert source.balance == TEN  # an asset grows with a debit
    assert account.balance == TEN  # a liability grows with a credit


def test_the_callers_objects_show_the_new_balances(source, account):
    facade.transfer(source, account, TEN)
    assert account.balance == TEN
    assert source.balance == TEN
    assert (account.version, source.version) == (1, 1)


def test_a_transfer_records_its_fields(source, account, staff):
    t = facade.transfer(
        source,
        account,
        TEN,
        user=staff,
        merchant_reference="order-17",
        description="Welcome credit",
    )
    t = Transfer.objects.get(pk=t.pk)
    assert (t.source, t.destination, t.amount, t.currency) == (source, account, TEN, "GBP")
    assert (t.user, t.username) == (staff, staff.username)
    assert (t.merchant_reference, t.description, t.parent) == ("order-17", "Welcome credit", None)
    assert t.kind == TransferKind.TRANSFER
    assert t.created_at <= timezone.now()
    assert t.transactions.count() == 2


def test_transfer_references_are_unique_grouped_codes(source, account):
    pattern = re.compile(rf"^[{codes.ALPHABET}]{{4}}(-[{codes.ALPHABET}]{{4}}){{3}}$")
    references = {facade.transfer(source, account, Decimal(1)).reference for _ in range(30)}
    assert len(references) == 30
    assert all(pattern.match(reference) for reference in references)


def test_a_transfer_is_found_by_its_reference_as_typed(source, account):
    t = facade.transfer(source, account, TEN)
    typed = t.reference.lower().replace("-", " ")
    assert Transfer.objects.get_by_reference(typed) == t


def test_amount_source_and_destination_may_be_passed_by_position(source, account):
    facade.transfer(source, account, TEN)
    assert account.balance == TEN


def test_other_arguments_are_keyword_only(source, account, staff):
    with pytest.raises(TypeError):
        facade.transfer(source, account, TEN, None, staff)  # type: ignore[misc]


def test_an_int_amount_is_accepted(source, account):
    facade.transfer(source, account, 7)
    assert account.balance == Decimal("7.00")


def test_trailing_zeros_beyond_the_currency_places_are_not_too_precise(source, account):
    facade.transfer(source, account, Decimal("1.5000"))
    assert account.balance == Decimal("1.50")


def test_a_three_place_currency_takes_three_places():
    dinar_source = SourceAccountFactory(currency="BHD")
    wallet = AccountFactory(currency="BHD")
    facade.transfer(dinar_source, wallet, Decimal("1.234"))
    assert wallet.balance == Decimal("1.234")


# -- guarantee 5: bad input gets a clear error and writes nothing ----------------------------


@pytest.mark.parametrize(
    ("amount", "error"),
    [
        (Decimal("0"), exceptions.AmountNotPositive),
        (Decimal("0.00"), exceptions.AmountNotPositive),
        (0, exceptions.AmountNotPositive),
        (Decimal("-0"), exceptions.AmountNotPositive),
        (Decimal("-5.00"), exceptions.AmountNotPositive),
        (-5, exceptions.AmountNotPositive),
        (Decimal("NaN"), exceptions.AmountNotFinite),
        (Decimal("sNaN"), exceptions.AmountNotFinite),
        (Decimal("Infinity"), exceptions.AmountNotFinite),
        (Decimal("-Infinity"), exceptions.AmountNotFinite),
        (10.0, exceptions.AmountNotDecimal),
        (float("nan"), exceptions.AmountNotDecimal),
        ("10.00", exceptions.AmountNotDecimal),
        (True, exceptions.AmountNotDecimal),
        (None, exceptions.AmountNotDecimal),
        (Decimal("1.001"), exceptions.AmountTooPrecise),
        (Decimal("0.00001"), exceptions.AmountTooPrecise),
        (Decimal("1E+30"), exceptions.AmountTooLarge),
    ],
    ids=repr,
)
def test_a_bad_amount_is_refused_and_writes_nothing(source, account, unchanged, amount, error):
    with unchanged(), pytest.raises(error) as caught:
        facade.transfer(source, account, amount)
    assert isinstance(caught.value, exceptions.InvalidAmount)
    assert account.balance == 0


def test_a_whole_yen_currency_refuses_fractions(unchanged):
    yen_source = SourceAccountFactory(currency="JPY")
    wallet = AccountFactory(currency="JPY")
    with unchanged(), pytest.raises(exceptions.AmountTooPrecise):
        facade.transfer(yen_source, wallet, Decimal("1.5"))
    facade.transfer(yen_source, wallet, Decimal("150"))
    assert wallet.balance == 150


@pytest.mark.parametrize("side", ["source", "destination"])
def test_an_unsaved_account_is_refused(source, account, unchanged, side):
    accounts = {"source": source, "destination": account, side: Account(name="unsaved")}
    with unchanged(), pytest.raises(exceptions.AccountNotSaved):
        facade.transfer(accounts["source"], accounts["destination"], TEN)


@pytest.mark.parametrize("not_an_account", [None, 42, "CORE-SOURCE"])
def test_something_that_is_not_an_account_is_refused(source, unchanged, not_an_account):
    with unchanged(), pytest.raises(exceptions.InvalidAccount):
        facade.transfer(source, not_an_account, TEN)


@pytest.mark.parametrize("side", ["source", "destination"])
def test_an_account_deleted_after_it_was_loaded_is_not_found(funded, unchanged, side):
    other = AccountFactory()
    accounts = {"source": funded, "destination": other}
    Account.objects.filter(pk=other.pk).delete()  # gone from the database, still in memory
    if side == "source":
        accounts = {"source": other, "destination": funded}
    with unchanged(), pytest.raises(exceptions.AccountNotFound):
        facade.transfer(accounts["source"], accounts["destination"], TEN)


def test_the_same_account_on_both_sides_is_refused(funded, unchanged):
    same_row = Account.objects.get(pk=funded.pk)
    with unchanged(), pytest.raises(exceptions.SameAccount):
        facade.transfer(funded, same_row, TEN)


def close(account: Account) -> None:
    facade.close_account(account)


def freeze(account: Account) -> None:
    facade.freeze_account(account)


def expire(account: Account) -> None:
    Account.objects.filter(pk=account.pk).update(end_date=timezone.now() - days(1))


def postpone(account: Account) -> None:
    Account.objects.filter(pk=account.pk).update(start_date=timezone.now() + days(1))


UNUSABLE = {
    "closed": (close, exceptions.ClosedAccount),
    "frozen": (freeze, exceptions.FrozenAccount),
    "expired": (expire, exceptions.AccountExpired),
    "not yet active": (postpone, exceptions.AccountNotYetActive),
}


@pytest.mark.parametrize("state", UNUSABLE)
def test_an_unusable_destination_is_refused(source, unchanged, state):
    make_unusable, error = UNUSABLE[state]
    destination = AccountFactory()
    make_unusable(destination)
    with unchanged(), pytest.raises(error) as caught:
        facade.transfer(source, destination, TEN)
    assert isinstance(caught.value, exceptions.InactiveAccount)


@pytest.mark.parametrize("state", UNUSABLE)
def test_an_unusable_source_is_refused(unchanged, state):
    make_unusable, error = UNUSABLE[state]
    spender = AccountFactory(credit_limit=Decimal("50.00"))  # closable at zero, yet able to pay
    make_unusable(spender)
    shop = AccountFactory()
    with unchanged(), pytest.raises(error) as caught:
        facade.transfer(spender, shop, Decimal("1.00"))
    assert isinstance(caught.value, exceptions.InactiveAccount)


def test_a_stale_open_status_on_the_callers_object_does_not_help(funded, unchanged):
    stale = Account.objects.get(pk=funded.pk)
    facade.freeze_account(funded)
    assert stale.status == Status.OPEN
    shop = AccountFactory()
    with unchanged(), pytest.raises(exceptions.FrozenAccount):
        facade.transfer(stale, shop, Decimal("1.00"))
    assert stale.status == Status.OPEN


def test_a_window_that_is_open_now_is_usable(source):
    windowed = AccountFactory(
        start_date=timezone.now() - days(1), end_date=timezone.now() + days(7)
    )
    facade.transfer(source, windowed, TEN)
    assert windowed.balance == TEN


def test_accounts_in_different_currencies_are_refused(source, unchanged):
    euros = AccountFactory(currency="EUR")
    with unchanged(), pytest.raises(exceptions.CurrencyMismatch):
        facade.transfer(source, euros, TEN)


def test_spending_more_than_the_balance_is_refused(funded, account, unchanged):
    with unchanged(), pytest.raises(exceptions.InsufficientFunds):
        facade.transfer(funded, account, Decimal("100.01"))
    assert funded.balance == Decimal("100.00")


def test_spending_past_the_credit_limit_is_refused(source, account, unchanged):
    credit_line = AccountFactory(credit_limit=Decimal("50.00"))
    facade.transfer(source, credit_line, TEN)
    with unchanged(), pytest.raises(exceptions.InsufficientFunds):
        facade.transfer(credit_line, account, Decimal("60.01"))


def test_spending_exactly_down_to_the_credit_limit_is_allowed(source):
    credit_line = AccountFactory(credit_limit=Decimal("50.00"))
    facade.transfer(source, credit_line, TEN)
    facade.transfer(credit_line, AccountFactory(), Decimal("60.00"))
    assert credit_line.balance == Decimal("-50.00")
    assert credit_line.amount_available == 0


def test_an_account_without_credit_limit_can_go_as_low_as_needed():
    unlimited = AccountFactory(credit_limit=None)
    facade.transfer(unlimited, AccountFactory(), Decimal("1000000.00"))
    assert unlimited.balance == Decimal("-1000000.00")


def test_a_limited_asset_cannot_be_credited_below_its_limit(source, unchanged):
    # Crediting a debit-normal account lowers its balance, so its limit applies to credits.
    till = AccountFactory(kind=Kind.ASSET, credit_limit=Decimal("0.00"))
    with unchanged(), pytest.raises(exceptions.InsufficientFunds):
        facade.transfer(source, till, TEN)


def test_an_amount_too_large_for_the_columns_is_refused(source, account, unchanged):
    with unchanged(), pytest.raises(exceptions.AmountTooLarge):
        facade.transfer(source, account, facade.MAX_AMOUNT + 1)


def test_a_balance_too_large_for_its_column_is_refused(unchanged):
    # Half of what the columns hold (SQLite: what its floating point keeps exactly), plus one:
    # accepted once, and twice that passes the limit.
    exact = facade.SQLITE_MAX_AMOUNT if connection.vendor == "sqlite" else facade.MAX_AMOUNT
    half = exact // 2 + 1
    unlimited, vault = SourceAccountFactory(), AccountFactory()
    facade.transfer(unlimited, vault, half)
    with unchanged(), pytest.raises(exceptions.AmountTooLarge):
        facade.transfer(unlimited, vault, half)


def test_a_parent_that_is_not_a_saved_transfer_is_refused(source, account, unchanged):
    with unchanged(), pytest.raises(exceptions.InvalidTransfer):
        facade.transfer(source, account, TEN, parent=Transfer())  # type: ignore[misc]


# -- authorisation: the user must be allowed to spend from the source --------------------------


def owned_and_funded(source: Account, **fields: Any) -> Account:
    account = AccountFactory(**fields)
    facade.transfer(source, account, TEN)
    return account


def test_the_primary_user_may_spend(source):
    owner = UserFactory()
    card = owned_and_funded(source, primary_user=owner)
    facade.transfer(card, AccountFactory(), Decimal("1.00"), user=owner)
    assert card.balance == Decimal("9.00")


def test_another_user_may_not_spend_from_a_users_account(source, unchanged):
    card = owned_and_funded(source, primary_user=UserFactory())
    shop = AccountFactory()
    for stranger in (UserFactory(), StaffFactory(), AnonymousUser()):
        with unchanged(), pytest.raises(exceptions.Unauthorised):
            facade.transfer(card, shop, Decimal("1.00"), user=stranger)


def test_a_secondary_user_may_spend(source):
    card = owned_and_funded(source, primary_user=UserFactory())
    helper = UserFactory()
    card.secondary_users.add(helper)
    facade.transfer(card, AccountFactory(), Decimal("1.00"), user=helper)
    assert card.balance == Decimal("9.00")


def test_an_account_with_only_secondary_users_refuses_others(source, unchanged):
    shared = owned_and_funded(source)
    members = [UserFactory(), UserFactory()]
    shared.secondary_users.add(*members)
    shop, stranger = AccountFactory(), UserFactory()
    facade.transfer(shared, shop, Decimal("1.00"), user=members[1])
    with unchanged(), pytest.raises(exceptions.Unauthorised):
        facade.transfer(shared, shop, Decimal("1.00"), user=stranger)


def test_the_spend_from_any_account_permission_lets_staff_spend(source):
    card = owned_and_funded(source, primary_user=UserFactory())
    facade.transfer(card, AccountFactory(), Decimal("1.00"), user=user_with_spend_permission())
    superuser = UserFactory(is_superuser=True)
    facade.transfer(card, AccountFactory(), Decimal("1.00"), user=superuser)
    assert card.balance == Decimal("8.00")


def test_an_account_without_users_may_be_spent_by_anyone(source):
    card = owned_and_funded(source)
    facade.transfer(card, AccountFactory(), Decimal("1.00"), user=UserFactory())
    facade.transfer(card, AccountFactory(), Decimal("1.00"), user=AnonymousUser())
    assert card.balance == Decimal("8.00")


def test_only_the_source_needs_authorising(source):
    owner = UserFactory()
    card = owned_and_funded(source, primary_user=owner)
    someone_elses = AccountFactory(primary_user=UserFactory())
    facade.transfer(card, someone_elses, Decimal("1.00"), user=owner)
    assert someone_elses.balance == Decimal("1.00")


def test_without_a_user_the_caller_is_trusted(source):
    card = owned_and_funded(source, primary_user=UserFactory())
    facade.transfer(card, AccountFactory(), Decimal("1.00"))
    assert card.balance == Decimal("9.00")


def test_the_facade_and_can_be_authorised_by_agree(source):
    owner, helper, stranger = UserFactory(), UserFactory(), UserFactory()
    card = owned_and_funded(source, primary_user=owner)
    card.secondary_users.add(helper)
    for person in (owner, helper, stranger, AnonymousUser(), user_with_spend_permission()):
        try:
            facade.transfer(card, AccountFactory(), Decimal("0.01"), user=person)
        except exceptions.Unauthorised:
            allowed = False
        else:
            allowed = True
        assert card.can_be_authorised_by(person) is allowed, person


# -- guarantee 2: all or nothing, inside the caller's transaction ----------------------------


class OrderFailed(Exception):
    pass


@pytest.mark.django_db(transaction=True)
def test_a_transfer_inside_the_callers_transaction_rolls_back_with_it():
    source, card = SourceAccountFactory(), AccountFactory()
    transfers_before = Transfer.objects.count()
    with pytest.raises(OrderFailed), transaction.atomic():
        facade.transfer(source, card, TEN)
        assert card.balance == TEN
        raise OrderFailed
    refresh(source, card)
    assert (source.balance, card.balance, card.version) == (0, 0, 0)
    assert Transfer.objects.count() == transfers_before
    assert not Transaction.objects.filter(account=card).exists()


@pytest.mark.django_db(transaction=True)
def test_a_refusal_caught_inside_the_callers_transaction_does_not_spoil_it():
    source, card = SourceAccountFactory(), AccountFactory()
    with transaction.atomic():
        with pytest.raises(exceptions.InsufficientFunds):
            facade.transfer(card, AccountFactory(), TEN)
        with pytest.raises(exceptions.SameAccount):
            facade.transfer(card, card, TEN)
        assert not connection.needs_rollback
        facade.transfer(source, card, TEN)
        AccountFactory(name="made after the refusal")
    refresh(card)
    assert card.balance == TEN
    assert Account.objects.filter(name="made after the refusal").exists()


@pytest.mark.django_db(transaction=True)
def test_a_transfer_outside_any_transaction_commits_on_its_own():
    source, card = SourceAccountFactory(), AccountFactory()
    facade.transfer(source, card, TEN)
    assert not connection.in_atomic_block
    refresh(card)
    assert card.balance == TEN


# -- reversals and refunds ----------------------------------------------------------------------


def test_reverse_returns_a_transfer_pointing_at_the_original(funded, staff):
    t = facade.transfer(funded, AccountFactory(), Decimal("30.00"))
    r = facade.reverse(t, user=staff, description="Wrong card")
    assert isinstance(r, Transfer)
    assert (r.parent, r.kind, r.amount) == (t, TransferKind.REVERSAL, Decimal("30.00"))
    assert (r.source_id, r.destination_id) == (t.destination_id, t.source_id)
    assert (r.user, r.username, r.description) == (staff, staff.username, "Wrong card")
    refresh(funded)
    assert funded.balance == Decimal("100.00")
    assert list(t.children.all()) == [r]


def test_reverse_needs_no_authorisation_on_the_original_destination(source, staff):
    card = AccountFactory(primary_user=UserFactory())
    t = facade.transfer(source, card, TEN)
    facade.reverse(t, user=staff)
    refresh(card)
    assert card.balance == 0


def test_reversing_twice_is_refused(funded, unchanged):
    t = facade.transfer(funded, AccountFactory(), TEN)
    facade.reverse(t)
    with unchanged(), pytest.raises(exceptions.AlreadyReversed):
        facade.reverse(t)
    stale_copy = Transfer.objects.get(pk=t.pk)
    with unchanged(), pytest.raises(exceptions.AlreadyReversed):
        facade.reverse(stale_copy)


def test_reversing_a_reversal_is_refused(funded, unchanged):
    r = facade.reverse(facade.transfer(funded, AccountFactory(), TEN))
    with unchanged(), pytest.raises(exceptions.CannotReverseReversal):
        facade.reverse(r)


def test_refunding_a_reversal_is_refused(funded, unchanged):
    shop = AccountFactory()
    r = facade.reverse(facade.transfer(funded, shop, TEN))
    with unchanged(), pytest.raises(exceptions.CannotReverseReversal):
        facade.transfer(r.destination, r.source, Decimal("1.00"), parent=r)


def test_reversing_an_unsaved_transfer_is_refused(unchanged):
    with unchanged(), pytest.raises(exceptions.InvalidTransfer):
        facade.reverse(Transfer())


def test_a_reversal_onto_a_frozen_account_is_refused(funded, unchanged):
    t = facade.transfer(funded, AccountFactory(), TEN)
    facade.freeze_account(funded)
    with unchanged(), pytest.raises(exceptions.FrozenAccount):
        facade.reverse(t)


def test_a_reversal_that_would_overdraw_the_destination_is_refused(funded, unchanged):
    shop = AccountFactory()
    t = facade.transfer(funded, shop, TEN)
    facade.transfer(shop, AccountFactory(), Decimal("5.00"))
    with unchanged(), pytest.raises(exceptions.InsufficientFunds):
        facade.reverse(t)


def test_a_transfer_to_an_account_that_has_since_expired_can_still_be_reversed(source):
    card = AccountFactory(end_date=timezone.now() + days(1))
    t = facade.transfer(source, card, TEN)
    Account.objects.filter(pk=card.pk).update(end_date=timezone.now() - days(1))
    facade.reverse(t)
    refresh(card)
    assert card.balance == 0


def test_a_refund_is_a_transfer_back_with_the_original_as_parent(funded):
    shop = AccountFactory()
    sale = facade.transfer(funded, shop, Decimal("40.00"))
    refund = facade.transfer(shop, funded, Decimal("15.00"), parent=sale)
    assert (refund.parent, refund.kind) == (sale, TransferKind.REFUND)
    assert facade.refundable_amount(sale) == Decimal("25.00")
    assert funded.balance == Decimal("75.00")


def test_refunds_are_capped_by_what_remains(funded, unchanged):
    shop = AccountFactory()
    sale = facade.transfer(funded, shop, Decimal("40.00"))
    facade.transfer(shop, funded, Decimal("30.00"), parent=sale)
    with unchanged(), pytest.raises(exceptions.RefundExceedsRemaining):
        facade.transfer(shop, funded, Decimal("10.01"), parent=sale)
    facade.transfer(shop, funded, Decimal("10.00"), parent=sale)
    assert facade.refundable_amount(sale) == 0
    with unchanged(), pytest.raises(exceptions.AlreadyReversed):
        facade.transfer(shop, funded, Decimal("0.01"), parent=sale)


def test_a_refund_after_a_reversal_is_refused(funded, unchanged):
    shop = AccountFactory()
    sale = facade.transfer(funded, shop, Decimal("40.00"))
    facade.transfer(AccountFactory(credit_limit=None), shop, Decimal("40.00"))
    facade.reverse(sale)
    with unchanged(), pytest.raises(exceptions.AlreadyReversed):
        facade.transfer(shop, funded, Decimal("1.00"), parent=sale)


def test_reverse_after_a_partial_refund_reverses_only_what_remains(funded):
    shop = AccountFactory()
    sale = facade.transfer(funded, shop, Decimal("40.00"))
    facade.transfer(shop, funded, Decimal("15.00"), parent=sale)
    r = facade.reverse(sale)
    assert r.amount == Decimal("25.00")
    refresh(funded, shop)
    assert (funded.balance, shop.balance) == (Decimal("100.00"), 0)
    assert facade.refundable_amount(sale) == 0


def test_reverse_after_a_full_refund_is_refused(funded, unchanged):
    shop = AccountFactory()
    sale = facade.transfer(funded, shop, Decimal("40.00"))
    facade.transfer(shop, funded, Decimal("40.00"), parent=sale)
    with unchanged(), pytest.raises(exceptions.AlreadyReversed):
        facade.reverse(sale)


def test_a_reversed_refund_makes_its_amount_refundable_again(funded):
    shop = AccountFactory()
    sale = facade.transfer(funded, shop, Decimal("40.00"))
    refund = facade.transfer(shop, funded, Decimal("15.00"), parent=sale)
    assert facade.refundable_amount(sale) == Decimal("25.00")
    facade.reverse(refund)  # the refund was a mistake: the 15.00 goes back to the shop
    assert facade.refundable_amount(sale) == Decimal("40.00")
    reversal = facade.reverse(sale)
    assert reversal.amount == Decimal("40.00")
    refresh(funded, shop)
    assert (funded.balance, shop.balance) == (Decimal("100.00"), 0)
    assert facade.refundable_amount(sale) == 0


def test_a_partly_refunded_refund_gives_back_only_what_it_still_gives(funded):
    shop = AccountFactory()
    sale = facade.transfer(funded, shop, Decimal("40.00"))
    refund = facade.transfer(shop, funded, Decimal("15.00"), parent=sale)
    facade.transfer(funded, shop, Decimal("5.00"), parent=refund)
    assert facade.refundable_amount(refund) == Decimal("10.00")
    assert facade.refundable_amount(sale) == Decimal("30.00")


def test_a_transfer_with_a_parent_in_the_same_direction_is_not_capped(funded):
    shop = AccountFactory()
    sale = facade.transfer(funded, shop, Decimal("10.00"))
    extra = facade.transfer(funded, shop, Decimal("20.00"), parent=sale)
    assert (extra.parent, extra.kind) == (sale, TransferKind.TRANSFER)
    assert facade.refundable_amount(sale) == Decimal("10.00")


# -- users and accounts stay deletable without losing history -------------------------------


def test_deleting_a_user_keeps_their_transfers_and_username(source, account):
    clerk = StaffFactory(username="clerk")
    t = facade.transfer(source, account, TEN, user=clerk)
    clerk.delete()
    t = Transfer.objects.get(pk=t.pk)
    assert (t.user, t.username) == (None, "clerk")
    assert t.transactions.count() == 2


def test_deleting_an_account_holder_keeps_the_account(source):
    owner, helper = UserFactory(), UserFactory()
    card = owned_and_funded(source, primary_user=owner)
    card.secondary_users.add(helper)
    facade.transfer(card, AccountFactory(), Decimal("1.00"), user=owner)
    owner.delete()
    helper.delete()
    refresh(card)
    assert card.primary_user is None
    assert not card.secondary_users.exists()
    assert card.balance == Decimal("9.00")


def test_deleting_an_account_with_history_is_refused_and_deletes_nothing(funded):
    legs_before = Transaction.objects.count()
    with pytest.raises((ProtectedError, IntegrityError)), transaction.atomic():
        funded.delete()
    with pytest.raises((ProtectedError, IntegrityError)), transaction.atomic():
        Account.objects.filter(pk=funded.pk).delete()
    refresh(funded)
    assert funded.balance == Decimal("100.00")
    assert Transaction.objects.count() == legs_before


def test_an_account_without_history_can_be_deleted():
    scratch = AccountFactory()
    scratch.delete()
    assert not Account.objects.filter(pk=scratch.pk).exists()


# -- ledger rows are append-only --------------------------------------------------------------


def test_saving_an_existing_transfer_is_refused(source, account):
    t = facade.transfer(source, account, TEN, description="original")
    t.description = "rewritten"
    with pytest.raises(exceptions.LedgerImmutable):
        t.save()
    assert Transfer.objects.get(pk=t.pk).description == "original"


def test_deleting_a_transfer_or_a_leg_is_refused(source, account):
    t = facade.transfer(source, account, TEN)
    with pytest.raises(exceptions.LedgerImmutable):
        t.delete()
    leg = t.transactions.first()
    assert leg is not None
    leg.amount = Decimal("99.00")
    with pytest.raises(exceptions.LedgerImmutable):
        leg.save()
    with pytest.raises(exceptions.LedgerImmutable):
        leg.delete()
    assert Transaction.objects.filter(transfer=t).count() == 2


@pytest.mark.parametrize("model", [Transfer, Transaction], ids=lambda m: m.__name__)
def test_queryset_updates_and_deletes_of_ledger_rows_are_refused(source, account, model):
    facade.transfer(source, account, TEN)
    rows = model.objects.all()
    count = rows.count()
    with pytest.raises(exceptions.LedgerImmutable):
        rows.update(created_at=timezone.now())
    with pytest.raises(exceptions.LedgerImmutable):
        rows.delete()
    with pytest.raises(exceptions.LedgerImmutable), transaction.atomic():
        model.objects.bulk_update(list(rows), ["created_at"])
    assert model.objects.count() == count


def test_an_immutable_ledger_error_is_also_an_integrity_error():
    assert issubclass(exceptions.LedgerImmutable, IntegrityError)


# -- creating and topping up accounts -----------------------------------------------------------


def test_create_account_loads_the_opening_balance_from_the_core_source(staff):
    card = facade.create_account(amount=Decimal("25.00"), name="Gift card", user=staff)
    assert card.pk is not None and card.name == "Gift card"
    assert card.balance == Decimal("25.00")
    load = Transfer.objects.get(destination=card)
    assert load.source == Account.objects.source()
    assert load.username == staff.username


def test_create_account_without_an_amount_creates_an_empty_account():
    card = facade.create_account(name="Empty")
    assert card.balance == 0 and not Transfer.objects.filter(destination=card).exists()


@override_settings(
    ACCOUNTS_MIN_INITIAL_VALUE=Decimal("5.00"), ACCOUNTS_MAX_INITIAL_VALUE=Decimal("500.00")
)
def test_loads_are_bounded_by_the_min_and_max_settings(unchanged):
    for amount in (Decimal("4.99"), Decimal("500.01")):
        with unchanged(), pytest.raises(exceptions.AmountOutOfRange):
            facade.create_account(amount=amount, name="Out of range")
    assert not Account.objects.filter(name="Out of range").exists()
    assert facade.create_account(amount=Decimal("5.00")).balance == Decimal("5.00")
    assert facade.create_account(amount=Decimal("500.00")).balance == Decimal("500.00")


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"status": Status.FROZEN}, exceptions.FrozenAccount),
        ({"end_date": timezone.now() - days(1)}, exceptions.AccountExpired),
    ],
    ids=["frozen", "expired"],
)
def test_a_refused_load_leaves_no_account_behind(unchanged, fields, error):
    accounts_before = Account.objects.count()
    with unchanged(), pytest.raises(error):
        facade.create_account(amount=TEN, name="Left behind?", **fields)
    assert Account.objects.count() == accounts_before


def test_a_load_in_another_currency_than_its_source_leaves_no_account_behind(unchanged):
    gbp_source = Account.objects.source()
    accounts_before = Account.objects.count()
    with unchanged(), pytest.raises(exceptions.CurrencyMismatch):
        facade.create_account(amount=TEN, source=gbp_source, currency="EUR")
    assert Account.objects.count() == accounts_before


def test_a_load_without_a_source_comes_from_the_source_of_its_currency():
    card = facade.create_account(amount=TEN, currency="EUR")
    assert card.balance == TEN
    eur_source = Account.objects.source(currency="EUR")
    assert eur_source.currency == "EUR" and eur_source.code == "CORE-SOURCE-EUR"
    assert Account.objects.source().currency == "GBP"


def test_a_load_from_an_empty_limited_source_leaves_no_account_behind(account, unchanged):
    accounts_before = Account.objects.count()
    with unchanged(), pytest.raises(exceptions.InsufficientFunds):
        facade.create_account(amount=TEN, source=account)
    assert Account.objects.count() == accounts_before


def test_a_bad_load_amount_creates_nothing(unchanged):
    accounts_before = Account.objects.count()
    with unchanged(), pytest.raises(exceptions.AmountNotDecimal):
        facade.create_account(amount=10.0)
    assert Account.objects.count() == accounts_before


def test_top_up_adds_to_the_balance(account, staff):
    t = facade.top_up(account, TEN, user=staff)
    assert t.destination == account and t.source == Account.objects.source()
    assert t.username == staff.username
    refresh(account)
    assert account.balance == TEN


@override_settings(ACCOUNTS_MAX_INITIAL_VALUE=Decimal("100.00"))
def test_a_top_up_may_not_take_the_balance_above_the_maximum(funded, unchanged):
    facade.transfer(funded, AccountFactory(), Decimal("30.00"))
    stale = Account.objects.get(pk=funded.pk)
    facade.top_up(funded, Decimal("20.00"))
    with unchanged(), pytest.raises(exceptions.AmountOutOfRange):
        facade.top_up(stale, Decimal("10.01"))  # stale thinks the balance is 70
    facade.top_up(funded, Decimal("10.00"))
    refresh(funded)
    assert funded.balance == Decimal("100.00")


@override_settings(ACCOUNTS_MIN_INITIAL_VALUE=Decimal("5.00"))
def test_a_top_up_below_the_minimum_is_refused(account, unchanged):
    with unchanged(), pytest.raises(exceptions.AmountOutOfRange):
        facade.top_up(account, Decimal("4.99"))


def test_a_top_up_of_a_deleted_account_is_not_found(unchanged):
    gone = AccountFactory()
    Account.objects.filter(pk=gone.pk).delete()
    with unchanged(), pytest.raises(exceptions.AccountNotFound):
        facade.top_up(gone, TEN)


def test_a_top_up_of_a_closed_account_is_refused(unchanged):
    closed = AccountFactory()
    close(closed)
    with unchanged(), pytest.raises(exceptions.ClosedAccount):
        facade.top_up(closed, TEN)


def test_an_amount_sqlite_cannot_keep_exactly_is_refused_there_only(source, account, unchanged):
    """SQLite stores decimals as floating point, exact to four places only below 10**11."""
    largest_exact, too_big = Decimal("99999999999.99"), Decimal("100000000000.01")
    if connection.vendor == "sqlite":
        with unchanged(), pytest.raises(exceptions.AmountTooLarge, match="SQLite"):
            facade.transfer(source, account, too_big)
        expected = largest_exact
    else:
        expected = too_big
    facade.transfer(source, account, expected)
    account.refresh_from_db()
    assert account.balance == expected
    assert Transaction.objects.get(account=account).balance_after == expected


@pytest.mark.django_db
def test_a_returned_transfer_reaches_the_callers_own_account_objects():
    source, card = SourceAccountFactory(), AccountFactory()

    made = facade.transfer(source, card, Decimal("10.00"))

    assert made.source is source and made.destination is card
    assert made.destination.balance == Decimal("10.00")


@pytest.mark.django_db
def test_reversing_shows_the_new_balances_on_the_accounts_reached_through_the_transfer():
    source, card = SourceAccountFactory(), AccountFactory()
    made = facade.transfer(source, card, Decimal("10.00"))

    reversal = facade.reverse(made)

    assert card.balance == Decimal("0.00") and source.balance == Decimal("0.00")
    assert reversal.source is card and reversal.destination is source


@pytest.mark.django_db
def test_reversing_a_transfer_read_back_from_the_database_leaves_other_objects_alone():
    source, card = SourceAccountFactory(), AccountFactory()
    made = facade.transfer(source, card, Decimal("10.00"))

    facade.reverse(Transfer.objects.get(pk=made.pk))

    assert card.balance == Decimal("10.00")  # a separate object: refresh it to see the change
    card.refresh_from_db()
    assert card.balance == Decimal("0.00")
