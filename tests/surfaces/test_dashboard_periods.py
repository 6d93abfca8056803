"""Closed periods in the staff dashboard: the list of closings and closing the books."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.contrib.admin.models import LogEntry
from django.test import override_settings
from django.utils import timezone
from django.utils.formats import date_format

from accounts import exceptions, facade
from accounts.dashboard.common import DASHBOARD_PERMISSIONS
from accounts.dashboard.period_views import last_day_of_previous_month
from accounts.models import ClosedPeriod, Kind, Transfer, TransferKind

from ..engine.test_books import club, make  # noqa: F401 (club is a fixture)
from ..factories import StaffFactory
from .test_dashboard import body, client_for, errors_of, grant, messages_of, url

pytestmark = pytest.mark.django_db

D = Decimal


def days_ago(n: int) -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=n)


@pytest.fixture
def treasurer():
    return grant(StaffFactory(username="treasurer"), *DASHBOARD_PERMISSIONS)


@pytest.fixture
def treasurer_client(treasurer):
    return client_for(treasurer)


def test_the_list_says_the_books_were_never_closed(treasurer_client):
    response = treasurer_client.get(url("period_list"))
    assert response.status_code == 200
    page = body(response)
    assert "never been closed" in page
    assert "No closings yet." in page
    assert url("period_close") in page


def test_the_list_shows_each_closing_with_who_why_and_its_entries(treasurer_client, treasurer):
    facade.close_period(days_ago(30), user=treasurer, reason="March is done")
    facade.close_period(days_ago(3), reason="Quarter end")
    response = treasurer_client.get(url("period_list"))
    page = body(response)
    closings = list(response.context["closings"])
    assert [c.closed_through for c in closings] == [days_ago(3), days_ago(30)]
    assert response.context["closed_through"] == days_ago(3)
    assert f"closed through {date_format(days_ago(3), 'SHORT_DATE_FORMAT')}" in page
    assert "March is done" in page and "Quarter end" in page
    assert "treasurer" in page
    # The books as they were closed: the trial balance and balance sheet as of each day.
    day = days_ago(30).isoformat()
    assert f'{url("report_trial_balance")}?as_of={day}"' in page
    assert f'{url("report_balance_sheet")}?as_of={day}"' in page


def test_the_close_page_offers_the_last_day_of_the_previous_month(treasurer_client):
    response = treasurer_client.get(url("period_close"))
    assert response.status_code == 200
    assert response.context["form"].initial["through"] == last_day_of_previous_month()
    assert last_day_of_previous_month() < timezone.localdate().replace(day=1)
    assert "cannot be undone" in body(response)


def test_closing_the_books_records_who_why_and_refuses_later_back_dating(
    treasurer_client, treasurer, source, account
):
    day = days_ago(5)
    response = treasurer_client.post(
        url("period_close"), {"through": day.isoformat(), "reason": "Month end"}
    )
    assert response.status_code == 302 and response.url == url("period_list")
    closing = ClosedPeriod.objects.get()
    assert (closing.closed_through, closing.user, closing.reason) == (day, treasurer, "Month end")
    assert closing.username == "treasurer"
    followed = treasurer_client.get(response.url)
    shown = date_format(day, "SHORT_DATE_FORMAT")
    assert messages_of(followed) == [f"The books are closed through {shown}."]
    logged = LogEntry.objects.get(object_id=str(closing.pk))
    assert "Closed the books through" in logged.change_message
    with pytest.raises(exceptions.PeriodClosed):
        facade.transfer(
            source, account, D("1.00"), date=timezone.now() - datetime.timedelta(days=6)
        )


@pytest.mark.parametrize(
    ("through", "said"),
    [
        (0, "is not over yet"),  # today
        (-3, "is not over yet"),  # a day to come
    ],
)
def test_a_day_that_is_not_over_is_refused_and_nothing_is_written(treasurer_client, through, said):
    response = treasurer_client.post(
        url("period_close"), {"through": days_ago(through).isoformat(), "reason": "Too soon"}
    )
    assert response.status_code == 200
    assert any(said in error for error in errors_of(response))
    assert not ClosedPeriod.objects.exists()


def test_a_day_not_after_the_last_closing_is_refused(treasurer_client):
    facade.close_period(days_ago(10))
    response = treasurer_client.post(
        url("period_close"), {"through": days_ago(20).isoformat(), "reason": "Again"}
    )
    assert response.status_code == 200
    assert any("already closed through" in error for error in errors_of(response))
    assert ClosedPeriod.objects.count() == 1


def test_a_closing_needs_a_reason_and_a_day(treasurer_client):
    response = treasurer_client.post(url("period_close"), {"through": "not a day"})
    assert response.status_code == 200
    form = response.context["form"]
    assert set(form.errors) == {"through", "reason"}
    assert not ClosedPeriod.objects.exists()


@override_settings(ACCOUNTS_RETAINED_EARNINGS="RETAINED")
def test_the_closing_entry_can_be_posted_with_the_closing(treasurer_client, club):  # noqa: F811
    make("RETAINED", Kind.EQUITY)
    day = days_ago(2)
    response = treasurer_client.post(
        url("period_close"),
        {"through": day.isoformat(), "closing_entry": "on", "reason": "Year end"},
    )
    assert response.status_code == 302
    [entry] = Transfer.objects.filter(kind=TransferKind.CLOSING)
    followed = treasurer_client.get(response.url)
    assert messages_of(followed) == [
        f"The books are closed through {date_format(day, 'SHORT_DATE_FORMAT')}. "
        "Closing entries posted: 1."
    ]
    assert url("transfer_detail", entry.reference) in body(followed)


def test_a_closing_entry_without_its_setting_is_refused_and_nothing_is_closed(
    treasurer_client,
    club,  # noqa: F811
):
    response = treasurer_client.post(
        url("period_close"),
        {"through": days_ago(2).isoformat(), "closing_entry": "on", "reason": "Year end"},
    )
    assert response.status_code == 200
    assert any("ACCOUNTS_RETAINED_EARNINGS" in error for error in errors_of(response))
    assert not ClosedPeriod.objects.exists()
    assert not Transfer.objects.filter(kind=TransferKind.CLOSING).exists()


def test_staff_who_may_only_see_closings_get_no_close_button():
    viewer = client_for(grant(StaffFactory(), "view_closedperiod"))
    page = body(viewer.get(url("period_list")))
    assert url("period_list") in page  # in the navigation
    assert url("period_close") not in page
    assert viewer.get(url("period_close")).status_code == 403


def test_the_navigation_shows_closed_periods_only_with_view_closedperiod():
    others = [p for p in DASHBOARD_PERMISSIONS if p != "view_closedperiod"]
    page = body(client_for(grant(StaffFactory(), *others)).get(url("transfer_list")))
    assert url("period_list") not in page
