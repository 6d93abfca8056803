"""The sandbox's demo data (``load_demo_data``) and its home page.

The test settings do not install the sandbox's demo app; the command is run by passing its
``Command`` to ``call_command``, and the app itself is imported as ``sandbox.demo``.
"""

from __future__ import annotations

import datetime
import importlib.util
import io
import os
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction
from django.test import TestCase, override_settings
from django.utils import timezone

from accounts import codes, reports, statements
from accounts.dashboard.common import DASHBOARD_PERMISSIONS
from accounts.models import (
    Account,
    AccountType,
    Kind,
    StatementLine,
    Status,
    Transaction,
    Transfer,
    TransferKind,
)
from sandbox.demo import loader
from sandbox.demo import statement as demo_statement
from sandbox.demo.management.commands.demo_statement import Command as DemoStatementCommand
from sandbox.demo.management.commands.load_demo_data import Command

from .conftest import ledger_snapshot

pytestmark = pytest.mark.django_db

REPO = Path(__file__).resolve().parent.parent
SANDBOX_NAMES = {
    "ACCOUNTS_SOURCE_NAME": "Shop till",
    "ACCOUNTS_SALES_NAME": "Shop sales",
    "ACCOUNTS_EXPIRED_NAME": "Expired gift cards",
}


def load_demo_data() -> str:
    out = io.StringIO()
    call_command(Command(), stdout=out)
    return out.getvalue()


@pytest.fixture
def output():
    """Run the command once, as ``make sandbox`` does; return what it printed."""
    return load_demo_data()


def gift_cards():
    return Account.objects.filter(account_type__code="gift-cards")


def everything():
    """The whole state a second run must leave alone: ledger, users and account types."""
    users = sorted(get_user_model().objects.values_list("username", "password", "is_superuser"))
    return (
        ledger_snapshot(),
        users,
        sorted(AccountType.objects.values_list("code", flat=True)),
        sorted(Account.objects.values_list("code", "end_date", "credit_limit", "parent__code")),
    )


# -- what it creates (loaded once for these tests; each test runs in its own savepoint) -----


class TestWhatTheDemoCreates(TestCase):
    output: str

    @classmethod
    def setUpTestData(cls) -> None:
        with override_settings(**SANDBOX_NAMES):
            cls.output = load_demo_data()

    def test_the_core_accounts_take_their_names_from_the_settings(self):
        assert Account.objects.source().name == "Shop till"
        assert Account.objects.sales().name == "Shop sales"
        assert Account.objects.expired_account().name == "Expired gift cards"

    def test_it_creates_three_dozen_gift_cards_with_codes_shaped_like_generated_ones(self):
        cards = list(gift_cards())
        assert len(cards) == loader.GIFT_CARD_COUNT == 36
        shape = re.compile(r"^([23456789A-HJKMNP-Z]{4}-){3}[23456789A-HJKMNP-Z]{4}$")
        assert all(shape.match(card.code) for card in cards)
        assert all(Account.objects.get_by_code(card.code.lower()) == card for card in cards[:3])
        assert all(card.kind == Kind.LIABILITY and card.credit_limit == 0 for card in cards)

    def test_its_gift_cards_are_designated_cards_and_nothing_else_is(self):
        assert set(Account.objects.filter(is_card=True)) == set(gift_cards())
        # What money comes from is never a card, and never a liability with no limit.
        assert not Account.objects.filter(kind=Kind.LIABILITY, credit_limit__isnull=True).exists()
        bank = Account.objects.get(code="HOUSE-BANK")
        assert (bank.kind, bank.is_card) == (Kind.ASSET, False)
        assert not Account.objects.get(code=loader.CREDIT_LINE_CODE).is_card

    def test_some_cards_expire_within_days_and_some_have_expired(self):
        now = timezone.now()
        soon = gift_cards().filter(
            status=Status.OPEN, end_date__gt=now, end_date__lte=now + datetime.timedelta(days=7)
        )
        assert soon.count() == len(loader.EXPIRING_SOON)
        waiting = gift_cards().expired()  # open, past their end date, holding money
        assert waiting.count() == len(loader.EXPIRED_OPEN)
        assert all(card.balance > 0 for card in waiting)
        swept = Transfer.objects.filter(kind=TransferKind.EXPIRY)
        assert swept.count() == len(loader.EXPIRED_SWEPT)
        assert {t.source.status for t in swept} == {Status.CLOSED}
        assert Account.objects.expired_account().balance == sum(t.amount for t in swept)

    def test_some_cards_are_partly_spent_one_refunded_one_reversed_one_frozen_one_closed(self):
        loads = {
            t.destination_id: t.amount for t in Transfer.objects.filter(source__code="CORE-SOURCE")
        }
        partly = [c for c in gift_cards() if 0 < c.balance < loads[c.pk]]
        assert len(partly) >= 8
        refund = Transfer.objects.get(kind=TransferKind.REFUND)
        assert refund.parent.destination == Account.objects.sales()
        assert refund.destination == refund.parent.source
        assert refund.destination.name == "Gift card 1018"
        reversal = Transfer.objects.get(kind=TransferKind.REVERSAL)
        assert reversal.reverses.source.name == "Gift card 1019"
        assert reversal.username == "staff"
        assert gift_cards().get(status=Status.FROZEN).name == "Gift card 1017"
        closed = gift_cards().filter(status=Status.CLOSED, balance=0)
        assert "Gift card 1016" in {c.name for c in closed}

    def test_the_b2b_customer_buys_on_a_credit_line_and_owes_money(self):
        customer = Account.objects.get(code=loader.CREDIT_LINE_CODE)
        assert customer.credit_limit == Decimal("5000.00")
        assert -customer.credit_limit <= customer.balance < 0
        purchases = Transfer.objects.filter(source=customer, destination=Account.objects.sales())
        assert purchases.count() == len(loader.PURCHASE_DAYS_AGO)
        assert {t.username for t in purchases} == {"northwind"}
        assert customer.primary_user.username == "northwind"

    def test_the_shared_house_has_an_account_tree_with_a_month_of_books(self):
        house = {a.code: a for a in Account.objects.filter(code__startswith="HOUSE-")}
        tree = {code: (a.parent.code if a.parent else None, a.kind) for code, a in house.items()}
        assert tree == {code: (parent, kind) for code, _, kind, parent in loader.HOUSE_ACCOUNTS}
        balances = {code: a.balance for code, a in house.items() if a.parent}
        assert balances == {
            "HOUSE-BANK": Decimal("2381.30"),
            "HOUSE-RENT": Decimal("1800.00"),
            "HOUSE-ELECTRICITY": Decimal("103.15"),
            "HOUSE-GROCERIES": Decimal("432.80"),
            "HOUSE-UTILITIES": Decimal("289.05"),
            "HOUSE-OPENING": Decimal("1200.00"),
        }
        assert house["HOUSE-EXPENSES"].get_balance() == Decimal("721.85")
        assert house["HOUSE-ASSETS"].get_balance() == Decimal("2381.30")
        split = Transfer.objects.get(kind=TransferKind.ENTRY, description__startswith="Supermarket")
        assert split.transactions.count() == 3

    def test_the_house_books_are_dated_over_the_last_month(self):
        bank = Account.objects.get(code="HOUSE-BANK")
        dates = list(
            Transaction.objects.filter(account=bank)
            .order_by("account_version")
            .values_list("created_at", flat=True)
        )
        assert dates == sorted(dates)
        assert timezone.now() - dates[0] > datetime.timedelta(days=29)
        # Opening balance and rent were in the bank before the first weekly shop.
        assert bank.get_balance(as_of=dates[0] + datetime.timedelta(days=2)) == Decimal("3000.00")
        statement = reports.statement(bank)
        assert statement.lines[-1].balance == bank.balance

    def test_the_house_bank_takes_statements_and_its_demo_statement_reconciles(self):
        bank = Account.objects.get(code="HOUSE-BANK")
        assert bank.is_bank
        out = io.StringIO()
        call_command(DemoStatementCommand(), stdout=out)
        text = out.getvalue()
        result = statements.import_statement(bank, io.BytesIO(text.encode()), file_name="house.csv")
        assert (result.lines_added, result.lines_rejected, result.date_order) == (
            14,
            0,
            "day-first",
        )
        # The last line's balance is the bank's, less the fee the books do not have yet.
        last_balance = Decimal(text.splitlines()[-1].rsplit(",", 1)[1])
        assert last_balance == bank.balance - Decimal("3.50")
        for line in StatementLine.objects.filter(bank_account=bank):
            found = statements.suggest(line)
            if line.description == "MONTHLY ACCOUNT FEE":
                assert found == [], "the fee is not in the books"
                continue
            best = found[0].transfer
            # Each line's best suggestion is its own posting: the right housemate's rent, the
            # three-leg supermarket entry, the weekly shop of its day.
            assert demo_statement._bank_text(best.description)[1] == line.description, line
            assert found[0].days_apart == 0, line

    def test_it_creates_the_demo_logins_with_the_right_permissions(self):
        User = get_user_model()
        admin, staff, api = (User.objects.get(username=name) for name in ("admin", "staff", "api"))
        assert admin.is_superuser and admin.check_password("admin")
        assert staff.is_staff and not staff.is_superuser and staff.check_password("staff")
        for permission in DASHBOARD_PERMISSIONS:
            assert staff.has_perm(f"accounts.{permission}")
        assert staff.has_perm("accounts.spend_from_any_account")
        assert not staff.has_perm("accounts.delete_account")
        assert not staff.has_perm("accounts.use_api")
        assert not staff.has_perm("accounts.add_apikey")
        assert api.check_password("api") and api.has_perm("accounts.use_api")
        assert not api.is_staff
        assert not User.objects.get(username="alice").has_usable_password()

    def test_the_clerk_sells_tops_up_and_refunds_but_never_sees_codes_or_reverses(self):
        clerk = get_user_model().objects.get(username="clerk")
        assert clerk.is_staff and not clerk.is_superuser and clerk.check_password("clerk")
        for permission in ("view_account", "add_account", "change_account", "refund_transfer"):
            assert clerk.has_perm(f"accounts.{permission}")
        for permission in (
            "view_card_code",
            "reverse_transfer",
            "spend_from_any_account",
            "view_reports",
            "use_api",
        ):
            assert not clerk.has_perm(f"accounts.{permission}")

    def test_the_till_holds_the_till_role_only(self):
        """use_api lets it correct its own transfers; others' need correct_any_transfer."""
        till = get_user_model().objects.get(username="api")
        assert till.has_perm("accounts.use_api")
        assert not till.has_perm("accounts.correct_any_transfer")
        assert not till.has_perm("accounts.reverse_transfer")
        assert not till.has_perm("accounts.view_card_code")

    def test_the_books_verify_after_loading(self):
        assert reports.verify().ok
        assert reports.accounting_equation().holds
        assert reports.trial_balance().is_balanced
        assert "Books verified" in self.output

    def test_it_prints_the_url_and_the_logins(self):
        assert "http://127.0.0.1:8000/" in self.output
        for username, password, _ in loader.LOGINS:
            assert f"{username} / {password}" in self.output
        card = loader.sample_card()
        assert card is not None and card.balance > 0 and card.is_active()
        assert f"code {card.code}" in self.output
        assert "python sandbox/manage.py demo_statement house.csv" in self.output


def test_an_existing_admin_keeps_its_password():
    get_user_model().objects.create_superuser("admin", "admin@example.com", "not-admin")
    load_demo_data()
    assert get_user_model().objects.get(username="admin").check_password("not-admin")


# -- idempotent and repeatable ---------------------------------------------------------------


def test_running_it_twice_changes_nothing(output):
    before = everything()
    second = load_demo_data()
    assert everything() == before
    assert second.count("already there") == 3


def test_it_builds_the_same_data_every_time():
    def build():
        with transaction.atomic():
            load_demo_data()
            cards = sorted(gift_cards().values_list("name", "code", "balance", "status"))
            transaction.set_rollback(True)
        return cards

    first = build()
    assert not gift_cards().exists()
    assert build() == first


def test_its_help_says_it_is_idempotent():
    assert "running it twice does not double the data" in " ".join(Command.help.split())


def test_the_sandbox_finds_the_command_the_makefile_runs():
    env = {**os.environ, "PYTHONPATH": str(REPO), "DATABASE_URL": "sqlite:///unused.sqlite3"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    found = subprocess.run(
        [sys.executable, str(REPO / "sandbox" / "manage.py"), "help", "load_demo_data"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert found.returncode == 0, found.stderr
    assert "Idempotent" in found.stdout


# -- the home page ---------------------------------------------------------------------------


@pytest.fixture
def home_page(settings, client):
    settings.ROOT_URLCONF = "sandbox.sandbox.urls"
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [REPO / "sandbox" / "templates"]}]
    response = client.get("/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_home_page_says_where_to_click_and_how_to_log_in(home_page):
    assert 'href="/admin/"' in home_page
    assert "/dashboard/" in home_page
    assert "/api/v1/" in home_page
    for username, password, _ in loader.LOGINS:
        assert f"<code>{username}</code></td><td><code>{password}</code>" in home_page


def test_the_home_page_links_the_parts_that_are_installed(home_page):
    from importlib.util import find_spec

    if find_spec("accounts.dashboard.urls"):
        assert 'href="/dashboard/"' in home_page
    if find_spec("accounts.api.urls"):
        assert 'href="/api/v1/openapi.json"' in home_page


def test_the_home_page_loads_nothing_from_elsewhere(home_page):
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", home_page)
    assert "<script" not in home_page


def test_demo_codes_are_not_drawn_from_the_secure_generator():
    # The demo is repeatable on purpose; a real card's code comes from `secrets`.
    import random

    assert loader._code(random.Random(1)) == loader._code(random.Random(1))
    assert codes.generate() != codes.generate()


def test_every_link_the_command_prints_answers_200(settings, client, output):
    """What `make sandbox` prints is what a new user clicks first (logged in as admin)."""
    import re

    settings.ROOT_URLCONF = "sandbox.sandbox.urls"
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [REPO / "sandbox" / "templates"]}]
    paths = re.findall(r"http://127\.0\.0\.1:8000(/\S*)", output)
    assert len(paths) >= 4
    client.login(username="admin", password="admin")
    for path in paths:
        response = client.get(path, follow=True)
        assert response.status_code == 200, path


def test_the_sandbox_picks_each_pages_language_from_the_shipped_ones():
    spec = importlib.util.spec_from_file_location(
        "sandbox_settings", REPO / "sandbox" / "sandbox" / "settings.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    middleware = module.MIDDLEWARE
    locale = middleware.index("django.middleware.locale.LocaleMiddleware")
    assert middleware.index("django.contrib.sessions.middleware.SessionMiddleware") < locale
    assert locale < middleware.index("django.middleware.common.CommonMiddleware")
    assert {code for code, _ in module.LANGUAGES} == {"en-gb", "de", "fr"}
    assert module.LANGUAGE_CODE == "en-gb"


def test_the_home_pages_switcher_sets_the_language(settings, client):
    settings.ROOT_URLCONF = "sandbox.sandbox.urls"
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [REPO / "sandbox" / "templates"]}]
    settings.LANGUAGES = [("en", "English"), ("de", "Deutsch"), ("fr", "Français")]
    settings.MIDDLEWARE = [
        *settings.MIDDLEWARE[:2],
        "django.middleware.locale.LocaleMiddleware",
        *settings.MIDDLEWARE[2:],
    ]
    home = client.get("/").content.decode()
    assert 'action="/i18n/setlang/"' in home
    assert '<option value="de">Deutsch</option>' in home
    response = client.post("/i18n/setlang/", {"language": "de", "next": "/"})
    assert response.status_code == 302
    assert '<html lang="de">' in client.get("/").content.decode()
