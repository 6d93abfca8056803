"""What the deployment tests share: the docs' SQL scripts, Django run as another role, a ledger.

``docs/deploying.rst`` tells a site to run ``migrate`` as an owner role and the site as an
application role with the privileges of ``docs/sql/*-grants.sql``. The tests
(``test_deploy_roles*.py``) do exactly that on a fresh database: they read the same scripts the
page includes, run Django as each role in a subprocess (its settings come from DATABASE_URL), and
try, as the application role, what an intruder with its password would.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
SQL_DIR = ROOT / "docs" / "sql"
#: Longest a Django subprocess (migrate, a script, a command) may take.
SUBPROCESS_TIMEOUT_SECONDS = 300


def random_suffix() -> str:
    """A suffix for role and database names, so that parallel runs never meet."""
    return secrets.token_hex(4)


def sql_statements(name: str, replace: Mapping[str, str]) -> list[str]:
    """Return the statements of ``docs/sql/<name>``, with each key of ``replace`` replaced.

    The scripts hold one statement per ``;`` at the end of a line and comments on lines of their
    own, which keeps them readable and this reader small.
    """
    text = (SQL_DIR / name).read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("--")]
    body = "\n".join(lines)
    for placeholder, value in replace.items():
        body = body.replace(placeholder, value)
    return [s.strip() for s in re.split(r";\s*$", body, flags=re.MULTILINE) if s.strip()]


def database_url(
    scheme: str, server: Mapping[str, Any], user: str, password: str, name: str
) -> str:
    host = server.get("HOST") or "127.0.0.1"
    port = f":{server['PORT']}" if server.get("PORT") else ""
    return f"{scheme}://{quote(user, safe='')}:{quote(password, safe='')}@{host}{port}/{name}"


def run_django(url: str, *args: str, script: str | None = None) -> subprocess.CompletedProcess:
    """Run ``django-admin`` (``args``) or a Python ``script`` with tests.settings on ``url``."""
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    command = [sys.executable, "-c", script] if script else [sys.executable, "-m", "django", *args]
    return subprocess.run(
        command,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT_SECONDS,
    )


def check(result: subprocess.CompletedProcess) -> str:
    """Return a subprocess's output, or fail the test with everything it wrote."""
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout


#: Run as the application role: the site's everyday work, through the facade and a command.
EVERYDAY_WORK = """
import json
from datetime import timedelta
from decimal import Decimal

import django

django.setup()

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from accounts import facade
from accounts.models import Account, IdempotencyKey, Kind, Status, Transfer

customer = get_user_model().objects.create_user("deploy-customer")
float_ = Account.objects.create(name="Till float", kind=Kind.ASSET, credit_limit=None)
card = Account.objects.create(
    name="Card", kind=Kind.LIABILITY, credit_limit=Decimal("0.00"), primary_user=customer
)
load = facade.transfer(float_, card, Decimal("50.00"), description="Load")
spend = facade.transfer(
    card, Account.objects.sales(), Decimal("20.00"), user=customer, description="Spend"
)
reversal = facade.reverse(spend, description="Refund")

lapsing = Account.objects.create(name="Lapsing", kind=Kind.LIABILITY, credit_limit=Decimal("0"))
facade.transfer(float_, lapsing, Decimal("5.00"))
Account.objects.filter(pk=lapsing.pk).update(end_date=timezone.now() - timedelta(seconds=1))
call_command("close_expired_accounts", "--no-progress", verbosity=0)

# A retried payment with an idempotency key pays once; old keys are purged.
gift = Account.objects.create(name="Gift", kind=Kind.LIABILITY, credit_limit=Decimal("0.00"))
keyed = facade.transfer(float_, gift, Decimal("3.00"), idempotency_key="deploy-order-1")
replayed = facade.transfer(float_, gift, Decimal("3.00"), idempotency_key="deploy-order-1")
IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(days=31))
call_command("purge_idempotency_keys", "--no-progress", verbosity=0)

# Users stay deletable: their transfers keep a snapshot of the name and lose the link.
customer.delete()

card.refresh_from_db()
lapsing.refresh_from_db()
spent = Transfer.objects.get(pk=spend.pk)
print(json.dumps({
    "references": [load.reference, spend.reference, reversal.reference],
    "card": card.pk,
    "card_balance": str(card.balance),
    "lapsing_status": lapsing.status,
    "lapsing_balance": str(lapsing.balance),
    "spend_user": spent.user_id,
    "spend_username": spent.username,
    "closed": Status.CLOSED,
    "replayed": replayed.pk == keyed.pk,
    "gift_transfers": Transfer.objects.filter(destination=gift).count(),
    "keys_left": IdempotencyKey.objects.count(),
}))
"""


def do_everyday_work(url: str) -> dict[str, Any]:
    # The JSON is the last line; close_expired_accounts reports on the lines before it.
    return json.loads(check(run_django(url, script=EVERYDAY_WORK)).splitlines()[-1])


def ledger_fixture(path: Path) -> Path:
    """A fixture of two accounts with balances and the transfer between them, as dumpdata writes.

    Its accounts arrive holding balances and versions, which the database refuses for a new
    account unless the ledger is unlocked: only the owner's ``loaddata`` may load it.
    """
    at = "2026-01-02T03:04:05Z"
    account = {
        "description": "",
        "status": "open",
        "currency": "GBP",
        "balance": "10.00",
        "version": 1,
        "created_at": at,
        "updated_at": at,
    }
    rows = [
        {
            "model": "accounts.account",
            "fields": {
                **account,
                "name": "Fixture float",
                "code": "DEPLOY-FIXTURE-FLOAT",
                "kind": "asset",
                "credit_limit": None,
            },
        },
        {
            "model": "accounts.account",
            "fields": {
                **account,
                "name": "Fixture card",
                "code": "DEPLOY-FIXTURE-CARD",
                "kind": "liability",
                "credit_limit": "0.00",
            },
        },
        {
            "model": "accounts.transfer",
            "fields": {
                "reference": "DEPLOY-FIXTURE-1",
                "kind": "transfer",
                "source": ["DEPLOY-FIXTURE-FLOAT"],
                "destination": ["DEPLOY-FIXTURE-CARD"],
                "amount": "10.00",
                "currency": "GBP",
                "leg_count": 2,
                "username": "",
                "description": "Loaded from a fixture",
                "created_at": at,
            },
        },
    ]
    for index, (code, amount) in enumerate(
        [("DEPLOY-FIXTURE-FLOAT", "-10.00"), ("DEPLOY-FIXTURE-CARD", "10.00")], start=1
    ):
        rows.append(
            {
                "model": "accounts.transaction",
                "fields": {
                    "transfer": ["DEPLOY-FIXTURE-1"],
                    "leg_index": index,
                    "account": [code],
                    "amount": amount,
                    "currency": "GBP",
                    "balance_after": "10.00",
                    "account_version": 1,
                    "created_at": at,
                    "backdated": False,
                },
            }
        )
    path.write_text(json.dumps(rows), encoding="utf-8")
    return path
