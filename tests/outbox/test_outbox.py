"""The optional outbox (:mod:`accounts.outbox`): rows written with the money, delivered later."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import socket
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.utils import timezone

from accounts import exceptions, facade
from accounts.models import Transfer
from accounts.outbox import delivery
from accounts.outbox.models import OutboxMessage

from ..factories import AccountFactory, SourceAccountFactory, StaffFactory
from .conftest import SECRET

pytestmark = pytest.mark.django_db

TEN = Decimal("10.00")


def deliver(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("deliver_outbox", "--no-progress", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


# -- rows are written with the money, and only with it ------------------------------------------


def test_a_transfer_writes_its_row_inside_its_own_transaction():
    source, card, staff = SourceAccountFactory(), AccountFactory(), StaffFactory()
    with transaction.atomic():
        new = facade.transfer(source, card, Decimal("12.50"), user=staff, merchant_reference="O-1")
        assert OutboxMessage.objects.count() == 1  # before the commit: the same transaction
    (row,) = OutboxMessage.objects.all()
    assert row.event == "transfer.posted"
    assert row.delivered_at is None and row.attempts == 0
    assert row.payload["user_id"] == staff.pk
    assert row.payload["idempotency_key"] is None
    assert datetime.datetime.fromisoformat(row.payload["occurred_at"]) <= timezone.now()
    assert row.payload["transfer"] == {
        "id": new.pk,
        "reference": new.reference,
        "kind": "transfer",
        "amount": "12.50",
        "currency": "GBP",
        "source_id": source.pk,
        "destination_id": card.pk,
        "parent_reference": None,
        "merchant_reference": "O-1",
        "description": "",
        "created_at": new.created_at.isoformat(),
        "rate": None,
        "legs": [
            {"account_id": source.pk, "amount": "-12.50", "currency": "GBP"},
            {"account_id": card.pk, "amount": "12.50", "currency": "GBP"},
        ],
    }


def test_the_outbox_costs_a_transfer_one_insert(django_assert_num_queries):
    from ..engine.test_queries import per_transfer

    source, card = SourceAccountFactory(), AccountFactory()
    with transaction.atomic(), django_assert_num_queries(per_transfer() + 1) as captured:
        facade.transfer(source, card, TEN)
    last = captured.captured_queries[-1]["sql"].upper()
    assert last.startswith("INSERT") and "ACCOUNTS_OUTBOX_OUTBOXMESSAGE" in last


def test_an_entrys_row_lists_its_legs():
    source, card, other = SourceAccountFactory(), AccountFactory(), AccountFactory()
    entry = facade.post(
        [
            facade.Debit(source, TEN),
            facade.Credit(card, Decimal("7.50")),
            facade.Credit(other, Decimal("2.50")),
        ]
    )
    legs = OutboxMessage.objects.get().payload["transfer"]["legs"]
    assert entry.source_id is None
    assert legs == [
        {"account_id": source.pk, "amount": "-10.00", "currency": "GBP"},
        {"account_id": card.pk, "amount": "7.50", "currency": "GBP"},
        {"account_id": other.pk, "amount": "2.50", "currency": "GBP"},
    ]


def test_a_rolled_back_transfer_leaves_no_row():
    source, card = SourceAccountFactory(), AccountFactory()
    with pytest.raises(RuntimeError), transaction.atomic():
        facade.transfer(source, card, TEN)
        raise RuntimeError("the order failed")
    with pytest.raises(exceptions.InsufficientFunds):
        facade.transfer(card, source, TEN)
    assert not OutboxMessage.objects.exists() and not Transfer.objects.exists()


def test_a_refund_writes_two_rows_naming_the_original():
    source, card = SourceAccountFactory(), AccountFactory()
    load = facade.transfer(source, card, TEN)
    facade.transfer(card, source, Decimal("3.00"), parent=load)
    events = list(OutboxMessage.objects.values_list("event", flat=True))
    assert events == ["transfer.posted", "transfer.posted", "transfer.refunded"]
    refunded = OutboxMessage.objects.get(event="transfer.refunded").payload
    assert refunded["original"]["reference"] == load.reference
    assert refunded["transfer"]["parent_reference"] == load.reference


def test_an_account_row_never_carries_the_cards_code():
    card = facade.create_card(amount=TEN)
    row = OutboxMessage.objects.get(event="account.created")
    assert row.payload["account"]["id"] == card.pk
    assert row.payload["account"]["balance"] == "10.00"
    assert row.payload["transfer"]["destination_id"] == card.pk
    assert card.code not in str(row.payload)


# -- delivery ------------------------------------------------------------------------------------


def test_delivery_posts_the_signed_body_and_marks_the_row(webhook):
    facade.transfer(SourceAccountFactory(), AccountFactory(), TEN)
    row = OutboxMessage.objects.get()
    out, _ = deliver()
    assert "Delivered 1; 0 failed" in out
    ((headers, body),) = webhook.requests
    document = webhook.bodies()[0]
    assert document == {"id": str(row.uuid), **row.payload}
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Accounts-Event"] == "transfer.posted"
    assert headers["X-Accounts-Delivery"] == str(row.uuid)
    signed = headers["X-Accounts-Timestamp"].encode() + b"." + body
    expected = hmac.new(SECRET.encode(), signed, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-Accounts-Signature"], f"sha256={expected}")
    row.refresh_from_db()
    assert row.delivered_at is not None and row.attempts == 1 and row.last_error == ""
    # Delivered once: the next run has nothing to send.
    out, _ = deliver()
    assert len(webhook.requests) == 1 and "Delivered 0" in out


def test_without_a_secret_no_signature_is_sent(webhook, settings):
    settings.ACCOUNTS_OUTBOX_SECRET = None
    facade.transfer(SourceAccountFactory(), AccountFactory(), TEN)
    deliver()
    ((headers, _),) = webhook.requests
    assert "X-Accounts-Signature" not in headers


def test_a_failure_is_retried_later_with_a_doubling_wait_then_given_up(webhook, settings):
    settings.ACCOUNTS_OUTBOX_MAX_ATTEMPTS = 3
    facade.transfer(SourceAccountFactory(), AccountFactory(), TEN)
    row = OutboxMessage.objects.get()
    webhook.statuses = [500, 503, 500]
    before = timezone.now()
    out, _ = deliver()
    assert "Delivered 0; 1 failed and will be retried" in out
    row.refresh_from_db()
    assert row.attempts == 1 and row.delivered_at is None
    assert row.last_error.startswith("HTTP 500")
    assert before + datetime.timedelta(seconds=60) <= row.next_attempt_at
    assert row.next_attempt_at <= timezone.now() + datetime.timedelta(seconds=60)
    # Not due yet: a run at once sends nothing.
    deliver()
    assert len(webhook.requests) == 1
    # Due again: the second failure waits twice as long.
    OutboxMessage.objects.update(next_attempt_at=timezone.now())
    before = timezone.now()
    deliver()
    row.refresh_from_db()
    assert row.attempts == 2 and row.last_error.startswith("HTTP 503")
    assert before + datetime.timedelta(seconds=120) <= row.next_attempt_at
    # The last attempt fails too: the message is given up on and stays for inspection.
    OutboxMessage.objects.update(next_attempt_at=timezone.now())
    _, err = deliver()
    assert "gave up on transfer.posted" in err
    OutboxMessage.objects.update(next_attempt_at=timezone.now())
    deliver()
    assert len(webhook.requests) == 3
    row.refresh_from_db()
    assert row.attempts == 3 and row.delivered_at is None


def test_the_wait_is_capped():
    target = delivery.Target(
        url="http://example.invalid/",
        secret=None,
        timeout_seconds=1,
        max_attempts=100,
        backoff_seconds=60,
        backoff_max_seconds=3600,
    )
    assert delivery.backoff(1, target) == datetime.timedelta(seconds=60)
    assert delivery.backoff(3, target) == datetime.timedelta(seconds=240)
    assert delivery.backoff(80, target) == datetime.timedelta(seconds=3600)


def test_an_unreachable_webhook_is_a_failure_with_its_reason(settings):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.ACCOUNTS_OUTBOX_WEBHOOK_URL = f"http://127.0.0.1:{port}/"
    settings.ACCOUNTS_OUTBOX_TIMEOUT_SECONDS = 2
    facade.transfer(SourceAccountFactory(), AccountFactory(), TEN)
    deliver()
    row = OutboxMessage.objects.get()
    assert row.attempts == 1 and "URLError" in row.last_error


def test_a_redirect_is_a_failure(webhook):
    webhook.statuses = [302]
    facade.transfer(SourceAccountFactory(), AccountFactory(), TEN)
    deliver()
    row = OutboxMessage.objects.get()
    assert row.delivered_at is None and row.last_error.startswith("HTTP 302")


def test_batches_send_everything_due_in_order(webhook):
    source, card = SourceAccountFactory(), AccountFactory()
    for _ in range(5):
        facade.transfer(source, card, TEN)
    out, _ = deliver("--batch-size", "2")
    assert "Delivered 5" in out
    uuids = [str(u) for u in OutboxMessage.objects.values_list("uuid", flat=True)]
    assert [b["id"] for b in webhook.bodies()] == uuids


def test_a_dry_run_lists_and_sends_nothing(webhook):
    facade.transfer(SourceAccountFactory(), AccountFactory(), TEN)
    row = OutboxMessage.objects.get()
    out, _ = deliver("--dry-run")
    assert f"would send transfer.posted {row.uuid} (attempt 1)" in out
    assert "1 message would be sent (dry run)." in out
    assert webhook.requests == []
    row.refresh_from_db()
    assert row.attempts == 0


def test_the_progress_bar_is_drawn_unless_asked_not_to(webhook):
    facade.transfer(SourceAccountFactory(), AccountFactory(), TEN)
    out, err = StringIO(), StringIO()
    call_command("deliver_outbox", stdout=out, stderr=err)
    assert "Delivering outbox messages: 1/1" in err.getvalue()


@pytest.mark.parametrize(
    ("url", "args", "message"),
    [
        (None, [], "Set ACCOUNTS_OUTBOX_WEBHOOK_URL"),
        ("file:///etc/passwd", [], "must be an http or https URL"),
        ("http://127.0.0.1:9/", ["--batch-size", "0"], "--batch-size must be between 1 and 1000"),
    ],
)
def test_bad_settings_and_options_are_refused(settings, url, args, message):
    settings.ACCOUNTS_OUTBOX_WEBHOOK_URL = url
    with pytest.raises(CommandError, match=message):
        deliver(*args)


def test_the_command_speaks_german(webhook):
    from django.utils import translation

    facade.transfer(SourceAccountFactory(), AccountFactory(), TEN)
    with translation.override("de"):
        out, _ = deliver()
    assert "1 zugestellt; 0 fehlgeschlagen" in out


class _Serialisation(Exception):
    sqlstate = "40001"


@pytest.mark.django_db(transaction=True)
def test_a_retried_attempt_leaves_one_row():
    """The facade's first attempt writes its row and then fails: the retry's row alone stays."""
    from django.db import OperationalError

    from accounts import events

    source, card = SourceAccountFactory(), AccountFactory()
    seen = []

    def fail_first_attempt(sender, **kwargs):
        seen.append(OutboxMessage.objects.count())
        if len(seen) == 1:
            error = OperationalError("could not serialize access")
            error.__cause__ = _Serialisation()
            raise error

    # Connected after the outbox's receiver, so the first attempt's row is already written.
    events.event_recorded.connect(fail_first_attempt, weak=False)
    try:
        new = facade.transfer(source, card, TEN)
    finally:
        events.event_recorded.disconnect(fail_first_attempt)
    assert seen == [1, 1]
    (row,) = OutboxMessage.objects.all()
    assert row.payload["transfer"]["reference"] == new.reference


def test_the_admin_shows_the_outbox_read_only(admin_client):
    from django.urls import reverse

    facade.transfer(SourceAccountFactory(), AccountFactory(), TEN)
    row = OutboxMessage.objects.get()
    listing = admin_client.get(reverse("admin:accounts_outbox_outboxmessage_changelist"))
    assert listing.status_code == 200 and str(row.uuid) in listing.content.decode()
    page = admin_client.get(reverse("admin:accounts_outbox_outboxmessage_change", args=[row.pk]))
    assert page.status_code == 200 and row.payload["transfer"]["reference"] in page.content.decode()
    assert (
        admin_client.post(
            reverse("admin:accounts_outbox_outboxmessage_delete", args=[row.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert OutboxMessage.objects.filter(pk=row.pk).exists()
