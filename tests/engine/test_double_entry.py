"""Double-entry bookkeeping: signs, kinds, the seed's worked examples and multi-leg entries.

Legs are signed (credit positive, debit negative); balances are in each kind's natural sign
(asset and expense flipped). ``facade.transfer(source=A, destination=B, amount=x)`` is
Dr A x / Cr B x.
"""

from __future__ import annotations

import datetime
import io
import itertools
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts import exceptions, facade, reports
from accounts.facade import MAX_LEGS_PER_TRANSFER, Credit, Debit
from accounts.models import DEBIT_NORMAL_KINDS, Account, Kind, Transaction

from ..factories import UserFactory

pytestmark = pytest.mark.django_db

DOCS_DIR = Path(__file__).resolve().parents[2] / "docs"


def make(name: str, kind: str, *, credit_limit: Decimal | None = Decimal("0"), **fields):
    return Account.objects.create(name=name, kind=kind, credit_limit=credit_limit, **fields)


def balances(*accounts: Account) -> list[Decimal]:
    for account in accounts:
        account.refresh_from_db()
    return [account.balance for account in accounts]


# -- the seed's two worked examples ----------------------------------------------------------


def test_moving_rent_income_to_electricity_payable_lowers_one_and_raises_the_other():
    bank = make("Bank", Kind.ASSET)
    rent_income = make("Rent Income", Kind.INCOME)
    electricity_payable = make("Electricity Payable", Kind.LIABILITY)
    facade.transfer(source=bank, destination=rent_income, amount=Decimal("500"))
    assert balances(rent_income, electricity_payable) == [Decimal("500"), Decimal("0")]

    facade.transfer(source=rent_income, destination=electricity_payable, amount=Decimal("100"))

    assert balances(rent_income, electricity_payable) == [Decimal("400"), Decimal("100")]


def test_paying_from_bank_to_rent_income_raises_both_because_the_asset_is_flipped():
    bank = make("Bank", Kind.ASSET)
    rent_income = make("Rent Income", Kind.INCOME)
    assert balances(bank, rent_income) == [Decimal("0"), Decimal("0")]

    t = facade.transfer(source=bank, destination=rent_income, amount=Decimal("500"))

    assert balances(bank, rent_income) == [Decimal("500"), Decimal("500")]
    legs = {leg.account_id: leg.amount for leg in t.transactions.all()}
    assert legs == {bank.pk: Decimal("-500"), rent_income.pk: Decimal("500")}


# -- the gift-card shop ----------------------------------------------------------------------


def test_core_accounts_have_the_kinds_a_finance_person_expects():
    assert Account.objects.source().kind == Kind.ASSET
    assert Account.objects.sales().kind == Kind.INCOME
    assert Account.objects.expired_account().kind == Kind.INCOME
    assert Account.objects.create().kind == Kind.LIABILITY


def test_gift_card_shop_loads_redeems_and_expires_a_card_with_balanced_books():
    source = Account.objects.source()
    sales = Account.objects.sales()
    expired = Account.objects.expired_account()
    card = Account.objects.create(name="Gift card", kind=Kind.LIABILITY)

    facade.transfer(source=source, destination=card, amount=Decimal("100"))
    facade.transfer(source=card, destination=sales, amount=Decimal("30"))
    card.end_date = timezone.now() - datetime.timedelta(seconds=1)
    card.save()
    call_command("close_expired_accounts", "--no-progress", stdout=io.StringIO())

    assert balances(source, card, sales, expired) == [100, 0, 30, 70]
    assert card.is_closed()
    equation = reports.accounting_equation()
    assert equation.holds
    assert equation.left == Decimal("100") and equation.left["GBP"] == Decimal("100")
    assert equation.right == Decimal("100") and equation.right["GBP"] == Decimal("100")
    assert equation.totals[Kind.ASSET] == Decimal("100")
    assert equation.totals[Kind.INCOME] == Decimal("100")
    assert equation.totals.get(Kind.LIABILITY, Decimal(0)) == 0
    trial = reports.trial_balance()
    assert trial.is_balanced
    assert trial.debits["GBP"] == trial.credits["GBP"] == Decimal("100")


# -- every ordered pair of kinds -------------------------------------------------------------

KINDS = [Kind.ASSET, Kind.LIABILITY, Kind.EQUITY, Kind.INCOME, Kind.EXPENSE, Kind.TRADING]
PAIRS = list(itertools.product(KINDS, KINDS))


@pytest.mark.parametrize(
    ("source_kind", "destination_kind"),
    PAIRS,
    ids=[f"{s.value}-to-{d.value}" for s, d in PAIRS],
)
def test_transfer_between_kinds_moves_each_balance_in_its_natural_direction(
    source_kind, destination_kind
):
    source = make("Source", source_kind, credit_limit=None)
    destination = make("Destination", destination_kind, credit_limit=None)

    t = facade.transfer(source=source, destination=destination, amount=Decimal("10"))

    # A debit raises a debit-normal balance and lowers a credit-normal one; a credit the reverse.
    source_change = Decimal("10") if source_kind in DEBIT_NORMAL_KINDS else Decimal("-10")
    destination_change = Decimal("-10") if destination_kind in DEBIT_NORMAL_KINDS else Decimal("10")
    assert balances(source, destination) == [source_change, destination_change]
    legs = {leg.account_id: leg.amount for leg in t.transactions.all()}
    assert legs == {source.pk: Decimal("-10"), destination.pk: Decimal("10")}
    assert reports.accounting_equation().holds


# -- entries of more than two legs -----------------------------------------------------------


def test_a_sale_is_split_between_revenue_and_tax_in_one_entry():
    bank = make("Bank", Kind.ASSET)
    revenue = make("Sales revenue", Kind.INCOME)
    vat = make("VAT payable", Kind.LIABILITY)

    t = facade.post(
        [
            Debit(bank, Decimal("120.00")),
            Credit(revenue, Decimal("100.00")),
            Credit(vat, Decimal("20.00")),
        ],
        description="Sale of a bicycle",
    )

    assert balances(bank, revenue, vat) == [Decimal("120"), Decimal("100"), Decimal("20")]
    assert t.leg_count == 3 and t.transactions.count() == 3
    assert t.amount == Decimal("120.00")
    assert t.source is None and t.destination is None
    assert sum(t.transactions.values_list("amount", flat=True)) == 0
    assert reports.verify().ok


def housemates(count: int = 5, **fields) -> list[Account]:
    names = ["Alice", "Bob", "Carol", "Dan", "Erin"][:count]
    return [make(f"Owed by {name}", Kind.ASSET, **fields) for name in names]


def test_rent_is_charged_to_five_housemates_with_one_credit_and_five_debits():
    rent_income = make("Rent Income", Kind.INCOME)
    owed = housemates()

    facade.post(
        [Credit(rent_income, Decimal("500"))] + [Debit(acct, Decimal("100")) for acct in owed]
    )

    assert balances(rent_income) == [Decimal("500")]
    assert balances(*owed) == [Decimal("100")] * 5


def test_five_housemates_pay_their_rent_into_the_bank_with_one_debit_and_five_credits():
    rent_income = make("Rent Income", Kind.INCOME)
    bank = make("Bank", Kind.ASSET)
    owed = housemates()
    facade.post(
        [Credit(rent_income, Decimal("500"))] + [Debit(acct, Decimal("100")) for acct in owed]
    )

    t = facade.post([Debit(bank, Decimal("500"))] + [Credit(acct, Decimal("100")) for acct in owed])

    assert t.leg_count == 6
    assert balances(bank, rent_income) == [Decimal("500"), Decimal("500")]
    assert balances(*owed) == [Decimal("0")] * 5
    assert reports.accounting_equation().holds


def test_an_unbalanced_entry_is_refused_and_writes_nothing(unchanged):
    bank = make("Bank", Kind.ASSET)
    revenue = make("Sales revenue", Kind.INCOME)
    vat = make("VAT payable", Kind.LIABILITY)
    with unchanged(), pytest.raises(exceptions.InvalidEntry) as caught:
        facade.post(
            [
                Debit(bank, Decimal("120")),
                Credit(revenue, Decimal("100")),
                Credit(vat, Decimal("19")),
            ]
        )
    assert caught.value.code == "entry_unbalanced"


@pytest.mark.parametrize("line", [Debit, Credit], ids=["debits-only", "credits-only"])
def test_an_entry_with_one_side_only_is_refused(line, unchanged):
    first, second = make("First", Kind.ASSET, credit_limit=None), make("Second", Kind.ASSET)
    with unchanged(), pytest.raises(exceptions.InvalidEntry):
        facade.post([line(first, Decimal("10")), line(second, Decimal("10"))])


def test_an_entry_of_a_single_line_is_refused(unchanged):
    bank = make("Bank", Kind.ASSET)
    with unchanged(), pytest.raises(exceptions.InvalidEntry):
        facade.post([Debit(bank, Decimal("10"))])


def test_an_entry_naming_the_same_account_twice_is_refused(unchanged):
    bank = make("Bank", Kind.ASSET)
    revenue = make("Sales revenue", Kind.INCOME)
    with unchanged(), pytest.raises(exceptions.SameAccount):
        facade.post(
            [Debit(bank, Decimal("5")), Debit(bank, Decimal("5")), Credit(revenue, Decimal("10"))]
        )


def many_accounts(count: int, kind: str = Kind.EXPENSE) -> list[Account]:
    """Create ``count`` accounts in one INSERT (codes are given, so none is generated)."""
    prefix = f"BULK-{Account.objects.count()}-"
    Account.objects.bulk_create(
        Account(name=f"Bulk {i}", code=f"{prefix}{i}", kind=kind, credit_limit=None)
        for i in range(count)
    )
    return list(Account.objects.filter(code__startswith=prefix).order_by("pk"))


def test_an_entry_with_more_legs_than_the_limit_is_refused(unchanged):
    accounts = many_accounts(MAX_LEGS_PER_TRANSFER + 1)
    lines: list[Debit | Credit] = [Credit(accounts[0], Decimal(MAX_LEGS_PER_TRANSFER))]
    lines += [Debit(acct, Decimal(1)) for acct in accounts[1:]]
    with unchanged(), pytest.raises(exceptions.TooManyLegs):
        facade.post(lines)


def test_an_entry_with_exactly_the_most_legs_allowed_is_posted():
    accounts = many_accounts(MAX_LEGS_PER_TRANSFER)
    total = MAX_LEGS_PER_TRANSFER - 1
    lines: list[Debit | Credit] = [Credit(accounts[0], Decimal(total))]
    lines += [Debit(acct, Decimal(1)) for acct in accounts[1:]]

    t = facade.post(lines)

    assert t.leg_count == MAX_LEGS_PER_TRANSFER
    assert Transaction.objects.filter(transfer=t).count() == MAX_LEGS_PER_TRANSFER
    assert balances(accounts[0], accounts[1], accounts[-1]) == [-total, 1, 1]


def test_credit_limits_apply_to_each_leg_of_an_entry(unchanged):
    landlord = make("Landlord", Kind.LIABILITY)
    bank = make("Bank", Kind.ASSET, credit_limit=None)
    alice, bob = make("Alice", Kind.LIABILITY), make("Bob", Kind.LIABILITY)
    facade.transfer(bank, alice, Decimal("100"))
    facade.transfer(bank, bob, Decimal("50"))
    with unchanged(), pytest.raises(exceptions.InsufficientFunds):
        facade.post(
            [
                Debit(alice, Decimal("75")),
                Debit(bob, Decimal("75")),
                Credit(landlord, Decimal("150")),
            ]
        )


def test_a_user_must_be_allowed_to_spend_from_every_debited_account(unchanged):
    alice_user, bob_user = UserFactory(), UserFactory()
    bank = make("Bank", Kind.ASSET, credit_limit=None)
    landlord = make("Landlord", Kind.LIABILITY)
    alice = make("Alice", Kind.LIABILITY, primary_user=alice_user)
    bob = make("Bob", Kind.LIABILITY, primary_user=bob_user)
    facade.transfer(bank, alice, Decimal("100"))
    facade.transfer(bank, bob, Decimal("100"))
    shared_rent = [
        Debit(alice, Decimal("60")),
        Debit(bob, Decimal("60")),
        Credit(landlord, Decimal("120")),
    ]
    with unchanged(), pytest.raises(exceptions.Unauthorised):
        facade.post(shared_rent, user=alice_user)

    # Crediting someone else's account needs no permission on it.
    facade.post([Debit(alice, Decimal("60")), Credit(bob, Decimal("60"))], user=alice_user)

    assert balances(alice, bob) == [Decimal("40"), Decimal("160")]


def test_entry_lines_state_their_direction_and_refuse_negative_amounts(unchanged):
    bank = make("Bank", Kind.ASSET)
    revenue = make("Sales revenue", Kind.INCOME)
    with unchanged(), pytest.raises(exceptions.AmountNotPositive):
        facade.post([Debit(bank, Decimal("-10")), Credit(revenue, Decimal("-10"))])


# -- prepaid rent ----------------------------------------------------------------------------


def test_prepaid_rent_is_spread_over_three_months():
    equity = make("Owner's equity", Kind.EQUITY)
    bank = make("Bank", Kind.ASSET)
    prepaid = make("Prepaid Rent", Kind.ASSET)
    rent_expense = make("Rent Expense", Kind.EXPENSE)
    facade.transfer(source=bank, destination=equity, amount=Decimal("1000"))

    facade.post([Debit(prepaid, Decimal("300")), Credit(bank, Decimal("300"))])
    assert balances(bank, prepaid, rent_expense) == [700, 300, 0]

    expected = [(200, 100), (100, 200), (0, 300)]
    for month, (prepaid_left, expensed) in enumerate(expected, start=1):
        facade.post(
            [Debit(rent_expense, Decimal("100")), Credit(prepaid, Decimal("100"))],
            description=f"Rent for month {month}",
        )
        assert balances(bank, prepaid, rent_expense) == [700, prepaid_left, expensed]
        assert reports.accounting_equation().holds

    # Paying more rent out of an empty prepayment is refused: assets have no credit by default.
    with pytest.raises(exceptions.InsufficientFunds):
        facade.post([Debit(rent_expense, Decimal("100")), Credit(prepaid, Decimal("100"))])


# -- the documentation keeps up with the code ------------------------------------------------


def test_every_exception_code_is_listed_in_the_api_docs():
    page = (DOCS_DIR / "api.rst").read_text(encoding="utf-8")
    missing = [
        cls.__name__
        for cls in exceptions.ALL
        if f"``{cls.code}``" not in page or cls.__name__ not in page
    ]
    assert missing == []
