"""A posting the database aborts to stay serialisable is retried whole, in its own transaction."""

from __future__ import annotations

from decimal import Decimal
from unittest import mock

import pytest
from django.db import OperationalError, transaction

from accounts import facade
from accounts.ledger import posting, retries
from accounts.models import Account, Transfer

pytestmark = pytest.mark.django_db(transaction=True)


class SerializationFailure(Exception):
    sqlstate = "40001"


def _failing_once(real):
    calls = {"n": 0}

    def write(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise OperationalError("could not serialize access") from SerializationFailure()
        return real(*args, **kwargs)

    return write, calls


def test_a_serialization_failure_is_retried_and_posts_once(source, account):
    write, calls = _failing_once(posting.write)
    with mock.patch.object(posting, "write", write):
        facade.transfer(source, account, Decimal("5.00"))
    assert calls["n"] == 2
    assert Transfer.objects.count() == 1
    account.refresh_from_db()
    assert account.balance == Decimal("5.00")


def test_inside_the_callers_transaction_the_failure_is_not_retried(source, account):
    write, calls = _failing_once(posting.write)
    with mock.patch.object(posting, "write", write), pytest.raises(OperationalError):
        with transaction.atomic():
            facade.transfer(source, account, Decimal("5.00"))
    assert calls["n"] == 1
    assert Transfer.objects.count() == 0


def test_other_operational_errors_are_not_retried(source, account):
    def broken(*args, **kwargs):
        raise OperationalError("disk full")

    with mock.patch.object(posting, "write", broken), pytest.raises(OperationalError):
        facade.transfer(source, account, Decimal("5.00"))
    assert Transfer.objects.count() == 0


class MySQLLockWaitTimeout(Exception):
    def __init__(self) -> None:
        super().__init__(1205, "Lock wait timeout exceeded; try restarting transaction")


class MySQLDuplicateKey(Exception):
    def __init__(self) -> None:
        super().__init__(1062, "Duplicate entry")


class SQLiteBusy(Exception):
    sqlite_errorcode = 5  # SQLITE_BUSY


class SQLiteBusySnapshot(Exception):
    sqlite_errorcode = 517  # SQLITE_BUSY_SNAPSHOT: an extended code of SQLITE_BUSY


class SQLiteReadOnly(Exception):
    sqlite_errorcode = 8  # SQLITE_READONLY


def _error(cause: Exception) -> OperationalError:
    error = OperationalError(str(cause))
    error.__cause__ = cause
    return error


@pytest.mark.parametrize(
    "cause, retryable",
    [
        (SerializationFailure(), True),
        (MySQLLockWaitTimeout(), True),
        (MySQLDuplicateKey(), False),
        (SQLiteBusy(), True),
        (SQLiteBusySnapshot(), True),
        (SQLiteReadOnly(), False),
        (Exception("disk full"), False),
    ],
    ids=[
        "40001",
        "mysql-1205",
        "mysql-1062",
        "sqlite-busy",
        "sqlite-busy-snapshot",
        "sqlite-readonly",
        "other",
    ],
)
def test_which_aborts_are_retried(cause, retryable):
    assert retries.is_retryable(_error(cause)) is retryable


def test_the_pause_between_attempts_is_random_and_grows_to_a_bound():
    random_draws = []

    def uniform(low, high):
        random_draws.append((low, high))
        return high

    with mock.patch.object(retries.random, "uniform", uniform):
        pauses = [retries.pause_before(attempt) for attempt in range(2, 12)]
    assert all(low == 0 for low, _ in random_draws)
    assert pauses[0] == retries.RETRY_PAUSE_FIRST
    assert pauses[1] == 2 * retries.RETRY_PAUSE_FIRST
    assert pauses == sorted(pauses)
    assert pauses[-1] == retries.RETRY_PAUSE_MAX


def test_a_posting_aborted_every_time_gives_up_after_the_bounded_attempts(source, account):
    calls = {"n": 0}

    def always_aborted(*args, **kwargs):
        calls["n"] += 1
        raise OperationalError("deadlock detected") from SerializationFailure()

    sleeps = []
    with (
        mock.patch.object(posting, "write", always_aborted),
        mock.patch.object(retries.time, "sleep", sleeps.append),
        pytest.raises(OperationalError),
    ):
        facade.transfer(source, account, Decimal("5.00"))
    assert calls["n"] == retries.RETRY_ATTEMPTS_MAX
    assert len(sleeps) == retries.RETRY_ATTEMPTS_MAX - 1
    assert Transfer.objects.count() == 0


def test_a_lock_wait_timeout_is_retried_and_posts_once(source, account):
    calls = {"n": 0}
    real = posting.write

    def timed_out_once(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise OperationalError("lock wait timeout") from MySQLLockWaitTimeout()
        return real(*args, **kwargs)

    with mock.patch.object(posting, "write", timed_out_once):
        facade.transfer(source, account, Decimal("5.00"))
    assert calls["n"] == 2
    assert Transfer.objects.count() == 1
    source.refresh_from_db()
    account.refresh_from_db()
    assert account.balance == Decimal("5.00")
    assert account.version == 1


@pytest.mark.parametrize(
    "cause", [MySQLLockWaitTimeout(), SQLiteBusy()], ids=["mysql-1205", "sqlite-busy"]
)
def test_a_posting_that_keeps_timing_out_is_tried_only_a_few_times(source, account, cause):
    calls = {"n": 0}

    def always_timing_out(*args, **kwargs):
        calls["n"] += 1
        raise OperationalError("timed out waiting") from cause

    with (
        mock.patch.object(posting, "write", always_timing_out),
        mock.patch.object(retries.time, "sleep"),
        pytest.raises(OperationalError),
    ):
        facade.transfer(source, account, Decimal("5.00"))
    assert calls["n"] == retries.RETRY_ATTEMPTS_AFTER_TIMEOUT_MAX
    assert retries.RETRY_ATTEMPTS_AFTER_TIMEOUT_MAX < retries.RETRY_ATTEMPTS_MAX
    assert Transfer.objects.count() == 0


def test_creating_an_account_with_a_load_is_retried_whole(source):
    write, calls = _failing_once(posting.write)
    with mock.patch.object(posting, "write", write):
        card = facade.create_account(amount=Decimal("5.00"), source=source, name="Wallet")
    assert calls["n"] == 2
    assert Account.objects.filter(name="Wallet").count() == 1  # the failed attempt left none
    assert Transfer.objects.count() == 1
    card.refresh_from_db()
    assert card.balance == Decimal("5.00")


def test_a_top_up_is_retried_whole(source):
    card = facade.create_card(amount=Decimal("5.00"), source=source)
    write, calls = _failing_once(posting.write)
    with mock.patch.object(posting, "write", write):
        facade.top_up(card, Decimal("3.00"), source=source)
    assert calls["n"] == 2
    assert Transfer.objects.count() == 2
    card.refresh_from_db()
    assert card.balance == Decimal("8.00")
