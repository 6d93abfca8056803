"""Two deliverers at once never send one message twice (PostgreSQL and MariaDB only: SQLite's
in-memory test database cannot be shared with another connection)."""

from __future__ import annotations

import threading
from collections import Counter
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection, connections, transaction

from accounts import facade
from accounts.outbox.models import OutboxMessage

from ..factories import AccountFactory, SourceAccountFactory

pytestmark = pytest.mark.django_db(transaction=True)


def run_deliverer(errors: list[BaseException]) -> None:
    try:
        call_command(
            "deliver_outbox",
            "--no-progress",
            "--batch-size",
            "3",
            stdout=StringIO(),
            stderr=StringIO(),
        )
    except BaseException as error:  # noqa: BLE001 - reported by the test's thread
        errors.append(error)
    finally:
        connections.close_all()


def test_two_runs_at_once_send_each_message_exactly_once(webhook):
    source, card = SourceAccountFactory(), AccountFactory()
    for _ in range(12):
        facade.transfer(source, card, Decimal("1.00"))
    webhook.delay_seconds = 0.05  # the runs overlap
    errors: list[BaseException] = []
    threads = [threading.Thread(target=run_deliverer, args=(errors,)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    sent = Counter(body["id"] for body in webhook.bodies())
    assert set(sent.values()) == {1}
    assert len(sent) == 12
    assert not OutboxMessage.objects.filter(delivered_at__isnull=True).exists()


def test_rows_locked_by_another_deliverer_are_left_to_it(webhook):
    source, card = SourceAccountFactory(), AccountFactory()
    for _ in range(3):
        facade.transfer(source, card, Decimal("1.00"))
    first = OutboxMessage.objects.order_by("pk").first()
    locked, release = threading.Event(), threading.Event()

    def hold_lock() -> None:
        try:
            with transaction.atomic():
                OutboxMessage.objects.select_for_update().get(pk=first.pk)
                locked.set()
                release.wait(timeout=30)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_lock)
    holder.start()
    assert locked.wait(timeout=10)
    try:
        if not connection.features.has_select_for_update_skip_locked:
            pytest.skip("this server waits for locked rows instead of skipping them")
        call_command("deliver_outbox", "--no-progress", stdout=StringIO(), stderr=StringIO())
    finally:
        release.set()
        holder.join(timeout=30)
    sent = {body["id"] for body in webhook.bodies()}
    assert str(first.uuid) not in sent and len(sent) == 2
