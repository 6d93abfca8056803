"""Fuzz the card API against the OpenAPI document ninja generates, with schemathesis.

Each operation gets a bounded number of generated requests, valid ones (positive mode) and
invalid ones (negative mode), sent to the Django WSGI application in-process and authenticated
with an API key of a user with ``accounts.use_api`` and ``accounts.correct_any_transfer``.
Every response must be a declared status with a body and headers that match the document,
never a server error; no response may hold the full code of any card (or other customer
account) in the books, except the code of the card a creation made, once, in ``account.code``;
a request refused with 4xx must leave the books untouched; and the ledger must verify after
every request. Hypothesis runs derandomized with no example database, so a run is repeatable.

To make valid requests reach the ledger instead of only finding nothing, positive examples
sometimes swap in the code of a real card, the reference of a real transfer, or a small amount.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
import schemathesis
from django.contrib.auth.models import Permission
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts import facade, reports
from accounts.api import keys, views
from accounts.models import Account, LookupThrottle, Transaction, Transfer

from ..factories import UserFactory
from .test_api import grant_api

pytestmark = pytest.mark.django_db

#: Generated requests per operation and mode; keeps the module well under a minute per database.
MAX_EXAMPLES = 30

FUZZ_SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
    print_blob=False,
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]

OPERATIONS = [
    f"{method.upper()} {path}"
    for path, item in views.document()["paths"].items()
    for method in item
    if method in {"get", "post"}
]
#: The document itself takes no input, so there is nothing to make invalid.
CASES = [
    (label, mode)
    for label in OPERATIONS
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if not (mode is GenerationMode.NEGATIVE and label.endswith("openapi.json"))
]

SMALL_AMOUNTS = ["0.01", "1.00", "2.50", "10", "60.00"]


def secret_codes() -> list[str]:
    """Every code the API must never show in full: the cards', and those of the other accounts
    customers hold (the API names no account that is not a card)."""
    return list(Account.objects.exclude(code__startswith="CORE-").values_list("code", flat=True))


def shown_codes(label: str, status: int, text: str) -> list[str]:
    """The full codes ``text`` shows, leaving out the one a creation must show."""
    if label == "POST /v1/accounts/" and status == 201:
        body = json.loads(text)
        created = body["account"].pop("code")
        text = json.dumps(body)
        assert codes_match_one_card(created)
    return [code for code in secret_codes() if code in text]


def codes_match_one_card(code: str) -> bool:
    return Account.objects.filter(code=code, is_card=True).count() == 1


def ledger_state() -> tuple[int, int, int, list[tuple[int, Decimal, int, str]]]:
    return (
        Account.objects.count(),
        Transfer.objects.count(),
        Transaction.objects.count(),
        sorted(Account.objects.values_list("pk", "balance", "version", "status")),
    )


@pytest.fixture
def wsgi_app():
    """Django's WSGI handler, sharing the test's database transaction.

    A real handler closes the database connection at the end of each request; the test client
    avoids that by disconnecting ``close_old_connections``, and so does this fixture.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def loaded_schema(wsgi_app):
    return schemathesis.openapi.from_wsgi(
        reverse("accounts_api:openapi"), wsgi_app, config=SchemathesisConfig()
    )


@pytest.fixture
def api_user():
    """A till that may also correct other tills' transfers, so corrections reach the ledger."""
    user = grant_api(UserFactory())
    user.user_permissions.add(Permission.objects.get(codename="correct_any_transfer"))
    return user


@pytest.fixture
def authorization(api_user):
    _, secret = keys.create_key(api_user, name="Fuzz till")
    return f"Bearer {secret}"


@pytest.fixture
def books(api_user):
    """Real cards and transfers for positive examples to aim at."""
    cards = [facade.create_card(amount=Decimal("80.00"), name=f"Fuzz {n}") for n in range(3)]
    # An account that is not a card, with a code of the same shape: never shown either.
    house = Account.objects.create(name="House float", credit_limit=Decimal("0.00"))
    facade.transfer(Account.objects.source(), house, Decimal("30.00"))
    sales = Account.objects.sales()
    redemptions = [facade.transfer(card, sales, Decimal("20.00"), user=api_user) for card in cards]
    loads = [card.destination_transfers.get() for card in cards]
    return {
        "codes": [card.code for card in cards] + [house.code],
        "references": [t.reference for t in redemptions + loads],
    }


def steer(case, data, books) -> None:
    """Sometimes replace generated values with real ones, so valid requests can succeed."""
    if isinstance(case.body, dict):
        if "code" in case.body and data.draw(st.booleans(), label="real code"):
            case.body["code"] = data.draw(st.sampled_from(books["codes"]), label="code")
        if "amount" in case.body and data.draw(st.booleans(), label="small amount"):
            case.body["amount"] = data.draw(st.sampled_from(SMALL_AMOUNTS), label="amount")
    if case.path_parameters and "reference" in case.path_parameters:
        if data.draw(st.booleans(), label="real reference"):
            case.path_parameters["reference"] = data.draw(
                st.sampled_from(books["references"]), label="reference"
            )


@pytest.mark.parametrize(("label", "mode"), CASES, ids=[f"{lb} {m.value}" for lb, m in CASES])
def test_the_api_answers_as_its_schema_says_and_refusals_change_nothing(
    loaded_schema, authorization, books, label, mode
):
    operation = loaded_schema.find_operation_by_label(label)
    assert operation is not None, label
    strategy = operation.as_strategy(generation_mode=mode, headers={"Authorization": authorization})
    checks = CHECKS + ([negative_data_rejection] if mode is GenerationMode.NEGATIVE else [])

    @FUZZ_SETTINGS
    @given(case=strategy, data=st.data())
    def exchange(case, data):
        if mode is GenerationMode.POSITIVE:
            steer(case, data, books)
        # Every example starts with a clean throttle, so it exercises the endpoint itself.
        LookupThrottle.objects.all().delete()
        before = ledger_state()
        response = case.call(headers={"Authorization": authorization})
        case.validate_response(response, checks=checks)
        leaked = shown_codes(label, response.status_code, response.text)
        assert not leaked, (label, response.status_code, response.text)
        if response.status_code >= 400:
            assert ledger_state() == before, (label, response.status_code, response.text)
        verification = reports.verify()
        assert verification.ok, verification.problems

    exchange()
