"""Accounts as objects: state, limits, authorisation, codes, core accounts and safe saving."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser, Permission
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.test import override_settings
from django.utils import timezone

from accounts import codes, exceptions, facade
from accounts.models import (
    EXPIRED_CODE,
    SALES_CODE,
    SOURCE_CODE,
    Account,
    Budget,
    Kind,
    Status,
)

from ..factories import AccountFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def days(n: float) -> datetime.timedelta:
    return datetime.timedelta(days=n)


# -- state ------------------------------------------------------------------------------------


def test_a_new_account_is_open_and_active():
    account = Account.objects.create()
    assert account.is_open() and account.is_active()
    assert not account.is_frozen() and not account.is_closed()
    assert (account.balance, account.credit_limit, account.status) == (0, 0, Status.OPEN)


@pytest.mark.parametrize(
    ("fields", "active"),
    [
        ({"start_date": NOW - days(1), "end_date": NOW + days(1)}, True),
        ({"start_date": NOW + days(1)}, False),
        ({"end_date": NOW - days(1)}, False),
        ({"status": Status.FROZEN}, False),
        ({"status": Status.CLOSED}, False),
    ],
    ids=["inside its window", "not yet started", "ended", "frozen", "closed"],
)
def test_is_active_needs_an_open_account_inside_its_window(fields, active):
    assert AccountFactory(**fields).is_active() is active


def test_is_active_can_be_asked_about_another_moment():
    windowed = AccountFactory(start_date=NOW + days(1), end_date=NOW + days(8))
    assert not windowed.is_active()
    assert windowed.is_active(NOW + days(2))
    assert not windowed.is_active(NOW + days(8))


def test_status_helpers_follow_freeze_thaw_and_close():
    account = AccountFactory()
    account.freeze()
    assert account.is_frozen() and not account.is_open() and not account.is_active()
    assert Account.objects.get(pk=account.pk).status == Status.FROZEN
    account.thaw()
    assert account.is_open() and Account.objects.get(pk=account.pk).is_open()
    account.close()
    assert account.is_closed() and Account.objects.get(pk=account.pk).is_closed()


def test_a_frozen_account_takes_no_postings_until_thawed(source, account):
    account.freeze()
    with pytest.raises(exceptions.FrozenAccount):
        facade.transfer(source, account, Decimal("1.00"))
    account.thaw()
    facade.transfer(source, account, Decimal("1.00"))
    assert account.balance == Decimal("1.00")


def test_closing_an_account_with_money_in_it_is_refused(funded, unchanged):
    with unchanged(), pytest.raises(exceptions.AccountNotEmpty):
        funded.close()
    assert funded.is_open()


def test_closing_an_overdrawn_account_is_refused(source, unchanged):
    credit_line = AccountFactory(credit_limit=Decimal("50.00"))
    facade.transfer(credit_line, source, Decimal("20.00"))
    with unchanged(), pytest.raises(exceptions.AccountNotEmpty):
        credit_line.close()


def test_a_closed_account_stays_closed(unchanged):
    account = AccountFactory()
    account.close()
    for change in (account.thaw, account.freeze, account.close):
        with unchanged(), pytest.raises(exceptions.ClosedAccount):
            change()


def test_a_frozen_account_with_a_zero_balance_can_be_closed():
    account = AccountFactory()
    account.freeze()
    account.close()
    assert account.is_closed()


def test_freezing_an_account_deleted_meanwhile_is_not_found():
    gone = AccountFactory()
    Account.objects.filter(pk=gone.pk).delete()
    with pytest.raises(exceptions.AccountNotFound):
        gone.freeze()


def test_freezing_an_unsaved_account_is_refused():
    with pytest.raises(exceptions.AccountNotSaved):
        Account().freeze()


# -- limits -------------------------------------------------------------------------------------


def test_amount_available_is_the_balance_plus_the_credit_limit(source):
    credit_line = AccountFactory(credit_limit=Decimal("50.00"))
    facade.transfer(source, credit_line, Decimal("20.00"))
    assert credit_line.amount_available == Decimal("70.00")
    assert AccountFactory(credit_limit=None).amount_available is None


@pytest.mark.parametrize(
    "make_inactive",
    [
        lambda account: account.freeze(),
        lambda account: account.close(),
        lambda account: setattr(account, "end_date", timezone.now() - datetime.timedelta(days=1)),
        lambda account: setattr(account, "start_date", timezone.now() + datetime.timedelta(days=1)),
    ],
    ids=["frozen", "closed", "expired", "not-yet-started"],
)
@pytest.mark.parametrize("credit_limit", [Decimal("50.00"), None], ids=["limit", "no-limit"])
def test_nothing_is_available_on_an_account_that_cannot_be_debited(make_inactive, credit_limit):
    account = AccountFactory(credit_limit=credit_limit)
    assert account.amount_available != Decimal("0")
    make_inactive(account)
    assert account.amount_available == Decimal("0")


def test_a_frozen_accounts_balance_is_kept_but_not_available(source):
    account = AccountFactory(credit_limit=Decimal("0.00"))
    facade.transfer(source, account, Decimal("20.00"))
    account.freeze()
    assert account.balance == Decimal("20.00")
    assert account.amount_available == Decimal("0")


def test_is_debit_permitted_guards_a_liabilitys_credit_limit(funded):
    assert funded.is_debit_permitted(Decimal("100.00"))
    assert not funded.is_debit_permitted(Decimal("100.01"))
    assert AccountFactory(credit_limit=None).is_debit_permitted(Decimal("1000000"))


def test_is_debit_permitted_always_allows_debiting_an_asset():
    # A debit raises a debit-normal balance, so it can never break the credit limit.
    bank = AccountFactory(kind=Kind.ASSET, credit_limit=Decimal("0.00"))
    expense = AccountFactory(kind=Kind.EXPENSE, credit_limit=Decimal("0.00"))
    assert bank.is_debit_permitted(Decimal("1000.00"))
    assert expense.is_debit_permitted(Decimal("1000.00"))


def test_is_debit_permitted_matches_what_the_facade_allows(funded):
    shop = AccountFactory()
    assert not funded.is_debit_permitted(Decimal("150.00"))
    with pytest.raises(exceptions.InsufficientFunds):
        facade.transfer(funded, shop, Decimal("150.00"))
    assert funded.is_debit_permitted(Decimal("60.00"))
    facade.transfer(funded, shop, Decimal("60.00"))


def test_a_negative_credit_limit_is_refused():
    with pytest.raises(exceptions.InvalidCreditLimit):
        Account.objects.create(credit_limit=Decimal("-1.00"))
    assert not Account.objects.filter(credit_limit__lt=0).exists()


def test_lowering_a_credit_limit_below_what_is_owed_is_refused(source):
    credit_line = AccountFactory(credit_limit=Decimal("50.00"))
    facade.transfer(credit_line, source, Decimal("30.00"))
    credit_line.credit_limit = Decimal("20.00")
    with pytest.raises(exceptions.InvalidCreditLimit):
        credit_line.save()
    credit_line.credit_limit = Decimal("30.00")
    credit_line.save()
    assert Account.objects.get(pk=credit_line.pk).credit_limit == Decimal("30.00")


def test_the_database_refuses_a_credit_limit_the_balance_breaks(source):
    credit_line = AccountFactory(credit_limit=Decimal("50.00"))
    facade.transfer(credit_line, source, Decimal("30.00"))
    stale = Account.objects.get(pk=credit_line.pk)
    stale.balance = Decimal("0.00")  # a stale copy that thinks nothing is owed
    stale.credit_limit = Decimal("0.00")
    with pytest.raises(IntegrityError), transaction.atomic():
        stale.save()
    assert Account.objects.get(pk=credit_line.pk).credit_limit == Decimal("50.00")


# -- authorisation ------------------------------------------------------------------------------


def test_can_be_authorised_by_follows_the_one_rule():
    owner, helper, stranger = UserFactory(), UserFactory(), UserFactory()
    spender = UserFactory()
    spender.user_permissions.add(Permission.objects.get(codename="spend_from_any_account"))
    spender = type(spender).objects.get(pk=spender.pk)
    owned = AccountFactory(primary_user=owner)
    owned.secondary_users.add(helper)
    nobodys = AccountFactory()
    assert owned.can_be_authorised_by(owner)
    assert owned.can_be_authorised_by(helper)
    assert owned.can_be_authorised_by(spender)
    assert not owned.can_be_authorised_by(stranger)
    assert not owned.can_be_authorised_by(AnonymousUser())
    assert not owned.can_be_authorised_by(None)
    assert nobodys.can_be_authorised_by(stranger)
    assert nobodys.can_be_authorised_by(AnonymousUser())


def test_can_be_authorised_by_does_not_query_for_an_unsaved_account(django_assert_num_queries):
    owner, stranger = UserFactory(), UserFactory()
    owned, nobodys = Account(primary_user=owner), Account()
    with django_assert_num_queries(0):
        assert owned.can_be_authorised_by(owner)
        assert not owned.can_be_authorised_by(stranger)
        assert nobodys.can_be_authorised_by(stranger)
        assert nobodys.can_be_authorised_by(None)


# -- codes --------------------------------------------------------------------------------------

CODE_PATTERN = re.compile(r"^[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}$")


def test_a_new_account_gets_a_grouped_code():
    account = Account.objects.create()
    assert CODE_PATTERN.match(account.code)


def test_generated_codes_are_unique():
    accounts = [Account.objects.create() for _ in range(50)]
    assert len({a.code for a in accounts}) == 50
    assert len({codes.generate() for _ in range(2000)}) == 2000


def test_codes_avoid_characters_people_confuse():
    drawn = "".join(codes.generate() for _ in range(500)).replace("-", "")
    assert not set(drawn) & set("0O1IL")
    assert set(drawn) <= set(codes.ALPHABET)
    assert not set(codes.ALPHABET) & set("0O1IL")


def test_an_explicit_code_is_kept():
    assert Account.objects.create(code="HOUSE-BANK").code == "HOUSE-BANK"


def test_codes_are_unique_in_the_database():
    Account.objects.create(code="DUP")
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.create(code="DUP")


def test_get_by_code_accepts_what_a_customer_types():
    card = Account.objects.create()
    compact = card.code.replace("-", "")
    for typed in (
        card.code,
        card.code.lower(),
        compact.lower(),
        " ".join(card.code.split("-")),
        f"  {card.code.lower()}  ",
    ):
        assert Account.objects.get_by_code(typed) == card, typed


def test_get_by_code_of_an_unknown_code_raises_does_not_exist():
    with pytest.raises(Account.DoesNotExist):
        Account.objects.get_by_code("AAAA-BBBB-CCCC-DDDD")


def test_budget_is_the_account_model():
    assert Budget is Account


# -- saving ------------------------------------------------------------------------------------


def test_saving_a_stale_instance_does_not_overwrite_a_newer_balance(source):
    card = AccountFactory(name="Old name")
    stale = Account.objects.get(pk=card.pk)
    facade.transfer(source, card, Decimal("25.00"))
    stale.name = "New name"
    stale.save()
    card.refresh_from_db()
    assert (card.name, card.balance, card.version) == ("New name", Decimal("25.00"), 1)


def test_setting_a_balance_by_hand_does_not_save_it(source):
    card = AccountFactory()
    card.balance = Decimal("1000000.00")
    card.save()
    card.refresh_from_db()
    assert card.balance == 0


# -- core accounts -----------------------------------------------------------------------------


def test_the_core_accounts_exist_after_migrate():
    kinds = dict(
        Account.objects.filter(code__in=[SOURCE_CODE, SALES_CODE, EXPIRED_CODE]).values_list(
            "code", "kind"
        )
    )
    assert kinds == {
        "CORE-SOURCE": Kind.ASSET,
        "CORE-SALES": Kind.INCOME,
        "CORE-EXPIRED": Kind.INCOME,
    }
    assert Account.objects.get(code="CORE-SOURCE").credit_limit is None


def test_the_core_accounts_are_found_by_code():
    assert Account.objects.source().code == "CORE-SOURCE"
    assert Account.objects.sales().code == "CORE-SALES"
    assert Account.objects.expired_account().code == "CORE-EXPIRED"


def test_the_core_accounts_have_the_default_names():
    names = [a.name for a in Account.objects.create_core_accounts()]
    assert names == ["Source", "Sales", "Expired"]


def test_renaming_a_core_account_does_not_lose_it():
    Account.objects.filter(code="CORE-SALES").update(name="Renamed by hand")
    assert Account.objects.sales().code == "CORE-SALES"
    assert Account.objects.filter(code="CORE-SALES").count() == 1


def delete_core_accounts() -> None:
    Account.objects.filter(code__in=[SOURCE_CODE, SALES_CODE, EXPIRED_CODE]).delete()


@override_settings(
    ACCOUNTS_SOURCE_NAME="Float", ACCOUNTS_SALES_NAME="Till", ACCOUNTS_EXPIRED_NAME="Breakage"
)
def test_core_accounts_are_created_with_the_names_in_the_settings():
    delete_core_accounts()
    assert Account.objects.source().name == "Float"
    assert Account.objects.sales().name == "Till"
    assert Account.objects.expired_account().name == "Breakage"


@override_settings(ACCOUNTS_REDEMPTIONS_NAME="Redemptions", ACCOUNTS_LAPSED_NAME="Lapsed")
def test_the_predecessors_setting_names_still_name_the_core_accounts():
    delete_core_accounts()
    assert Account.objects.sales().name == "Redemptions"
    assert Account.objects.expired_account().name == "Lapsed"


@override_settings(ACCOUNTS_SALES_NAME="Sales", ACCOUNTS_REDEMPTIONS_NAME="Redemptions")
def test_the_new_setting_name_wins_over_its_alias():
    delete_core_accounts()
    assert Account.objects.sales().name == "Sales"


def test_migrate_renames_the_core_accounts_when_the_settings_change():
    with override_settings(ACCOUNTS_SOURCE_NAME="Gift card float"):
        call_command("migrate", "accounts", verbosity=0)
    assert Account.objects.get(code="CORE-SOURCE").name == "Gift card float"
    assert Account.objects.filter(code="CORE-SOURCE").count() == 1


def test_core_accounts_are_recreated_when_missing():
    delete_core_accounts()
    Account.objects.create_core_accounts()
    Account.objects.create_core_accounts()
    assert Account.objects.filter(code__startswith="CORE-").count() == 3
