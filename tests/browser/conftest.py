"""Fixtures of the browser tests: Debian's Chromium driven by Playwright against a live server.

The browser is the system's Chromium (Debian package ``chromium``), never one downloaded by
``playwright install``: the tests run without network access beyond loopback. When it (or
Playwright's Python package) is missing, ``tests/conftest.py`` leaves this directory out and
``tests/test_browser_available.py`` is skipped with the reason, so ``make test`` passes on a
developer's machine without a browser. With ``ACCOUNTS_REQUIRE_BROWSER=1``, which ``.ci/run``
sets, the tests run anyway and fail saying which package to install, so a CI run without a
browser cannot pass by accident.

Playwright's synchronous API keeps an asyncio event loop running on the main thread while it is
started, and Django refuses ORM calls from a thread with a running loop. The tests set up data
and check the books with the ORM in between browser steps, on the same thread, while the live
server answers the browser from its own thread; so ``DJANGO_ALLOW_ASYNC_UNSAFE`` is set for
exactly as long as Playwright runs (one module at a time) and restored afterwards, leaving the
rest of the suite with Django's usual check.

Every test saves its screenshots under ``test-artifacts/screenshots/`` (ignored by git) so a CI
run leaves pictures of the pages it saw.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import Permission
from django.test import Client
from playwright.sync_api import (
    APIRequestContext,
    Browser,
    BrowserContext,
    Page,
    Playwright,
    expect,
    sync_playwright,
)

from accounts.dashboard.common import DASHBOARD_PERMISSIONS

from ..conftest import CHROMIUM_PATH
from ..factories import StaffFactory, UserFactory

#: Switches for a headless browser in a container without network beyond loopback: no sandbox
#: (containers lack the namespaces it needs), no GPU, and none of the background requests
#: Chromium makes to Google's servers (QUIC probes, component updates, sync, first-run pages).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: How long one browser step, or one ``expect`` waiting for the page to show something, may
#: take in milliseconds. A live server on loopback answers in far less even on a busy machine,
#: and a missing element fails the test in seconds instead of hanging the suite.
STEP_TIMEOUT_MS = 15_000
#: The window the pages are drawn in, wide enough for the dashboard's tables.
VIEWPORT = {"width": 1280, "height": 900}

SCREENSHOTS_DIR = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"

#: The password every user made by these fixtures has (the factories' default).
PASSWORD = "password"


# -- the browser -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    """Start Playwright for one module of tests; see the module docstring for the ORM switch."""
    if not os.path.exists(CHROMIUM_PATH):
        pytest.fail(
            f"The browser tests need Chromium at {CHROMIUM_PATH}: install the Debian package "
            "`chromium` (apt-get install chromium), or name another Chromium binary in "
            "BROWSER_TESTS_CHROMIUM. Never run `playwright install`: the tests use the "
            "system's browser.",
            pytrace=False,
        )
    expect.set_options(timeout=STEP_TIMEOUT_MS)
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as started:
            yield started
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    launched = playwright.chromium.launch(
        executable_path=CHROMIUM_PATH, headless=True, args=CHROMIUM_ARGS
    )
    yield launched
    launched.close()


@pytest.fixture(autouse=True)
def login_url(settings: Any) -> None:
    """Send anonymous visitors to the admin's login page, as the dashboard's docs suggest.

    The test project has no login page of its own, so Django's default ``/accounts/login/``
    would be a 404 there.
    """
    settings.LOGIN_URL = "admin:login"


@pytest.fixture
def context(browser: Browser, live_server: Any) -> Iterator[BrowserContext]:
    """A fresh browser profile (no cookies) whose relative URLs point at the live server."""
    made = browser.new_context(
        base_url=live_server.url, viewport=VIEWPORT, accept_downloads=True, locale="en-GB"
    )
    made.set_default_timeout(STEP_TIMEOUT_MS)
    yield made
    made.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


@pytest.fixture(scope="session")
def screenshots_dir() -> Path:
    SCREENSHOTS_DIR.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS_DIR


@pytest.fixture
def screenshot(page: Page, screenshots_dir: Path) -> Any:
    """Save the page as ``test-artifacts/screenshots/<name>.png``; return the path.

    The whole page by default; ``full_page=False`` keeps what fits in the window, for long
    lists whose top says it all.
    """

    def save(name: str, *, full_page: bool = True) -> Path:
        path = screenshots_dir / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page, animations="disabled")
        return path

    return save


# -- users -----------------------------------------------------------------------------------


def grant(user: Any, *codenames: str) -> Any:
    """Give ``user`` these ``accounts`` permissions and return a fresh copy."""
    permissions = Permission.objects.filter(
        content_type__app_label="accounts", codename__in=codenames
    )
    assert permissions.count() == len(set(codenames)), "a permission named here does not exist"
    user.user_permissions.add(*permissions)
    return type(user).objects.get(pk=user.pk)


@pytest.fixture
def manager(transactional_db: None) -> Any:
    """A member of staff holding every permission the dashboard checks."""
    return grant(StaffFactory(username="manager"), *DASHBOARD_PERMISSIONS)


@pytest.fixture
def till(transactional_db: None) -> Any:
    """A shop's till: not staff, allowed to use the JSON API and nothing else."""
    return grant(UserFactory(username="till"), "use_api")


def log_in(
    page: Page, username: str, *, password: str = PASSWORD, next_url: str = "/dashboard/"
) -> None:
    """Log in through the Django admin's login page, which then opens ``next_url``."""
    page.goto(f"/admin/login/?next={next_url}")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_url(lambda url: "/admin/login/" not in url)


def log_in_with_a_session(page: Page, live_server: Any, user: Any) -> None:
    """Give the browser a session for ``user`` without going through a login page.

    Quicker than the form, which ``test_access`` drives; also the only way in for a user who
    is not staff, whom the admin's login page refuses (a project's own login page would not).
    """
    client = Client()
    client.force_login(user)
    cookie = client.cookies[django_settings.SESSION_COOKIE_NAME]
    page.context.add_cookies(
        [
            {
                "name": django_settings.SESSION_COOKIE_NAME,
                "value": cookie.value,
                "url": live_server.url,
            }
        ]
    )


@pytest.fixture
def staff_page(page: Page, live_server: Any, manager: Any) -> Page:
    """A page logged in as ``manager``, on the dashboard."""
    log_in_with_a_session(page, live_server, manager)
    page.goto("/dashboard/")
    return page


@pytest.fixture
def api(playwright: Playwright, live_server: Any, till: Any) -> Iterator[APIRequestContext]:
    """An HTTP client for the JSON API, sending the till's credentials with HTTP Basic."""
    client = playwright.request.new_context(
        base_url=live_server.url,
        http_credentials={"username": till.username, "password": PASSWORD, "send": "always"},
        extra_http_headers={"Accept": "application/json"},
        timeout=STEP_TIMEOUT_MS,
    )
    yield client
    client.dispose()
