import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts import facade, reports
from accounts.models import Account

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
    pnl = reports.profit_and_loss()
    assert pnl.expiries == Decimal("12.50")
    assert reports.deferred_income()["expired"] == 0
