"""Staff workflows in the dashboard: confirmations with a reason, forms that keep what was typed,
the history of changes and the audit list, the statement's By column, the audit trail's admin.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.contrib import admin
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse
from django.utils import timezone

from accounts import audit, facade
from accounts.admin import AuditEntryAdmin
from accounts.dashboard.common import DASHBOARD_PERMISSIONS
from accounts.models import (
    Account,
    AuditAction,
    AuditEntry,
    Status,
    Surface,
    Transfer,
    TransferKind,
)
from accounts.roles import STAFF, SUPERVISOR

from ..factories import AccountFactory, StaffFactory
from .test_dashboard import body, client_for, csv_rows, grant, url

pytestmark = pytest.mark.django_db

FIFTY = Decimal("50.00")


@pytest.fixture
def card(source: Account) -> Account:
    """A gift card holding 50.00 GBP, loaded from ``source``."""
    made = AccountFactory(is_card=True, name="Birthday card", code="CARD-7KQ2-ABCD")
    facade.transfer(source, made, FIFTY, description="Sold at the till")
    made.refresh_from_db()
    return made


@pytest.fixture
def load(card: Account) -> Transfer:
    return Transfer.objects.get(destination=card)


@pytest.fixture
def manager(staff: Any) -> Any:
    return grant(staff, *DASHBOARD_PERMISSIONS)


@pytest.fixture
def manager_client(manager: Any) -> Client:
    return client_for(manager)


def entries() -> list[AuditEntry]:
    return list(AuditEntry.objects.order_by("pk"))


def status_of(account: Account) -> str:
    account.refresh_from_db()
    return account.status


# -- confirmations ---------------------------------------------------------------------------

#: (URL name, the fixture it acts on, the permission it needs, what a valid POST adds).
CONFIRMATIONS = [
    ("account_freeze", "card", "change_account", {}),
    ("account_thaw", "frozen_card", "change_account", {}),
    ("account_close", "empty_account", "change_account", {}),
    ("transfer_reverse", "load", "reverse_transfer", {}),
    ("transfer_refund", "load", "refund_transfer", {"amount": "20.00"}),
]
CONFIRMATION_FIELDS = ("name", "fixture", "permission", "data")
CONFIRMATION_IDS = [row[0] for row in CONFIRMATIONS]


@pytest.fixture
def frozen_card(card: Account) -> Account:
    facade.freeze_account(card)
    return card


@pytest.fixture
def empty_account(db: None) -> Account:
    return AccountFactory(name="Old float", code="FLOAT")


def target_url(request: Any, name: str, fixture: str) -> str:
    obj = request.getfixturevalue(fixture)
    return url(name, obj.reference if isinstance(obj, Transfer) else obj.pk)


@pytest.mark.parametrize(
    ("name", "fixture", "permission", "data"), CONFIRMATIONS, ids=CONFIRMATION_IDS
)
def test_the_confirmation_page_asks_for_a_reason_and_does_nothing(
    request, manager_client, unchanged, name, fixture, permission, data
):
    target = target_url(request, name, fixture)
    before = entries()
    with unchanged():
        response = manager_client.get(target)
    assert response.status_code == 200
    page = body(response)
    assert 'name="reason"' in page
    assert "Cancel" in page
    assert entries() == before


@pytest.mark.parametrize(
    ("name", "fixture", "permission", "data"), CONFIRMATIONS, ids=CONFIRMATION_IDS
)
@pytest.mark.parametrize("reason", ["", "   "])
def test_confirming_without_a_reason_is_a_form_error_and_does_nothing(
    request, manager_client, unchanged, name, fixture, permission, data, reason
):
    target = target_url(request, name, fixture)
    before = entries()
    with unchanged():
        response = manager_client.post(target, {**data, "reason": reason})
    assert response.status_code == 200
    assert response.context["form"].errors["reason"]
    assert entries() == before


@pytest.mark.parametrize(
    ("name", "fixture", "permission", "data"), CONFIRMATIONS, ids=CONFIRMATION_IDS
)
def test_confirming_with_a_reason_acts_and_the_trail_keeps_who_why_and_where(
    request, manager, manager_client, name, fixture, permission, data
):
    target = target_url(request, name, fixture)
    response = manager_client.post(target, {**data, "reason": "  Customer asked  "})
    assert response.status_code == 302
    entry = AuditEntry.objects.latest("pk")
    assert (entry.user, entry.username) == (manager, manager.username)
    assert entry.reason == "Customer asked"  # stripped
    assert entry.surface == Surface.DASHBOARD


def test_freezing_thawing_and_closing_change_the_status(manager_client, card, empty_account):
    manager_client.post(url("account_freeze", card.pk), {"reason": "Reported lost"})
    assert status_of(card) == Status.FROZEN
    manager_client.post(url("account_thaw", card.pk), {"reason": "Found again"})
    assert status_of(card) == Status.OPEN
    response = manager_client.post(url("account_close", empty_account.pk), {"reason": "Unused"})
    assert response.url == url("account_detail", empty_account.pk)
    assert status_of(empty_account) == Status.CLOSED
    assert [e.action for e in entries()][-3:] == [
        AuditAction.FROZEN,
        AuditAction.THAWED,
        AuditAction.CLOSED,
    ]


def test_reversing_and_refunding_post_their_transfers(manager_client, load, card):
    manager_client.post(
        url("transfer_refund", load.reference), {"amount": "20.00", "reason": "Returned"}
    )
    refund = Transfer.objects.get(parent=load)
    assert (refund.kind, refund.amount) == (TransferKind.REFUND, Decimal("20.00"))
    manager_client.post(url("transfer_reverse", load.reference), {"reason": "Sold in error"})
    reversal = Transfer.objects.get(reverses=load)
    assert reversal.amount == Decimal("30.00")
    card.refresh_from_db()
    assert card.balance == 0
    assert {e.transfer_id: e.reason for e in entries() if e.transfer_id} == {
        refund.pk: "Returned",
        reversal.pk: "Sold in error",
    }


def test_a_reason_longer_than_the_limit_is_a_form_error(manager_client, card, unchanged):
    too_long = "x" * (audit.REASON_LENGTH_MAX + 1)
    with unchanged():
        response = manager_client.post(url("account_freeze", card.pk), {"reason": too_long})
    assert response.context["form"].errors["reason"]
    assert status_of(card) == Status.OPEN


def test_a_refusal_of_the_facade_shows_the_page_again_with_what_was_typed(
    manager_client, card, unchanged
):
    with unchanged():
        response = manager_client.post(url("account_close", card.pk), {"reason": "Card expired"})
    assert response.status_code == 200
    page = body(response)
    assert "holds 50.00 GBP; move it out before closing." in page
    assert "Card expired</textarea>" in page
    assert status_of(card) == Status.OPEN
    assert not AuditEntry.objects.filter(action=AuditAction.CLOSED).exists()


def test_a_refund_over_what_remains_keeps_the_amount_and_reason_typed(
    manager_client, load, unchanged
):
    with unchanged():
        response = manager_client.post(
            url("transfer_refund", load.reference), {"amount": "50.01", "reason": "Broken toy"}
        )
    page = body(response)
    assert "Only 50.00 GBP remains refundable" in page
    assert 'value="50.01"' in page
    assert "Broken toy</textarea>" in page


def test_the_confirmation_for_closing_says_what_happens_to_the_balance(manager_client, card):
    page = body(manager_client.get(url("account_close", card.pk)))
    assert "50.00 GBP" in page
    assert "closing is refused until that balance is moved out" in page


def test_the_refund_page_offers_what_remains_refundable(manager_client, load):
    response = manager_client.get(url("transfer_refund", load.reference))
    assert 'name="amount"' in body(response)
    assert response.context["form"]["amount"].value() == "50.00"


def test_an_act_that_cannot_be_done_now_offers_no_confirm_button(manager_client, card, unchanged):
    with unchanged():
        page = body(manager_client.get(url("account_thaw", card.pk)))  # it is open
        response = manager_client.post(url("account_thaw", card.pk), {"reason": "Why not"})
    assert 'name="reason"' not in page
    assert "this cannot be done now" in page
    assert response.context["form"].non_field_errors()
    assert not AuditEntry.objects.filter(action=AuditAction.THAWED).exists()


@pytest.mark.parametrize(
    ("name", "fixture", "permission", "data"), CONFIRMATIONS, ids=CONFIRMATION_IDS
)
@pytest.mark.parametrize("method", ["get", "post"])
def test_staff_without_the_acts_permission_are_refused(
    request, unchanged, name, fixture, permission, data, method
):
    others = [p for p in DASHBOARD_PERMISSIONS if p != permission]
    client = client_for(grant(StaffFactory(), *others, "spend_from_any_account"))
    target = target_url(request, name, fixture)
    before = entries()
    with unchanged():
        response = getattr(client, method)(target, {**data, "reason": "Because"})
    assert response.status_code == 403
    assert entries() == before


def test_the_account_page_links_to_the_confirmations_instead_of_posting(manager_client, card):
    page = body(manager_client.get(url("account_detail", card.pk)))
    assert f'href="{url("account_freeze", card.pk)}"' in page
    assert f'href="{url("account_close", card.pk)}"' in page
    assert f'action="{url("account_freeze", card.pk)}"' not in page


def test_the_transfer_page_links_to_the_confirmations_instead_of_posting(manager_client, load):
    page = body(manager_client.get(url("transfer_detail", load.reference)))
    assert f'href="{url("transfer_reverse", load.reference)}"' in page
    assert f'href="{url("transfer_refund", load.reference)}"' in page
    assert 'method="post"' not in page


# -- forms keep what was typed ---------------------------------------------------------------


def test_a_refused_top_up_shows_the_card_page_again_with_the_amount_typed(
    manager_client, card, unchanged
):
    with override_settings(ACCOUNTS_MAX_INITIAL_VALUE=Decimal("55")), unchanged():
        response = manager_client.post(
            url("account_top_up", card.pk), {"amount": "10.00", "description": "Birthday gift"}
        )
    assert response.status_code == 200
    page = body(response)
    assert "may not take the balance above 55" in page
    assert 'value="10.00"' in page
    assert 'value="Birthday gift"' in page


def test_a_top_up_with_a_bad_amount_keeps_it_and_shows_the_error_by_the_field(
    manager_client, card, unchanged
):
    with unchanged():
        response = manager_client.post(url("account_top_up", card.pk), {"amount": "12,5"})
    assert response.status_code == 200
    assert response.context["top_up_form"].errors["amount"]
    assert 'value="12,5"' in body(response)


def test_a_refused_withdrawal_keeps_the_destination_typed(manager_client, card, unchanged):
    with unchanged():
        response = manager_client.post(
            url("account_withdraw", card.pk), {"amount": "5.00", "destination": "NO-SUCH"}
        )
    assert response.status_code == 200
    page = body(response)
    assert 'value="NO-SUCH"' in page
    assert "No account has the code NO-SUCH." in page


# -- the history of changes on the account page ----------------------------------------------


def test_the_account_page_lists_its_history_most_recent_first(manager, manager_client, card):
    facade.freeze_account(card, user=manager, reason="Reported lost", surface=Surface.DASHBOARD)
    facade.thaw_account(card, reason="Found")  # from code, by nobody
    facade.edit_account(card, name="Gift card", reason="Typo")
    response = manager_client.get(url("account_detail", card.pk))
    page = body(response)
    assert "History of changes" in page
    history = response.context["history"]
    assert [e.action for e in history] == [
        AuditAction.EDITED,
        AuditAction.THAWED,
        AuditAction.FROZEN,
    ]
    assert "Reported lost" in page
    assert "Birthday card → Gift card" in page
    assert ">code</td>" in page  # no user: done from code
    assert f"{url('audit_list')}?account_id={card.pk}" in page


def test_the_account_pages_history_is_limited_with_a_link_to_the_rest(manager_client, card):
    from accounts.dashboard.views import HISTORY_LENGTH_MAX

    for number in range(HISTORY_LENGTH_MAX // 2 + 1):
        facade.freeze_account(card, reason=f"Freeze {number}")
        facade.thaw_account(card, reason=f"Thaw {number}")
    response = manager_client.get(url("account_detail", card.pk))
    assert len(response.context["history"]) == HISTORY_LENGTH_MAX
    assert response.context["history_continues"]


# -- the statement's By column ---------------------------------------------------------------


def test_the_statement_shows_who_made_each_transfer(manager, manager_client, card):
    facade.top_up(card, Decimal("5.00"), user=manager)
    page = body(manager_client.get(url("account_detail", card.pk)))
    assert ">By</th>" in page
    assert f"<td>{manager.username}</td>" in page
    rows = csv_rows(manager_client.get(url("account_statement_csv", card.pk)))
    assert rows[0][-1] == "by"
    assert [row[-1] for row in rows[1:]] == ["", manager.username]


# -- the audit list --------------------------------------------------------------------------


@pytest.fixture
def trail(source: Account, card: Account, load: Transfer) -> dict[str, Any]:
    """Acts by two people on a card and a house account, from several surfaces."""
    alice = StaffFactory(username="alice")
    bob = StaffFactory(username="bob")
    house = AccountFactory(name="Petty cash", code="PETTY")
    refund = facade.transfer(
        card, source, Decimal("1.00"), parent=load, user=alice, reason="Returned"
    )
    facade.freeze_account(card, user=alice, reason="Lost", surface=Surface.DASHBOARD)
    facade.freeze_account(house, user=bob, reason="Audit", surface=Surface.ADMIN)
    return {"alice": alice, "bob": bob, "house": house, "refund": refund}


def listed(client: Client, **params: Any) -> list[str]:
    response = client.get(url("audit_list"), params)
    assert response.status_code == 200
    return [e.reason for e in response.context["entries"]]


def test_the_audit_list_shows_every_entry_most_recent_first(manager_client, trail):
    assert listed(manager_client) == ["Audit", "Lost", "Returned"]


def test_the_audit_list_filters_by_action_user_surface_and_account(manager_client, trail, card):
    assert listed(manager_client, action=AuditAction.REFUNDED) == ["Returned"]
    assert listed(manager_client, user="BO") == ["Audit"]
    assert listed(manager_client, surface=Surface.ADMIN) == ["Audit"]
    assert listed(manager_client, account="petty") == ["Audit"]
    assert listed(manager_client, account="birthday") == ["Lost"]
    assert listed(manager_client, account_id=card.pk) == ["Lost"]


def test_the_audit_list_filters_by_day(manager_client, trail):
    today = timezone.localdate()
    yesterday = today - datetime.timedelta(days=1)
    assert len(listed(manager_client, date_from=today.isoformat())) == 3
    assert listed(manager_client, date_to=yesterday.isoformat()) == []


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "2024-02-30", "\x00"])
def test_a_day_out_of_range_is_a_form_error_never_a_server_error(manager_client, trail, day):
    response = manager_client.get(url("audit_list"), {"date_from": day})
    assert response.status_code == 200
    assert response.context["filter_form"].errors
    assert manager_client.get(url("audit_list_csv"), {"date_to": day}).status_code == 400


def test_part_of_a_cards_code_finds_it_only_for_staff_who_may_see_codes(trail, card):
    masked = client_for(grant(StaffFactory(), "view_auditentry"))
    assert listed(masked, account="7KQ2") == []
    assert listed(masked, account=card.code) == ["Lost"]  # the whole code finds it
    full = client_for(grant(StaffFactory(), "view_auditentry", "view_card_code"))
    assert listed(full, account="7KQ2") == ["Lost"]


def test_the_audit_list_masks_cards_codes_unless_staff_may_see_them(trail, card):
    masked = body(client_for(grant(StaffFactory(), "view_auditentry")).get(url("audit_list")))
    assert card.code not in masked
    assert card.display_code in masked
    full = client_for(grant(StaffFactory(), "view_auditentry", "view_card_code"))
    assert card.code in body(full.get(url("audit_list")))


def test_the_audit_csv_holds_the_filtered_entries(trail, card):
    client = client_for(grant(StaffFactory(), "view_auditentry"))
    response = client.get(url("audit_list_csv"), {"user": "alice"})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = csv_rows(response)
    assert rows[0][:3] == ["date", "action", "account"]
    assert [(r[1], r[5], r[6], r[7]) for r in rows[1:]] == [
        ("frozen", "alice", "dashboard", "Lost"),
        ("refunded", "alice", "code", "Returned"),
    ]
    assert card.code not in body(client.get(url("audit_list_csv")))


@pytest.mark.parametrize("name", ["audit_list", "audit_list_csv"])
def test_the_audit_list_needs_the_view_auditentry_permission(name):
    others = [p for p in DASHBOARD_PERMISSIONS if p != "view_auditentry"]
    assert client_for(grant(StaffFactory(), *others)).get(url(name)).status_code == 403
    allowed = client_for(grant(StaffFactory(), "view_auditentry"))
    assert allowed.get(url(name)).status_code == 200


def test_the_navigation_shows_the_audit_list_only_to_those_who_may_open_it():
    others = [p for p in DASHBOARD_PERMISSIONS if p != "view_auditentry"]
    page = body(client_for(grant(StaffFactory(), *others)).get(url("account_list")))
    assert url("audit_list") not in page
    page = body(client_for(grant(StaffFactory(), "view_auditentry")).get(url("audit_list")))
    assert f'href="{url("audit_list")}" aria-current="page"' in page


def test_supervisors_see_the_audit_trail_and_staff_do_not():
    assert "view_auditentry" in SUPERVISOR.permissions
    assert "view_auditentry" not in STAFF.permissions


# -- the admin -------------------------------------------------------------------------------


def test_the_audit_trail_is_read_only_in_the_admin(admin_client, trail):
    assert admin.site.is_registered(AuditEntry)
    model_admin = admin.site._registry[AuditEntry]
    assert isinstance(model_admin, AuditEntryAdmin)
    request = RequestFactory().get("/")
    request.user = _superuser()
    entry = AuditEntry.objects.first()
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, entry)
    assert not model_admin.has_delete_permission(request, entry)
    changelist = reverse("admin:accounts_auditentry_changelist")

    def found(**params: str) -> int:
        response = admin_client.get(changelist, params)
        assert response.status_code == 200
        return response.context["cl"].result_count

    assert found(q="Lost") == 1  # a reason
    assert found(q="bob") == 1  # a username
    assert found(action__exact="frozen") == 2
    assert found(surface__exact="admin") == 1
    page = admin_client.get(reverse("admin:accounts_auditentry_change", args=[entry.pk]))
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert admin_client.get(reverse("admin:accounts_auditentry_add")).status_code == 403


def _superuser() -> Any:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(is_superuser=True).get()
