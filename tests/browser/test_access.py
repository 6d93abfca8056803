"""Who gets in: staff log in through the admin's page; everyone else is turned away."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from ..factories import StaffFactory
from .conftest import PASSWORD, grant, log_in, log_in_with_a_session

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SECTIONS = {
    "/dashboard/accounts/": "Accounts",
    "/dashboard/accounts/new/": "New account",
    "/dashboard/transfers/": "Transfers",
    "/dashboard/holds/": "Holds",
    "/dashboard/reports/": "Reports",
    "/dashboard/audit/": "Audit",
    "/dashboard/statements/upload/": "Bank statements",
    "/dashboard/periods/": "Closed periods",
}


def test_staff_log_in_on_the_admin_login_page_and_reach_the_dashboard(
    page: Page, manager: Any, screenshot: Any
) -> None:
    page.goto("/admin/login/?next=/dashboard/")
    screenshot("login")
    page.fill("#id_username", manager.username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")

    page.wait_for_url("**/dashboard/accounts/")
    expect(page.get_by_role("heading", name="Accounts", level=1)).to_be_visible()
    expect(page.locator(".dashboard-header .who")).to_have_text(manager.username)
    sections = page.get_by_role("navigation", name="Dashboard").get_by_role("listitem")
    expect(sections).to_have_text(list(SECTIONS.values()))


def test_staff_holding_every_dashboard_permission_open_every_section(staff_page: Page) -> None:
    for path, heading in SECTIONS.items():
        response = staff_page.goto(path)
        assert response is not None and response.status == 200, path
        expect(staff_page.get_by_role("heading", name=heading, level=1)).to_be_visible()


def test_a_wrong_password_keeps_the_visitor_on_the_login_page(page: Page, manager: Any) -> None:
    page.goto("/admin/login/?next=/dashboard/")
    page.fill("#id_username", manager.username)
    page.fill("#id_password", "not-the-password")
    page.click("input[type=submit]")

    expect(page.locator(".errornote")).to_be_visible()
    assert "/admin/login/" in page.url


def test_an_anonymous_visitor_is_sent_to_the_login_page(page: Page, live_server: Any) -> None:
    page.goto("/dashboard/reports/trial-balance/")

    page.wait_for_url(lambda url: "/admin/login/" in url)
    assert "next=/dashboard/reports/trial-balance/" in page.url
    expect(page.locator("#id_username")).to_be_visible()


def test_a_logged_in_user_who_is_not_staff_is_turned_away(
    page: Page, live_server: Any, till: Any
) -> None:
    log_in_with_a_session(page, live_server, till)

    response = page.goto("/dashboard/accounts/")

    assert response is not None and response.status == 403
    expect(page.locator("body")).to_contain_text("403 Forbidden")
    assert "/admin/login/" not in page.url


def test_staff_without_a_page_s_permission_are_turned_away_from_it(
    page: Page, transactional_db: None, screenshot: Any
) -> None:
    clerk = grant(StaffFactory(username="clerk"), "view_account")  # accounts, not reports
    log_in(page, clerk.username)
    expect(page.get_by_role("heading", name="Accounts", level=1)).to_be_visible()
    sections = page.get_by_role("navigation", name="Dashboard").get_by_role("listitem")
    expect(sections).to_have_text(["Accounts"])

    response = page.goto("/dashboard/reports/")

    assert response is not None and response.status == 403
    expect(page.locator("body")).to_contain_text("403 Forbidden")
    screenshot("forbidden")


def test_staff_without_any_dashboard_permission_are_turned_away_from_its_front_page(
    page: Page, transactional_db: None
) -> None:
    newcomer = StaffFactory(username="newcomer")
    log_in(page, newcomer.username, next_url="/admin/")

    response = page.goto("/dashboard/")

    assert response is not None and response.status == 403
