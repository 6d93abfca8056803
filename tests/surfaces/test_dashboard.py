"""The staff dashboard: who may open each page, what each action does and refuses, the reports."""

from __future__ import annotations

import csv
import datetime
import io
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.db import connection
from django.http import HttpResponseBase
from django.shortcuts import resolve_url
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts import facade
from accounts.dashboard import account_views, charts
from accounts.dashboard.common import DASHBOARD_PERMISSIONS, PAGE_SIZE
from accounts.models import (
    Account,
    AccountType,
    AuditAction,
    AuditEntry,
    Kind,
    Status,
    Surface,
    Transfer,
    TransferKind,
)
from accounts.templatetags.accounts_tags import money

from ..factories import AccountFactory, AccountTypeFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

FIFTY = Decimal("50.00")


def url(name: str, *args: Any) -> str:
    return reverse(f"accounts_dashboard:{name}", args=args)


def grant(user: Any, *codenames: str) -> Any:
    """Give ``user`` these ``accounts`` permissions and return a fresh copy (no stale cache)."""
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


def csv_rows(response: HttpResponseBase) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body(response))))


def messages_of(response: HttpResponseBase) -> list[str]:
    return [str(m) for m in response.context["dashboard_messages"]]


def errors_of(response: HttpResponseBase) -> list[str]:
    """The messages of a page, and the errors of the form a refused action shows again."""
    found = messages_of(response)
    for name in ("top_up_form", "withdraw_form", "form"):
        form = response.context.get(name)
        if form is not None and form.is_bound:
            found += [str(error) for errors in form.errors.values() for error in errors]
    return found


def CardFactory(**fields: Any) -> Account:
    """A designated customer card (``is_card``): the only accounts the dashboard moves money on."""
    return AccountFactory(is_card=True, **fields)


@pytest.fixture
def card(source):
    """A gift card holding 50.00, loaded from ``source``."""
    acct = CardFactory(name="Birthday card", code="CARD-0001")
    facade.transfer(source, acct, FIFTY, description="Sold at the till")
    acct.refresh_from_db()
    return acct


@pytest.fixture
def load(card):
    return Transfer.objects.get(destination=card)


@pytest.fixture
def staff_client(staff):
    """A member of staff holding every permission the dashboard checks."""
    return client_for(grant(staff, *DASHBOARD_PERMISSIONS))


# -- who may open what ------------------------------------------------------------------------

#: (URL name, argument, permission needed). Arguments name a fixture: the card or its load.
PAGES = [
    ("account_list", None, "view_account"),
    ("account_detail", "card", "view_account"),
    ("account_statement_csv", "card", "view_account"),
    ("account_create", None, "add_account"),
    ("account_edit", "card", "change_account"),
    ("transfer_list", None, "view_transfer"),
    ("transfer_detail", "load", "view_transfer"),
    ("account_freeze", "card", "change_account"),
    ("account_thaw", "card", "change_account"),
    ("account_close", "card", "change_account"),
    ("transfer_reverse", "load", "reverse_transfer"),
    ("transfer_refund", "load", "refund_transfer"),
    ("audit_list", None, "view_auditentry"),
    ("audit_list_csv", None, "view_auditentry"),
    ("report_list", None, "view_reports"),
    ("report_trial_balance", None, "view_reports"),
    ("report_trial_balance_csv", None, "view_reports"),
    ("report_account_tree", None, "view_reports"),
    ("report_account_tree_csv", None, "view_reports"),
    ("report_deferred_income", None, "view_reports"),
    ("report_deferred_income_csv", None, "view_reports"),
    ("report_profit_and_loss", None, "view_reports"),
    ("report_profit_and_loss_csv", None, "view_reports"),
    ("report_balance_sheet", None, "view_reports"),
    ("report_balance_sheet_csv", None, "view_reports"),
    ("report_gift_card_flows", None, "view_reports"),
    ("report_gift_card_flows_csv", None, "view_reports"),
    ("period_list", None, "view_closedperiod"),
    ("period_close", None, "add_closedperiod"),
]
ACTIONS = [
    ("account_top_up", "card", "change_account"),
    ("account_withdraw", "card", "change_account"),
    ("account_freeze", "card", "change_account"),
    ("account_thaw", "card", "change_account"),
    ("account_close", "card", "change_account"),
    ("transfer_reverse", "load", "reverse_transfer"),
    ("transfer_refund", "load", "refund_transfer"),
    ("period_close", None, "add_closedperiod"),
]
EVERYTHING = [(*row, "get") for row in PAGES] + [(*row, "post") for row in ACTIONS]
IDS = [f"{method} {name}" for name, _, _, method in EVERYTHING]


def resolve(request: Any, name: str, argument: str | None) -> str:
    if argument is None:
        return url(name)
    obj = request.getfixturevalue(argument)
    return url(name, obj.pk if argument == "card" else obj.reference)


@pytest.mark.parametrize(("name", "argument", "permission", "method"), EVERYTHING, ids=IDS)
def test_anonymous_visitors_are_sent_to_the_login_page(
    request, client, name, argument, permission, method
):
    target = resolve(request, name, argument)
    response = getattr(client, method)(target)
    assert response.status_code == 302
    assert response.url.startswith(resolve_url(settings.LOGIN_URL))


@pytest.mark.parametrize(("name", "argument", "permission", "method"), EVERYTHING, ids=IDS)
def test_users_who_are_not_staff_are_refused_even_with_the_permission(
    request, name, argument, permission, method
):
    user = grant(UserFactory(), *DASHBOARD_PERMISSIONS)
    target = resolve(request, name, argument)
    response = getattr(client_for(user), method)(target)
    assert response.status_code == 403


@pytest.mark.parametrize(("name", "argument", "permission", "method"), EVERYTHING, ids=IDS)
def test_staff_without_the_pages_permission_are_refused(
    request, unchanged, name, argument, permission, method
):
    others = [p for p in DASHBOARD_PERMISSIONS if p != permission]
    user = grant(StaffFactory(), *others, "spend_from_any_account")
    target = resolve(request, name, argument)
    with unchanged():
        response = getattr(client_for(user), method)(target, {"amount": "1.00"})
    assert response.status_code == 403


@pytest.mark.parametrize(("name", "argument", "permission", "method"), EVERYTHING, ids=IDS)
def test_staff_with_the_pages_permission_are_let_in(request, name, argument, permission, method):
    user = grant(StaffFactory(), permission)
    target = resolve(request, name, argument)
    response = getattr(client_for(user), method)(target)
    # Pages answer 200; an empty action is a form error, shown on its page with 200 too.
    assert response.status_code == 200


def test_inactive_staff_are_refused(card):
    user = grant(StaffFactory(), *DASHBOARD_PERMISSIONS)
    client = client_for(user)
    type(user).objects.filter(pk=user.pk).update(is_active=False)
    response = client.get(url("account_detail", card.pk))
    # Django's backends log an inactive user out, so the session no longer opens the page.
    assert response.status_code == 302
    assert response.url.startswith(resolve_url(settings.LOGIN_URL))


@pytest.mark.parametrize(
    ("permission", "section"),
    [
        ("view_account", "account_list"),
        ("view_transfer", "transfer_list"),
        ("view_reports", "report_list"),
    ],
)
def test_the_front_page_sends_staff_to_the_first_section_they_may_open(permission, section):
    response = client_for(grant(StaffFactory(), permission)).get(url("index"))
    assert response.status_code == 302
    assert response.url == url(section)


def test_the_front_page_refuses_staff_who_may_open_no_section():
    assert client_for(StaffFactory()).get(url("index")).status_code == 403


def test_the_navigation_shows_only_the_sections_the_user_may_open():
    user = grant(StaffFactory(), "view_transfer")
    page = body(client_for(user).get(url("transfer_list")))
    assert 'href="' + url("transfer_list") + '" aria-current="page"' in page
    assert url("account_list") not in page
    assert url("report_list") not in page


@pytest.mark.parametrize("name", ["account_top_up", "account_withdraw"])
def test_actions_refuse_get_requests(staff_client, card, name):
    assert staff_client.get(url(name, card.pk)).status_code == 405


def test_actions_refuse_a_post_without_a_csrf_token(staff, card, unchanged):
    client = Client(enforce_csrf_checks=True)
    client.force_login(grant(staff, *DASHBOARD_PERMISSIONS))
    with unchanged():
        response = client.post(url("account_top_up", card.pk), {"amount": "5.00"})
    assert response.status_code == 403


def test_the_forms_on_the_account_page_carry_a_csrf_token(staff_client, card):
    page = body(staff_client.get(url("account_detail", card.pk)))
    assert page.count('name="csrfmiddlewaretoken"') >= 2  # top up, withdraw


# -- the account list ---------------------------------------------------------------------------


def listed(client: Client, **params: Any) -> set[str]:
    response = client.get(url("account_list"), params)
    assert response.status_code == 200
    return {a.code for a in response.context["accounts"]}


def test_the_account_list_searches_names_codes_and_the_primary_users_name_and_email(staff_client):
    alice = UserFactory(username="alice", email="alice@shop.example")
    AccountFactory(code="AAA", name="Holiday fund")
    AccountFactory(code="BBB-2024", name="Other")
    AccountFactory(code="CCC", name="Third", primary_user=alice)
    assert listed(staff_client, q="holiday") == {"AAA"}
    assert listed(staff_client, q="bbb") == {"BBB-2024"}
    assert listed(staff_client, q="alice") == {"CCC"}
    assert listed(staff_client, q="shop.example") == {"CCC"}


def test_the_account_list_finds_a_generated_code_typed_without_dashes(staff_client):
    made = AccountFactory(code="")
    assert listed(staff_client, q=made.code.replace("-", "").lower()) == {made.code}


def test_the_account_list_filters_by_status_kind_type_and_currency(staff_client):
    gift = AccountTypeFactory(name="Gift cards")
    AccountFactory(code="OPEN", account_type=gift)
    AccountFactory(code="FROZEN", status=Status.FROZEN)
    AccountFactory(code="BANK", kind=Kind.ASSET, currency="EUR")
    assert listed(staff_client, status="frozen") == {"FROZEN"}
    assert "BANK" in listed(staff_client, kind="asset")
    assert "OPEN" not in listed(staff_client, kind="asset")
    assert listed(staff_client, account_type=gift.pk) == {"OPEN"}
    assert listed(staff_client, currency="eur") == {"BANK"}


def test_the_account_list_filters_accounts_expiring_within_thirty_days(staff_client):
    now = timezone.now()
    AccountFactory(code="SOON", end_date=now + datetime.timedelta(days=10))
    AccountFactory(code="LATER", end_date=now + datetime.timedelta(days=45))
    AccountFactory(code="GONE", end_date=now - datetime.timedelta(days=1))
    AccountFactory(code="FOREVER")
    assert listed(staff_client, expiring="on") == {"SOON"}


def test_the_account_list_is_paginated_and_keeps_its_filters_across_pages(staff_client):
    kind = AccountType.objects.create(name="Vouchers", code="vouchers")
    for n in range(PAGE_SIZE + 3):
        AccountFactory(code=f"V{n:03}", account_type=kind)
    first = staff_client.get(url("account_list"), {"account_type": kind.pk})
    assert len(first.context["accounts"]) == PAGE_SIZE
    assert f"account_type={kind.pk}&amp;page=2" in body(first)
    second = staff_client.get(url("account_list"), {"account_type": kind.pk, "page": 2})
    assert len(second.context["accounts"]) == 3


def test_the_account_list_shows_balances_with_the_currencys_places(staff_client, card):
    AccountFactory(code="YEN", currency="JPY")
    page = body(staff_client.get(url("account_list")))
    assert '<td class="num">50.00</td>' in page
    assert '<td class="num">0</td>' in page  # JPY has no minor unit


def test_the_account_list_shows_a_placeholders_rolled_up_balance(staff_client, source):
    bank = AccountFactory(code="BANK", kind=Kind.ASSET)
    current = AccountFactory(code="BANK-CUR", kind=Kind.ASSET, parent=bank)
    equity = AccountFactory(code="EQUITY", kind=Kind.EQUITY, credit_limit=None)
    facade.transfer(current, equity, Decimal("40.00"))
    response = staff_client.get(url("account_list"), {"q": "bank"})
    balances = {a.code: a.rollup_balance for a in response.context["accounts"]}
    assert balances == {"BANK": Decimal("40.00"), "BANK-CUR": Decimal("40.00")}


# -- the account page ---------------------------------------------------------------------------


def test_the_account_page_shows_balance_available_amount_limit_dates_and_users(
    staff_client, source
):
    alice = UserFactory(username="alice")
    bob = UserFactory(username="bob")
    acct = AccountFactory(
        name="Team budget",
        credit_limit=Decimal("20.00"),
        primary_user=alice,
        end_date=timezone.make_aware(datetime.datetime(2031, 1, 2, 3, 4)),
    )
    acct.secondary_users.add(bob)
    facade.transfer(source, acct, Decimal("12.50"))
    page = body(staff_client.get(url("account_detail", acct.pk)))
    assert "12.50 GBP" in page  # balance
    assert "32.50 GBP" in page  # available: balance plus credit limit
    assert "20.00 GBP" in page  # credit limit
    assert "2031-01-02 03:04" in page
    assert "alice" in page
    assert "bob" in page


def test_the_account_page_says_no_limit_for_an_unlimited_account(staff_client, source):
    page = body(staff_client.get(url("account_detail", source.pk)))
    assert "No limit" in page


def test_the_account_page_draws_the_balance_as_an_inline_svg_step_line(staff_client, card):
    page = body(staff_client.get(url("account_detail", card.pk)))
    assert "<svg" in page
    assert 'class="chart-line"' in page
    assert "<script" not in page


def test_the_chart_of_an_account_without_postings_says_so(staff_client, account):
    page = body(staff_client.get(url("account_detail", account.pk)))
    assert "<svg" in page
    assert "No postings yet." in page


def test_the_account_page_lists_the_statement_with_a_running_balance(staff_client, card):
    facade.transfer(card, Account.objects.sales(), Decimal("7.25"))
    response = staff_client.get(url("account_detail", card.pk))
    lines = response.context["statement"].lines
    assert [line.amount for line in lines] == [FIFTY, Decimal("-7.25")]
    assert [line.balance for line in lines] == [FIFTY, Decimal("42.75")]
    page = body(response)
    assert "42.75" in page
    assert "Closing balance" in page


def test_the_statement_on_the_account_page_is_paginated(staff_client, card, monkeypatch):
    monkeypatch.setattr(account_views, "STATEMENT_PAGE_SIZE", 2)
    sales = Account.objects.sales()
    for _ in range(3):
        facade.transfer(card, sales, Decimal("1.00"))
    second = staff_client.get(url("account_detail", card.pk), {"page": 2})
    assert [line.balance for line in second.context["statement"].lines] == [
        Decimal("48.00"),
        Decimal("47.00"),
    ]
    assert "Page 2 of 2" in body(second)


def test_a_statement_period_in_the_future_opens_and_closes_at_the_current_balance(
    staff_client, card
):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    response = staff_client.get(url("account_detail", card.pk), {"start": tomorrow.isoformat()})
    statement = response.context["statement"]
    assert statement.lines == []
    assert statement.opening_balance == statement.closing_balance == FIFTY


def test_the_statement_downloads_as_csv(staff_client, card):
    facade.transfer(card, Account.objects.sales(), Decimal("7.25"), description="=HYPERLINK(1)")
    response = staff_client.get(url("account_statement_csv", card.pk))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    # A file name outlives the download: a card's is named by its number, never its code.
    assert f'filename="statement-card-{card.pk}.csv"' in response["Content-Disposition"]
    rows = csv_rows(response)
    header = ["date", "reference", "kind", "description", "amount", "balance", "currency", "by"]
    assert rows[0] == header
    assert [r[4:] for r in rows[1:]] == [
        ["50.00", "50.00", "GBP", ""],
        ["-7.25", "42.75", "GBP", ""],
    ]
    assert rows[1][3] == "Sold at the till"
    assert rows[2][3] == "'=HYPERLINK(1)"  # never a spreadsheet formula


def test_the_statement_csv_holds_every_line_however_many_pages(staff_client, card, monkeypatch):
    from accounts import reports

    monkeypatch.setattr(reports, "STATEMENT_PAGE_SIZE_MAX", 2)
    sales = Account.objects.sales()
    for _ in range(4):
        facade.transfer(card, sales, Decimal("1.00"))
    rows = csv_rows(staff_client.get(url("account_statement_csv", card.pk)))
    assert [r[5] for r in rows[1:]] == ["50.00", "49.00", "48.00", "47.00", "46.00"]


@pytest.mark.parametrize("name", ["account_detail", "account_statement_csv", "account_edit"])
def test_an_unknown_account_is_a_404(staff_client, name):
    assert staff_client.get(url(name, 999999)).status_code == 404


def test_an_action_on_an_unknown_account_is_a_404(staff_client):
    assert staff_client.post(url("account_top_up", 999999), {"amount": "1"}).status_code == 404


# -- the balance chart --------------------------------------------------------------------------


def test_the_chart_reads_at_most_the_asked_number_of_legs_in_one_query(
    card, django_assert_num_queries
):
    sales = Account.objects.sales()
    for _ in range(24):
        facade.transfer(card, sales, Decimal("1.00"))
    card.refresh_from_db()
    with django_assert_num_queries(1):
        points = charts.balance_points(card, max_points=10)
    assert len(points) <= 10
    assert points[0].balance == FIFTY  # the first leg
    assert points[-1].balance == card.balance  # and the last


def test_the_chart_of_an_account_with_back_dated_legs_follows_the_dates(
    card, source, django_assert_max_num_queries
):
    two_days_ago = timezone.now() - datetime.timedelta(days=2)
    facade.transfer(source, card, Decimal("20.00"), date=two_days_ago)
    card.refresh_from_db()
    with django_assert_max_num_queries(2):
        points = charts.balance_points(card)
    # Posted second but dated first: 20.00 then, 70.00 once the earlier-posted load lands.
    assert [p.balance for p in points] == [Decimal("20.00"), Decimal("70.00")]
    assert points[0].at == two_days_ago


def test_sampling_an_account_with_back_dated_legs_keeps_the_first_and_last_by_date(card, source):
    facade.transfer(card, Account.objects.sales(), Decimal("5.00"))
    facade.transfer(
        source, card, Decimal("20.00"), date=timezone.now() - datetime.timedelta(days=2)
    )
    card.refresh_from_db()
    points = charts.balance_points(card, max_points=2)
    assert [p.balance for p in points] == [Decimal("20.00"), Decimal("65.00")]


def test_sampled_versions_are_evenly_spaced_and_keep_both_ends():
    assert charts.sampled_versions(150) is None
    versions = charts.sampled_versions(10_000)
    assert versions is not None
    assert len(versions) <= charts.MAX_POINTS
    assert versions[0] == 1
    assert versions[-1] == 10_000


def test_the_chart_steps_from_zero_to_each_balance():
    start = timezone.now() - datetime.timedelta(days=2)
    points = [
        charts.Point(start, Decimal("10")),
        charts.Point(start + datetime.timedelta(days=1), Decimal("4")),
    ]
    svg = charts.balance_chart_svg(points, currency="GBP", now=start + datetime.timedelta(days=2))
    path = svg.split('class="chart-line" d="')[1].split('"')[0]
    assert path.count("V") == 2 and path.count("H") == 3
    assert ">10.00<" in svg and ">0.00<" in svg


def test_the_chart_escapes_the_account_name(staff_client):
    acct = AccountFactory(name="<b>Evil</b>")
    page = body(staff_client.get(url("account_detail", acct.pk)))
    assert "<b>Evil</b>" not in page


# -- creating an account ------------------------------------------------------------------------


def create_data(**overrides: Any) -> dict[str, Any]:
    data = {
        "role": "card",
        "name": "New card",
        "code": "",
        "kind": "liability",
        "currency": "GBP",
        "credit_limit": "0.00",
        "amount": "25.00",
        "source": "CORE-SOURCE",
    }
    data.update(overrides)
    return data


def test_creating_an_account_loads_its_opening_balance_in_the_same_step(staff, staff_client):
    response = staff_client.post(
        url("account_create"), create_data(code="NEW-1", description="For Sam")
    )
    made = Account.objects.get(code="NEW-1")
    assert response.status_code == 302
    assert response.url == url("account_detail", made.pk)
    assert made.balance == Decimal("25.00")
    assert made.description == "For Sam"
    load = Transfer.objects.get(destination=made)
    assert load.source == Account.objects.source()
    assert load.description == "Opening balance"
    assert load.user == staff
    assert LogEntry.objects.filter(object_id=str(made.pk), user=staff).exists()


def test_creating_an_account_without_a_code_generates_one(staff_client):
    before = set(Account.objects.values_list("pk", flat=True))
    staff_client.post(url("account_create"), create_data(amount=""))
    (made,) = Account.objects.exclude(pk__in=before)
    assert len(made.code) == 19
    assert made.balance == 0
    assert not Transfer.objects.filter(destination=made).exists()


def test_creating_an_account_above_the_largest_load_creates_nothing(staff_client, unchanged):
    with override_settings(ACCOUNTS_MAX_INITIAL_VALUE=Decimal("100")), unchanged():
        response = staff_client.post(url("account_create"), create_data(amount="500.00"))
    assert response.status_code == 200
    assert "The largest amount that can be loaded is 100" in body(response)
    assert not Account.objects.filter(name="New card").exists()


def test_a_load_refused_after_the_account_was_inserted_leaves_no_account(staff_client, unchanged):
    # An empty card with no credit cannot be the source: the facade refuses the transfer
    # only once the new account's row exists, and the whole step is rolled back.
    CardFactory(code="EMPTY")
    with unchanged():
        response = staff_client.post(url("account_create"), create_data(source="EMPTY"))
    assert response.status_code == 200
    assert "has 0.00 GBP available" in body(response)
    assert not Account.objects.filter(name="New card").exists()


def test_a_new_account_in_another_currency_is_loaded_from_that_currencys_source(staff_client):
    staff_client.post(url("account_create"), create_data(code="EURO", currency="EUR"))
    made = Account.objects.get(code="EURO")
    assert made.balance == Decimal("25.00")
    load = Transfer.objects.get(destination=made)
    assert (load.source.code, load.source.currency) == ("CORE-SOURCE-EUR", "EUR")


def test_a_load_from_a_source_in_another_currency_is_refused(staff_client, unchanged):
    dollars = CardFactory(code="DOLLARS", currency="USD")
    facade.top_up(dollars, Decimal("40.00"))
    with unchanged():
        response = staff_client.post(url("account_create"), create_data(source="DOLLARS"))
    assert "use facade.exchange()" in body(response)
    assert not Account.objects.filter(name="New card").exists()


def test_creating_an_account_with_a_taken_code_is_refused(staff_client, card, unchanged):
    with unchanged():
        response = staff_client.post(url("account_create"), create_data(code="CARD-0001"))
    assert "Another account already has this code." in body(response)


def test_creating_an_account_with_an_unknown_source_is_refused(staff_client, unchanged):
    with unchanged():
        response = staff_client.post(url("account_create"), create_data(source="NOPE"))
    assert "No account has the code NOPE." in body(response)


def test_creating_an_account_can_name_its_primary_user_and_give_no_credit_limit(staff_client):
    alice = UserFactory(username="alice", email="alice@example.com")
    staff_client.post(
        url("account_create"),
        create_data(
            role="house",
            code="BANK",
            kind="asset",
            unlimited="on",
            amount="",
            primary_user="alice@example.com",
        ),
    )
    made = Account.objects.get(code="BANK")
    assert made.credit_limit is None
    assert made.primary_user == alice
    assert made.kind == Kind.ASSET
    assert not made.is_card


def test_creating_an_account_that_ends_before_it_starts_is_refused(staff_client, unchanged):
    with unchanged():
        response = staff_client.post(
            url("account_create"),
            create_data(start_date="2030-01-02T00:00", end_date="2030-01-01T00:00"),
        )
    assert "The end date must be after the start date." in body(response)


# -- editing an account -------------------------------------------------------------------------


def edit_data(account: Account, **overrides: Any) -> dict[str, Any]:
    data = {
        "name": account.name,
        "description": account.description,
        "account_type": account.account_type_id or "",
        "end_date": "",
        "credit_limit": "" if account.credit_limit is None else str(account.credit_limit),
    }
    data.update(overrides)
    return data


def test_editing_an_account_saves_its_descriptive_fields(staff, staff_client, card):
    kind = AccountTypeFactory()
    response = staff_client.post(
        url("account_edit", card.pk),
        edit_data(
            card,
            name="Renamed",
            description="For Sam",
            account_type=kind.pk,
            end_date="2031-05-06T07:08",
            credit_limit="5.00",
        ),
    )
    assert response.status_code == 302
    card.refresh_from_db()
    assert (card.name, card.description, card.account_type) == ("Renamed", "For Sam", kind)
    assert timezone.localtime(card.end_date).strftime("%Y-%m-%d %H:%M") == "2031-05-06 07:08"
    assert card.credit_limit == Decimal("5.00")
    assert card.balance == FIFTY
    entry = LogEntry.objects.get(object_id=str(card.pk), user=staff)
    assert "credit limit" in entry.change_message


def test_an_edit_in_the_dashboard_is_in_the_audit_trail_with_its_reason(staff, staff_client, card):
    staff_client.post(
        url("account_edit", card.pk),
        edit_data(card, name="Renamed", credit_limit="5.00", reason="Holder asked by phone"),
    )
    edited = AuditEntry.objects.get(account=card, action=AuditAction.EDITED)
    assert (edited.user, edited.surface, edited.reason) == (
        staff,
        Surface.DASHBOARD,
        "Holder asked by phone",
    )
    assert edited.changes["name"][1] == "Renamed"
    limit = AuditEntry.objects.get(account=card, action=AuditAction.CREDIT_LIMIT_CHANGED)
    assert (limit.user, limit.surface) == (staff, Surface.DASHBOARD)
    page = body(staff_client.get(url("account_detail", card.pk)))
    assert "Holder asked by phone" in page


def test_saving_an_edit_that_changes_nothing_records_nothing(staff_client, card):
    before = AuditEntry.objects.count()
    response = staff_client.post(url("account_edit", card.pk), edit_data(card))
    assert response.status_code == 302
    assert AuditEntry.objects.count() == before


def test_a_credit_limit_the_balance_already_breaks_is_refused_with_a_form_error(
    staff_client, source, unchanged
):
    acct = AccountFactory(credit_limit=Decimal("50.00"))
    facade.transfer(acct, Account.objects.sales(), Decimal("30.00"))  # balance -30.00
    with unchanged():
        response = staff_client.post(
            url("account_edit", acct.pk), edit_data(acct, credit_limit="10.00")
        )
    assert response.status_code == 200
    assert "the credit limit must be at least 30.00" in body(response)
    acct.refresh_from_db()
    assert acct.credit_limit == Decimal("50.00")


def test_a_credit_limit_that_covers_the_balance_is_accepted(staff_client):
    acct = AccountFactory(credit_limit=Decimal("50.00"))
    facade.transfer(acct, Account.objects.sales(), Decimal("30.00"))
    staff_client.post(url("account_edit", acct.pk), edit_data(acct, credit_limit="30.00"))
    acct.refresh_from_db()
    assert acct.credit_limit == Decimal("30.00")


def test_ticking_no_credit_limit_removes_the_limit_of_a_house_account(staff_client):
    bank = AccountFactory(code="BANK", kind=Kind.ASSET)
    staff_client.post(url("account_edit", bank.pk), edit_data(bank, unlimited="on"))
    bank.refresh_from_db()
    assert bank.credit_limit is None


def test_an_edit_cannot_end_an_account_before_it_starts(staff_client):
    acct = AccountFactory(start_date=timezone.make_aware(datetime.datetime(2030, 6, 1)))
    response = staff_client.post(
        url("account_edit", acct.pk), edit_data(acct, end_date="2030-05-01T00:00")
    )
    assert "The end date must be after the start date" in body(response)
    acct.refresh_from_db()
    assert acct.end_date is None


# -- money actions on an account ----------------------------------------------------------------


def follow_post(client: Client, target: str, data: dict[str, Any] | None = None) -> Any:
    return client.post(target, data or {}, follow=True)


def test_topping_up_loads_the_account_and_records_the_staff_member(staff, staff_client, card):
    response = follow_post(staff_client, url("account_top_up", card.pk), {"amount": "10.00"})
    card.refresh_from_db()
    assert card.balance == Decimal("60.00")
    top_up = Transfer.objects.filter(destination=card).latest("pk")
    assert top_up.user == staff
    assert top_up.username == staff.username
    assert any("Topped up 10.00 GBP" in m for m in messages_of(response))


def test_a_top_up_above_the_largest_load_is_refused_with_its_message(staff_client, card, unchanged):
    with override_settings(ACCOUNTS_MAX_INITIAL_VALUE=Decimal("55")), unchanged():
        response = follow_post(staff_client, url("account_top_up", card.pk), {"amount": "10.00"})
    assert any("may not take the balance above 55" in m for m in errors_of(response))


@pytest.mark.parametrize("amount", ["", "abc", "-5", "0", "1.005"])
def test_a_top_up_of_a_bad_amount_is_refused(staff_client, card, unchanged, amount):
    with unchanged():
        response = follow_post(staff_client, url("account_top_up", card.pk), {"amount": amount})
    assert response.status_code == 200
    assert response.context["top_up_form"].errors
    assert not messages_of(response)


def test_withdrawing_pays_into_the_sales_account_by_default(staff, staff_client, card):
    response = follow_post(staff_client, url("account_withdraw", card.pk), {"amount": "20.00"})
    card.refresh_from_db()
    sales = Account.objects.sales()
    assert card.balance == Decimal("30.00")
    made = Transfer.objects.get(source=card)
    assert made.destination == sales
    assert made.user == staff
    assert any("Withdrew 20.00 GBP" in m for m in messages_of(response))


def test_withdrawing_from_an_account_in_another_currency_pays_that_currencys_sales(
    staff_client,
):
    euros = facade.create_card(amount=Decimal("30.00"), code="EURO", currency="EUR")
    follow_post(staff_client, url("account_withdraw", euros.pk), {"amount": "10.00"})
    made = Transfer.objects.get(source=euros)
    assert made.destination.code == "CORE-SALES-EUR"


def test_withdrawing_can_pay_onto_another_card(staff_client, card):
    other = CardFactory(code="OTHER")
    follow_post(
        staff_client, url("account_withdraw", card.pk), {"amount": "5.00", "destination": "other"}
    )
    other.refresh_from_db()
    assert other.balance == Decimal("5.00")


def test_withdrawing_more_than_the_balance_is_refused(staff_client, card, unchanged):
    with unchanged():
        response = follow_post(staff_client, url("account_withdraw", card.pk), {"amount": "80"})
    assert any("has 50.00 GBP available" in m for m in errors_of(response))


def test_withdrawing_into_an_unknown_account_is_refused(staff_client, card, unchanged):
    with unchanged():
        response = follow_post(
            staff_client, url("account_withdraw", card.pk), {"amount": "5", "destination": "ZZZ"}
        )
    assert any("No account has the code ZZZ." in m for m in errors_of(response))


def test_withdrawing_from_a_users_account_needs_the_spend_from_any_account_permission(
    source, unchanged
):
    acct = CardFactory(primary_user=UserFactory())
    facade.transfer(source, acct, FIFTY)
    staff = grant(StaffFactory(), "view_account", "change_account")
    with unchanged():
        response = follow_post(client_for(staff), url("account_withdraw", acct.pk), {"amount": "5"})
    assert any("may not spend from account" in m for m in errors_of(response))
    trusted = grant(StaffFactory(), "view_account", "change_account", "spend_from_any_account")
    follow_post(client_for(trusted), url("account_withdraw", acct.pk), {"amount": "5"})
    acct.refresh_from_db()
    assert acct.balance == Decimal("45.00")


def test_freezing_and_thawing_go_through_the_facade_and_are_recorded(staff, staff_client, card):
    response = follow_post(staff_client, url("account_freeze", card.pk), {"reason": "Lost"})
    card.refresh_from_db()
    assert card.status == Status.FROZEN
    assert "Account Birthday card frozen." in messages_of(response)
    follow_post(staff_client, url("account_thaw", card.pk), {"reason": "Found"})
    card.refresh_from_db()
    assert card.status == Status.OPEN
    assert LogEntry.objects.filter(object_id=str(card.pk), user=staff).count() == 2


def test_money_cannot_be_loaded_onto_a_frozen_account(staff_client, card, unchanged):
    facade.freeze_account(card)
    with unchanged():
        response = follow_post(staff_client, url("account_top_up", card.pk), {"amount": "1"})
    assert "Account Birthday card is frozen." in errors_of(response)


def test_closing_an_account_that_holds_money_is_refused_with_a_clear_message(
    staff_client, card, unchanged
):
    with unchanged():
        response = follow_post(staff_client, url("account_close", card.pk), {"reason": "Done"})
    assert "Account Birthday card holds 50.00 GBP; move it out before closing." in errors_of(
        response
    )
    card.refresh_from_db()
    assert card.status == Status.OPEN


def test_closing_an_empty_account_closes_it(staff_client, account):
    response = follow_post(staff_client, url("account_close", account.pk), {"reason": "Done"})
    account.refresh_from_db()
    assert account.status == Status.CLOSED
    assert any("closed" in m for m in messages_of(response))


# -- transfers ----------------------------------------------------------------------------------


def transfer_references(client: Client, **params: Any) -> set[str]:
    response = client.get(url("transfer_list"), params)
    assert response.status_code == 200
    return {t.reference for t in response.context["transfers"]}


def test_the_transfer_list_filters_by_reference_account_user_and_date(source):
    alice = grant(StaffFactory(username="alice"), "view_transfer", "spend_from_any_account")
    first = AccountFactory(code="FIRST")
    second = AccountFactory(code="SECOND")
    one = facade.transfer(source, first, Decimal("1.00"))
    two = facade.transfer(source, second, Decimal("2.00"), user=alice, merchant_reference="ORD-9")
    client = client_for(alice)
    assert transfer_references(client, reference=one.reference) == {one.reference}
    compact = two.reference.replace("-", "").lower()
    assert transfer_references(client, reference=compact) == {two.reference}
    assert transfer_references(client, reference="ORD-9") == {two.reference}
    assert transfer_references(client, account="first") == {one.reference}
    assert transfer_references(client, user="ALI") == {two.reference}
    today = timezone.localdate()
    assert transfer_references(client, date_from=today.isoformat(), date_to=today.isoformat()) >= {
        one.reference,
        two.reference,
    }
    yesterday = (today - datetime.timedelta(days=1)).isoformat()
    assert transfer_references(client, date_to=yesterday) == set()


def test_the_transfer_page_shows_legs_parent_children_and_what_remains_refundable(
    staff_client, load, card
):
    refund = facade.transfer(card, load.source, Decimal("20.00"), parent=load)
    page = body(staff_client.get(url("transfer_detail", load.reference)))
    assert refund.reference in page
    assert "Remaining refundable: <strong" in page
    assert "30.00 GBP" in page
    assert "Birthday card" in page  # a leg
    assert url("transfer_reverse", load.reference) in page
    child_page = body(staff_client.get(url("transfer_detail", refund.reference)))
    assert load.reference in child_page  # its parent


def test_a_reversal_offers_no_reverse_or_refund_button(staff_client, load):
    reversal = facade.reverse(load)
    page = body(staff_client.get(url("transfer_detail", reversal.reference)))
    assert url("transfer_reverse", reversal.reference) not in page
    assert url("transfer_refund", reversal.reference) not in page


def test_the_transfer_page_finds_a_reference_typed_in_lower_case(staff_client, load):
    compact = load.reference.lower()
    assert staff_client.get(url("transfer_detail", compact)).status_code == 200


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("transfer_detail", "get"),
        ("transfer_reverse", "get"),
        ("transfer_reverse", "post"),
        ("transfer_refund", "post"),
    ],
)
def test_an_unknown_reference_is_a_404(staff_client, name, method):
    assert getattr(staff_client, method)(url(name, "NOPE-NOPE")).status_code == 404


def test_reversing_a_transfer_records_the_staff_member(staff, staff_client, load, card):
    response = follow_post(staff_client, url("transfer_reverse", load.reference), {"reason": "x"})
    reversal = Transfer.objects.get(parent=load)
    assert reversal.kind == TransferKind.REVERSAL
    assert reversal.user == staff
    card.refresh_from_db()
    assert card.balance == 0
    assert any(f"as transfer {reversal.reference}" in m for m in messages_of(response))


def test_reversing_twice_is_refused_with_a_message(staff_client, load, unchanged):
    facade.reverse(load)
    with unchanged():
        response = follow_post(
            staff_client, url("transfer_reverse", load.reference), {"reason": "Again"}
        )
    assert any("Nothing remains to correct" in m for m in errors_of(response))


def test_a_refund_is_capped_by_what_remains_refundable(staff, staff_client, load, unchanged):
    target = url("transfer_refund", load.reference)
    follow_post(staff_client, target, {"amount": "20.00", "reason": "Returned"})
    refund = Transfer.objects.get(parent=load)
    assert (refund.kind, refund.amount, refund.user) == (
        TransferKind.REFUND,
        Decimal("20.00"),
        staff,
    )
    with unchanged():
        response = follow_post(staff_client, target, {"amount": "30.01", "reason": "Returned"})
    assert any("Only 30.00 GBP remains refundable" in m for m in errors_of(response))
    assert response.context["form"]["amount"].value() == "30.01"


# -- reports ------------------------------------------------------------------------------------


@pytest.fixture
def shop(source):
    """A gift-card shop: two cards loaded, one partly spent, one expiring soon."""
    now = timezone.now()
    soon = AccountFactory(code="SOON", end_date=now + datetime.timedelta(days=10))
    later = AccountFactory(code="LATER")
    facade.transfer(source, soon, Decimal("30.00"))
    facade.transfer(source, later, Decimal("70.00"))
    facade.transfer(later, Account.objects.sales(), Decimal("25.00"))
    return source


def test_the_trial_balance_balances_per_currency_and_shows_the_equation(staff_client, shop):
    response = staff_client.get(url("report_trial_balance"))
    (section,) = response.context["sections"]
    assert section["currency"] == "GBP"
    assert section["debits"] == section["credits"] == Decimal("100.00")
    (row,) = response.context["equation_rows"]
    assert row["left_total"] == row["right_total"] == Decimal("100.00")
    page = body(response)
    assert "Assets + expenses" in page
    assert '<span class="ok">Yes</span>' in page


def test_the_trial_balance_downloads_as_csv(staff_client, shop):
    response = staff_client.get(url("report_trial_balance_csv"))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = csv_rows(response)
    assert rows[0] == ["currency", "code", "name", "kind", "debit", "credit"]
    by_code = {r[1]: r for r in rows[1:]}
    assert by_code[shop.code][4:] == ["100.00", "0.00"]
    assert by_code["LATER"][4:] == ["0.00", "45.00"]
    assert by_code["CORE-SALES"][4:] == ["0.00", "25.00"]


def test_the_trial_balance_as_of_a_past_day_shows_the_books_then(staff_client, shop):
    long_ago = (timezone.localdate() - datetime.timedelta(days=400)).isoformat()
    response = staff_client.get(url("report_trial_balance"), {"as_of": long_ago})
    assert response.context["sections"] == []


def test_the_account_tree_indents_children_and_rolls_their_balances_up(staff_client, source):
    bank = AccountFactory(code="BANK", name="Bank", kind=Kind.ASSET)
    current = AccountFactory(code="BANK-CUR", name="Current", kind=Kind.ASSET, parent=bank)
    savings = AccountFactory(code="BANK-SAV", name="Savings", kind=Kind.ASSET, parent=bank)
    equity = AccountFactory(code="EQUITY", kind=Kind.EQUITY, credit_limit=None)
    facade.transfer(current, equity, Decimal("40.00"))
    facade.transfer(savings, equity, Decimal("60.00"))
    response = staff_client.get(url("report_account_tree"), {"kind": "asset"})
    rows = {a.code: a for a in response.context["accounts"]}
    assert rows["BANK"].rollup_balance == Decimal("100.00")
    assert rows["BANK-CUR"].depth == 1
    codes = [a.code for a in response.context["accounts"]]
    assert codes.index("BANK") + 1 == codes.index("BANK-CUR")
    page = body(response)
    assert 'class="depth-0 parent"' in page
    assert 'class="depth-1"' in page
    csv_by_code = {r[1]: r for r in csv_rows(staff_client.get(url("report_account_tree_csv")))[1:]}
    assert csv_by_code["BANK"] == ["0", "BANK", "Bank", "asset", "GBP", "100.00"]
    assert csv_by_code["BANK-SAV"][0] == "1"


def test_the_account_tree_puts_children_under_their_parent_and_siblings_by_code(source):
    from accounts.dashboard.report_views import tree_order

    zeta = AccountFactory(code="Z")
    alpha = AccountFactory(code="A")
    child_b = AccountFactory(code="B", parent=zeta)
    child_a = AccountFactory(code="C", parent=zeta)
    grandchild = AccountFactory(code="A1", parent=child_b)
    ordered = [a.code for a in tree_order([zeta, alpha, child_b, child_a, grandchild])]
    assert ordered == ["A", "Z", "B", "A1", "C"]


def test_deferred_income_groups_liabilities_by_days_to_expiry(staff_client, shop):
    response = staff_client.get(url("report_deferred_income"))
    cells = {row["bucket"]: dict(row["cells"]) for row in response.context["rows"]}
    assert cells["≤30 days"]["GBP"] == Decimal("30.00")
    assert cells["open-ended"]["GBP"] == Decimal("45.00")
    assert cells["expired"]["GBP"] == 0
    rows = csv_rows(staff_client.get(url("report_deferred_income_csv")))
    assert rows[0] == ["bucket", "currency", "amount"]
    assert ["≤30 days", "GBP", "30.00"] in rows
    assert ["open-ended", "GBP", "45.00"] in rows


def test_deferred_income_as_of_a_later_day_counts_the_card_as_expired(staff_client, shop):
    later = (timezone.localdate() + datetime.timedelta(days=20)).isoformat()
    response = staff_client.get(url("report_deferred_income"), {"as_of": later})
    cells = {row["bucket"]: dict(row["cells"]) for row in response.context["rows"]}
    assert cells["expired"]["GBP"] == Decimal("30.00")


def test_gift_card_flows_shows_loads_per_source_and_redemptions(staff_client, shop):
    response = staff_client.get(url("report_gift_card_flows"))
    lines = {row["label"]: dict(row["cells"]) for row in response.context["rows"]}
    assert lines[f"Loaded from {shop.name}"]["GBP"] == Decimal("100.00")
    assert lines["Redemptions"]["GBP"] == Decimal("25.00")
    rows = csv_rows(staff_client.get(url("report_gift_card_flows_csv")))
    assert rows[0] == ["line", "currency", "amount"]
    assert ["Redemptions", "GBP", "25.00"] in rows


def test_gift_card_flows_income_deducts_a_reversed_redemption(staff_client, shop):
    redemption = Transfer.objects.get(destination=Account.objects.sales())
    facade.reverse(redemption)
    response = staff_client.get(url("report_gift_card_flows"))
    lines = {row["label"]: dict(row["cells"]) for row in response.context["rows"]}
    assert lines["Reversals paid back from income"]["GBP"] == Decimal("25.00")
    assert lines["Income (redemptions + expiries − refunds − reversals)"]["GBP"] == 0


def test_gift_card_flows_counts_redemptions_in_every_currency(staff_client):
    euros = facade.create_account(amount=Decimal("30.00"), currency="EUR")
    facade.transfer(euros, Account.objects.sales(currency="EUR"), Decimal("12.00"))
    response = staff_client.get(url("report_gift_card_flows"))
    lines = {row["label"]: dict(row["cells"]) for row in response.context["rows"]}
    assert lines["Redemptions"]["EUR"] == Decimal("12.00")


def test_gift_card_flows_for_a_past_period_is_empty(staff_client, shop):
    response = staff_client.get(
        url("report_gift_card_flows"), {"start": "2001-01-01", "end": "2001-01-31"}
    )
    assert response.context["currencies"] == []
    assert "Nothing moved in this period." in body(response)


REPORTS = [
    "report_trial_balance",
    "report_trial_balance_csv",
    "report_account_tree",
    "report_account_tree_csv",
    "report_deferred_income",
    "report_deferred_income_csv",
    "report_profit_and_loss",
    "report_profit_and_loss_csv",
]


def add_cards(source: Account, count: int) -> None:
    sales = Account.objects.sales()
    now = timezone.now()
    for n in range(count):
        acct = AccountFactory(end_date=now + datetime.timedelta(days=n * 7) if n % 2 else None)
        facade.transfer(source, acct, Decimal("10.00"))
        facade.transfer(acct, sales, Decimal("3.00"))


@pytest.mark.parametrize("name", REPORTS)
def test_a_reports_query_count_does_not_grow_with_the_number_of_accounts(
    name, source, django_assert_max_num_queries
):
    client = client_for(grant(StaffFactory(), "view_reports"))
    add_cards(source, 5)
    body(client.get(url(name)))  # warm the caches a first request fills
    with CaptureQueriesContext(connection) as with_five:
        body(client.get(url(name)))
    add_cards(source, 45)
    with django_assert_max_num_queries(len(with_five.captured_queries)):
        response = client.get(url(name))
        body(response)
    assert response.status_code == 200


# -- templates and helpers ----------------------------------------------------------------------


def test_a_project_can_override_the_base_template(staff_client, tmp_path, settings):
    folder = tmp_path / "accounts" / "dashboard"
    folder.mkdir(parents=True)
    (folder / "base.html").write_text(
        "<html><body class='house-style'>{% block content %}{% endblock %}</body></html>"
    )
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [str(tmp_path)]}]
    page = body(staff_client.get(url("report_list")))
    assert "house-style" in page
    assert "Trial balance" in page


def test_the_pages_use_no_external_assets(staff_client, card):
    page = body(staff_client.get(url("account_detail", card.pk)))
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in page
    assert "/static/accounts/dashboard/dashboard.css" in page


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        (Decimal("12.5"), "GBP", "12.50"),
        (Decimal("1200"), "JPY", "1200"),
        (Decimal("1.2340"), "BHD", "1.234"),
        (None, "GBP", ""),
        (7, "EUR", "7.00"),
        ("not a number", "GBP", "not a number"),
    ],
)
def test_the_money_filter_uses_the_currencys_minor_units(amount, currency, shown):
    assert money(amount, currency) == shown


def test_the_profit_and_loss_page_lists_income_and_expense_accounts(staff_client):
    bank = AccountFactory(kind=Kind.ASSET, credit_limit=None, code="BANK")
    rent = AccountFactory(kind=Kind.INCOME, credit_limit=None, code="RENT", name="Rent")
    bills = AccountFactory(kind=Kind.EXPENSE, credit_limit=None, code="BILLS", name="Bills")
    facade.transfer(bank, rent, Decimal("900.00"))
    facade.transfer(bills, bank, Decimal("120.50"))
    response = staff_client.get(url("report_profit_and_loss"))
    income, expenses = response.context["sections"]
    assert [line["label"] for line in income["lines"]] == ["Rent"]
    assert [line["label"] for line in expenses["lines"]] == ["Bills"]
    assert dict(response.context["net"]["cells"])["GBP"] == [Decimal("779.50")]
    rows = csv_rows(staff_client.get(url("report_profit_and_loss_csv")))
    assert rows[0] == ["section", "code", "currency", "amount"]
    assert ["income", "RENT", "GBP", "900.00"] in rows
    assert ["net income", "net income", "GBP", "779.50"] in rows


def test_the_balance_sheet_folds_cards_and_compares_two_days(staff_client):
    bank = AccountFactory(kind=Kind.ASSET, credit_limit=None, code="BANK", name="Bank")
    facade.create_card(amount=Decimal("30.00"), source=bank)
    facade.create_card(amount=Decimal("20.00"), source=bank)
    yesterday = (timezone.localdate() - datetime.timedelta(days=1)).isoformat()
    response = staff_client.get(url("report_balance_sheet"), {"compare": yesterday})
    sections = {section["name"]: section for section in response.context["sections"]}
    liabilities = {line["label"]: dict(line["cells"]) for line in sections["liabilities"]["lines"]}
    assert liabilities["Customer cards (2)"]["GBP"] == [Decimal("50.00"), Decimal("0")]
    assert response.context["balances"] == [True, True]
    rows = csv_rows(staff_client.get(url("report_balance_sheet_csv"), {"compare": yesterday}))
    assert rows[0] == ["section", "code", "currency", "amount", "comparison"]
    assert ["assets", "BANK", "GBP", "50.00", "0.00"] in rows
    assert not any("-" in row[1] and row[1].count("-") == 3 for row in rows)  # no card codes
