"""A posting the database aborts to stay serialisable is retried whole, in its own transaction."""

from __future__ import annotations

from decimal import Decimal
from unittest import mock

import pytest
from django.db import OperationalError, transaction

from accounts import facade
from accounts.ledger import posting
from accounts.models import Transfer

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
