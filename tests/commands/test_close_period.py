"""``manage.py close_period``: closing the books from the command line."""

from __future__ import annotations

import datetime

import pytest
from django.core.management import CommandError
from django.test import override_settings
from django.utils import timezone

from accounts.models import ClosedPeriod, Kind, Transfer, TransferKind

from ..engine.test_books import club, make  # noqa: F401 (club is a fixture)
from ..factories import UserFactory
from .test_commands import run

pytestmark = pytest.mark.django_db


def days_ago(n: int) -> str:
    return (timezone.localdate() - datetime.timedelta(days=n)).isoformat()


def test_the_command_closes_the_books_with_who_and_why():
    keeper = UserFactory(username="keeper")
    out, _ = run("close_period", days_ago(7), "--reason", "Month end", "--user", "keeper")
    assert out == f"The books are closed through {days_ago(7)}.\n"
    closing = ClosedPeriod.objects.get()
    assert closing.closed_through.isoformat() == days_ago(7)
    assert (closing.user, closing.username, closing.reason) == (keeper, "keeper", "Month end")


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["2026-02-30"], "is not a day: give it as YYYY-MM-DD"),
        (["yesterday"], "is not a day"),
        ([days_ago(0)], "is not over yet"),
        ([days_ago(3), "--user", "nobody"], "No user is called nobody"),
        ([days_ago(3), "--user", "no\x00body"], "No user is called no"),
    ],
    ids=["no such date", "not a date", "today", "unknown user", "NUL in the username"],
)
def test_bad_input_is_refused_with_its_reason_and_nothing_is_closed(args, said):
    with pytest.raises(CommandError, match=said):
        run("close_period", *args)
    assert not ClosedPeriod.objects.exists()


def test_the_closing_only_moves_forward():
    run("close_period", days_ago(5))
    with pytest.raises(CommandError, match="already closed through"):
        run("close_period", days_ago(9))
    assert ClosedPeriod.objects.count() == 1


@override_settings(ACCOUNTS_RETAINED_EARNINGS="RETAINED")
def test_the_closing_entry_is_posted_and_listed(club):  # noqa: F811
    make("RETAINED", Kind.EQUITY)
    out, _ = run("close_period", days_ago(2), "--closing-entry")
    [entry] = Transfer.objects.filter(kind=TransferKind.CLOSING)
    lines = out.splitlines()
    assert lines[0] == f"The books are closed through {days_ago(2)}."
    assert lines[1].startswith(f"closing entry {entry.reference}: ")
    assert lines[2] == "1 closing entry posted."


def test_a_closing_entry_without_its_setting_closes_nothing(club):  # noqa: F811
    with pytest.raises(CommandError, match="ACCOUNTS_RETAINED_EARNINGS"):
        run("close_period", days_ago(2), "--closing-entry")
    assert not ClosedPeriod.objects.exists()
