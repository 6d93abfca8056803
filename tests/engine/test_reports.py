import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts import facade, reports
from accounts.models import Account
from accounts.reports import deferred

pytestmark = pytest.mark.django_db


def test_reports_agree_after_a_load_and_an_expiry_sweep(source):
    card = Account.objects.create(end_date=timezone.now() + datetime.timedelta(days=1))
    empty = Account.objects.create(end_date=timezone.now() + datetime.timedelta(days=1))
    facade.transfer(source, card, Decimal("12.50"))
    Account.objects.filter(pk__in=[card.pk, empty.pk]).update(
        end_date=timezone.now() - datetime.timedelta(days=1)
    )
    call_command("close_expired_accounts", "--no-progress")
    card.refresh_from_db()
    empty.refresh_from_db()
    assert card.is_closed() and empty.is_closed() and card.balance == 0
    assert Account.objects.expired_account().balance == Decimal("12.50")
    call_command("verify_ledger")
    assert reports.verify().ok
    tb = reports.trial_balance()
    assert tb.is_balanced
    assert reports.accounting_equation().holds
    st = reports.statement(card)
    assert [line.balance for line in st.lines] == [Decimal("12.50"), Decimal("0")]
    pnl = reports.gift_card_flows()
    assert pnl.expiries == Decimal("12.50")
    assert reports.deferred_income()["expired"] == 0


def test_deferred_income_counts_money_held_for_customers_not_debts(source):
    card = Account.objects.create(end_date=timezone.now() + datetime.timedelta(days=10))
    facade.transfer(source, card, Decimal("40.00"))
    credit_line = Account.objects.create(credit_limit=Decimal("100.00"))
    facade.transfer(credit_line, source, Decimal("25.00"))  # the customer owes 25
    buckets = reports.deferred_income()
    assert buckets["≤30 days"] == Decimal("40.00")
    assert buckets["open-ended"] == 0


def test_the_deferred_income_buckets_are_stated_once(source, monkeypatch):
    assert list(reports.deferred_income()) == list(reports.DEFERRED_BUCKET_KEYS)
    assert set(reports.DEFERRED_BUCKET_LABELS) == set(reports.DEFERRED_BUCKET_KEYS)
    # Changing the one statement changes the query and the keys the report returns.
    card = Account.objects.create(end_date=timezone.now() + datetime.timedelta(days=40))
    facade.transfer(source, card, Decimal("7.00"))
    assert reports.deferred_income()["≤60 days"] == Decimal("7.00")
    # The report reads them from its own module, where they are stated.
    monkeypatch.setattr(deferred, "DEFERRED_BUCKETS", (("≤45 days", 45), (">45 days", None)))
    monkeypatch.setattr(
        deferred, "DEFERRED_BUCKET_KEYS", ("expired", "≤45 days", ">45 days", "open-ended")
    )
    buckets = reports.deferred_income()
    assert list(buckets) == ["expired", "≤45 days", ">45 days", "open-ended"]
    assert buckets["≤45 days"] == Decimal("7.00")


def test_a_back_dated_transfer_is_dated_like_its_legs(source, account):
    then = timezone.now() - datetime.timedelta(days=40)
    t = facade.transfer(source, account, Decimal("3.00"), date=then)
    assert t.created_at == then
    assert {leg.created_at for leg in t.transactions.all()} == {then}
    recent = reports.gift_card_flows(start=timezone.now() - datetime.timedelta(days=30))
    assert recent.loads == {}
