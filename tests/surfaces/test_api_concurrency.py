"""Many clients guessing codes at once against a real server: the throttle still holds.

Issue 9, finding 6: the throttle checked a client's failures before looking up and recorded a
miss after, so 64 concurrent guesses by one user got 27 answers where 5 are allowed. Checking,
looking up and counting are now one step under a lock on the client's row. Only real
concurrent clients with their own database connections prove it, so this module runs on
PostgreSQL and MariaDB; ``tests/conftest.py`` leaves it out on SQLite, whose test database
lives in one connection's memory.

Each guess is a whole request through Django's stack (middleware, authentication, the view) in
its own thread, hence its own connection; the threads wait at a barrier so they start together.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from accounts import codes
from accounts.api import keys, throttle
from accounts.models import LookupThrottle

from ..factories import UserFactory
from .test_api import grant_api

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]

#: Concurrent guesses, each a thread with its own connection; well under the servers' limits.
GUESSES = 32
#: Seconds a thread waits at the starting barrier, and for its answer.
START_TIMEOUT = 60


def guess_concurrently(headers_for_client) -> Counter[tuple[int, str]]:
    """Send GUESSES lookups of random codes at once; count (status, code) of the answers."""
    url = reverse("accounts_api:account-lookup")
    barrier = threading.Barrier(GUESSES)

    def guess(_: int) -> tuple[int, str]:
        client, headers = headers_for_client()
        try:
            body = json.dumps({"code": codes.generate()})
            barrier.wait(timeout=START_TIMEOUT)
            response = client.post(url, body, content_type="application/json", **headers)
            return response.status_code, response.json()["code"]
        finally:
            connection.close()  # this thread's own connection

    with ThreadPoolExecutor(max_workers=GUESSES) as pool:
        return Counter(pool.map(guess, range(GUESSES), timeout=START_TIMEOUT * 3))


@pytest.fixture
def till():
    return grant_api(UserFactory())


def assert_at_most_the_allowed_answers(answers: Counter[tuple[int, str]], till) -> None:
    assert sum(answers.values()) == GUESSES
    assert set(answers) <= {(404, "account_not_found"), (429, "too_many_failed_lookups")}
    answered = answers[(404, "account_not_found")]
    assert answered == throttle.FAILURES_BEFORE_COOL_OFF, answers
    row = LookupThrottle.objects.get(client=f"user:{till.pk}")
    assert row.total_failures == throttle.FAILURES_BEFORE_COOL_OFF
    assert row.cooled_off_until is not None


def test_concurrent_guesses_with_an_api_key_get_at_most_the_allowed_answers(till):
    _, secret = keys.create_key(till, name="Racing till")

    def with_key():
        return Client(), {"HTTP_AUTHORIZATION": f"Bearer {secret}"}

    assert_at_most_the_allowed_answers(guess_concurrently(with_key), till)


def test_concurrent_session_guesses_get_at_most_the_allowed_answers(till):
    logged_in = Client()
    logged_in.force_login(till)
    session = logged_in.cookies.output(header="", sep=";").strip()

    def with_session():
        client = Client()
        client.cookies.load(session)
        return client, {}

    assert_at_most_the_allowed_answers(guess_concurrently(with_session), till)


def test_concurrent_clients_are_counted_apart():
    tills = [grant_api(UserFactory()) for _ in range(4)]
    secrets_by_till = [keys.create_key(t, name="Till")[1] for t in tills]
    turn = iter(range(GUESSES))
    lock = threading.Lock()

    def with_one_of_four():
        with lock:
            n = next(turn)
        return Client(), {"HTTP_AUTHORIZATION": f"Bearer {secrets_by_till[n % 4]}"}

    answers = guess_concurrently(with_one_of_four)
    assert answers[(404, "account_not_found")] == 4 * throttle.FAILURES_BEFORE_COOL_OFF
    for t in tills:
        assert LookupThrottle.objects.get(client=f"user:{t.pk}").total_failures == (
            throttle.FAILURES_BEFORE_COOL_OFF
        )
