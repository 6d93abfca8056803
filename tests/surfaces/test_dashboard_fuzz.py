"""Every dashboard URL, walked with hostile input as a superuser: no answer is a server error.

The URLs come from Django's resolver (the ``accounts_dashboard`` namespace), so a page added
later is walked too. Each pattern is filled with real objects (a card, a house account, a core
account, a placeholder, an unlimited account, a frozen card; a load, a redemption, a reversal,
an entry of three legs) and with hostile path values. Then:

* every GET parameter a page offers (the fields of its GET forms, and ``page``) is sent with
  each hostile value in turn, and with all of them at once;
* every field of every POST form is sent with each hostile value in turn, the other fields
  keeping the values the page filled in.

Requests are built in the process and handed to Django's handler with the project's whole
middleware, so values no browser can send (a lone surrogate, a NUL in the path) reach the views
exactly as written; streamed downloads are read to the end, since an error while streaming is
a server error too. An answer of 500, or an exception Django reported, fails the test.
"""

from __future__ import annotations

import datetime
import sys
from collections.abc import Iterator
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any

import pytest
from django.conf import settings
from django.core.handlers.base import BaseHandler
from django.core.signals import got_request_exception
from django.http import HttpResponseBase, QueryDict
from django.test import Client, RequestFactory
from django.urls import URLPattern, get_resolver, resolve, reverse
from django.urls.converters import IntConverter
from django.utils import timezone
from django.utils.datastructures import MultiValueDict

from accounts import facade
from accounts.facade import Credit, Debit
from accounts.models import Account, Kind, Transfer

from ..factories import AccountFactory, UserFactory

pytestmark = pytest.mark.django_db

NAMESPACE = "accounts_dashboard"

#: Text no form expects: NUL bytes, lone surrogates, dates at both ends of the calendar and
#: past them, numbers too large for any column, and text longer than any column (70,000
#: characters outgrow MariaDB's TEXT as well).
HOSTILE_TEXTS = [
    "\x00",
    "A\x00B",
    "\ud800",
    "x\udfff",
    "9999-12-31",
    "0001-01-01",
    "10000-01-01",
    "9999-12-31T23:59",
    "0001-01-01T00:00",
    "99999999999999999999999",
    "-1",
    "1E+999999",
    "NaN",
    "' OR 1=1 --",
    "CORE-SOURCE\x00",
    "x" * 70_000,
]
#: Hostile values for ``<int:...>`` path segments: beyond every integer column.
HOSTILE_INTS = [0, 2**31, 2**63, 10**30]


def dashboard_patterns() -> list[URLPattern]:
    """Every URL pattern of the dashboard, from Django's resolver."""
    _, resolver = get_resolver().namespace_dict[NAMESPACE]
    found = [p for p in resolver.url_patterns if isinstance(p, URLPattern)]
    assert found, "the dashboard's URLs are not mounted"
    return found


PATTERNS = {p.name: p for p in dashboard_patterns()}


# -- reading the forms a page offers ----------------------------------------------------------


class FormParser(HTMLParser):
    """The forms of a page: method, action and each named field with the value it holds."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(
                {
                    "method": found.get("method", "get").lower(),
                    "action": found.get("action", ""),
                    "fields": {},
                }
            )
            return
        if not self.forms or "name" not in found:
            if tag == "option" and self._select and "selected" in found:
                self.forms[-1]["fields"][self._select] = found.get("value", "")
            return
        fields = self.forms[-1]["fields"]
        name = found["name"]
        if name == "csrfmiddlewaretoken":
            return
        if tag == "input":
            if found.get("type") in ("checkbox", "radio"):
                if "checked" in found:
                    fields[name] = found.get("value", "on")
                else:
                    fields.setdefault(name, "")
            else:
                fields[name] = found.get("value", "")
        elif tag == "select":
            self._select = name
            fields.setdefault(name, "")
        elif tag == "textarea":
            self._textarea = name
            fields[name] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea and self.forms:
            self.forms[-1]["fields"][self._textarea] += data


def forms_of(page: str) -> list[dict[str, Any]]:
    parser = FormParser()
    parser.feed(page)
    return parser.forms


# -- sending requests as Django would receive them --------------------------------------------


class Walker:
    """Send requests with any Python strings through the whole middleware, as a superuser."""

    def __init__(self, session_key: str) -> None:
        self.session_key = session_key
        self.factory = RequestFactory()
        self.handler = BaseHandler()
        self.handler.load_middleware()
        self.requests = 0

    def send(self, method: str, path: str, data: dict[str, str] | None = None) -> Any:
        request = self.factory.generic(method, "/")
        request.path = request.path_info = path
        params = QueryDict(mutable=True)
        for key, value in (data or {}).items():
            params.setlist(key, [value])
        if method == "GET":
            request.GET = params
        else:
            request._post = params  # type: ignore[attr-defined]
            request._files = MultiValueDict()  # type: ignore[attr-defined]
        request.COOKIES[settings.SESSION_COOKIE_NAME] = self.session_key
        request._dont_enforce_csrf_checks = True  # type: ignore[attr-defined]
        errors: list[BaseException] = []

        def record(**kwargs: Any) -> None:
            errors.append(sys.exc_info()[1])  # type: ignore[arg-type]

        got_request_exception.connect(record)
        try:
            response = self.handler.get_response(request)
            content = read(response)
        except Exception as exc:  # raised while streaming a download
            errors.append(exc)
            response, content = None, ""
        finally:
            got_request_exception.disconnect(record)
        self.requests += 1
        status = response.status_code if response is not None else None
        if errors or status is None or status >= 500:
            shown = {k: (v[:40] + "..." if len(v) > 40 else v) for k, v in (data or {}).items()}
            cause = repr(errors[0]) if errors else "no exception"
            pytest.fail(
                f"{method} {path[:80]!r} with {shown!r} answered {status}: {cause}",
                pytrace=False,
            )
        return response, content


def read(response: HttpResponseBase) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode(  # type: ignore[attr-defined]
            errors="replace"
        )
    return response.content.decode(errors="replace")


# -- the world walked over --------------------------------------------------------------------


@pytest.fixture
def world(db: None) -> dict[str, list[Any]]:
    """Real objects for every kind of path value: accounts by pk, transfers by reference."""
    now = timezone.now()
    source = Account.objects.source()
    sales = Account.objects.sales()
    card = facade.create_card(
        amount=Decimal("50.00"), name="Walked card", end_date=now + datetime.timedelta(days=9)
    )
    frozen = facade.create_card(amount=Decimal("5.00"), name="Frozen card")
    facade.freeze_account(frozen)
    redemption = facade.transfer(card, sales, Decimal("7.00"), merchant_reference="ORD-1")
    reversed_load = Transfer.objects.get(destination=frozen)
    reversal = facade.reverse(redemption)
    house = AccountFactory(code="HOUSE", name="House", kind=Kind.ASSET)
    bank = AccountFactory(code="HOUSE-BANK", name="Bank", kind=Kind.ASSET, parent=house)
    rent = AccountFactory(code="HOUSE-RENT", name="Rent", kind=Kind.INCOME)
    food = AccountFactory(code="HOUSE-FOOD", name="Food", kind=Kind.EXPENSE)
    soap = AccountFactory(code="HOUSE-SOAP", name="Cleaning", kind=Kind.EXPENSE)
    unlimited = AccountFactory(code="LOOSE", name="Unlimited", credit_limit=None)
    facade.transfer(bank, rent, Decimal("300.00"))
    entry = facade.post(
        [Debit(food, Decimal("20.00")), Debit(soap, Decimal("5.00")), Credit(bank, Decimal("25"))]
    )
    load = Transfer.objects.get(destination=card, source=source)
    pending = facade.authorise(
        card, sales, Decimal("3.00"), expires_at=now + datetime.timedelta(days=1)
    )
    captured = facade.authorise(card, sales, Decimal("2.00"))
    facade.capture(captured, Decimal("1.00"))
    return {
        "pk": [card.pk, house.pk, bank.pk, source.pk, unlimited.pk, frozen.pk],
        "reference": [
            load.reference,
            redemption.reference,
            reversal.reference,
            reversed_load.reference,
            entry.reference,
            pending.reference,
            captured.reference,
        ],
    }


@pytest.fixture
def walker(db: None) -> Walker:
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)
    return Walker(client.cookies[settings.SESSION_COOKIE_NAME].value)


def paths(pattern: URLPattern, world: dict[str, list[Any]]) -> Iterator[tuple[str, bool]]:
    """The URLs of ``pattern``: (path, whether its arguments are real objects)."""
    converters = pattern.pattern.converters  # type: ignore[attr-defined]
    name = f"{NAMESPACE}:{pattern.name}"
    if not converters:
        yield reverse(name), True
        return
    (argument, converter), *others = converters.items()
    assert not others, "walk patterns with one path argument at a time"
    for value in world[argument]:
        yield reverse(name, kwargs={argument: value}), True
    marker = "0" if isinstance(converter, IntConverter) else "MARKER"
    template = reverse(name, kwargs={argument: marker})
    head, tail = template.rsplit(f"/{marker}", 1)
    hostile: list[Any] = HOSTILE_INTS if isinstance(converter, IntConverter) else HOSTILE_TEXTS
    for bad in hostile:
        yield f"{head}/{bad}{tail}", False


def allows(pattern: URLPattern, method: str) -> bool:
    view = pattern.callback.view_class  # type: ignore[attr-defined]
    return method.lower() in view.http_method_names and hasattr(view, method.lower())


def post_forms(walker: Walker, world: dict[str, list[Any]]) -> dict[str, dict[str, str]]:
    """The POST forms the dashboard's pages offer, by the URL name they post to."""
    found: dict[str, dict[str, str]] = {}
    for pattern in PATTERNS.values():
        if not allows(pattern, "get"):
            continue
        for path, real in paths(pattern, world):
            if not real:
                continue
            response, content = walker.send("GET", path)
            if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
                continue
            for form in forms_of(content):
                if form["method"] != "post":
                    continue
                match = resolve(form["action"] or path)
                found.setdefault(match.url_name, form["fields"])  # type: ignore[arg-type]
    return found


def form_fields(pattern: URLPattern, offered: dict[str, str]) -> dict[str, str]:
    """The fields to post: those a page offers, and any its view's form class declares."""
    fields = dict(offered)
    form_class = getattr(pattern.callback.view_class, "form_class", None)  # type: ignore[attr-defined]
    for name in getattr(form_class, "base_fields", {}):
        fields.setdefault(name, "")
    return fields


# -- the walk ----------------------------------------------------------------------------------


def test_the_walk_covers_the_whole_dashboard() -> None:
    assert {"account_create", "account_withdraw", "transfer_reverse", "transfer_detail"} <= set(
        PATTERNS
    )
    assert len(PATTERNS) >= 20


@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_no_dashboard_url_answers_a_server_error_to_hostile_input(
    name: str, walker: Walker, world: dict[str, list[Any]]
) -> None:
    pattern = PATTERNS[name]
    if allows(pattern, "get"):
        for path, real in paths(pattern, world):
            response, content = walker.send("GET", path)
            if not real or response.status_code != 200:
                continue
            offered = {"page"}
            if "html" in response.get("Content-Type", ""):
                for form in forms_of(content):
                    if form["method"] == "get":
                        offered.update(form["fields"])
            for value in HOSTILE_TEXTS:
                walker.send("GET", path, dict.fromkeys(offered, value))
                for parameter in sorted(offered):
                    walker.send("GET", path, {parameter: value})
    if allows(pattern, "post"):
        offered = post_forms(walker, world).get(name, {})
        fields = form_fields(pattern, offered)
        for path, real in paths(pattern, world):
            walker.send("POST", path, offered)
            if not real:
                continue
            for field in sorted(fields):
                for value in HOSTILE_TEXTS:
                    walker.send("POST", path, {**offered, field: value})
    assert walker.requests > 0
