"""What the dashboard shows: amounts in their currency's places, orders, placeholders, prints."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.http import HttpResponseBase
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts import facade, money, reports
from accounts.dashboard.common import DASHBOARD_PERMISSIONS, csv_amount
from accounts.models import KIND_ORDER, Kind, Transfer, kind_rank

from ..factories import AccountFactory

pytestmark = pytest.mark.django_db

DASHBOARD_CSS = (
    Path(__file__).resolve().parents[2] / "accounts/static/accounts/dashboard/dashboard.css"
)


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
    from ..factories import AccountTypeFactory

    gift = AccountTypeFactory(name="Gift cards", code="gift")
    promo = AccountTypeFactory(name="Promotional", code="promo")
    made = {}
    made["card-z"] = AccountFactory(code="AAA-CARD-Z", is_card=True, account_type=gift)
    made["bank"] = AccountFactory(code="ZZ-BANK", kind=Kind.ASSET, credit_limit=None)
    made["card-p"] = AccountFactory(code="AAA-CARD-P", is_card=True, account_type=promo)
    made["savings"] = AccountFactory(
        code="ZZ-BANK-SAV", kind=Kind.ASSET, credit_limit=None, parent=made["bank"]
    )
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
    bank = house.index("ZZ-BANK")
    assert house[bank : bank + 3] == ["ZZ-BANK", "ZZ-BANK-CUR", "ZZ-BANK-SAV"]
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


# -- printable card and receipt ----------------------------------------------------------------


@pytest.fixture
def gift_card(source):
    card = AccountFactory(code="7KQ3-ABCD-EFGH-PB3N", name="Birthday card", is_card=True)
    facade.transfer(source, card, Decimal("25.00"), description="Sold at the till")
    return card


def test_a_card_prints_with_its_full_code_and_a_qr_code(staff_client, gift_card):
    response = staff_client.get(url("account_print", gift_card.pk))
    assert response.status_code == 200
    page = body(response)
    assert "<span>7KQ3</span>-<span>ABCD</span>-<span>EFGH</span>-<span>PB3N</span>" in page
    assert '<div class="print-qr"' in page and "<svg" in page
    assert "no-store" in response["Cache-Control"]
    assert "@media print" in DASHBOARD_CSS.read_text()


def test_a_card_prints_its_code_as_text_without_segno(staff_client, gift_card, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "segno", None)  # makes `import segno` fail
    response = staff_client.get(url("account_print", gift_card.pk))
    assert response.status_code == 200
    page = body(response)
    assert "<span>PB3N</span>" in page
    assert "<svg" not in page and "print-qr" not in page


def test_printing_a_card_needs_the_permission_to_see_its_code(staff, gift_card):
    client = client_for(grant(staff, "view_account"))
    assert client.get(url("account_print", gift_card.pk)).status_code == 403
    assert url("account_print", gift_card.pk) not in body(
        client.get(url("account_detail", gift_card.pk))
    )


def test_only_cards_are_printed(staff_client, source):
    assert staff_client.get(url("account_print", source.pk)).status_code == 404


def test_the_card_page_links_to_its_printable_card(staff_client, gift_card):
    page = body(staff_client.get(url("account_detail", gift_card.pk)))
    assert url("account_print", gift_card.pk) in page


def test_a_transfer_prints_as_a_receipt_with_cards_masked(staff_client, gift_card):
    made = Transfer.objects.get(destination=gift_card)
    detail = body(staff_client.get(url("transfer_detail", made.reference)))
    assert url("transfer_receipt", made.reference) in detail
    response = staff_client.get(url("transfer_receipt", made.reference))
    assert response.status_code == 200
    page = body(response)
    assert made.reference in page
    assert "25.00 GBP" in page
    assert "Sold at the till" in page
    assert gift_card.display_code in page
    assert "7KQ3-ABCD" not in page and "EFGH" not in page
    assert timezone.localtime(made.created_at).strftime("%Y-%m-%d %H:%M") in page


def test_a_receipt_needs_the_permission_to_view_transfers(staff, gift_card):
    made = Transfer.objects.get(destination=gift_card)
    client = client_for(grant(staff, "view_account"))
    assert client.get(url("transfer_receipt", made.reference)).status_code == 403


# -- amounts as people read them ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "grouped", "expected"),
    [
        ("en", False, "1234.50"),
        ("en", True, "1,234.50"),
        ("de", False, "1234,50"),
        ("de", True, "1.234,50"),
    ],
)
def test_amounts_for_people_follow_the_currency_and_the_language(language, grouped, expected):
    from django.test import override_settings
    from django.utils import translation

    from accounts.money import localize_amount
    from accounts.templatetags.accounts_tags import money

    with translation.override(language), override_settings(USE_THOUSAND_SEPARATOR=grouped):
        assert localize_amount(Decimal("1234.5000"), "GBP") == expected
        assert money(Decimal("1234.5000"), "GBP") == expected
        assert localize_amount(Decimal("525.0000"), "JPY") == "525"
        assert localize_amount(Decimal("525.0000"), "KWD") == (
            "525,000" if language == "de" else "525.000"
        )


@pytest.mark.parametrize(
    ("currency", "limit", "balance"), [("GBP", "500.00", "525.00"), ("JPY", "500", "525")]
)
def test_a_refused_top_up_quotes_amounts_in_the_currencys_places(currency, limit, balance):
    from django.test import override_settings

    from accounts import exceptions

    card = AccountFactory(is_card=True, currency=currency)
    source = AccountFactory(kind=Kind.ASSET, credit_limit=None, currency=currency)
    facade.transfer(source, card, Decimal("500"))
    card.refresh_from_db()
    with override_settings(ACCOUNTS_MAX_INITIAL_VALUE=Decimal("500")):
        with pytest.raises(exceptions.AmountOutOfRange) as refused:
            facade.top_up(card, Decimal("25"), source=source)
        assert refused.value.message == (
            f"A top-up may not take the balance above {limit}; it would reach {balance}."
        )
        with pytest.raises(exceptions.AmountOutOfRange) as too_big:
            facade.create_account(amount=Decimal("600"), currency=currency, source=source)
        assert too_big.value.message == f"The largest amount that can be loaded is {limit}."


def test_an_unbalanced_entry_quotes_the_difference_in_the_currencys_places(source, account):
    from accounts import exceptions
    from accounts.facade import Credit, Debit

    with pytest.raises(exceptions.InvalidEntry) as refused:
        facade.post([Debit(source, Decimal("10.5")), Credit(account, Decimal("10"))])
    assert refused.value.message == "Debits and credits differ: GBP off by -0.50."


def test_dashboard_messages_are_localised_while_csv_stays_plain(staff_client, source):
    from django.test import override_settings

    card = AccountFactory(code="CARD-LOCAL", is_card=True)
    with override_settings(USE_THOUSAND_SEPARATOR=True):
        response = staff_client.post(
            url("account_top_up", card.pk),
            {"amount": "1234.50", "source": source.code, "description": ""},
            follow=True,
        )
        made = Transfer.objects.get(destination=card)
        assert [str(m) for m in response.context["dashboard_messages"]] == [
            f"Topped up 1,234.50 GBP (transfer {made.reference}); the balance is now 1,234.50 GBP."
        ]
        assert "1,234.50" in body(response)
        statement = body(staff_client.get(url("account_statement_csv", card.pk)))
    assert "1234.50" in statement and "1,234.50" not in statement


@pytest.mark.parametrize(
    ("amount", "currency", "written"),
    [
        ("12.5", "GBP", "12.50"),  # the currency's places
        ("1500", "JPY", "1500"),  # none for the yen
        ("10.125", "GBP", "10.125"),  # more than the currency's: kept, not rounded
        ("9520.58000000001", "GBP", "9520.58"),  # SQLite's float noise beyond the stored places
        ("-0.0001", "GBP", "-0.0001"),
    ],
)
def test_a_csv_amount_keeps_every_stored_place(amount, currency, written):
    assert str(csv_amount(Decimal(amount), currency)) == written


def test_the_statement_csv_keeps_places_the_page_rounds_for_people(
    staff_client, source, monkeypatch
):
    """An amount posted while GBP had three places (say, a project's earlier setting)."""
    card = AccountFactory(code="CARD-PLACES", is_card=True)
    monkeypatch.setitem(money._MINOR_UNITS, "GBP", 3)
    facade.transfer(source, card, Decimal("10.125"))
    monkeypatch.undo()

    rows = list(
        csv.reader(io.StringIO(body(staff_client.get(url("account_statement_csv", card.pk)))))
    )
    assert "10.125" in [cell for row in rows for cell in row]
    page = body(staff_client.get(url("account_detail", card.pk)))
    assert "10.12" in page and "10.125" not in page  # the currency's places, for people


def test_the_admin_shows_credit_limits_in_the_currencys_places(client, admin_client, staff):
    from django.contrib.auth.models import Permission

    from accounts.models import Account

    card = AccountFactory(credit_limit=Decimal("10"), currency="GBP")
    change = reverse("admin:accounts_account_change", args=[card.pk])
    assert 'value="10.00"' in body(admin_client.get(change))
    staff.user_permissions.add(Permission.objects.get(codename="view_account"))
    client.force_login(staff)
    page = body(client.get(change))
    assert "10.00 GBP" in page and "10.0000" not in page
    assert Account.objects.get(pk=card.pk).credit_limit == Decimal("10")


def test_past_the_house_order_limit_the_list_still_keeps_children_under_their_parent(
    staff_client, mixed_accounts, monkeypatch
):
    from accounts.dashboard import account_views

    monkeypatch.setattr(account_views, "HOUSE_ORDER_MAX", 1)
    shown = [a.code for a in staff_client.get(url("account_list")).context["accounts"]]
    bank = shown.index("ZZ-BANK")
    assert set(shown[bank + 1 : bank + 3]) == {"ZZ-BANK-CUR", "ZZ-BANK-SAV"}
    assert shown[-4:] == ["AAA-CARD-A", "AAA-CARD-Z", "AAA-CARD-P", "AAA-CARD-0"]
