"""A card's whole page in German, with the catalogue the app ships.

The browser asks for German (``Accept-Language: de-DE``) and the project enables Django's
``LocaleMiddleware``, as docs/i18n.rst tells projects to. The expected words are not written
here: each comes from the shipped German catalogue (``gettext`` under ``de``) and must differ from
its English msgid, so the test fails if a string is unmarked, missing from the catalogue or
left untranslated, and it keeps passing when a translator improves a wording.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.core.handlers.wsgi import WSGIHandler
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext, pgettext
from playwright.sync_api import Browser, Page, expect

from accounts import facade
from accounts.models import Account

from .conftest import STEP_TIMEOUT_MS, VIEWPORT, log_in_with_a_session

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LOCALE_MIDDLEWARE = "django.middleware.locale.LocaleMiddleware"


def german(message: str, context: str | None = None) -> str:
    """``message`` as the shipped German catalogue has it; never the English itself."""
    with translation.override("de"):
        said = pgettext(context, message) if context else gettext(message)
    assert said != message, f"the German catalogue does not translate {message!r}"
    return said


@pytest.fixture
def german_project(settings: Any, live_server: Any) -> Iterator[None]:
    """The project offers English and German, follows the browser's language, groups thousands.

    The live server is shared by the whole session and built its middleware when it started,
    so it gets a handler built with these settings for this test, and its own back afterwards.
    """
    middleware = list(settings.MIDDLEWARE)
    sessions = middleware.index("django.contrib.sessions.middleware.SessionMiddleware")
    middleware.insert(sessions + 1, LOCALE_MIDDLEWARE)
    settings.MIDDLEWARE = middleware
    settings.LANGUAGES = [("en", "English"), ("de", "Deutsch")]
    settings.USE_THOUSAND_SEPARATOR = True
    server = live_server.thread.httpd
    previous = server.get_app()
    server.set_app(StaticFilesHandler(WSGIHandler()))
    yield
    server.set_app(previous)


@pytest.fixture
def german_page(
    browser: Browser, live_server: Any, german_project: None, manager: Any
) -> Iterator[Page]:
    context = browser.new_context(
        base_url=live_server.url, viewport=VIEWPORT, locale="de-DE", accept_downloads=True
    )
    context.set_default_timeout(STEP_TIMEOUT_MS)
    page = context.new_page()
    log_in_with_a_session(page, live_server, manager)
    yield page
    context.close()


@pytest.fixture
def card(transactional_db: None) -> Account:
    card = facade.create_card(amount=Decimal("1234.50"), name="Geburtstagskarte")
    return card


def test_a_cards_page_reads_in_german(
    german_page: Page, card: Account, screenshots_dir: Path
) -> None:
    page = german_page

    def screenshot(name: str) -> None:  # of this page (the shared fixture shoots another)
        page.screenshot(path=str(screenshots_dir / f"{name}.png"), full_page=True)

    page.goto(f"/dashboard/accounts/{card.pk}/")

    expect(page.locator("html")).to_have_attribute("lang", "de")
    # The navigation, the summary's labels, the sections and the forms' buttons.
    for label in ("Accounts", "Transfers", "Reports"):
        expect(page.locator("nav")).to_contain_text(german(label))
    summary = page.locator("section.summary")
    for label in ("Balance", "Credit limit", "Primary user"):
        expect(summary).to_contain_text(german(label))
    expect(page.get_by_role("heading", name=german("Balance over time"))).to_be_visible()
    expect(page.get_by_role("link", name=german("Freeze"), exact=True)).to_be_visible()
    # Numbers follow German conventions: a decimal comma and a full stop between thousands.
    expect(summary).to_contain_text("1.234,50")
    # Dates too, in the chart under the balance as in the tables.
    with translation.override("de"):
        today = date_format(timezone.localdate(), "SHORT_DATE_FORMAT")
    assert today != timezone.localdate().isoformat()
    expect(page.locator("svg.accounts-chart")).to_contain_text(today)
    screenshot("german-card-page")

    # No English heading is left on the page.
    headings = page.locator("h1, h2, h3, th, dt, button, label").all_inner_texts()
    english_left = [
        text
        for text in headings
        if text.strip() in {"Balance", "Available", "Credit limit", "Statement", "Top up"}
    ]
    assert english_left == []

    # A workflow in German: freeze with a reason; the confirmation and the result speak German.
    page.get_by_role("link", name=german("Freeze"), exact=True).click()
    expect(page.locator("h1")).to_contain_text(german("Freeze this account"))
    page.get_by_label(german("Reason")).fill("Verloren gemeldet")
    page.get_by_role("button", name=german("Freeze")).click()
    page.wait_for_url(re.compile(rf".*/dashboard/accounts/{card.pk}/$"))
    expect(page.locator("h1 .status")).to_have_text(german("Frozen"))
    expect(page.locator("section.history")).to_contain_text("Verloren gemeldet")
    screenshot("german-card-frozen")
