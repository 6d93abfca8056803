"""API keys: made, checked, revoked and rotated; in the API, the admin and the commands."""

from __future__ import annotations

import datetime
import hashlib
import io
import json
import subprocess
import sys
from decimal import Decimal
from unittest import mock

import pytest
from django.contrib.admin import AdminSite
from django.contrib.auth.hashers import MD5PasswordHasher
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.core.management import CommandError, call_command
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from accounts import facade
from accounts.api import keys
from accounts.api.admin import ApiKeyAdmin
from accounts.models import ApiKey, Transfer

from ..factories import StaffFactory, UserFactory
from .test_api import basic, error_of, grant_api, post

pytestmark = pytest.mark.django_db


@pytest.fixture
def till(db):
    return grant_api(UserFactory(username="till"))


@pytest.fixture
def made(till):
    """A key of the till and its secret."""
    return keys.create_key(till, name="Till 1")


def bearer(secret):
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


@pytest.fixture
def card(db):
    return facade.create_card(amount=Decimal("50.00"), name="Card")


# -- the rules ---------------------------------------------------------------------------------


def test_a_key_is_stored_only_as_its_prefix_and_hash(made):
    key, secret = made
    key.refresh_from_db()
    assert secret.startswith(key.prefix + ".")
    assert key.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in {key.prefix, key.key_hash, key.name, str(key)}
    assert len(secret) > 50


def test_each_key_is_different(till):
    secrets = {keys.create_key(till, name=f"Till {n}")[1] for n in range(5)}
    assert len(secrets) == 5


def test_a_key_authenticates_its_user(made, till):
    key, secret = made
    found = keys.authenticate(secret)
    assert found is not None and found.pk == key.pk and found.user == till


@pytest.mark.parametrize(
    "presented",
    [
        "",
        "dma_abcdefgh",
        "dma_abcdefgh." + "A" * 43,  # the right shape, no such key
        "dma_\x00bcdefgh." + "A" * 43,
        "x" * 10_000,
    ],
)
def test_anything_but_a_key_authenticates_nobody(made, presented):
    assert keys.authenticate(presented) is None


def test_a_key_with_a_wrong_secret_authenticates_nobody(made):
    key, secret = made
    wrong = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    assert keys.authenticate(wrong) is None


def test_a_revoked_key_stops_working_at_once(made):
    key, secret = made
    assert keys.revoke(ApiKey.objects.filter(pk=key.pk)) == 1
    assert keys.authenticate(secret) is None
    assert keys.revoke(ApiKey.objects.filter(pk=key.pk)) == 0  # revoking twice changes nothing


def test_an_expired_key_stops_working(till):
    key, secret = keys.create_key(
        till, name="Short", expires_at=timezone.now() + datetime.timedelta(hours=1)
    )
    ApiKey.objects.filter(pk=key.pk).update(expires_at=timezone.now())
    assert keys.authenticate(secret) is None


def test_the_key_of_an_inactive_user_stops_working(made, till):
    key, secret = made
    till.is_active = False
    till.save()
    assert keys.authenticate(secret) is None


@pytest.mark.parametrize(
    "name, expires_at",
    [
        ("", None),
        ("   ", None),
        ("x" * 101, None),
        ("nul\x00", None),
        ("Till", datetime.datetime(2030, 1, 1)),  # naive
        ("Till", datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc)),  # past
    ],
)
def test_a_key_cannot_be_made_with_a_bad_name_or_expiry(till, name, expires_at):
    with pytest.raises(keys.InvalidKeyRequest):
        keys.create_key(till, name=name, expires_at=expires_at)
    assert not ApiKey.objects.exists()


def test_last_used_is_written_at_most_once_a_minute(made):
    key, secret = made
    start = timezone.now()
    with mock.patch("accounts.api.keys.timezone.now") as now:
        now.return_value = start
        keys.authenticate(secret)
        key.refresh_from_db()
        assert key.last_used_at == start

        now.return_value = start + datetime.timedelta(seconds=59)
        keys.authenticate(secret)
        key.refresh_from_db()
        assert key.last_used_at == start

        later = start + keys.LAST_USED_INTERVAL
        now.return_value = later
        keys.authenticate(secret)
        key.refresh_from_db()
        assert key.last_used_at == later


def test_a_recently_used_key_is_checked_without_writing(made, django_assert_num_queries):
    key, secret = made
    keys.authenticate(secret)
    with django_assert_num_queries(1):  # the one indexed read; no UPDATE within the minute
        keys.authenticate(secret)


# -- the API -----------------------------------------------------------------------------------


def test_a_till_calls_the_api_with_its_key(client, made, card, till):
    _, secret = made
    response = post(
        client, "redemptions", {"code": card.code, "amount": "5.00"}, auth=bearer(secret)
    )
    assert response.status_code == 201
    assert Transfer.objects.get(reference=response.json()["reference"]).user == till


def test_a_key_call_hashes_no_password(client, made, card, till):
    # Finding 9: Basic authentication runs the password hasher on every call (about 0.45 s of
    # CPU with Django's default hasher); a key costs one SHA-256.
    _, secret = made
    with mock.patch.object(MD5PasswordHasher, "verify", autospec=True) as verify:
        verify.return_value = True
        post(client, "account-lookup", {"code": card.code}, auth=basic(till))
        assert verify.call_count == 1
        response = post(client, "account-lookup", {"code": card.code}, auth=bearer(secret))
        assert response.status_code == 200
        assert verify.call_count == 1


def test_a_key_needs_the_api_permission_of_its_user(client, card):
    _, secret = keys.create_key(UserFactory(), name="No permission")
    response = post(client, "account-lookup", {"code": card.code}, auth=bearer(secret))
    assert response.status_code == 403
    assert error_of(response) == "permission_denied"


@pytest.mark.parametrize("how", ["revoked", "expired", "inactive", "wrong", "malformed"])
def test_a_key_that_does_not_work_is_401(client, made, till, card, how):
    key, secret = made
    if how == "revoked":
        keys.revoke(ApiKey.objects.filter(pk=key.pk))
    elif how == "expired":
        ApiKey.objects.filter(pk=key.pk).update(expires_at=timezone.now())
    elif how == "inactive":
        type(till).objects.filter(pk=till.pk).update(is_active=False)
    elif how == "wrong":
        secret = secret[:-2] + "zz"
    else:
        secret = "dma_\x00"
    response = post(client, "account-lookup", {"code": card.code}, auth=bearer(secret))
    assert response.status_code == 401
    assert error_of(response) == "invalid_credentials"
    assert "Bearer " in response["WWW-Authenticate"]


def test_a_bad_key_does_not_fall_back_to_the_session(made, till, card):
    session = Client()
    session.force_login(till)
    response = post(session, "account-lookup", {"code": card.code}, auth=bearer("dma_nope"))
    assert response.status_code == 401


def test_an_unsupported_scheme_does_not_fall_back_to_the_session(till, card):
    session = Client()
    session.force_login(till)
    auth = {"HTTP_AUTHORIZATION": "Digest username=till"}
    response = post(session, "account-lookup", {"code": card.code}, auth=auth)
    assert response.status_code == 401
    assert error_of(response) == "invalid_credentials"


def test_key_posts_need_no_csrf_token(made):
    _, secret = made
    strict = Client(enforce_csrf_checks=True)
    response = post(strict, "accounts", {"amount": "5.00"}, auth=bearer(secret))
    assert response.status_code == 201


def test_the_openapi_document_names_the_three_ways_in(client):
    document = client.get(reverse("accounts_api:openapi")).json()
    schemes = document["components"]["securitySchemes"]
    assert {scheme["type"] for scheme in schemes.values()} == {"http", "apiKey"}
    assert {scheme.get("scheme") for scheme in schemes.values()} >= {"bearer", "basic"}
    operation = document["paths"]["/v1/redemptions/"]["post"]
    assert [next(iter(option)) for option in operation["security"]] == list(schemes)


# -- rotation ----------------------------------------------------------------------------------


def test_a_shop_rotates_a_key_without_a_gap(client, till, card):
    old, old_secret = keys.create_key(till, name="Till 1 (2026)")
    lookup = {"code": card.code}
    assert post(client, "account-lookup", lookup, auth=bearer(old_secret)).status_code == 200

    new, new_secret = keys.create_key(till, name="Till 1 (2027)")  # 1. make the new key
    # 2. deployed: both work while the till is switched over
    assert post(client, "account-lookup", lookup, auth=bearer(new_secret)).status_code == 200
    assert post(client, "account-lookup", lookup, auth=bearer(old_secret)).status_code == 200
    old.refresh_from_db()
    assert old.last_used_at is not None  # 3. staff watch the old key's last use
    keys.revoke_prefix(old.prefix)  # 4. then revoke it
    assert post(client, "account-lookup", lookup, auth=bearer(old_secret)).status_code == 401
    assert post(client, "account-lookup", lookup, auth=bearer(new_secret)).status_code == 200


# -- the admin ---------------------------------------------------------------------------------


@pytest.fixture
def key_admin():
    return ApiKeyAdmin(ApiKey, AdminSite())


def admin_request(user, method="get", data=None):
    request = getattr(RequestFactory(), method)("/admin/", data or {})
    request.user = user
    request.session = {}
    request._messages = FallbackStorage(request)
    return request


@pytest.fixture
def superuser(db):
    return StaffFactory(is_superuser=True)


def test_adding_a_key_in_the_admin_shows_its_secret_once(admin_client, till):
    url = reverse("admin:accounts_apikey_add")
    response = admin_client.post(
        url,
        {"user": till.pk, "name": "Till 2", "expires_at_0": "", "expires_at_1": ""},
        follow=True,
    )
    assert response.status_code == 200
    key = ApiKey.objects.get(name="Till 2")
    shown = [str(m) for m in get_messages(response.wsgi_request)] or [
        str(m) for m in response.context["messages"]
    ]
    secrets = [part for m in shown for part in m.split("<code>")[1:]]
    assert len(secrets) == 1
    secret = secrets[0].split("</code>")[0]
    assert keys.authenticate(secret).pk == key.pk
    # Never again: not on the list, not on the key's page.
    for page in (
        admin_client.get(reverse("admin:accounts_apikey_changelist")),
        admin_client.get(reverse("admin:accounts_apikey_change", args=[key.pk])),
    ):
        text = page.content.decode()
        assert page.status_code == 200
        assert secret not in text and key.key_hash not in text
        assert key.prefix in text


def test_the_admin_refuses_a_key_that_expires_in_the_past(admin_client, till):
    response = admin_client.post(
        reverse("admin:accounts_apikey_add"),
        {"user": till.pk, "name": "Old", "expires_at_0": "2001-01-01", "expires_at_1": "00:00"},
    )
    assert response.status_code == 200  # the form again, with its error
    assert not ApiKey.objects.exists()


def test_the_admin_lists_keys_without_their_hashes(key_admin):
    assert "key_hash" not in key_admin.list_display
    assert "key_hash" not in key_admin.get_fields(admin_request(StaffFactory()))
    assert "key_hash" not in key_admin.get_fields(admin_request(StaffFactory()), ApiKey())
    assert key_admin.list_display == [
        "name",
        "user",
        "prefix",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    ]


def test_staff_revoke_keys_with_an_action(key_admin, made, till):
    key, secret = made
    staff = StaffFactory()
    assert "revoke" not in key_admin.get_actions(admin_request(staff, "post"))
    staff.user_permissions.add(Permission.objects.get(codename="change_apikey"))
    staff = type(staff).objects.get(pk=staff.pk)
    request = admin_request(staff, "post")
    assert "revoke" in key_admin.get_actions(request)
    key_admin.revoke(request, ApiKey.objects.filter(pk=key.pk))
    assert keys.authenticate(secret) is None


# -- the commands ------------------------------------------------------------------------------


def test_create_api_key_prints_the_key_and_nothing_else(till):
    out, err = io.StringIO(), io.StringIO()
    call_command("create_api_key", "till", "--name", "Till 3", stdout=out, stderr=err)
    secret = out.getvalue().strip()
    assert out.getvalue() == secret + "\n"
    key = keys.authenticate(secret)
    assert key is not None and key.name == "Till 3" and key.user == till
    assert key.prefix in err.getvalue() and secret not in err.getvalue()


def test_create_api_key_takes_an_expiry(till):
    out = io.StringIO()
    call_command(
        "create_api_key",
        "till",
        "--name",
        "Till 4",
        "--expires-at",
        "2099-01-31T00:00:00+01:00",
        stdout=out,
        stderr=io.StringIO(),
    )
    key = ApiKey.objects.get(name="Till 4")
    assert key.expires_at == datetime.datetime(2099, 1, 30, 23, tzinfo=datetime.timezone.utc)


@pytest.mark.parametrize(
    "arguments",
    [
        ["nobody", "--name", "X"],
        ["till", "--name", ""],
        ["till", "--name", "X", "--expires-at", "soon"],
        ["till", "--name", "X", "--expires-at", "2001-01-01T00:00:00Z"],
        ["till", "--name", "X", "--expires-at", "2099-01-01T00:00:00"],  # no offset
        ["till", "--name", "X", "--expires-at", "9999-12-31T23:59:59-23:00"],
        ["till\x00", "--name", "X"],
    ],
)
def test_create_api_key_turns_refusals_into_command_errors(till, arguments):
    with pytest.raises(CommandError):
        call_command("create_api_key", *arguments, stdout=io.StringIO(), stderr=io.StringIO())
    assert not ApiKey.objects.exists()


def test_revoke_api_key_revokes_by_prefix(made):
    key, secret = made
    out = io.StringIO()
    call_command("revoke_api_key", key.prefix, stdout=out)
    assert key.prefix in out.getvalue() and "revoked" in out.getvalue()
    assert keys.authenticate(secret) is None
    call_command("revoke_api_key", key.prefix, stdout=io.StringIO())  # again: no error


@pytest.mark.parametrize("prefix", ["dma_00000000", "nope", "dma_\x00", "x" * 500])
def test_revoke_api_key_of_an_unknown_prefix_is_a_command_error(made, prefix):
    with pytest.raises(CommandError):
        call_command("revoke_api_key", prefix, stdout=io.StringIO())


# -- without the API's extra -----------------------------------------------------------------


def test_the_admin_keys_and_commands_work_without_django_ninja():
    # A project without the `api` extra still loads the admin, makes and revokes keys.
    script = """
import sys
class NoNinja:
    def find_spec(self, name, path=None, target=None):
        if name == "ninja" or name.startswith("ninja.") or name.startswith("pydantic"):
            raise ModuleNotFoundError(name)
sys.meta_path.insert(0, NoNinja())
import django, os
os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
django.setup()
import accounts.admin, accounts.api.keys, accounts.api.admin
from django.core.management import load_command_class
load_command_class("accounts", "create_api_key")
load_command_class("accounts", "revoke_api_key")
assert "ninja" not in sys.modules
print("ok")
"""
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.stdout.strip() == "ok", result.stderr


def test_a_key_is_shown_nowhere_in_the_api_s_answers(client, made, card):
    key, secret = made
    response = post(client, "accounts", {"amount": "5.00"}, auth=bearer(secret))
    assert secret not in response.content.decode()
    assert key.key_hash not in json.dumps(response.json())
