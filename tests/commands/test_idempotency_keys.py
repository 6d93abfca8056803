"""Keeping idempotency keys: the retention setting, its check, and purge_idempotency_keys."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.management import CommandError
from django.test import override_settings
from django.utils import timezone

from accounts import conf, facade
from accounts.models import IdempotencyKey, Transfer

from ..factories import AccountFactory, SourceAccountFactory
from .test_checks import accounts_messages
from .test_commands import run

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


def keys_aged(*ages: datetime.timedelta) -> list[IdempotencyKey]:
    """One keyed transfer per age, its key dated that long ago."""
    source, account = SourceAccountFactory(), AccountFactory()
    now = timezone.now()
    for index, age in enumerate(ages):
        facade.transfer(source, account, Decimal("1.00"), idempotency_key=f"key-{index}")
        IdempotencyKey.objects.filter(key=f"key-{index}").update(created_at=now - age)
    return list(IdempotencyKey.objects.order_by("key"))


def purge(*args: str) -> tuple[str, str]:
    return run("purge_idempotency_keys", "--no-progress", *args)


def test_keys_older_than_the_retention_are_deleted_and_the_transfers_stay():
    keys_aged(31 * DAY, 40 * DAY, 29 * DAY, DAY)
    out, _ = purge()
    assert sorted(IdempotencyKey.objects.values_list("key", flat=True)) == ["key-2", "key-3"]
    assert "Deleted 2 idempotency keys" in out
    assert Transfer.objects.filter(amount=Decimal("1.00")).count() == 4


def test_a_purged_key_is_free_again():
    source, account = SourceAccountFactory(), AccountFactory()
    first = facade.transfer(source, account, Decimal("1.00"), idempotency_key="k")
    IdempotencyKey.objects.update(created_at=timezone.now() - 31 * DAY)
    purge()
    again = facade.transfer(source, account, Decimal("1.00"), idempotency_key="k")
    assert again.pk != first.pk


@override_settings(ACCOUNTS_IDEMPOTENCY_KEY_RETENTION=datetime.timedelta(hours=1))
def test_the_retention_setting_decides_what_is_old():
    keys_aged(2 * datetime.timedelta(hours=1), datetime.timedelta(minutes=30))
    purge()
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["key-1"]


def test_a_dry_run_deletes_nothing_and_counts():
    keys_aged(31 * DAY, 40 * DAY, DAY)
    out, _ = purge("--dry-run")
    assert IdempotencyKey.objects.count() == 3
    assert "2 idempotency keys" in out and "dry run" in out


def test_small_batches_delete_everything_old_and_a_second_run_nothing():
    keys_aged(*([31 * DAY] * 5), DAY)
    purge("--batch-size", "2")
    assert IdempotencyKey.objects.count() == 1
    out, _ = purge()
    assert "Deleted 0 idempotency keys" in out


@pytest.mark.parametrize("size", ["0", "-1", "10001"])
def test_a_batch_size_out_of_bounds_is_refused(size):
    with pytest.raises(CommandError, match="--batch-size"):
        purge("--batch-size", size)


def test_the_progress_bar_goes_to_stderr():
    keys_aged(31 * DAY)
    out, err = run("purge_idempotency_keys")
    assert "Purging idempotency keys: 1/1" in err
    assert "Purging" not in out


def test_the_retention_is_thirty_days_by_default():
    assert conf.idempotency_key_retention() == datetime.timedelta(days=30)


@pytest.mark.parametrize("value", [30, "30 days", datetime.timedelta(0), -DAY, None, Decimal("30")])
def test_a_retention_that_is_not_a_positive_timedelta_fails_check_e005(value):
    with override_settings(ACCOUNTS_IDEMPOTENCY_KEY_RETENTION=value):
        messages = accounts_messages()
    assert list(messages) == ["accounts.E007"]
    assert "ACCOUNTS_IDEMPOTENCY_KEY_RETENTION" in messages["accounts.E007"][0]


@override_settings(ACCOUNTS_IDEMPOTENCY_KEY_RETENTION=datetime.timedelta(days=7))
def test_a_positive_timedelta_passes_the_checks():
    assert accounts_messages() == {}
