"""The dashboard moves money on customer cards only, shows their codes only where they are the
point, gates corrections with their own permissions and answers bad input with form errors.

Each test here failed on the dashboard before issue 9 (or guards what its fix relies on).
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.admin.models import LogEntry
from django.test import Client

from accounts import facade
from accounts.dashboard import forms as dashboard_forms
from accounts.dashboard.common import DASHBOARD_PERMISSIONS
from accounts.dashboard.report_views import tree_order
from accounts.dashboard.views import NOT_A_CARD
from accounts.models import Account, Kind, Transfer, TransferKind

from ..factories import AccountFactory, StaffFactory, UserFactory
from .test_dashboard import (
    body,
    client_for,
    create_data,
    csv_rows,
    errors_of,
    grant,
    messages_of,
    url,
)

pytestmark = pytest.mark.django_db

FIFTY = Decimal("50.00")


def follow_post(client: Client, target: str, data: dict[str, Any] | None = None) -> Any:
    return client.post(target, data or {}, follow=True)


@pytest.fixture
def gift(db: None) -> Account:
    """A card with a generated code and no name, so pages can only name it by its code."""
    return facade.create_card(amount=FIFTY, description="Sold at the till")


@pytest.fixture
def clerk(db: None) -> Any:
    """Staff holding every dashboard permission but ``view_card_code``."""
    allowed = [p for p in DASHBOARD_PERMISSIONS if p != "view_card_code"]
    return grant(StaffFactory(username="clerk"), *allowed, "spend_from_any_account")


@pytest.fixture
def manager(db: None) -> Any:
    """Staff holding every dashboard permission, ``view_card_code`` included."""
    return grant(StaffFactory(username="manager"), *DASHBOARD_PERMISSIONS)


def full_code_shown(page: str, card: Account) -> bool:
    return card.code in page or card.code.replace("-", "") in page


# -- finding 1: only designated cards are created as cards, loaded and spent ------------------


def test_the_new_account_form_asks_whether_it_is_a_customer_card_or_a_house_account(manager):
    page = body(client_for(manager).get(url("account_create")))
    assert 'type="radio" name="role" value="card"' in page
    assert 'type="radio" name="role" value="house"' in page
    assert "Customer card" in page and "House account" in page


def test_a_customer_card_is_made_by_create_card_and_designated(manager):
    response = client_for(manager).post(url("account_create"), create_data(code=""))
    made = Account.objects.get(name="New card")
    assert response.status_code == 302
    assert made.is_card
    assert (made.kind, made.credit_limit, made.balance) == (Kind.LIABILITY, 0, Decimal("25.00"))
    assert len(made.code) == 19  # generated


def test_a_card_with_no_credit_limit_is_a_form_error_and_creates_nothing(manager, unchanged):
    with unchanged():
        response = client_for(manager).post(url("account_create"), create_data(unlimited="on"))
    assert response.status_code == 200
    assert response.context["form"].errors["unlimited"] == [dashboard_forms.CARD_NEEDS_LIMIT]
    assert not Account.objects.filter(name="New card").exists()


@pytest.mark.parametrize("kind", [Kind.ASSET, Kind.EQUITY, Kind.INCOME, Kind.EXPENSE])
def test_a_card_that_is_not_a_liability_is_a_form_error(manager, unchanged, kind):
    with unchanged():
        response = client_for(manager).post(url("account_create"), create_data(kind=kind))
    assert response.context["form"].errors["kind"] == [dashboard_forms.CARD_IS_LIABILITY]
    assert not Account.objects.filter(name="New card").exists()


def test_a_house_account_with_no_credit_limit_is_no_card_and_the_dashboard_never_spends_it(
    manager, unchanged
):
    # What finding 1 made: a liability with no limit that anyone could spend without end.
    client = client_for(manager)
    client.post(
        url("account_create"),
        create_data(role="house", code="FLOAT", unlimited="on", amount=""),
    )
    made = Account.objects.get(code="FLOAT")
    assert (made.is_card, made.credit_limit) == (False, None)
    with unchanged():
        response = follow_post(client, url("account_withdraw", made.pk), {"amount": "1000.00"})
    assert NOT_A_CARD % {"account": made} in messages_of(response)


def test_codes_starting_with_core_are_kept_for_the_core_accounts(manager, unchanged):
    for role in ("card", "house"):
        with unchanged():
            response = client_for(manager).post(
                url("account_create"), create_data(role=role, code="core-mine", amount="")
            )
        assert response.context["form"].errors["code"] == [
            "Codes starting with CORE- are kept for the core accounts."
        ]


def house_accounts() -> dict[str, Account]:
    """One of each account the dashboard must not load or spend from."""
    source = Account.objects.source()
    parent = AccountFactory(code="HOUSE", kind=Kind.LIABILITY)
    AccountFactory(code="HOUSE-PAYABLE", kind=Kind.LIABILITY, parent=parent)
    unlimited = AccountFactory(code="FLOAT", credit_limit=None)
    limited = AccountFactory(code="SAVINGS", credit_limit=Decimal("100.00"))
    facade.transfer(source, unlimited, FIFTY)
    facade.transfer(source, limited, FIFTY)
    return {
        "placeholder": parent,
        "core source": source,
        "core sales": Account.objects.sales(),
        "unlimited": unlimited,
        "house": limited,
    }


HOUSE_KINDS = ["placeholder", "core source", "core sales", "unlimited", "house"]


@pytest.mark.parametrize("which", HOUSE_KINDS)
@pytest.mark.parametrize("action", ["account_top_up", "account_withdraw"])
def test_money_moves_only_on_cards_anything_else_is_refused_with_a_message(
    manager, unchanged, which, action
):
    target = house_accounts()[which]
    with unchanged():
        response = follow_post(
            client_for(manager), url(action, target.pk), {"amount": "10.00", "destination": ""}
        )
    assert messages_of(response) == [NOT_A_CARD % {"account": target}]


@pytest.mark.parametrize("which", HOUSE_KINDS)
def test_the_page_of_an_account_that_is_not_a_card_offers_no_top_up_or_withdrawal(manager, which):
    target = house_accounts()[which]
    page = body(client_for(manager).get(url("account_detail", target.pk)))
    assert url("account_top_up", target.pk) not in page
    assert url("account_withdraw", target.pk) not in page


def test_the_page_of_an_open_card_offers_top_up_and_withdrawal(manager, gift):
    page = body(client_for(manager).get(url("account_detail", gift.pk)))
    assert url("account_top_up", gift.pk) in page
    assert url("account_withdraw", gift.pk) in page
    assert "Customer card" in page


@pytest.mark.parametrize("which", ["house", "unlimited"])
def test_a_withdrawal_pays_into_a_core_account_or_a_card_never_a_house_account(
    manager, gift, unchanged, which
):
    target = house_accounts()[which]
    with unchanged():
        response = follow_post(
            client_for(manager),
            url("account_withdraw", gift.pk),
            {"amount": "5.00", "destination": target.code},
        )
    refusal = dashboard_forms.WITHDRAW_DESTINATIONS
    assert errors_of(response) == [refusal]


def test_a_withdrawal_can_pay_into_any_core_account(manager, gift):
    follow_post(
        client_for(manager),
        url("account_withdraw", gift.pk),
        {"amount": "5.00", "destination": "core-source"},
    )
    assert Transfer.objects.filter(source=gift, destination=Account.objects.source()).exists()


def test_editing_a_card_into_one_with_no_credit_limit_is_a_form_error(manager, gift, unchanged):
    data = {"name": "", "description": "", "account_type": "", "end_date": "", "unlimited": "on"}
    with unchanged():
        response = client_for(manager).post(url("account_edit", gift.pk), data)
    assert response.status_code == 200
    assert response.context["form"].errors["unlimited"] == [dashboard_forms.CARD_NEEDS_LIMIT]
    gift.refresh_from_db()
    assert gift.credit_limit == 0


# -- finding 4: create-and-load from a card needs the withdraw permission ---------------------


def test_loading_a_new_card_from_another_card_needs_the_permission_to_withdraw(gift, unchanged):
    seller = grant(StaffFactory(), "add_account", "view_account")
    with unchanged():
        response = client_for(seller).post(
            url("account_create"), create_data(amount="50.00", source=gift.code)
        )
    assert response.status_code == 200
    assert response.context["form"].errors["source"] == [dashboard_forms.SOURCE_NEEDS_WITHDRAW]
    gift.refresh_from_db()
    assert gift.balance == FIFTY
    assert not Account.objects.filter(name="New card").exists()


def test_staff_who_may_withdraw_can_move_a_cards_money_onto_a_new_card(gift):
    teller = grant(StaffFactory(), "add_account", "view_account", "change_account")
    typed = gift.code.replace("-", " ").lower()  # as a customer reads it out
    response = client_for(teller).post(
        url("account_create"), create_data(amount="20.00", source=typed)
    )
    assert response.status_code == 302
    made = Account.objects.get(name="New card")
    load = Transfer.objects.get(destination=made)
    assert (load.source, load.amount, load.user) == (gift, Decimal("20.00"), teller)
    gift.refresh_from_db()
    assert gift.balance == Decimal("30.00")


def test_loading_from_a_card_with_users_needs_one_of_them_or_spend_from_any_account(unchanged):
    owned = facade.create_card(amount=FIFTY, primary_user=UserFactory())
    teller = grant(StaffFactory(), "add_account", "view_account", "change_account")
    with unchanged():
        response = client_for(teller).post(
            url("account_create"), create_data(amount="20.00", source=owned.code)
        )
    assert "may not spend from account" in body(response)
    assert not Account.objects.filter(name="New card").exists()


@pytest.mark.parametrize("which", ["core sales", "house", "unlimited"])
def test_a_new_account_is_loaded_from_the_source_or_a_card_only(manager, unchanged, which):
    target = house_accounts()[which]
    with unchanged():
        response = client_for(manager).post(url("account_create"), create_data(source=target.code))
    assert response.context["form"].errors["source"] == [dashboard_forms.SOURCE_NOT_A_CARD]


def test_money_taken_off_a_card_is_never_loaded_onto_a_house_account(manager, gift, unchanged):
    with unchanged():
        response = client_for(manager).post(
            url("account_create"), create_data(role="house", source=gift.code)
        )
    assert response.context["form"].errors["source"] == [dashboard_forms.CARD_MONEY_STAYS_ON_CARDS]


def test_loading_from_the_source_needs_only_the_permission_to_add_accounts(unchanged):
    seller = grant(StaffFactory(), "add_account", "view_account")
    response = client_for(seller).post(url("account_create"), create_data())
    assert response.status_code == 302
    assert Account.objects.get(name="New card").balance == Decimal("25.00")


# -- finding 2: codes only where they are the point -------------------------------------------


def pages_naming(card: Account) -> list[str]:
    """Every page and download that names ``card`` or one of its transfers."""
    load = Transfer.objects.get(destination=card)
    redemption = Transfer.objects.get(source=card)
    return [
        url("account_list"),
        url("account_detail", card.pk),
        url("account_statement_csv", card.pk),
        url("account_edit", card.pk),
        url("transfer_list"),
        url("transfer_detail", load.reference),
        url("transfer_detail", redemption.reference),
        url("report_trial_balance"),
        url("report_trial_balance_csv"),
        url("report_account_tree"),
        url("report_account_tree_csv"),
        url("report_deferred_income"),
        url("report_profit_and_loss"),
    ]


def test_staff_without_view_card_code_see_only_masked_codes(clerk, gift):
    facade.transfer(gift, Account.objects.sales(), Decimal("5.00"))
    client = client_for(clerk)
    for target in pages_naming(gift):
        response = client.get(target)
        assert response.status_code == 200, target
        assert not full_code_shown(body(response), gift), target
    assert gift.display_code in body(client.get(url("account_list")))
    assert gift.display_code in body(client.get(url("account_detail", gift.pk)))


def test_every_csv_download_masks_card_codes_even_for_staff_who_may_see_them(manager, gift):
    facade.transfer(gift, Account.objects.sales(), Decimal("5.00"))
    client = client_for(manager)
    for name in ("report_trial_balance_csv", "report_account_tree_csv"):
        rows = csv_rows(client.get(url(name)))
        assert [gift.display_code] in [[cell for cell in row if "****" in cell] for row in rows]
        assert not full_code_shown(body(client.get(url(name))), gift)


def test_staff_holding_view_card_code_see_a_cards_code_on_its_page(manager, gift):
    response = client_for(manager).get(url("account_detail", gift.pk))
    assert f"<code>{gift.code}</code>" in body(response)
    # A page holding a card's code stays out of every cache.
    assert "no-store" in response["Cache-Control"]


def test_the_account_list_shows_full_codes_only_to_staff_who_may_see_them(manager, clerk, gift):
    assert gift.code in body(client_for(manager).get(url("account_list")))
    assert gift.code not in body(client_for(clerk).get(url("account_list")))


def test_house_account_codes_are_shown_to_everyone(clerk):
    AccountFactory(code="HOUSE-BANK", kind=Kind.ASSET)
    assert "<code>HOUSE-BANK</code>" in body(client_for(clerk).get(url("account_list")))


def test_the_creator_of_a_card_sees_its_code_once(clerk):
    client = client_for(clerk)
    response = client.post(url("account_create"), create_data(), follow=True)
    made = Account.objects.get(name="New card")
    first = body(response)
    assert f"<code>{made.code}</code>" in first
    assert "Shown once" in first
    assert "no-store" in response["Cache-Control"]
    again = body(client.get(url("account_detail", made.pk)))
    assert made.code not in again
    assert made.display_code in again


def test_the_message_the_log_line_and_the_admin_history_of_a_new_card_mask_its_code(clerk, caplog):
    client = client_for(clerk)
    with caplog.at_level(logging.INFO, logger="accounts.dashboard"):
        response = client.post(url("account_create"), create_data(name=""), follow=True)
    made = Account.objects.get(is_card=True, name="")
    assert any(made.display_code in m for m in messages_of(response))
    assert not any(full_code_shown(m, made) for m in messages_of(response))
    assert caplog.records and not any(full_code_shown(r.getMessage(), made) for r in caplog.records)
    entry = LogEntry.objects.get(object_id=str(made.pk))
    assert not full_code_shown(entry.object_repr + entry.change_message, made)


@pytest.mark.parametrize(
    "typed",
    [
        lambda code: code,
        lambda code: code.lower(),
        lambda code: code.replace("-", ""),
        lambda code: code.replace("-", " ").lower(),
    ],
    ids=["as printed", "lower case", "without dashes", "spaced, lower case"],
)
def test_a_card_is_found_by_its_full_code_as_customers_type_it_by_everyone(clerk, gift, typed):
    response = client_for(clerk).get(url("account_list"), {"q": typed(gift.code)})
    assert [a.pk for a in response.context["accounts"]] == [gift.pk]


def test_part_of_a_cards_code_finds_it_only_for_staff_who_may_see_codes(manager, clerk, gift):
    part = gift.code[:6]  # "7KQ2-M": one guess further would reveal the next character
    found = client_for(manager).get(url("account_list"), {"q": part}).context["accounts"]
    assert gift in found
    hidden = client_for(clerk).get(url("account_list"), {"q": part}).context["accounts"]
    assert gift not in hidden


def test_part_of_a_house_accounts_code_finds_it_for_everyone(clerk):
    bank = AccountFactory(code="HOUSE-BANK", kind=Kind.ASSET)
    found = client_for(clerk).get(url("account_list"), {"q": "e-ba"}).context["accounts"]
    assert list(found) == [bank]


def test_cards_are_ordered_by_their_masked_codes_for_staff_who_may_not_see_them(db):
    # Ordering by the full code would tell staff who can make cards with chosen codes where a
    # hidden code lies, a comparison at a time.
    first = AccountFactory(is_card=True, code="2222-2222-2222-9999")
    second = AccountFactory(is_card=True, code="9999-9999-9999-2222")
    assert tree_order([first, second], full_codes=True) == [first, second]
    assert tree_order([first, second], full_codes=False) == [second, first]


# -- corrections need their own permissions ---------------------------------------------------


@pytest.fixture
def redemption(gift: Account) -> Transfer:
    return facade.transfer(gift, Account.objects.sales(), Decimal("20.00"))


@pytest.mark.parametrize(
    ("action", "needed"),
    [("transfer_reverse", "reverse_transfer"), ("transfer_refund", "refund_transfer")],
)
def test_a_correction_without_its_own_permission_is_refused_and_writes_nothing(
    redemption, unchanged, action, needed
):
    # add_transfer was enough before; it no longer is.
    others = [p for p in DASHBOARD_PERMISSIONS if p != needed]
    staff = grant(StaffFactory(), *others, "add_transfer", "spend_from_any_account")
    with unchanged():
        response = client_for(staff).post(url(action, redemption.reference), {"amount": "20.00"})
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("granted", "shown", "hidden"),
    [
        ("reverse_transfer", "transfer_reverse", "transfer_refund"),
        ("refund_transfer", "transfer_refund", "transfer_reverse"),
    ],
)
def test_the_transfer_page_offers_only_the_corrections_the_user_may_make(
    redemption, granted, shown, hidden
):
    staff = grant(StaffFactory(), "view_transfer", granted)
    page = body(client_for(staff).get(url("transfer_detail", redemption.reference)))
    assert url(shown, redemption.reference) in page
    assert url(hidden, redemption.reference) not in page


def test_staff_holding_reverse_transfer_reverse_a_redemption(redemption, gift):
    staff = grant(StaffFactory(), "view_transfer", "reverse_transfer")
    follow_post(client_for(staff), url("transfer_reverse", redemption.reference), {"reason": "x"})
    assert Transfer.objects.get(parent=redemption).kind == TransferKind.REVERSAL
    gift.refresh_from_db()
    assert gift.balance == FIFTY


# -- finding 8: bad input is a form error, never a server error -------------------------------

#: (URL name, the date parameter, whether the page takes a card's pk).
DATE_FILTERS = [
    ("transfer_list", "date_from", False),
    ("transfer_list", "date_to", False),
    ("account_detail", "start", True),
    ("account_detail", "end", True),
    ("report_trial_balance", "as_of", False),
    ("report_deferred_income", "as_of", False),
    ("report_profit_and_loss", "start", False),
    ("report_profit_and_loss", "end", False),
]
DATE_DOWNLOADS = [
    ("account_statement_csv", "start", True),
    ("account_statement_csv", "end", True),
    ("report_trial_balance_csv", "as_of", False),
    ("report_deferred_income_csv", "as_of", False),
    ("report_profit_and_loss_csv", "start", False),
    ("report_profit_and_loss_csv", "end", False),
]
FAR_DAYS = ["9999-12-31", "0001-01-01", "1899-12-31"]


@pytest.mark.parametrize("day", FAR_DAYS)
@pytest.mark.parametrize(("name", "parameter", "takes_card"), DATE_FILTERS)
def test_a_date_filter_beyond_the_ledgers_days_is_a_form_error(
    manager, gift, day, name, parameter, takes_card
):
    target = url(name, gift.pk) if takes_card else url(name)
    response = client_for(manager).get(target, {parameter: day})
    assert response.status_code == 200
    page = body(response)
    assert "Enter a day from 1900-01-01 to 9998-12-31." in page


@pytest.mark.parametrize("day", FAR_DAYS)
@pytest.mark.parametrize(("name", "parameter", "takes_card"), DATE_DOWNLOADS)
def test_a_download_with_a_date_beyond_the_ledgers_days_is_a_bad_request(
    manager, gift, day, name, parameter, takes_card
):
    target = url(name, gift.pk) if takes_card else url(name)
    response = client_for(manager).get(target, {parameter: day})
    assert response.status_code == 400
    assert "Enter a day from 1900-01-01 to 9998-12-31." in body(response)


def test_the_last_and_first_days_allowed_answer_with_the_books(manager, gift):
    client = client_for(manager)
    period = {"start": "1900-01-01", "end": "9998-12-31"}
    response = client.get(url("account_detail", gift.pk), period)
    assert [line.amount for line in response.context["statement"].lines] == [FIFTY]
    rows = csv_rows(client.get(url("account_statement_csv", gift.pk), period))
    assert len(rows) == 2
    late = client.get(url("report_deferred_income"), {"as_of": "9998-12-31"})
    assert late.status_code == 200


@pytest.mark.parametrize("reference", ["%00", "ABCD%00", "A" * 200, "%EF%BF%BD", "%ED%A0%80"])
@pytest.mark.parametrize("name", ["transfer_detail", "transfer_reverse", "transfer_refund"])
def test_a_transfer_reference_that_cannot_be_one_is_a_404(manager, reference, name):
    target = url(name, "MARKER").replace("MARKER", reference)
    method = "get" if name == "transfer_detail" else "post"
    assert getattr(client_for(manager), method)(target).status_code == 404


@pytest.mark.parametrize("destination", ["\x00", "CORE-SALES\x00", "x" * 5000])
def test_a_withdrawal_into_a_code_that_cannot_be_one_is_refused_with_a_message(
    manager, gift, unchanged, destination
):
    with unchanged():
        response = follow_post(
            client_for(manager),
            url("account_withdraw", gift.pk),
            {"amount": "5.00", "destination": destination},
        )
    assert errors_of(response) == ["No account has this code."]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("source", "CORE-SOURCE\x00"),
        ("primary_user", "alice\x00"),
        ("name", "Gift\x00card"),
        ("code", "\x00"),
        ("description", "Sold\x00"),
        ("currency", "GB\x00"),
        ("name", "Gift\ufffdcard"),
        ("description", "x" * 70_000),
        ("name", "x" * 200),
        ("end_date", "9999-12-31T23:59"),
        ("start_date", "0001-01-01T00:00"),
    ],
)
def test_text_no_column_can_hold_is_a_form_error_on_the_new_account_form(
    manager, unchanged, field, value
):
    with unchanged():
        response = client_for(manager).post(url("account_create"), create_data(**{field: value}))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not Account.objects.filter(name__startswith="New card").exists()


@pytest.mark.parametrize("text", ["\x00", "\ufffd", "\ud800"])
def test_text_that_is_not_storable_is_refused_by_every_text_field(text):
    form = dashboard_forms.TransferFilterForm({"reference": f"A{text}", "user": f"B{text}"})
    assert set(form.errors) == {"reference", "user"}
    assert not dashboard_forms.is_storable_text(text)
    assert dashboard_forms.replace_garbled("a\ud800b") == "a\ufffdb"
