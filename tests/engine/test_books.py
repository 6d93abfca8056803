"""The books of a small organisation: a month posted, then its profit and loss and its balance
sheet checked line by line (issue 13)."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts import facade, reports
from accounts.models import Account, Kind
from accounts.money import Balance

pytestmark = pytest.mark.django_db

D = Decimal


def make(code: str, kind: str, parent: Account | None = None, **fields) -> Account:
    fields.setdefault("credit_limit", None)
    return Account.objects.create(name=code.title(), code=code, kind=kind, parent=parent, **fields)


@pytest.fixture
def club():
    """A club's chart of accounts and its first month, posted on the days it happened."""
    start = timezone.now() - datetime.timedelta(days=40)
    day = lambda n: start + datetime.timedelta(days=n)  # noqa: E731
    assets = make("ASSETS", Kind.ASSET)
    bank = make("BANK", Kind.ASSET, assets)
    cash = make("CASH", Kind.ASSET, assets)
    loan = make("LOAN", Kind.LIABILITY)
    capital = make("CAPITAL", Kind.EQUITY)
    income = make("INCOME", Kind.INCOME)
    fees = make("FEES", Kind.INCOME, income)
    rent_in = make("RENT-IN", Kind.INCOME, income)
    expenses = make("EXPENSES", Kind.EXPENSE)
    bills = make("BILLS", Kind.EXPENSE, expenses)
    wages = make("WAGES", Kind.EXPENSE, expenses)

    # A debit raises an asset or an expense; a transfer debits its source.
    facade.transfer(bank, capital, D("5000.00"), date=day(1))  # the owners put money in
    facade.transfer(bank, loan, D("2000.00"), date=day(2))  # a loan paid into the bank
    facade.transfer(bank, fees, D("1800.00"), date=day(3))  # members' fees
    facade.transfer(cash, rent_in, D("350.00"), date=day(5))  # the hall let for a night
    facade.transfer(bills, bank, D("721.85"), date=day(10))  # electricity and water
    facade.transfer(wages, bank, D("1500.00"), date=day(20))  # the caretaker
    facade.transfer(loan, bank, D("250.00"), date=day(25))  # a loan repayment
    return {
        "start": start,
        "end": day(31),
        "accounts": {a.code: a for a in Account.objects.exclude(code__startswith="CORE-")},
    }


def gbp(amount: str) -> Balance:
    return Balance({"GBP": D(amount)})


def figures(rows: list[reports.BookRow]) -> dict[str, Decimal]:
    """The accounts with a figure (the core accounts are there too, at zero)."""
    return {row.account.code: row.amount["GBP"] for row in rows if row.amount["GBP"]}


def test_the_profit_and_loss_lists_every_income_and_expense_account(club):
    pnl = reports.profit_and_loss(club["start"], club["end"])
    assert figures(pnl.income_rows) == {
        "INCOME": D("2150.00"),
        "FEES": D("1800.00"),
        "RENT-IN": D("350.00"),
    }
    assert figures(pnl.expense_rows) == {
        "EXPENSES": D("2221.85"),
        "BILLS": D("721.85"),
        "WAGES": D("1500.00"),
    }
    income_tree = [(r.account.code, r.depth, r.is_placeholder) for r in pnl.income_rows]
    assert income_tree[-3:] == [("INCOME", 0, True), ("FEES", 1, False), ("RENT-IN", 1, False)]
    assert pnl.income == gbp("2150.00")
    assert pnl.expenses == gbp("2221.85")
    assert pnl.net_income == gbp("-71.85")


def test_the_profit_and_loss_follows_the_period(club):
    first_week = reports.profit_and_loss(club["start"], club["start"] + datetime.timedelta(days=7))
    assert first_week.income == gbp("2150.00")
    assert first_week.expenses == Balance()
    later = reports.profit_and_loss(club["start"] + datetime.timedelta(days=15))
    assert later.income == Balance() and later.expenses == gbp("1500.00")


def test_the_balance_sheet_balances_with_retained_earnings(club):
    sheet = reports.balance_sheet()
    assert figures(sheet.asset_rows) == {
        "ASSETS": D("6678.15"),
        "BANK": D("6328.15"),
        "CASH": D("350.00"),
    }
    assert figures(sheet.liability_rows)["LOAN"] == D("1750.00")
    assert figures(sheet.equity_rows)["CAPITAL"] == D("5000.00")
    assert sheet.assets == gbp("6678.15")
    assert sheet.retained_earnings == gbp("-71.85")
    assert sheet.liabilities_and_equity["GBP"] == D("6678.15")
    assert sheet.balances


def test_the_balance_sheet_as_of_a_past_day(club):
    sheet = reports.balance_sheet(club["start"] + datetime.timedelta(days=4))
    assert sheet.assets["GBP"] == D("8800.00")
    assert sheet.liabilities["GBP"] == D("2000.00")
    assert sheet.retained_earnings["GBP"] == D("1800.00")
    assert sheet.balances


def test_exchange_differences_show_as_trading_and_the_sheet_still_balances(club):
    bank = club["accounts"]["BANK"]
    euros = make("BANK-EUR", Kind.ASSET, currency="EUR")
    facade.exchange(
        source=bank,
        destination=euros,
        source_amount=D("100.00"),
        destination_amount=D("117.00"),
    )
    sheet = reports.balance_sheet()
    assert sheet.trading["GBP"] == D("-100.00") and sheet.trading["EUR"] == D("117.00")
    leaves = {r.account.currency: r.amount for r in sheet.trading_rows if not r.is_placeholder}
    assert leaves == {"GBP": gbp("-100.00"), "EUR": Balance({"EUR": D("117.00")})}
    assert sheet.balances
