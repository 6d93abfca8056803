"""The year-end closing entry of ``close_period(..., closing_entry=True)`` (issue 13).

The club's month (``test_books``) closed with its result moved into retained earnings: every
income and expense account back to zero, the loss in the equity account the setting names,
the closed period's reports unchanged, and bad settings refused with nothing written.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.test import override_settings
from django.utils import timezone

from accounts import exceptions, facade, reports
from accounts.models import Account, ClosedPeriod, Kind, Transfer, TransferKind
from accounts.money import Balance

from .test_books import club, make  # noqa: F401 (club is a fixture)

pytestmark = pytest.mark.django_db

D = Decimal
THROUGH_DAYS_AGO = 10


def through() -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=THROUGH_DAYS_AGO)


def legs_by_code(entry: Transfer) -> dict[str, Decimal]:
    return {leg.account.code: leg.amount for leg in entry.transactions.select_related("account")}


@pytest.fixture
def retained(club):  # noqa: F811
    return make("RETAINED", Kind.EQUITY)


@override_settings(ACCOUNTS_RETAINED_EARNINGS="RETAINED")
def test_the_closing_entry_moves_the_result_into_retained_earnings(club, retained):  # noqa: F811
    day = through()
    until = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min)) + (
        datetime.timedelta(days=1)
    )
    pnl_before = reports.profit_and_loss(club["start"], until)
    last_moment = until - datetime.timedelta(microseconds=1)  # as the dashboard asks
    sheet_before = reports.balance_sheet(last_moment)
    assert pnl_before.net_income == Balance({"GBP": D("-71.85")})

    closing = facade.close_period(day, closing_entry=True)

    [entry] = closing.closing_entries()
    assert entry.kind == TransferKind.CLOSING and entry.created_at == until
    # Income is credit-normal, so moving it out debits it; expenses are credited; the loss
    # of 71.85 is debited to retained earnings.
    assert legs_by_code(entry) == {
        "FEES": D("-1800.00"),
        "RENT-IN": D("-350.00"),
        "BILLS": D("721.85"),
        "WAGES": D("1500.00"),
        "RETAINED": D("-71.85"),
    }
    for code in ("FEES", "RENT-IN", "BILLS", "WAGES", "INCOME", "EXPENSES"):
        assert Account.objects.get(code=code).get_balance() == 0, code
    assert Account.objects.get(code="RETAINED").get_balance() == D("-71.85")
    # The closed period's reports read the same; the profit and loss leaves the entry out.
    assert reports.profit_and_loss(club["start"], until).net_income == pnl_before.net_income
    assert reports.profit_and_loss().net_income == pnl_before.net_income
    after = reports.balance_sheet(last_moment)
    assert (after.equity, after.retained_earnings) == (
        sheet_before.equity,
        sheet_before.retained_earnings,
    )
    # Now the result sits in equity, and nothing is left to retain.
    now = reports.balance_sheet()
    assert now.retained_earnings == Balance() and now.balances
    assert now.equity == Balance({"GBP": D("4928.15")})
    assert reports.verify().ok
    with pytest.raises(exceptions.InvalidTransfer, match="closing entry"):
        facade.reverse(entry)


@override_settings(ACCOUNTS_RETAINED_EARNINGS=["RETAINED"])
def test_a_later_closing_moves_only_what_came_after(club, retained):  # noqa: F811
    facade.close_period(through(), closing_entry=True)
    bank, fees = Account.objects.get(code="BANK"), Account.objects.get(code="FEES")
    facade.transfer(bank, fees, D("100.00"), date=timezone.now() - datetime.timedelta(days=5))
    closing = facade.close_period(
        timezone.localdate() - datetime.timedelta(days=1), closing_entry=True
    )
    [entry] = closing.closing_entries()
    assert legs_by_code(entry) == {"FEES": D("-100.00"), "RETAINED": D("100.00")}
    assert Account.objects.get(code="RETAINED").get_balance() == D("28.15")


@override_settings(ACCOUNTS_RETAINED_EARNINGS="RETAINED")
def test_a_closing_before_any_income_or_expense_posts_no_entry(club, retained):  # noqa: F811
    # The club's first posting is 39 days ago: nothing earned or spent before that.
    closing = facade.close_period(
        timezone.localdate() - datetime.timedelta(days=45), closing_entry=True
    )
    assert not closing.closing_entries().exists()


@pytest.mark.parametrize(
    ("setting", "match"),
    [
        (None, "ACCOUNTS_RETAINED_EARNINGS setting"),
        ("NOWHERE", "no account with code NOWHERE"),
        ("FEES", "FEES is not an equity account"),
        (["RETAINED", "CAPITAL"], "CAPITAL repeats the currency"),
    ],
)
def test_a_bad_setting_is_refused_and_nothing_is_written(club, retained, setting, match):  # noqa: F811
    transfers = Transfer.objects.count()
    with override_settings(ACCOUNTS_RETAINED_EARNINGS=setting):
        with pytest.raises(exceptions.InvalidClosing, match=match):
            facade.close_period(through(), closing_entry=True)
    assert not ClosedPeriod.objects.exists()
    assert Transfer.objects.count() == transfers


def test_each_currency_needs_its_own_retained_earnings_account(club, retained):  # noqa: F811
    eur_bank = make("BANK-EUR", Kind.ASSET, currency="EUR")
    eur_fees = make("FEES-EUR", Kind.INCOME, currency="EUR")
    facade.transfer(
        eur_bank, eur_fees, D("40.00"), date=timezone.now() - datetime.timedelta(days=20)
    )
    transfers = Transfer.objects.count()
    with override_settings(ACCOUNTS_RETAINED_EARNINGS="RETAINED"):
        with pytest.raises(exceptions.InvalidClosing, match="EUR"):
            facade.close_period(through(), closing_entry=True)
    assert not ClosedPeriod.objects.exists() and Transfer.objects.count() == transfers
    make("RETAINED-EUR", Kind.EQUITY, currency="EUR")
    with override_settings(ACCOUNTS_RETAINED_EARNINGS=["RETAINED", "RETAINED-EUR"]):
        closing = facade.close_period(through(), closing_entry=True)
    entries = {e.currency: legs_by_code(e) for e in closing.closing_entries()}
    assert entries["EUR"] == {"FEES-EUR": D("-40.00"), "RETAINED-EUR": D("40.00")}
    assert entries["GBP"]["RETAINED"] == D("-71.85")
