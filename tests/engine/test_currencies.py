"""Currencies: one per account, exchanges through trading accounts, and ``money.Balance``."""

from __future__ import annotations

from decimal import Decimal

import pytest

from accounts import exceptions, facade, reports
from accounts.models import Account, Kind, TransferKind
from accounts.money import Balance

pytestmark = pytest.mark.django_db


def make(name: str, kind: str, currency: str, **fields) -> Account:
    return Account.objects.create(name=name, kind=kind, currency=currency, **fields)


def natural(account: Account) -> Decimal:
    account.refresh_from_db()
    return account.balance


# -- the trading-accounts example ------------------------------------------------------------


def test_the_trading_accounts_example_comes_out_exactly():
    cash_cad = make("Cash CAD", Kind.ASSET, "CAD")
    cash_usd = make("Cash USD", Kind.ASSET, "USD")
    equity = make("Owner's equity", Kind.EQUITY, "CAD")
    food = make("Food", Kind.EXPENSE, "CAD")
    trading_cad = facade.trading_account("CAD")
    trading_usd = facade.trading_account("USD")

    def state() -> dict[str, Decimal]:
        accounts = [cash_cad, cash_usd, equity, food, trading_cad, trading_usd]
        return {a.name: natural(a) for a in accounts}

    def equation_holds_in(*currencies: str) -> None:
        equation = reports.accounting_equation()
        assert equation.holds
        for currency in currencies:
            assert equation.left[currency] == equation.right[currency]

    # 1. The owner invests 200 CAD: Dr Cash CAD 200 / Cr Equity 200.
    facade.transfer(source=cash_cad, destination=equity, amount=Decimal("200"))
    assert natural(cash_cad) == 200 and natural(equity) == 200
    equation_holds_in("CAD")

    # 2. Exchange 120 CAD for 100 USD.
    t = facade.exchange(
        source=cash_cad,
        destination=cash_usd,
        source_amount=Decimal("120"),
        destination_amount=Decimal("100"),
    )
    assert t.kind == TransferKind.EXCHANGE and t.leg_count == 4
    legs = {leg.account_id: leg.amount for leg in t.transactions.all()}
    assert legs == {
        cash_cad.pk: Decimal("120"),  # Cr Cash CAD 120
        trading_cad.pk: Decimal("-120"),  # Dr Trading CAD 120
        cash_usd.pk: Decimal("-100"),  # Dr Cash USD 100
        trading_usd.pk: Decimal("100"),  # Cr Trading USD 100
    }
    assert state() == {
        "Cash CAD": 80,
        "Cash USD": 100,
        "Owner's equity": 200,
        "Food": 0,
        "Trading CAD": -120,
        "Trading USD": 100,
    }
    equation_holds_in("CAD", "USD")

    # 3. Pay 40 USD for food worth 52 CAD.
    facade.exchange(
        source=cash_usd,
        destination=food,
        source_amount=Decimal("40"),
        destination_amount=Decimal("52"),
    )
    assert state() == {
        "Cash CAD": 80,
        "Cash USD": 60,
        "Owner's equity": 200,
        "Food": 52,
        "Trading CAD": -68,
        "Trading USD": 60,
    }
    equation_holds_in("CAD", "USD")

    # 4. Exchange 60 USD for 75 CAD: the 7 CAD left in Trading CAD is the gain.
    facade.exchange(
        source=cash_usd,
        destination=cash_cad,
        source_amount=Decimal("60"),
        destination_amount=Decimal("75"),
    )
    assert state() == {
        "Cash CAD": 155,
        "Cash USD": 0,
        "Owner's equity": 200,
        "Food": 52,
        "Trading CAD": 7,
        "Trading USD": 0,
    }
    equation_holds_in("CAD", "USD")

    # 5. Pay 20 CAD for food: Dr Food 20 / Cr Cash CAD 20.
    facade.transfer(source=food, destination=cash_cad, amount=Decimal("20"))
    assert state() == {
        "Cash CAD": 135,
        "Cash USD": 0,
        "Owner's equity": 200,
        "Food": 72,
        "Trading CAD": 7,
        "Trading USD": 0,
    }
    equation = reports.accounting_equation()
    assert equation.holds
    assert equation.left == Balance({"CAD": Decimal("207")})
    assert equation.right == Balance({"CAD": Decimal("207"), "USD": Decimal("0")})
    trial = reports.trial_balance()
    assert trial.is_balanced
    assert trial.debits["CAD"] == trial.credits["CAD"] == Decimal("207")
    assert reports.verify().ok


def test_trading_accounts_are_one_per_currency_under_a_trading_parent():
    cad = facade.trading_account("CAD")
    usd = facade.trading_account("USD")

    assert facade.trading_account("CAD") == cad
    assert cad.kind == usd.kind == Kind.TRADING
    assert (cad.currency, usd.currency) == ("CAD", "USD")
    assert cad.parent_id == usd.parent_id is not None
    assert cad.parent.is_placeholder()
    assert cad.credit_limit is None


# -- one currency per account ----------------------------------------------------------------


def test_a_transfer_between_currencies_is_refused(unchanged):
    pounds = make("Pounds", Kind.ASSET, "GBP", credit_limit=None)
    euros = make("Euros", Kind.LIABILITY, "EUR")
    with unchanged(), pytest.raises(exceptions.CurrencyMismatch) as caught:
        facade.transfer(pounds, euros, Decimal("10"))
    assert caught.value.code == "currency_mismatch"


def test_an_entry_balanced_in_total_but_not_per_currency_is_refused(unchanged):
    pounds = make("Pounds", Kind.ASSET, "GBP", credit_limit=None)
    euros = make("Euros", Kind.LIABILITY, "EUR")
    with unchanged(), pytest.raises(exceptions.InvalidEntry):
        facade.post([facade.Debit(pounds, Decimal("10")), facade.Credit(euros, Decimal("10"))])


def test_an_exchange_within_one_currency_is_refused(unchanged):
    first = make("First", Kind.ASSET, "GBP", credit_limit=None)
    second = make("Second", Kind.ASSET, "GBP")
    with unchanged(), pytest.raises(exceptions.InvalidEntry):
        facade.exchange(
            source=first,
            destination=second,
            source_amount=Decimal("1"),
            destination_amount=Decimal("1"),
        )


def test_an_exchange_respects_the_source_limit(unchanged):
    cash_cad = make("Cash CAD", Kind.ASSET, "CAD")
    cash_usd = make("Cash USD", Kind.ASSET, "USD")
    facade.trading_account("CAD")
    facade.trading_account("USD")
    with unchanged(), pytest.raises(exceptions.InsufficientFunds):
        facade.exchange(
            source=cash_cad,
            destination=cash_usd,
            source_amount=Decimal("1"),
            destination_amount=Decimal("1"),
        )


def test_a_refused_first_exchange_leaves_no_trading_accounts_behind(unchanged):
    cash_cad = make("Cash CAD", Kind.ASSET, "CAD")
    cash_usd = make("Cash USD", Kind.ASSET, "USD")
    with unchanged(), pytest.raises(exceptions.InsufficientFunds):
        facade.exchange(
            source=cash_cad,
            destination=cash_usd,
            source_amount=Decimal("1"),
            destination_amount=Decimal("1"),
        )
    assert not Account.objects.filter(kind=Kind.TRADING).exists()


@pytest.mark.parametrize(
    ("currency", "amount"),
    [("GBP", "0.001"), ("JPY", "0.5"), ("KWD", "0.0001")],
    ids=["pounds-in-tenths-of-a-penny", "yen-in-halves", "dinars-beyond-fils"],
)
def test_amounts_finer_than_the_currency_allows_are_refused(currency, amount, unchanged):
    source = make("Source", Kind.ASSET, currency, credit_limit=None)
    destination = make("Destination", Kind.LIABILITY, currency)
    with unchanged(), pytest.raises(exceptions.AmountTooPrecise):
        facade.transfer(source, destination, Decimal(amount))


def test_each_currency_takes_its_own_smallest_unit():
    for currency, amount in [("JPY", "1"), ("KWD", "0.001"), ("GBP", "0.01")]:
        source = make("Source", Kind.ASSET, currency, credit_limit=None)
        destination = make("Destination", Kind.LIABILITY, currency)
        facade.transfer(source, destination, Decimal(amount))
        assert natural(destination) == Decimal(amount)


# -- money.Balance ---------------------------------------------------------------------------


def test_balances_add_per_currency():
    total = Balance({"GBP": Decimal("10")}) + Balance({"GBP": Decimal("2.50"), "EUR": Decimal("5")})
    assert total["GBP"] == Decimal("12.50")
    assert total["EUR"] == Decimal("5")
    assert total.currencies() == ["EUR", "GBP"]


def test_balances_subtract_per_currency():
    left = Balance({"GBP": Decimal("10"), "EUR": Decimal("5")})
    difference = left - Balance({"GBP": Decimal("4")})
    assert difference == Balance({"GBP": Decimal("6"), "EUR": Decimal("5")})
    assert (left - left).is_zero()
    assert -left == Balance({"GBP": Decimal("-10"), "EUR": Decimal("-5")})


def test_balances_never_add_across_currencies():
    total = Balance({"GBP": Decimal("10")}) + Balance({"EUR": Decimal("10")})
    assert total != Decimal("20")
    assert total != Balance({"GBP": Decimal("20")})
    assert total["GBP"] == Decimal("10") and total["EUR"] == Decimal("10")


def test_balances_compare_equal_currency_by_currency():
    assert Balance({"GBP": Decimal("1.0")}) == Balance({"GBP": Decimal("1.00")})
    assert Balance({"GBP": Decimal("1"), "EUR": Decimal("0")}) == Balance({"GBP": Decimal("1")})
    assert Balance({"GBP": Decimal("1")}) != Balance({"EUR": Decimal("1")})
    assert hash(Balance({"GBP": Decimal("1"), "EUR": Decimal("0")})) == hash(
        Balance({"GBP": Decimal("1.00")})
    )
    assert Balance() == 0 and Balance().is_zero()


def test_a_balance_in_one_currency_compares_with_a_plain_number():
    assert Balance({"GBP": Decimal("3")}) == Decimal("3")
    assert Balance({"GBP": Decimal("3")}) == 3
    assert Balance({"GBP": Decimal("3")}) != Decimal("4")


def test_adding_a_bare_number_to_a_balance_is_refused():
    with pytest.raises(TypeError):
        Balance({"GBP": Decimal("1")}) + Decimal("1")  # type: ignore[operator]


def test_a_sum_of_balances_starts_from_an_empty_balance():
    parts = [Balance({"GBP": Decimal("1")}), Balance({"EUR": Decimal("2")})]
    assert sum(parts, Balance()) == Balance({"GBP": Decimal("1"), "EUR": Decimal("2")})


# -- exchange between any two kinds (issue 13) --------------------------------------------------

KINDS = [Kind.ASSET, Kind.LIABILITY, Kind.EQUITY, Kind.INCOME, Kind.EXPENSE]


@pytest.mark.parametrize("source_kind", KINDS)
@pytest.mark.parametrize("destination_kind", KINDS)
def test_an_exchange_moves_natural_balances_between_any_two_kinds(source_kind, destination_kind):
    source = make("From", source_kind, "GBP", credit_limit=None)
    destination = make("To", destination_kind, "EUR", credit_limit=None)

    swap = facade.exchange(
        source=source,
        destination=destination,
        source_amount=Decimal("100.00"),
        destination_amount=Decimal("117.50"),
    )

    assert swap.kind == TransferKind.EXCHANGE
    assert natural(source) == Decimal("-100.00")
    assert natural(destination) == Decimal("117.50")
    # Each currency balances through its trading account.
    legs = list(swap.transactions.values_list("currency", "amount"))
    for currency in ("GBP", "EUR"):
        assert sum(amount for cur, amount in legs if cur == currency) == 0
    assert reports.trial_balance().is_balanced
    assert reports.accounting_equation().holds
    assert reports.verify().ok


def test_an_exchange_records_its_rate():
    pounds = make("Pounds", Kind.ASSET, "GBP", credit_limit=None)
    euros = make("Euros", Kind.ASSET, "EUR", credit_limit=None)
    swap = facade.exchange(
        source=pounds,
        destination=euros,
        source_amount=Decimal("100.00"),
        destination_amount=Decimal("117.35"),
        rate=Decimal("1.1735"),
    )
    swap.refresh_from_db()
    assert swap.rate == Decimal("1.1735")


@pytest.mark.parametrize(
    "rate", [Decimal("1.17"), Decimal("0"), Decimal("-1"), 1.1735, Decimal("1.0000000000001")]
)
def test_a_rate_that_does_not_give_the_amounts_or_is_not_a_positive_decimal_is_refused(
    unchanged, rate
):
    pounds = make("Pounds", Kind.ASSET, "GBP", credit_limit=None)
    euros = make("Euros", Kind.ASSET, "EUR", credit_limit=None)
    with unchanged(), pytest.raises(exceptions.InvalidEntry):
        facade.exchange(
            source=pounds,
            destination=euros,
            source_amount=Decimal("100.00"),
            destination_amount=Decimal("117.35"),
            rate=rate,
        )


def test_the_database_refuses_a_rate_that_is_not_positive():
    from django.db import IntegrityError, transaction

    pounds = make("Pounds", Kind.ASSET, "GBP", credit_limit=None)
    euros = make("Euros", Kind.ASSET, "EUR", credit_limit=None)
    facade.exchange(
        source=pounds,
        destination=euros,
        source_amount=Decimal("10.00"),
        destination_amount=Decimal("11.00"),
    )
    from accounts import integrity
    from accounts.models import Transfer

    with pytest.raises(IntegrityError), transaction.atomic(), integrity.unlocked():
        Transfer.objects.filter(kind=TransferKind.EXCHANGE).update(rate=Decimal("-1"))


def test_a_recorded_rate_cannot_be_changed_afterwards():
    from django.db import IntegrityError, transaction

    from accounts.models import Transfer

    pounds = make("Pounds", Kind.ASSET, "GBP", credit_limit=None)
    euros = make("Euros", Kind.ASSET, "EUR", credit_limit=None)
    swap = facade.exchange(
        source=pounds,
        destination=euros,
        source_amount=Decimal("10.00"),
        destination_amount=Decimal("11.00"),
        rate=Decimal("1.1"),
    )
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        Transfer.objects.filter(pk=swap.pk).update(rate=Decimal("1.2"))
