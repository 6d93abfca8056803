"""Every message for people is marked for translation; every code stays as it is.

The runtime tests activate a pseudo-German catalogue (:mod:`tests.i18n`) that translates each
marked msgid to itself between ``⟪`` and ``⟫``, built from the strings ``makemessages`` would
extract. A message that comes out without the markers was not marked, or was marked in a way
makemessages cannot extract (an f-string inside ``gettext``, a variable), so a real catalogue
could never translate it. The static tests read the code: every gettext call has literal text,
and no message-carrying call outside them holds prose or an f-string, including on paths the
runtime tests never take.
"""

from __future__ import annotations

import ast
import base64
import csv
import datetime
import importlib.util
import io
import json
import re
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.core.management import call_command, load_command_class
from django.core.management.base import BaseCommand, CommandError
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone, translation

from accounts import checks, exceptions, facade, reports, roles
from accounts.admin import AccountAdmin, LegInline, masked_code
from accounts.api import keys
from accounts.api.admin import LookupThrottleAdmin
from accounts.dashboard import charts
from accounts.dashboard.common import DASHBOARD_PERMISSIONS
from accounts.facade import Credit, Debit
from accounts.models import Account, AuditAction, AuditEntry, Kind, Transfer

from .. import i18n
from ..commands.test_commands import drift
from ..engine.test_exceptions import TRIGGERS
from ..factories import AccountFactory, SourceAccountFactory, StaffFactory, UserFactory
from .test_dashboard import body, client_for, grant, url

pytestmark = pytest.mark.django_db

#: The language the pseudo catalogue is installed as: a real one, so that a client can ask for
#: it with Accept-Language.
PSEUDO_LANGUAGE = "de"
LOCALE_MIDDLEWARE = "django.middleware.locale.LocaleMiddleware"
COMMANDS_DIR = i18n.APP_DIR / "management" / "commands"
COMMANDS = sorted(p.stem for p in COMMANDS_DIR.glob("*.py") if not p.stem.startswith("_"))


@pytest.fixture(scope="session")
def pseudo_locale(tmp_path_factory):
    """A LOCALE_PATHS directory holding the pseudo catalogue of every marked string."""
    messages, _ = i18n.extract()
    directory = tmp_path_factory.mktemp("locale")
    i18n.write_pseudo_catalogue(directory, PSEUDO_LANGUAGE, messages)
    return directory


@pytest.fixture
def pseudo_german(settings, pseudo_locale):
    """Run the test in the pseudo language (LOCALE_PATHS wins over the app's own catalogues)."""
    settings.LOCALE_PATHS = [str(pseudo_locale)]
    with translation.override(PSEUDO_LANGUAGE):
        yield


def english(text: object) -> str:
    with translation.override("en"):
        return str(text)


def assert_translated(text: str) -> None:
    assert i18n.is_translated(text), f"not marked for translation: {text!r}"


# -- the code, read ---------------------------------------------------------------------------


def test_every_marked_string_is_literal_text_makemessages_can_extract():
    _, unextractable = i18n.extract()
    assert unextractable == []


def test_the_pseudo_catalogue_holds_the_apps_messages():
    messages, _ = i18n.extract()
    msgids = {m.msgid for m in messages}
    assert "Account %(account)s is frozen." in msgids
    assert str(exceptions.InsufficientFunds.default_message) in msgids
    assert any(
        m.plural == "%(count)d expired accounts would be closed (dry run)." for m in messages
    )


#: The migrations are Django's record of the schema, as makemigrations wrote them: their
#: verbose names repeat the models' (marked there) and are never shown from the migrations.
NOT_YET_CHECKED = ("migrations/", "outbox/migrations/")
#: Calls whose text reaches people: refusals, errors, command output, checks, reports, the
#: dashboard's and the admin's messages, and the history of changes they record.
MESSAGE_CALLS = {cls.__name__ for cls in exceptions.ALL} | {
    "ApiError",
    "Refused",
    "unauthenticated",
    "_refuse",
    "PydanticCustomError",
    "CommandError",
    "InvalidKeyRequest",
    "ValidationError",
    "DoesNotExist",
    "Error",
    "Warning",
    "Problem",
    "Progress",
    "write",
    # The admin's messages and the history of changes (the admin's and the dashboard's).
    "message_user",
    "log_change",
    "record_action",
    # A form's errors and pages that are not found.
    "add_error",
    "Http404",
}
#: django.contrib.messages' functions, met as ``messages.<name>(...)``: a logger's methods of
#: the same names take log lines, which stay in English.
MESSAGES_FUNCTIONS = {"success", "error", "info", "warning", "debug", "add_message"}
#: Keyword arguments and class attributes that hold text for people: help texts, labels and
#: form fields' texts, admin columns' and actions' descriptions, page titles, the dashboard's
#: confirmations (their headings, buttons and messages).
MESSAGE_NAMES = {
    "help",
    "hint",
    "label",
    "message",
    "default_message",
    "help_text",
    "empty_label",
    "error_messages",
    "short_description",
    "verbose_name",
    "verbose_name_plural",
    "choices",
}
#: Keyword arguments that hold text for people in these calls only: elsewhere a
#: ``description`` is a transfer's (data in the ledger, stored in English) or the OpenAPI
#: document's (English for every client).
MESSAGE_KEYWORDS_OF = {"display": {"description"}, "action": {"description"}}
#: Class attributes that hold text for people: a page's title and extra context, and what a
#: dashboard confirmation shows and says once done.
MESSAGE_ATTRIBUTES = MESSAGE_NAMES | {"title", "extra_context", "confirm_label", "done", "logged"}
_LETTER = re.compile(r"[^\W\d_]")


def _is_prose(text: str) -> bool:
    """Text a person reads, as opposed to a code ("invalid_json") or an id ("accounts.E001")."""
    return bool(_LETTER.search(text)) and (
        any(c.isspace() for c in text) or text.rstrip().endswith((".", "!", "?", ":"))
    )


def _unmarked(node: ast.AST) -> list[ast.AST]:
    """Prose and f-strings with words in ``node``, outside any gettext call."""
    if isinstance(node, ast.Call) and i18n.keyword_of(node) is not None:
        return []
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node] if _is_prose(node.value) else []
    if isinstance(node, ast.JoinedStr):
        words = "".join(
            part.value
            for part in node.values
            if isinstance(part, ast.Constant) and isinstance(part.value, str)
        )
        return [node] if _LETTER.search(words) else []
    return [found for child in ast.iter_child_nodes(node) for found in _unmarked(child)]


def _callee(call: ast.Call) -> str | None:
    func = call.func
    return func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)


def _is_message_call(call: ast.Call) -> bool:
    func = call.func
    if (
        isinstance(func, ast.Attribute)
        and func.attr in MESSAGES_FUNCTIONS
        and isinstance(func.value, ast.Name)
        and func.value.id == "messages"
    ):
        return True
    return _callee(call) in MESSAGE_CALLS


def unmarked_messages(path: Path) -> list[str]:
    source = path.read_text(encoding="utf-8")
    where = path.relative_to(i18n.APP_DIR.parent) if path.is_relative_to(i18n.APP_DIR) else path
    found: list[ast.AST] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            message_call = _is_message_call(node)
            own_keywords = MESSAGE_KEYWORDS_OF.get(_callee(node) or "", set())
            if message_call:
                for arg in node.args:
                    found += _unmarked(arg)
            for keyword in node.keywords:
                if keyword.arg in MESSAGE_NAMES or keyword.arg in own_keywords or message_call:
                    found += _unmarked(keyword.value)
        elif isinstance(node, ast.ClassDef):
            for statement in node.body:
                if isinstance(statement, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id in MESSAGE_ATTRIBUTES
                    for t in statement.targets
                ):
                    found += _unmarked(statement.value)
    return [
        f"{where}:{node.lineno}: {ast.get_source_segment(source, node)}"
        for node in sorted(set(found), key=lambda n: (n.lineno, n.col_offset))
    ]


def test_no_message_for_people_escapes_gettext():
    checked = [
        path
        for path in i18n.python_files()
        if not path.relative_to(i18n.APP_DIR).as_posix().startswith(NOT_YET_CHECKED)
    ]
    assert len(checked) > 30
    problems = [problem for path in checked for problem in unmarked_messages(path)]
    assert problems == []


def test_the_check_sees_an_unmarked_message(tmp_path):
    module = tmp_path / "module.py"
    module.write_text(
        "from django.utils.translation import gettext\n"
        "def refuse(account):\n"
        "    raise exceptions.FrozenAccount(gettext('Account %(a)s is frozen.') % {'a': account})\n"
        "def refuse_badly(account):\n"
        "    raise exceptions.FrozenAccount(f'Account {account} is frozen.')\n"
        "def say(self, n):\n"
        "    self.stdout.write('Done.')\n"
        "    raise ApiError(400, 'invalid_json', 'The body is not valid JSON.')\n"
        "class Command:\n"
        "    help = 'Does things.'\n"
        "def act(request, account):\n"
        "    logger.info('%s froze %s', request.user, account)\n"
        "    facade.top_up(account, 1, description='Top-up at the till')\n"
        "    messages.success(request, f'Froze {account}.')\n"
        "@admin.action(description='Freeze them')\n"
        "def freeze(modeladmin, request, queryset):\n"
        "    modeladmin.message_user(request, 'Frozen.')\n"
        "class Freeze:\n"
        "    title = 'Freeze this account'\n"
        "    extra_context = {'title': 'New account'}\n",
        encoding="utf-8",
    )
    found = unmarked_messages(module)
    assert [line.split(": ", 1)[1] for line in found] == [
        "f'Account {account} is frozen.'",
        "'Done.'",
        "'The body is not valid JSON.'",
        "'Does things.'",
        "f'Froze {account}.'",
        "'Freeze them'",
        "'Frozen.'",
        "'Freeze this account'",
        "'New account'",
    ]


# -- exceptions and the facade's refusals -----------------------------------------------------


@pytest.mark.parametrize("error", exceptions.ALL, ids=lambda cls: cls.__name__)
def test_each_default_message_is_translated_when_raised(error, pseudo_german):
    raised = error()
    assert raised.message == i18n.pseudo(english(error.default_message))
    assert raised.as_dict() == {"code": error.code, "message": raised.message}


@pytest.mark.parametrize("error", list(TRIGGERS), ids=lambda cls: cls.__name__)
def test_each_refusal_made_through_the_public_api_is_translated(error, pseudo_german, unchanged):
    _, arrange = TRIGGERS[error]
    act = arrange()
    with unchanged(), pytest.raises(error) as caught:
        act()
    assert_translated(caught.value.message)
    # The class's fixed code (a family root is met through a subclass), never translated.
    assert caught.value.as_dict()["code"] == type(caught.value).code
    assert re.fullmatch(r"[a-z_]+", caught.value.code)


def _topped_up_too_far():
    card = facade.create_card(amount=Decimal("90.00"))
    return lambda: facade.top_up(card, Decimal("20.00"))


def _closing_a_funded_account():
    card = facade.create_card(amount=Decimal("5.00"))
    return lambda: facade.close_account(card)


def _expiring_an_overdrawn_account():
    owing = AccountFactory(credit_limit=Decimal("50.00"))
    facade.transfer(owing, SourceAccountFactory(), Decimal("20.00"))
    Account.objects.filter(pk=owing.pk).update(end_date=timezone.now())
    owing.refresh_from_db()
    return lambda: facade.expire_account(owing)


def _exchanging_one_currency():
    source, destination = SourceAccountFactory(), AccountFactory()
    return lambda: facade.exchange(
        source=source,
        destination=destination,
        source_amount=Decimal("1.00"),
        destination_amount=Decimal("1.00"),
    )


def _posting_unbalanced():
    lines = [Debit(SourceAccountFactory(), Decimal("2.00")), Credit(AccountFactory(), Decimal("1"))]
    return lambda: facade.post(lines)


def _posting_an_account_twice():
    source, shop = SourceAccountFactory(), AccountFactory()
    lines = [Debit(source, Decimal("2.00")), Credit(shop, Decimal("1")), Credit(shop, Decimal("1"))]
    return lambda: facade.post(lines)


def _posting_a_line_that_is_no_line():
    lines = [Debit(SourceAccountFactory(), Decimal("1")), "credit"]
    return lambda: facade.post(lines)  # type: ignore[arg-type]


def _editing_an_uneditable_field():
    account = AccountFactory()
    return lambda: facade.edit_account(account, code="NEW")


def _naming_an_account_at_length():
    account = AccountFactory()
    return lambda: facade.edit_account(account, name="n" * 129)


def _giving_a_reason_with_nul():
    account = AccountFactory()
    return lambda: facade.freeze_account(account, reason="a\x00b")


def _reversing_an_entry():
    entry = facade.post(
        [
            Debit(SourceAccountFactory(), Decimal("2.00")),
            Credit(AccountFactory(), Decimal("1.00")),
            Credit(AccountFactory(), Decimal("1.00")),
        ]
    )
    return lambda: facade.reverse(entry)


def _refunding_a_reversal():
    card, shop = AccountFactory(), AccountFactory()
    facade.transfer(SourceAccountFactory(), card, Decimal("10.00"))
    sale = facade.transfer(card, shop, Decimal("5.00"))
    reversal = facade.reverse(sale)
    return lambda: facade.transfer(card, shop, Decimal("1.00"), parent=reversal)


def _reversing_what_was_refunded():
    card, shop = AccountFactory(), AccountFactory()
    facade.transfer(SourceAccountFactory(), card, Decimal("10.00"))
    sale = facade.transfer(card, shop, Decimal("5.00"))
    facade.transfer(shop, card, Decimal("5.00"), parent=sale)
    return lambda: facade.reverse(sale)


def _spending_unauthorised_in_an_entry():
    card = AccountFactory(primary_user=UserFactory())
    facade.transfer(SourceAccountFactory(), card, Decimal("5.00"))
    lines = [Debit(card, Decimal("1.00")), Credit(AccountFactory(), Decimal("1.00"))]
    return lambda: facade.post(lines, user=UserFactory())


def _saving_a_child_under_a_parent_of_another_kind():
    parent = AccountFactory(kind=Kind.ASSET, credit_limit=None)
    return lambda: Account.objects.create(parent=parent, kind=Kind.LIABILITY)


MORE_REFUSALS = {
    "top-up above the maximum": (exceptions.AmountOutOfRange, _topped_up_too_far),
    "closing a funded account": (exceptions.AccountNotEmpty, _closing_a_funded_account),
    "expiring an overdrawn account": (exceptions.AccountNotEmpty, _expiring_an_overdrawn_account),
    "exchanging within one currency": (exceptions.InvalidEntry, _exchanging_one_currency),
    "posting unbalanced lines": (exceptions.InvalidEntry, _posting_unbalanced),
    "posting one account twice": (exceptions.SameAccount, _posting_an_account_twice),
    "posting something else": (exceptions.InvalidEntry, _posting_a_line_that_is_no_line),
    "editing the code": (exceptions.InvalidAccount, _editing_an_uneditable_field),
    "a name too long": (exceptions.TextTooLong, _naming_an_account_at_length),
    "a reason with NUL": (exceptions.TextNotStorable, _giving_a_reason_with_nul),
    "reversing an entry": (exceptions.InvalidTransfer, _reversing_an_entry),
    "refunding a reversal": (exceptions.CannotReverseReversal, _refunding_a_reversal),
    "reversing what was refunded": (exceptions.AlreadyReversed, _reversing_what_was_refunded),
    "spending in an entry": (exceptions.Unauthorised, _spending_unauthorised_in_an_entry),
    "a child of another kind": (
        exceptions.KindMismatch,
        _saving_a_child_under_a_parent_of_another_kind,
    ),
}


@pytest.mark.parametrize("case", list(MORE_REFUSALS))
@override_settings(ACCOUNTS_MAX_INITIAL_VALUE=Decimal("100.00"))
def test_more_refusals_of_the_facade_are_translated(case, pseudo_german, unchanged):
    error, arrange = MORE_REFUSALS[case]
    act = arrange()
    with unchanged(), pytest.raises(error) as caught:
        act()
    assert_translated(caught.value.message)


def test_names_inside_a_refusal_are_translated_too(pseudo_german):
    account = AccountFactory()
    with pytest.raises(exceptions.TextTooLong) as too_long:
        facade.edit_account(account, name="n" * 129)
    assert i18n.pseudo("name") in too_long.value.message
    parent = AccountFactory(kind=Kind.ASSET, credit_limit=None)
    with pytest.raises(exceptions.KindMismatch) as mismatch:
        Account.objects.create(parent=parent, kind=Kind.LIABILITY)
    assert i18n.pseudo("Asset") in mismatch.value.message
    assert i18n.pseudo("Liability") in mismatch.value.message


def test_a_refusal_still_masks_a_card_code(pseudo_german):
    card = facade.create_card(amount=Decimal("5.00"))
    with pytest.raises(exceptions.InsufficientFunds) as caught:
        facade.transfer(card, Account.objects.sales(), Decimal("6.00"))
    assert_translated(caught.value.message)
    assert card.code not in caught.value.message and card.code[-4:] in caught.value.message


# -- models, roles, reports, checks -------------------------------------------------------------


def test_texts_the_models_show_people_are_translated(pseudo_german, user):
    assert_translated(str(Account()))  # no name, no code yet
    entry = AuditEntry(action=AuditAction.FROZEN)
    assert str(entry) == i18n.pseudo(f"{i18n.pseudo('Frozen')} by {i18n.pseudo('code')}")
    entry.username = user.username
    assert str(entry) == i18n.pseudo(f"{i18n.pseudo('Frozen')} by {user.username}")


def test_role_descriptions_are_translated_and_group_names_are_not(pseudo_german):
    for role in roles.ROLES:
        assert_translated(str(role.description))
        assert role.name.startswith("Accounts: ")


def test_deferred_income_keeps_its_keys_and_translates_their_labels(pseudo_german):
    keys = set(reports.deferred_income())
    assert keys == set(reports.DEFERRED_BUCKET_LABELS)
    assert "≤30 days" in keys  # keys are identifiers, never translated
    for label in reports.DEFERRED_BUCKET_LABELS.values():
        assert_translated(str(label))


@pytest.mark.parametrize(
    "bad, check_id",
    [
        ({"ACCOUNTS_SOURCE_NAME": ""}, "accounts.E001"),
        ({"ACCOUNTS_MIN_INITIAL_VALUE": 1.5}, "accounts.E002"),
        (
            {
                "ACCOUNTS_MIN_INITIAL_VALUE": Decimal("10"),
                "ACCOUNTS_MAX_INITIAL_VALUE": Decimal("5"),
            },
            "accounts.E003",
        ),
        ({"ACCOUNTS_DEFAULT_CURRENCY": "pounds"}, "accounts.E004"),
        ({"ACCOUNTS_SALES_NAME": "Till", "ACCOUNTS_REDEMPTIONS_NAME": "Sales"}, "accounts.W001"),
    ],
)
def test_system_check_messages_are_translated_and_ids_are_not(bad, check_id, pseudo_german):
    with override_settings(**bad):
        found = checks.check_settings()
    assert [message.id for message in found] == [check_id]
    assert_translated(found[0].msg)
    if found[0].hint is not None:
        assert_translated(found[0].hint)


def test_verification_problems_keep_a_code_and_are_described_in_the_language(pseudo_german, source):
    card = AccountFactory()
    facade.transfer(source, card, Decimal("30.00"))
    drift(card, Decimal("31.00"))
    problems = reports.verify().problems
    (problem,) = [p for p in problems if p.code == "balance_drift"]
    for other in problems:
        assert_translated(other.what)
        assert_translated(other.detail)
    assert_translated(problem.what)
    assert_translated(problem.detail)
    assert card.code in problem.detail


# -- commands -------------------------------------------------------------------------------


def run(name, *args):
    out, err = io.StringIO(), io.StringIO()
    call_command(name, *args, stdout=out, stderr=err)
    return out.getvalue().splitlines(), err.getvalue().splitlines()


def assert_every_line_translated(lines):
    assert lines
    for line in lines:
        # The style wrappers (colours) add nothing when writing to a StringIO.
        assert_translated(line)


def test_close_expired_accounts_speaks_the_language(pseudo_german, source):
    card = AccountFactory()
    facade.transfer(source, card, Decimal("3.00"))
    owing = AccountFactory(credit_limit=Decimal("10.00"))
    facade.transfer(owing, source, Decimal("1.00"))
    Account.objects.filter(pk__in=[card.pk, owing.pk]).update(end_date=timezone.now())
    out, err = run("close_expired_accounts", "--dry-run")
    assert_every_line_translated(out)
    out, err = run("close_expired_accounts", "--no-progress")
    assert_every_line_translated(out)
    assert_every_line_translated(err)  # the overdrawn account is skipped, with the reason
    with pytest.raises(CommandError) as caught:
        run("close_expired_accounts", "--limit", "0")
    assert_translated(str(caught.value))


def test_verify_ledger_speaks_the_language(pseudo_german, source):
    out, _ = run("verify_ledger")
    assert_every_line_translated(out)
    card = AccountFactory()
    facade.transfer(source, card, Decimal("30.00"))
    drift(card, Decimal("31.00"))
    with pytest.raises(CommandError) as caught:
        run("verify_ledger")
    assert_translated(str(caught.value))


def test_create_account_groups_speaks_the_language(pseudo_german):
    out, _ = run("create_account_groups", "--dry-run")
    assert_every_line_translated(out)
    out, _ = run("create_account_groups")
    assert_every_line_translated(out)
    out, _ = run("create_account_groups")
    assert_every_line_translated(out)  # up to date


def test_the_api_key_commands_speak_the_language(pseudo_german):
    user = UserFactory(username="till", is_active=False)
    out, err = run("create_api_key", "till", "--name", "Till 3")
    assert len(out) == 1 and out[0].startswith(keys.KEY_TAG)  # the secret, not a message
    assert_every_line_translated(err)
    prefix = user.accounts_api_keys.get().prefix
    out, _ = run("revoke_api_key", prefix)
    assert_every_line_translated(out)
    refusals = [
        ("create_api_key", "nobody", "--name", "x"),
        ("create_api_key", "till", "--name", "x", "--expires-at", "soon"),
        ("create_api_key", "till", "--name", " "),
        ("revoke_api_key", "dma_00000000"),
    ]
    for arguments in refusals:
        with pytest.raises(CommandError) as caught:
            run(*arguments)
        assert_translated(str(caught.value))


@pytest.mark.parametrize("name", COMMANDS)
def test_each_commands_help_is_translated(name, pseudo_german):
    parser = load_command_class("accounts", name).create_parser("manage.py", name)
    djangos_own = {a.dest for a in BaseCommand().create_parser("manage.py", name)._actions}
    assert_translated(parser.description)
    ours = [a for a in parser._actions if a.dest not in djangos_own]
    for action in ours:
        assert_translated(action.help)
    assert i18n.OPEN in parser.format_help()


def test_commands_follow_the_projects_language_by_default(db):
    out, _ = run("verify_ledger")
    assert re.fullmatch(
        r"The ledger balances: 0 transfers, 0 legs and \d+ accounts checked\.", out[0]
    )


# -- the JSON API ------------------------------------------------------------------------------


@pytest.fixture
def locale_middleware(settings, pseudo_locale):
    """The project enables LocaleMiddleware and offers English and (pseudo-)German."""
    middleware = list(settings.MIDDLEWARE)
    sessions = middleware.index("django.contrib.sessions.middleware.SessionMiddleware")
    middleware.insert(sessions + 1, LOCALE_MIDDLEWARE)
    settings.MIDDLEWARE = middleware
    settings.LANGUAGES = [("en", "English"), (PSEUDO_LANGUAGE, "Deutsch")]
    settings.LOCALE_PATHS = [str(pseudo_locale)]


@pytest.fixture
def api_caller(db):
    user = UserFactory()
    user.user_permissions.add(Permission.objects.get(codename="use_api"))
    card = facade.create_card(amount=Decimal("50.00"), name="Card")
    return user, card


def basic(user):
    token = base64.b64encode(f"{user.get_username()}:password".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {token}"}


def _post(name, body, content_type="application/json"):
    data = body if isinstance(body, str) else json.dumps(body)
    return lambda client, auth: client.post(
        reverse(f"accounts_api:{name}"), data=data, content_type=content_type, **auth
    )


def _redeem(amount):
    return lambda client, auth, card: _post("redemptions", {"code": card.code, "amount": amount})(
        client, auth
    )


def _as(headers, authorization=None):
    """``headers`` (the language asked for, the caller's credentials) with other credentials."""
    others = {k: v for k, v in headers.items() if k != "HTTP_AUTHORIZATION"}
    return others if authorization is None else {**others, **authorization}


#: code -> a request the API refuses with it: f(client, headers, card) -> response
API_REFUSALS = {
    "not_authenticated": lambda c, a, card: _post("account-lookup", {"code": "x"})(c, _as(a)),
    "invalid_credentials": lambda c, a, card: _post("account-lookup", {"code": "x"})(
        c, _as(a, {"HTTP_AUTHORIZATION": "Bearer dma_nope"})
    ),
    "permission_denied": lambda c, a, card: _post("account-lookup", {"code": "x"})(
        c, _as(a, basic(UserFactory(username="no-api")))
    ),
    "unsupported_media_type": lambda c, a, card: _post(
        "account-lookup", "{}", content_type="text/plain"
    )(c, a),
    "invalid_json": lambda c, a, card: _post("account-lookup", "{")(c, a),
    "duplicate_key": lambda c, a, card: _post("account-lookup", '{"code": "a", "code": "b"}')(c, a),
    "missing_field": lambda c, a, card: _post("account-lookup", {})(c, a),
    "unknown_field": lambda c, a, card: _post("account-lookup", {"code": "a", "pin": "1"})(c, a),
    "amount_must_be_decimal": _redeem(5),
    "invalid_amount": _redeem("five"),
    "amount_too_precise": _redeem("1.001"),
    "insufficient_funds": _redeem("999.00"),
    "invalid_field": lambda c, a, card: _post("accounts", {"amount": "1.00", "name": "n" * 129})(
        c, a
    ),
    "invalid_datetime": lambda c, a, card: _post(
        "accounts", {"amount": "1.00", "end_date": "tomorrow"}
    )(c, a),
    "invalid_currency": lambda c, a, card: _post("accounts", {"amount": "1.00", "currency": "x"})(
        c, a
    ),
    "currency_not_offered": lambda c, a, card: _post(
        "accounts", {"amount": "1.00", "currency": "EUR"}
    )(c, a),
    "account_not_found": lambda c, a, card: _post("account-lookup", {"code": "2222-3333"})(c, a),
    "transfer_not_found": lambda c, a, card: c.get(
        reverse("accounts_api:transfer", kwargs={"reference": "2222-3333-4444-5555"}), **a
    ),
    "method_not_allowed": lambda c, a, card: c.get(reverse("accounts_api:account-lookup"), **a),
    "not_found": lambda c, a, card: c.get("/api/v1/nothing-here/", **a),
}


@pytest.mark.parametrize("code", list(API_REFUSALS))
def test_the_api_answers_in_the_clients_language_with_the_same_code(
    code, client, api_caller, locale_middleware
):
    user, card = api_caller
    ask = API_REFUSALS[code]
    answers = {}
    for language in ("en", PSEUDO_LANGUAGE):
        response = ask(client, {**basic(user), "HTTP_ACCEPT_LANGUAGE": language}, card)
        answers[language] = (response.status_code, response.json())
    (status_en, body_en), (status_de, body_de) = answers["en"], answers[PSEUDO_LANGUAGE]
    assert status_en == status_de and status_en >= 400
    assert body_en["code"] == body_de["code"] == code
    assert not i18n.is_translated(body_en["message"])
    # The same sentence, with the same values, in the client's language.
    assert body_de["message"] == i18n.pseudo(body_en["message"])
    assert card.code not in body_de["message"]


def test_without_locale_middleware_the_api_answers_in_the_projects_language(
    client, api_caller, settings, pseudo_locale
):
    settings.LOCALE_PATHS = [str(pseudo_locale)]
    user, card = api_caller
    response = _redeem("999.00")(client, {**basic(user), "HTTP_ACCEPT_LANGUAGE": "de"}, card)
    assert response.json()["code"] == "insufficient_funds"
    assert not i18n.is_translated(response.json()["message"])


def test_the_openapi_document_stays_in_english(client, locale_middleware):
    english_doc = client.get(reverse("accounts_api:openapi"), HTTP_ACCEPT_LANGUAGE="en").json()
    german_doc = client.get(reverse("accounts_api:openapi"), HTTP_ACCEPT_LANGUAGE="de").json()
    assert english_doc == german_doc


# -- the dashboard and the admin -------------------------------------------------------------


@pytest.fixture
def german_staff(db, locale_middleware):
    """A client for a member of staff who holds every dashboard permission and reads German."""
    manager = grant(StaffFactory(), *DASHBOARD_PERMISSIONS)
    client = client_for(manager)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = PSEUDO_LANGUAGE
    return client


def dashboard_messages(response) -> list[str]:
    return [str(m) for m in response.context["dashboard_messages"]]


def test_a_dashboard_top_up_says_so_in_the_language(german_staff):
    card = facade.create_card(amount=Decimal("5.00"))
    response = german_staff.post(
        url("account_top_up", card.pk), {"amount": "10.00", "description": ""}, follow=True
    )
    (done,) = dashboard_messages(response)
    assert_translated(done)
    # The amount too, written as the language writes amounts.
    assert re.search(rf"{i18n.OPEN}10[.,]00 GBP{i18n.CLOSE}", done)
    # The form the card's page offers, labelled in the language too.
    assert_translated(str(response.context["top_up_form"]["amount"].label))
    for section in response.context["dashboard_nav"]:
        assert_translated(section["label"])


def test_a_dashboard_refusal_of_a_house_account_is_translated(german_staff):
    house = AccountFactory()
    response = german_staff.post(url("account_top_up", house.pk), {"amount": "1.00"}, follow=True)
    (refusal,) = dashboard_messages(response)
    assert_translated(refusal)


def test_a_freeze_confirmation_page_and_its_outcome_are_translated(german_staff):
    card = facade.create_card(amount=Decimal("5.00"))
    page = german_staff.get(url("account_freeze", card.pk))
    assert page.status_code == 200
    assert i18n.pseudo("Freeze this account") in page.content.decode()
    assert_translated(str(page.context["title"]))
    assert_translated(str(page.context["confirm_label"]))
    for label, _value in page.context["facts"]:
        assert_translated(label)
    for sentence in page.context["consequences"]:
        assert_translated(sentence)
    assert_translated(str(page.context["form"]["reason"].label))
    done = german_staff.post(url("account_freeze", card.pk), {"reason": "Lost"}, follow=True)
    (message,) = dashboard_messages(done)
    assert_translated(message)


def test_dashboard_form_errors_and_labels_are_translated(german_staff):
    data = {
        "role": "card",
        "kind": "liability",
        "currency": "G8P",  # three characters (Django's own length check is its own)
        "unlimited": "on",
        "start_date": "2030-01-02T00:00",
        "end_date": "2030-01-01T00:00",
        "amount": "",
        "source": "CORE-SOURCE",
    }
    response = german_staff.post(url("account_create"), data)
    form = response.context["form"]
    assert set(form.errors) >= {"currency", "unlimited", "end_date"}
    for errors in form.errors.values():
        for error in errors:
            assert_translated(error)
    for field in form:
        assert_translated(str(field.label))
        if field.help_text:
            assert_translated(str(field.help_text))
    for _code, choice in form.fields["role"].choices:
        assert_translated(str(choice))
    assert_translated(str(response.context["title"]))


def test_a_download_with_bad_filters_says_why_in_the_language(german_staff):
    card = facade.create_card(amount=Decimal("5.00"))
    response = german_staff.get(
        url("account_statement_csv", card.pk), {"start": "2030-02-01", "end": "2030-01-01"}
    )
    assert response.status_code == 400
    assert_translated(response.content.decode().rstrip("\n"))


def test_csv_headers_stay_english_codes_and_report_labels_are_translated(german_staff):
    facade.create_card(amount=Decimal("5.00"))
    page = german_staff.get(url("report_gift_card_flows"))
    for row in page.context["rows"]:
        assert_translated(row["label"])
    rows = list(csv.reader(io.StringIO(body(german_staff.get(url("report_gift_card_flows_csv"))))))
    assert rows[0] == ["line", "currency", "amount"]
    assert not any(i18n.OPEN in cell for row in rows for cell in row)
    deferred = german_staff.get(url("report_deferred_income"))
    for row in deferred.context["rows"]:
        assert_translated(str(row["label"]))


def test_the_balance_chart_is_labelled_in_the_language(pseudo_german, source):
    card = AccountFactory()
    assert i18n.pseudo("No postings yet.") in charts.account_balance_chart(card)
    facade.transfer(source, card, Decimal("12.00"))
    svg = charts.account_balance_chart(card)
    (title,) = re.findall(r"<title>(.*?)</title>", svg)
    assert_translated(title)
    assert i18n.pseudo(f"Balance of {card} over time") in title


def test_an_admin_status_action_reports_in_the_language(db, locale_middleware, funded):
    closed = AccountFactory()
    facade.close_account(closed)
    client = client_for(UserFactory(is_staff=True, is_superuser=True))
    response = client.post(
        reverse("admin:accounts_account_changelist"),
        {
            "action": "thaw_accounts",
            admin.helpers.ACTION_CHECKBOX_NAME: [funded.pk, closed.pk],
        },
        follow=True,
        HTTP_ACCEPT_LANGUAGE=PSEUDO_LANGUAGE,
    )
    said = [str(m.message) for m in response.context["messages"]]
    assert len(said) == 2  # one already thawed (it is open), one refused
    for message in said:
        assert_translated(message)


def test_the_admins_action_and_column_descriptions_are_translated(pseudo_german):
    for action in AccountAdmin.actions:
        assert_translated(str(action.short_description))  # type: ignore[union-attr]
    for column in (AccountAdmin.balance_display, LegInline.debit_display, masked_code):
        assert_translated(str(column.short_description))  # type: ignore[attr-defined]
    assert_translated(str(LookupThrottleAdmin.lift.short_description))  # type: ignore[attr-defined]


# -- against GNU gettext's own reading --------------------------------------------------------

needs_gettext = pytest.mark.skipif(
    any(shutil.which(tool) is None for tool in ("xgettext", "msgmerge", "msgfmt")),
    reason="GNU gettext (xgettext, msgmerge, msgfmt) is not installed",
)


def load_check_script():
    path = i18n.APP_DIR.parent / "scripts" / "check_messages.py"
    spec = importlib.util.spec_from_file_location("check_messages", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@needs_gettext
def test_makemessages_extracts_every_string_the_pseudo_catalogue_translates():
    script = load_check_script()
    found = script.extract(["xx"])["xx"]
    theirs = {key: entry.plural for key, entry in found.items() if key[1] and not entry.obsolete}
    messages, _ = i18n.extract()
    ours = {(m.context or "", m.msgid): m.plural for m in messages}
    assert {key: theirs.get(key, "(not extracted)") for key in ours} == ours


def _make_app(directory: Path, code: str) -> Path:
    app = directory / "app"
    app.mkdir()
    (app / "module.py").write_text(
        "from django.utils.translation import gettext, ngettext\n" + code, encoding="utf-8"
    )
    return app


def _ship(app: Path, language: str, po_body: str, *, compile_it: bool = True) -> None:
    folder = app / "locale" / language / "LC_MESSAGES"
    folder.mkdir(parents=True)
    header = (
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n'
        '"Plural-Forms: nplurals=2; plural=(n != 1);\\n"\n\n'
    )
    (folder / "django.po").write_text(header + po_body, encoding="utf-8")
    if compile_it:
        subprocess.run(
            ["msgfmt", "-o", str(folder / "django.mo"), str(folder / "django.po")], check=True
        )


COMPLETE = (
    '#, python-format\nmsgid "Account %(account)s is frozen."\n'
    'msgstr "Konto %(account)s ist gesperrt."\n\n'
    '#, python-format\nmsgid "%(count)d leg"\nmsgid_plural "%(count)d legs"\n'
    'msgstr[0] "%(count)d Buchung"\nmsgstr[1] "%(count)d Buchungen"\n'
)
CODE = (
    "def f(a, n):\n"
    "    gettext('Account %(account)s is frozen.') % {'account': a}\n"
    "    ngettext('%(count)d leg', '%(count)d legs', n) % {'count': n}\n"
)


@needs_gettext
def test_the_catalogue_check_passes_a_complete_catalogue(tmp_path, capsys):
    app = _make_app(tmp_path, CODE)
    _ship(app, "de", COMPLETE)
    assert load_check_script().check(["de"], app) == 0
    assert "de: complete, 2 messages" in capsys.readouterr().out


@needs_gettext
@pytest.mark.parametrize(
    "code, po_body, compile_it, expected",
    [
        (CODE + "    gettext('New text.')\n", COMPLETE, True, "1 missing:\n  'New text.'"),
        (CODE, COMPLETE.replace('"Konto %(account)s ist gesperrt."', '""'), True, "untranslated"),
        (CODE, "#, fuzzy\n" + COMPLETE, True, "1 fuzzy:"),
        (CODE, COMPLETE.replace("ist gesperrt", "ist %(status)s"), True, "msgfmt --check"),
        (CODE, COMPLETE, False, "django.mo is missing"),
    ],
    ids=["missing", "untranslated", "fuzzy", "bad placeholder", "not compiled"],
)
def test_the_catalogue_check_fails_an_incomplete_catalogue(
    tmp_path, capsys, code, po_body, compile_it, expected
):
    app = _make_app(tmp_path, code)
    _ship(app, "de", po_body, compile_it=compile_it)
    assert load_check_script().check(["de"], app) == 1
    assert expected in capsys.readouterr().out


@needs_gettext
def test_the_catalogue_check_fails_a_stale_compiled_catalogue(tmp_path, capsys):
    app = _make_app(tmp_path, CODE)
    _ship(app, "de", COMPLETE)
    po = app / "locale" / "de" / "LC_MESSAGES" / "django.po"
    po.write_text(po.read_text(encoding="utf-8").replace("gesperrt", "eingefroren"), "utf-8")
    assert load_check_script().check(["de"], app) == 1
    assert "is not the compiled django.po" in capsys.readouterr().out


def test_the_catalogue_check_fails_clearly_without_a_catalogue(tmp_path, capsys):
    app = _make_app(tmp_path, CODE)
    script = load_check_script()
    if any(shutil.which(tool) is None for tool in script.TOOLS):
        assert script.check(["de"], app) == 2
    else:
        assert script.check(["de", "fr"], app) == 1
        err = capsys.readouterr().err
        assert "de: no catalogue" in err and "fr: no catalogue" in err


def test_dates_in_refusals_read_the_same_in_every_language(pseudo_german):
    start = datetime.datetime(2099, 1, 2, 3, 4, tzinfo=datetime.timezone.utc)
    later = AccountFactory(start_date=start)
    with pytest.raises(exceptions.AccountNotYetActive) as caught:
        facade.transfer(SourceAccountFactory(), later, Decimal("1.00"))
    assert_translated(caught.value.message)
    assert "2099-01-02 03:04" in caught.value.message


def test_stored_texts_do_not_depend_on_the_language_of_the_moment(pseudo_german):
    # A load's default description is data in the ledger, not a message: stored in English,
    # whoever made the card in whichever language, so the books read the same for everyone.
    card = facade.create_card(amount=Decimal("5.00"))
    load = Transfer.objects.get(destination=card)
    assert load.description == "Initial load"
