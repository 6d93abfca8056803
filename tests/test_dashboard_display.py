"""What the dashboard shows: amounts in their currency's places, orders, placeholders, prints."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.http import HttpResponseBase
from django.test import Client
from django.urls import reverse

from accounts import facade, reports
from accounts.dashboard.common import DASHBOARD_PERMISSIONS
from accounts.models import KIND_ORDER, Kind, kind_rank

from .factories import AccountFactory

pytestmark = pytest.mark.django_db


def url(name: str, *args: Any) -> str:
    return reverse(f"accounts_dashboard:{name}", args=args)


def grant(user: Any, *codenames: str) -> Any:
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="accounts", codename__in=codenames)
    )
    return type(user).objects.get(pk=user.pk)


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def body(response: HttpResponseBase) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]
    return response.content.decode()


@pytest.fixture
def staff_client(staff):
    return client_for(grant(staff, *DASHBOARD_PERMISSIONS))


# -- the trial balance in accounting order ------------------------------------------------------


@pytest.fixture
def books_of_every_kind(source):
    """One account of each kind with a balance; codes chosen so "A..." is never first."""
    source.code = "Z-BANK"
    source.save()
    made = {
        Kind.LIABILITY: AccountFactory(code="A-CARD", kind=Kind.LIABILITY),
        Kind.EQUITY: AccountFactory(code="B-CAPITAL", kind=Kind.EQUITY, credit_limit=None),
        Kind.INCOME: AccountFactory(code="C-SALES", kind=Kind.INCOME, credit_limit=None),
        Kind.EXPENSE: AccountFactory(code="D-RENT", kind=Kind.EXPENSE, credit_limit=None),
    }
    facade.transfer(source, made[Kind.LIABILITY], Decimal("10.00"))
    facade.transfer(source, made[Kind.EQUITY], Decimal("20.00"))
    facade.transfer(source, made[Kind.INCOME], Decimal("30.00"))
    facade.transfer(made[Kind.EXPENSE], source, Decimal("5.00"))
    return made


ACCOUNTING_ORDER = ["asset", "liability", "equity", "income", "expense"]


def test_kinds_rank_as_an_accountant_reads_them():
    assert [k.value for k in KIND_ORDER][:5] == ACCOUNTING_ORDER
    assert sorted(["expense", "asset", "income", "equity", "liability"], key=kind_rank) == (
        ACCOUNTING_ORDER
    )
    assert kind_rank("no such kind") == len(KIND_ORDER)


def test_the_trial_balance_lists_kinds_in_accounting_order(books_of_every_kind):
    kinds = [row.account.kind for row in reports.trial_balance().rows]
    assert kinds == ACCOUNTING_ORDER
    assert list(reports.trial_balance().by_kind) == ACCOUNTING_ORDER


def test_the_trial_balance_page_and_csv_list_kinds_in_accounting_order(
    staff_client, books_of_every_kind
):
    response = staff_client.get(url("report_trial_balance"))
    (section,) = response.context["sections"]
    assert [row.account.kind for row in section["rows"]] == ACCOUNTING_ORDER
    page = body(response)
    positions = [page.index(code) for code in ("Z-BANK", "A-CARD", "B-CAPITAL", "C-SALES")]
    assert positions == sorted(positions)
    rows = list(csv.reader(io.StringIO(body(staff_client.get(url("report_trial_balance_csv"))))))
    assert [row[3] for row in rows[1:]] == ACCOUNTING_ORDER


# -- the account list: house accounts in tree order, then cards by type -------------------------


@pytest.fixture
def mixed_accounts(db):
    """Cards made before and between house accounts, so creation order mixes them."""
    from .factories import AccountTypeFactory

    gift = AccountTypeFactory(name="Gift cards", code="gift")
    promo = AccountTypeFactory(name="Promotional", code="promo")
    made = {}
    made["card-z"] = AccountFactory(code="AAA-CARD-Z", is_card=True, account_type=gift)
    made["bank"] = AccountFactory(code="ZZ-BANK", kind=Kind.ASSET, credit_limit=None)
    made["card-p"] = AccountFactory(code="AAA-CARD-P", is_card=True, account_type=promo)
    made["current"] = AccountFactory(
        code="ZZ-BANK-CUR", kind=Kind.ASSET, credit_limit=None, parent=made["bank"]
    )
    made["card-a"] = AccountFactory(code="AAA-CARD-A", is_card=True, account_type=gift)
    made["card-none"] = AccountFactory(code="AAA-CARD-0", is_card=True)
    return made


def test_the_account_list_shows_house_accounts_in_tree_order_then_cards_by_type(
    staff_client, mixed_accounts
):
    response = staff_client.get(url("account_list"))
    shown = [a.code for a in response.context["accounts"]]
    cards = [a.code for a in mixed_accounts.values() if a.is_card]
    house = [code for code in shown if code not in cards]
    # Every house account before every card, each child right after its parent.
    assert shown[: len(house)] == house
    assert house.index("ZZ-BANK") + 1 == house.index("ZZ-BANK-CUR")
    # Cards grouped by type (in the type tree's order), by code within a type, untyped last.
    assert shown[len(house) :] == ["AAA-CARD-A", "AAA-CARD-Z", "AAA-CARD-P", "AAA-CARD-0"]
    page = body(response)
    assert page.index("House accounts") < page.index("Cards: Gift cards")
    assert page.index("Cards: Gift cards") < page.index("Cards: Promotional")
    assert page.index("Cards: Promotional") < page.index("Cards without a type")
    assert 'class="depth-1"' in page  # the current account, indented under the bank


def test_the_account_list_keeps_its_order_when_filtered_and_paged(
    staff_client, mixed_accounts, monkeypatch
):
    from django.views.generic import ListView

    from accounts.dashboard import views

    response = staff_client.get(url("account_list"), {"q": "AAA-CARD"})
    shown = [a.code for a in response.context["accounts"]]
    assert shown == ["AAA-CARD-A", "AAA-CARD-Z", "AAA-CARD-P", "AAA-CARD-0"]
    monkeypatch.setattr(views.AccountListView, "paginate_by", 2)
    assert issubclass(views.AccountListView, ListView)
    second = staff_client.get(url("account_list"), {"q": "AAA-CARD", "page": 2})
    assert [a.code for a in second.context["accounts"]] == ["AAA-CARD-P", "AAA-CARD-0"]
    assert "Cards: Promotional" in body(second)


# -- placeholder accounts ----------------------------------------------------------------------


@pytest.fixture
def placeholder(source):
    """A placeholder "Customer funds" over two cards holding 30.00 and 12.50."""
    parent = AccountFactory(code="FUNDS", name="Customer funds")
    first = AccountFactory(code="FUNDS-A", name="First child", parent=parent)
    second = AccountFactory(code="FUNDS-B", name="Second child", parent=parent)
    facade.transfer(source, first, Decimal("30.00"))
    facade.transfer(source, second, Decimal("12.50"))
    return parent


def test_a_placeholder_has_its_own_page_with_children_and_their_total(staff_client, placeholder):
    response = staff_client.get(url("account_detail", placeholder.pk))
    assert [t.name for t in response.templates][0] == "accounts/dashboard/account_placeholder.html"
    children = response.context["children"]
    assert [(c.code, c.rollup_balance) for c in children] == [
        ("FUNDS-A", Decimal("30.00")),
        ("FUNDS-B", Decimal("12.50")),
    ]
    assert response.context["balance"] == Decimal("42.50")
    page = body(response)
    for child in children:
        assert url("account_detail", child.pk) in page
    assert "42.50" in page and "30.00" in page and "12.50" in page


def test_a_placeholder_page_offers_no_statement_and_no_posting_forms(staff_client, placeholder):
    page = body(staff_client.get(url("account_detail", placeholder.pk)))
    assert url("account_top_up", placeholder.pk) not in page
    assert url("account_withdraw", placeholder.pk) not in page
    assert url("account_statement_csv", placeholder.pk) not in page
    assert "Opening balance" not in page
    assert "No postings" not in page


def test_a_leaf_account_keeps_its_statement_page(staff_client, placeholder):
    child = placeholder.children.get(code="FUNDS-A")
    response = staff_client.get(url("account_detail", child.pk))
    assert [t.name for t in response.templates][0] == "accounts/dashboard/account_detail.html"
    assert "Opening balance" in body(response)
