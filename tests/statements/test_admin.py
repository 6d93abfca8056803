"""Bank statements in the admin: read-only imports and lines, reconciled only by the actions."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.urls import reverse

from accounts.models import (
    Account,
    Kind,
    MatchingRule,
    RuleApplication,
    StatementImport,
    StatementLine,
    Transfer,
)
from accounts.statements import import_statement

from ..factories import AccountFactory, StaffFactory
from ..surfaces.test_admin import account_form
from .conftest import statement

pytestmark = pytest.mark.django_db

MODELS = [StatementImport, StatementLine, MatchingRule, RuleApplication]


def admin_url(model, view, *args):
    return reverse(f"admin:accounts_{model._meta.model_name}_{view}", args=args)


@pytest.fixture
def groceries(db):
    return AccountFactory(kind=Kind.EXPENSE, currency="GBP", credit_limit=None, name="Groceries")


@pytest.fixture
def imported(gbp_bank, groceries):
    rule = MatchingRule.objects.create(pattern="tesco", account=groceries)
    import_statement(gbp_bank, statement("uk_bank_2026_11.csv"))
    return rule


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_each_statement_page_opens(admin_client, imported, model):
    assert admin.site.is_registered(model)
    assert admin_client.get(admin_url(model, "changelist")).status_code == 200
    obj = model.objects.order_by("pk").first()
    assert admin_client.get(admin_url(model, "change", obj.pk)).status_code == 200


def test_imported_lines_cannot_be_edited_added_or_deleted(admin_client, imported):
    line = StatementLine.objects.order_by("pk").first()
    before = (line.amount, line.description)
    admin_client.post(admin_url(StatementLine, "change", line.pk), {"amount": "1.00"})
    line.refresh_from_db()
    assert (line.amount, line.description) == before
    assert admin_client.get(admin_url(StatementLine, "add")).status_code == 403
    assert admin_client.get(admin_url(StatementLine, "delete", line.pk)).status_code == 403
    assert admin_client.get(admin_url(StatementImport, "add")).status_code == 403


def test_the_actions_unreconcile_lines_and_apply_the_rules(admin_client, imported):
    tesco = list(StatementLine.objects.filter(description__icontains="tesco"))
    assert all(line.is_reconciled for line in tesco)
    transfers = Transfer.objects.count()
    admin_client.post(
        admin_url(StatementLine, "changelist"),
        {
            "action": "unreconcile_lines",
            admin.helpers.ACTION_CHECKBOX_NAME: [line.pk for line in tesco],
        },
        follow=True,
    )
    assert Transfer.objects.count() == transfers + 2  # two reversals, nothing deleted
    assert not StatementLine.objects.filter(reconciled_transfer__isnull=False).exists()
    admin_client.post(
        admin_url(StatementLine, "changelist"),
        {
            "action": "apply_matching_rules",
            admin.helpers.ACTION_CHECKBOX_NAME: [line.pk for line in tesco],
        },
        follow=True,
    )
    assert StatementLine.objects.filter(reconciled_transfer__isnull=False).count() == 2
    assert RuleApplication.objects.count() == 4


def test_staff_who_may_only_view_lines_get_no_reconciling_actions(client, imported):
    staff = StaffFactory()
    staff.user_permissions.add(Permission.objects.get(codename="view_statementline"))
    client.force_login(staff)
    page = client.get(admin_url(StatementLine, "changelist")).content.decode()
    assert "unreconcile_lines" not in page and "apply_matching_rules" not in page


def test_the_account_form_refuses_a_bank_account_that_is_not_an_asset(admin_client):
    account = AccountFactory(kind=Kind.LIABILITY)
    response = admin_client.post(
        admin_url(Account, "change", account.pk), account_form(account, is_bank="on")
    )
    assert "Only an asset account can be a bank account." in response.content.decode()
    account.refresh_from_db()
    assert not account.is_bank
    asset = AccountFactory(kind=Kind.ASSET, credit_limit=None)
    admin_client.post(admin_url(Account, "change", asset.pk), account_form(asset, is_bank="on"))
    asset.refresh_from_db()
    assert asset.is_bank
