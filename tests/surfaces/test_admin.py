"""The admin: every model registered, ledger rows view-only, status changes through the facade."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib import admin, messages
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts import exceptions, facade
from accounts.models import (
    Account,
    AccountType,
    Kind,
    LookupThrottle,
    Status,
    Transaction,
    Transfer,
)

from ..conftest import ledger_snapshot
from ..factories import AccountFactory, AccountTypeFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

MODELS = [AccountType, Account, Transfer, Transaction, LookupThrottle]


def admin_url(model, view, *args):
    return reverse(f"admin:accounts_{model._meta.model_name}_{view}", args=args)


def messages_of(response):
    return [(m.level, m.message) for m in response.context["messages"]]


@pytest.fixture
def posted(source, funded):
    """A transfer out of ``funded`` (so it has two legs) and the objects around it."""
    sales = Account.objects.sales()
    moved = facade.transfer(funded, sales, Decimal("30.00"), description="Lunch")
    return moved


def account_form(account, **changes):
    """The fields the account change form posts, as they are now, with ``changes`` applied."""
    data = {
        "name": account.name,
        "code": account.code,
        "description": account.description,
        "account_type": account.account_type_id or "",
        "kind": account.kind,
        "parent": account.parent_id or "",
        "currency": account.currency,
        "credit_limit": "" if account.credit_limit is None else str(account.credit_limit),
        "start_date_0": "",
        "start_date_1": "",
        "end_date_0": "",
        "end_date_1": "",
        "primary_user": account.primary_user_id or "",
        "secondary_users": "",
    }
    data.update(changes)
    return data


def run_action(client, action, accounts):
    return client.post(
        admin_url(Account, "changelist"),
        {"action": action, admin.helpers.ACTION_CHECKBOX_NAME: [a.pk for a in accounts]},
        follow=True,
    )


# -- registration and pages ------------------------------------------------------------------


def test_every_model_is_registered_in_the_admin():
    assert all(admin.site.is_registered(model) for model in MODELS)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_each_changelist_opens_for_a_superuser(admin_client, posted, model):
    AccountTypeFactory()
    LookupThrottle.objects.create(client="ip:192.0.2.1", total_failures=3)
    response = admin_client.get(admin_url(model, "changelist"))
    assert response.status_code == 200


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_each_change_page_opens_for_a_superuser(admin_client, posted, model):
    AccountTypeFactory()
    LookupThrottle.objects.create(client="ip:192.0.2.1", total_failures=3)
    obj = model.objects.order_by("pk").first()
    response = admin_client.get(admin_url(model, "change", obj.pk))
    assert response.status_code == 200


def test_a_staff_user_without_permissions_is_turned_away(client):
    client.force_login(StaffFactory())
    for model in MODELS:
        assert client.get(admin_url(model, "changelist")).status_code == 403


def test_a_staff_user_with_view_permission_sees_the_ledger_but_no_actions(client, posted):
    staff = StaffFactory()
    staff.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_account", "view_transfer"])
    )
    client.force_login(staff)
    response = client.get(admin_url(Account, "changelist"))
    assert response.status_code == 200
    assert "freeze_accounts" not in response.content.decode()
    assert client.get(admin_url(Transfer, "change", posted.pk)).status_code == 200


# -- accounts --------------------------------------------------------------------------------


def test_the_account_list_shows_balances_formatted_by_currency(admin_client, funded, source):
    yen = AccountFactory(name="Yen wallet", currency="JPY")
    yen_source = AccountFactory(kind=Kind.ASSET, credit_limit=None, currency="JPY")
    facade.transfer(yen_source, yen, Decimal("500"))
    page = admin_client.get(admin_url(Account, "changelist")).content.decode()
    assert "100.00 GBP" in page
    assert "500 JPY" in page
    assert "500.00 JPY" not in page


def test_a_placeholder_account_shows_the_sum_of_its_children(admin_client, source):
    parent = AccountFactory(name="All cards")
    for amount in ("10.00", "15.50"):
        child = AccountFactory(parent=parent)
        facade.transfer(source, child, Decimal(amount))
    page = admin_client.get(admin_url(Account, "change", parent.pk)).content.decode()
    assert "25.50 GBP" in page


def test_the_account_list_searches_names_codes_and_users(admin_client):
    owner = UserFactory(username="barry")
    AccountFactory(name="Garden centre voucher", code="GARDEN-1")
    AccountFactory(name="Barry's wallet", code="WALLET-9", primary_user=owner)
    AccountFactory(name="Something else", code="OTHER-3")
    url = admin_url(Account, "changelist")

    def found(term):
        response = admin_client.get(url, {"q": term})
        return {a.code for a in response.context["cl"].result_list}

    assert found("garden") == {"GARDEN-1"}
    assert found("WALLET-9") == {"WALLET-9"}
    assert found("barry") == {"WALLET-9"}


def test_the_account_list_filters_by_kind_status_currency_and_type(admin_client):
    gift_cards = AccountTypeFactory(name="Gift cards")
    card = AccountFactory(account_type=gift_cards)
    frozen = AccountFactory(status=Status.FROZEN)
    euro = AccountFactory(currency="EUR")
    url = admin_url(Account, "changelist")

    def found(**params):
        return set(admin_client.get(url, params).context["cl"].result_list)

    assert found(account_type__id__exact=gift_cards.pk) == {card}
    assert found(status__exact="frozen") == {frozen}
    assert found(currency__exact="EUR") == {euro}
    assert found(kind__exact="income") == {
        Account.objects.sales(),
        Account.objects.expired_account(),
    }


def test_creating_an_account_in_the_admin_cannot_set_its_balance(admin_client):
    response = admin_client.post(
        admin_url(Account, "add"),
        account_form(Account(name="New card", code="NEW-CARD"), balance="999.00", version="7"),
    )
    assert response.status_code == 302
    created = Account.objects.get(code="NEW-CARD")
    assert (created.balance, created.version, created.status) == (Decimal("0.00"), 0, Status.OPEN)


def test_an_account_created_in_the_admin_without_a_code_gets_a_generated_one(admin_client):
    admin_client.post(admin_url(Account, "add"), account_form(Account(name="Uncoded", code="")))
    assert len(Account.objects.get(name="Uncoded").code) == 19


def test_the_status_field_cannot_be_edited_in_the_form(admin_client, funded):
    response = admin_client.post(
        admin_url(Account, "change", funded.pk), account_form(funded, status="closed")
    )
    assert response.status_code == 302
    funded.refresh_from_db()
    assert funded.status == Status.OPEN


def test_kind_and_currency_are_fixed_once_an_account_has_postings(admin_client, funded):
    response = admin_client.post(
        admin_url(Account, "change", funded.pk),
        account_form(funded, kind="asset", currency="EUR", name="Renamed"),
    )
    assert response.status_code == 302
    funded.refresh_from_db()
    assert (funded.name, funded.kind, funded.currency) == ("Renamed", Kind.LIABILITY, "GBP")


def test_an_account_with_postings_cannot_become_a_parent(admin_client, funded):
    child = AccountFactory()
    response = admin_client.post(
        admin_url(Account, "change", child.pk), account_form(child, parent=funded.pk)
    )
    assert response.status_code == 200
    assert "parent" in response.context["adminform"].form.errors
    child.refresh_from_db()
    assert child.parent is None


def test_an_account_cannot_be_put_under_its_own_child(admin_client):
    parent = AccountFactory()
    child = AccountFactory(parent=parent)
    response = admin_client.post(
        admin_url(Account, "change", parent.pk), account_form(parent, parent=child.pk)
    )
    assert "parent" in response.context["adminform"].form.errors


def test_a_child_must_have_its_parents_kind(admin_client):
    assets = AccountFactory(kind=Kind.ASSET)
    response = admin_client.post(
        admin_url(Account, "add"),
        account_form(Account(name="Card", code="CARD-X"), parent=assets.pk, kind="liability"),
    )
    assert "parent" in response.context["adminform"].form.errors
    assert not Account.objects.filter(code="CARD-X").exists()


def test_a_credit_limit_the_balance_already_breaks_is_a_form_error(admin_client):
    customer = AccountFactory(credit_limit=Decimal("100.00"))
    facade.transfer(customer, Account.objects.sales(), Decimal("60.00"))
    response = admin_client.post(
        admin_url(Account, "change", customer.pk), account_form(customer, credit_limit="50.00")
    )
    assert response.status_code == 200
    assert "credit_limit" in response.context["adminform"].form.errors
    customer.refresh_from_db()
    assert customer.credit_limit == Decimal("100.00")


def test_a_currency_that_is_not_an_iso_code_is_a_form_error(admin_client):
    response = admin_client.post(
        admin_url(Account, "add"), account_form(Account(code="BAD-CUR"), currency="12$")
    )
    assert "currency" in response.context["adminform"].form.errors


def test_deleting_an_account_with_history_lists_its_postings_instead_of_failing(
    admin_client, funded
):
    url = admin_url(Account, "delete", funded.pk)
    page = admin_client.get(url)
    assert page.status_code == 200
    assert page.context["protected"]
    response = admin_client.post(url, {"post": "yes"})
    assert response.status_code == 200
    assert Account.objects.filter(pk=funded.pk).exists()


def test_bulk_deleting_accounts_with_history_deletes_none_of_them(admin_client, funded):
    empty = AccountFactory()
    before = ledger_snapshot()
    response = admin_client.post(
        admin_url(Account, "changelist"),
        {
            "action": "delete_selected",
            admin.helpers.ACTION_CHECKBOX_NAME: [funded.pk, empty.pk],
            "post": "yes",
        },
    )
    assert response.status_code == 200
    assert response.context["protected"]
    assert ledger_snapshot() == before


def test_an_account_without_history_can_be_deleted(admin_client):
    empty = AccountFactory()
    response = admin_client.post(admin_url(Account, "delete", empty.pk), {"post": "yes"})
    assert response.status_code == 302
    assert not Account.objects.filter(pk=empty.pk).exists()


def test_the_core_accounts_cannot_be_deleted(admin_client):
    core = [Account.objects.sales(), Account.objects.source(currency="EUR")]
    for account in core:
        assert admin_client.get(admin_url(Account, "delete", account.pk)).status_code == 403


def test_staff_lift_an_api_client_block_from_the_admin(admin_client):
    blocked = LookupThrottle.objects.create(
        client="ip:192.0.2.7", total_failures=60, blocked_at=timezone.now()
    )
    response = admin_client.post(
        admin_url(LookupThrottle, "changelist"),
        {"action": "lift", admin.helpers.ACTION_CHECKBOX_NAME: [blocked.pk]},
        follow=True,
    )
    assert response.status_code == 200
    blocked.refresh_from_db()
    assert (blocked.blocked_at, blocked.total_failures) == (None, 0)


# -- actions ---------------------------------------------------------------------------------


def test_the_freeze_action_freezes_the_selected_accounts(admin_client, funded):
    other = AccountFactory()
    offered = admin_client.get(admin_url(Account, "changelist")).content.decode()
    assert 'value="freeze_accounts"' in offered
    response = run_action(admin_client, "freeze_accounts", [funded, other])
    assert response.status_code == 200
    assert set(Account.objects.filter(status=Status.FROZEN)) == {funded, other}
    assert (messages.SUCCESS, "2 accounts frozen.") in messages_of(response)


def test_a_frozen_account_refuses_postings_after_the_action(admin_client, funded):
    run_action(admin_client, "freeze_accounts", [funded])
    with pytest.raises(exceptions.FrozenAccount):
        facade.transfer(funded, Account.objects.sales(), Decimal("1.00"))


def test_the_thaw_action_reopens_frozen_accounts_and_says_which_were_open(admin_client, funded):
    frozen = AccountFactory(status=Status.FROZEN)
    response = run_action(admin_client, "thaw_accounts", [funded, frozen])
    frozen.refresh_from_db()
    assert frozen.status == Status.OPEN
    assert messages_of(response) == [
        (messages.SUCCESS, "1 account thawed."),
        (messages.INFO, "1 account was already thawed."),
    ]


def test_the_close_action_closes_empty_accounts_and_warns_about_the_others(admin_client, funded):
    empty = AccountFactory(name="Empty card")
    response = run_action(admin_client, "close_accounts", [funded, empty])
    assert response.status_code == 200
    empty.refresh_from_db()
    funded.refresh_from_db()
    assert empty.status == Status.CLOSED
    assert funded.status == Status.OPEN
    warnings = [text for level, text in messages_of(response) if level == messages.WARNING]
    assert len(warnings) == 1
    assert "1 account was not closed" in warnings[0]
    assert str(funded) in warnings[0] and "100.00 GBP" in warnings[0]


def test_thawing_a_closed_account_is_a_warning_not_an_error(admin_client):
    closed = AccountFactory(status=Status.CLOSED)
    response = run_action(admin_client, "thaw_accounts", [closed])
    assert response.status_code == 200
    assert messages_of(response) == [
        (messages.WARNING, f"1 account was not thawed: {closed}: Account {closed} is closed.")
    ]


def test_the_actions_record_who_changed_the_account(admin_client, funded):
    run_action(admin_client, "freeze_accounts", [funded])
    entry = LogEntry.objects.get(object_id=str(funded.pk))
    assert entry.user.username == "admin"
    assert "Frozen" in entry.get_change_message()


# -- customer cards' codes -------------------------------------------------------------------


@pytest.fixture
def gift(source):
    """A card with a generated code, and a redemption from it."""
    card = facade.create_card(amount=Decimal("40.00"), name="Gift card 7")
    facade.transfer(card, Account.objects.sales(), Decimal("15.00"))
    return card


def staff_client(client, *codenames):
    staff = StaffFactory()
    staff.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    client.force_login(staff)
    return client


#: Admin pages that name a card or its transfers: (model, view, which object).
ADMIN_PAGES = [
    (Account, "changelist", None),
    (Account, "change", "card"),
    (Account, "history", "card"),
    (Transfer, "changelist", None),
    (Transfer, "change", "redemption"),
    (Transaction, "changelist", None),
]


def admin_pages(card):
    redemption = Transfer.objects.get(source=card)
    objects = {"card": card.pk, "redemption": redemption.pk}
    return [
        admin_url(model, view, *([objects[which]] if which else []))
        for model, view, which in ADMIN_PAGES
    ]


def test_staff_without_view_card_code_see_cards_codes_masked_in_the_admin(client, gift):
    staff_client(client, "view_account", "change_account", "view_transfer", "view_transaction")
    for target in admin_pages(gift):
        response = client.get(target)
        assert response.status_code == 200, target
        assert gift.code not in response.content.decode(), target
    assert gift.display_code in client.get(admin_url(Account, "changelist")).content.decode()
    change = client.get(admin_url(Account, "change", gift.pk)).content.decode()
    assert gift.display_code in change
    assert 'name="code"' not in change  # read-only for them


def test_staff_holding_view_card_code_see_and_edit_cards_codes_in_the_admin(client, gift):
    staff_client(client, "view_account", "change_account", "view_card_code")
    assert gift.code in client.get(admin_url(Account, "changelist")).content.decode()
    change = client.get(admin_url(Account, "change", gift.pk)).content.decode()
    assert f'name="code" value="{gift.code}"' in change


def test_an_edit_by_staff_who_may_not_see_the_code_keeps_it(client, gift):
    staff_client(client, "view_account", "change_account")
    data = account_form(gift, name="Renamed")
    del data["code"]
    response = client.post(admin_url(Account, "change", gift.pk), data)
    assert response.status_code == 302
    gift.refresh_from_db()
    assert gift.name == "Renamed" and len(gift.code) == 19


def test_the_admin_history_of_a_card_holds_no_full_code(admin_client):
    unnamed = facade.create_card()
    admin_client.post(
        admin_url(Account, "change", unnamed.pk), account_form(unnamed, description="Lost")
    )
    entry = LogEntry.objects.get(object_id=str(unnamed.pk))
    assert entry.object_repr == unnamed.display_code
    assert unnamed.code not in entry.change_message


@pytest.mark.parametrize(
    ("model", "account_of"),
    [
        (Account, lambda row: row.pk),
        (Transfer, lambda row: row.source_id),
        (Transaction, lambda row: row.account_id),
    ],
    ids=["accounts", "transfers", "legs"],
)
def test_everyone_finds_a_card_by_its_full_code_in_the_admin(client, gift, model, account_of):
    staff_client(client, "view_account", "view_transfer", "view_transaction")
    for typed in (gift.code, gift.code.lower(), gift.code.replace("-", "")):
        response = client.get(admin_url(model, "changelist"), {"q": typed})
        found = response.context["cl"].result_list
        assert found
        assert gift.pk in {account_of(row) for row in found}


@pytest.mark.parametrize("model", [Account, Transfer, Transaction], ids=lambda m: m.__name__)
def test_part_of_a_cards_code_finds_it_in_the_admin_only_for_holders_of_view_card_code(
    client, gift, model
):
    part = gift.code[:6]
    staff_client(client, "view_account", "view_transfer", "view_transaction")
    assert not client.get(admin_url(model, "changelist"), {"q": part}).context["cl"].result_list
    holder = staff_client(
        Client(), "view_account", "view_transfer", "view_transaction", "view_card_code"
    )
    assert holder.get(admin_url(model, "changelist"), {"q": part}).context["cl"].result_list


def test_part_of_a_house_accounts_code_finds_it_in_the_admin(client):
    AccountFactory(code="HOUSE-BANK", kind=Kind.ASSET)
    staff_client(client, "view_account")
    response = client.get(admin_url(Account, "changelist"), {"q": "e-ba"})
    assert [a.code for a in response.context["cl"].result_list] == ["HOUSE-BANK"]


def test_the_masked_code_column_cannot_be_sorted(client, gift):
    # Sorting by a hidden code would tell where it lies among codes chosen to probe it.
    staff_client(client, "view_account")
    page = client.get(admin_url(Account, "changelist")).content.decode()
    assert 'class="column-masked_code"' in page
    assert "sortable column-masked_code" not in page


@pytest.mark.parametrize(
    ("change", "field"),
    [({"credit_limit": ""}, "credit_limit"), ({"kind": "asset"}, "kind")],
)
def test_editing_a_card_into_something_that_is_no_card_is_a_form_error(admin_client, change, field):
    card = facade.create_card(name="Spare")
    response = admin_client.post(
        admin_url(Account, "change", card.pk), account_form(card, **change)
    )
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    card.refresh_from_db()
    assert (card.kind, card.credit_limit) == (Kind.LIABILITY, 0)


# -- the ledger is view-only -----------------------------------------------------------------


@pytest.mark.parametrize("model", [Transfer, Transaction], ids=lambda m: m.__name__)
def test_ledger_rows_cannot_be_added_through_the_admin(admin_client, model):
    assert admin_client.get(admin_url(model, "add")).status_code == 403
    assert admin_client.post(admin_url(model, "add"), {}).status_code == 403


@pytest.mark.parametrize("model", [Transfer, Transaction], ids=lambda m: m.__name__)
def test_ledger_rows_cannot_be_changed_through_the_admin(admin_client, posted, model):
    obj = model.objects.order_by("pk").first()
    before = ledger_snapshot()
    page = admin_client.get(admin_url(model, "change", obj.pk))
    assert page.context["has_change_permission"] is False
    assert 'name="_save"' not in page.content.decode()
    response = admin_client.post(
        admin_url(model, "change", obj.pk), {"description": "edited", "amount": "1"}
    )
    assert response.status_code == 403
    assert ledger_snapshot() == before


@pytest.mark.parametrize("model", [Transfer, Transaction], ids=lambda m: m.__name__)
def test_ledger_rows_cannot_be_deleted_through_the_admin(admin_client, posted, model):
    obj = model.objects.order_by("pk").first()
    before = ledger_snapshot()
    assert admin_client.post(admin_url(model, "delete", obj.pk), {"post": "yes"}).status_code == 403
    changelist = admin_client.get(admin_url(model, "changelist"))
    assert "delete_selected" not in changelist.content.decode()
    bulk = admin_client.post(
        admin_url(model, "changelist"),
        {"action": "delete_selected", admin.helpers.ACTION_CHECKBOX_NAME: [obj.pk], "post": "yes"},
    )
    assert bulk.status_code in (200, 302)
    assert ledger_snapshot() == before


def test_the_transfer_page_shows_its_legs_read_only(admin_client, posted):
    page = admin_client.get(admin_url(Transfer, "change", posted.pk))
    inline = page.context["inline_admin_formsets"][0]
    assert inline.formset.model is Transaction
    assert len(inline.formset.forms) == 2
    assert inline.has_change_permission is False and inline.has_delete_permission is False
    text = page.content.decode()
    assert "30.00 GBP" in text
    assert posted.reference in text


def test_the_legs_list_can_be_narrowed_to_one_account(admin_client, posted, funded):
    response = admin_client.get(
        admin_url(Transaction, "changelist"), {"account__id__exact": funded.pk}
    )
    legs = list(response.context["cl"].result_list)
    assert [leg.account_id for leg in legs] == [funded.pk, funded.pk]
