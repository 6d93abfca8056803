import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts import exceptions, facade, reports
from accounts.models import Account, Kind

pytestmark = pytest.mark.django_db


def test_backdated_legs_give_correct_as_of_balances_and_statement_order(source):
    a = Account.objects.create()
    now = timezone.now()
    t1 = now - datetime.timedelta(days=10)
    facade.transfer(source, a, Decimal("10"), date=now - datetime.timedelta(days=5))
    facade.transfer(source, a, Decimal("20"))
    facade.transfer(source, a, Decimal("5"), date=t1)  # back-dated before both
    assert a.get_balance(as_of=now - datetime.timedelta(days=11)) == 0
    assert a.get_balance(as_of=now - datetime.timedelta(days=7)) == 5
    assert a.get_balance(as_of=now - datetime.timedelta(days=1)) == 15
    assert a.get_balance() == 35
    assert reports.verify().ok
    with pytest.raises(exceptions.InvalidDate):
        facade.transfer(source, a, Decimal("5"), date=now + datetime.timedelta(days=1))
    st = reports.statement(a)
    assert [line.amount for line in st.lines] == [5, 10, 20]
    assert [line.balance for line in st.lines] == [5, 15, 35]


def test_tree_paths_roll_up_per_currency_without_string_building(source):
    parent = Account.objects.create(name="P", kind=Kind.ASSET, credit_limit=None)
    child = Account.objects.create(name="C", kind=Kind.ASSET, parent=parent, credit_limit=None)
    grand = Account.objects.create(name="G", kind=Kind.ASSET, parent=child, credit_limit=None)
    eur = Account.objects.create(
        name="E", kind=Kind.ASSET, parent=parent, currency="EUR", credit_limit=None
    )
    other = Account.objects.create(name="O", kind=Kind.INCOME, credit_limit=None)
    oe = Account.objects.create(name="OE", kind=Kind.INCOME, credit_limit=None, currency="EUR")
    facade.transfer(grand, other, Decimal("7"))
    facade.transfer(eur, oe, Decimal("3"))
    assert parent.get_balance() == 7 and child.get_balance() == 7
    b = parent.get_balances()
    assert b["GBP"] == 7 and b["EUR"] == 3
    rows = {a.name: a.rollup_balance for a in Account.objects.with_balances()}
    assert rows["P"] == 7 and rows["C"] == 7 and rows["G"] == 7 and rows["E"] == 3
    assert grand.is_descendant_of(parent) and not parent.is_descendant_of(grand)
    assert grand.depth == 2


def test_the_backdated_check_compares_with_a_bound_value(source):
    """SQLite's planner matches ``backdated = ?`` to the (account, backdated) index, but not the
    bare ``"backdated"`` that ``filter(backdated=True)`` compiles to there: on an account with
    many legs that read every one of them."""
    from accounts.models import Transaction

    a = Account.objects.create()
    facade.transfer(source, a, Decimal("10"))
    query = Transaction.objects.filter(account=a).backdated()
    assert list(query) == []
    facade.transfer(source, a, Decimal("1"), date=timezone.now() - datetime.timedelta(days=1))
    assert [leg.amount for leg in query.all()] == [Decimal("1")]
    sql, params = query.query.sql_with_params()
    assert True in params, (sql, params)
