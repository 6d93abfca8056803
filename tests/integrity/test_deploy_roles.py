"""PostgreSQL deployed as docs/deploying.rst says: the application role cannot get past the ledger.

As the superuser of DATABASE_URL's server, the module creates an owner and an application role
(random names) and a database with ``docs/sql/postgresql-setup.sql``, migrates it as the owner,
applies ``docs/sql/postgresql-grants.sql``, and then, as the application role, does the site's
everyday work through the facade and tries each way past the append-only rules that an intruder
holding the role's password would. Each attempt must be refused with the ledger unchanged, and at
the end ``verify_ledger`` must find the books intact. Roles and database are dropped afterwards,
whatever happened.

``tests/conftest.py`` collects this module only when the suite runs on PostgreSQL.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.db import connection as django_connection

from ..deployment import (
    check,
    database_url,
    do_everyday_work,
    ledger_fixture,
    random_suffix,
    run_django,
    sql_statements,
)

#: How many of the app's triggers a migrated database holds, all enabled.
TRIGGER_COUNT = 8
#: Permission denied, or "must be owner": what PostgreSQL answers a missing privilege.
INSUFFICIENT_PRIVILEGE = "42501"
#: What the ledger's triggers raise.
CHECK_VIOLATION = "23514"
FOREIGN_KEY_VIOLATION = "23503"


#: The ledger's rows, and the app's triggers (enabled) and functions (their source).
FINGERPRINT_SQL = """
SELECT
    (SELECT md5(string_agg(r::text, ',' ORDER BY r.id)) FROM accounts_transfer r),
    (SELECT md5(string_agg(r::text, ',' ORDER BY r.id)) FROM accounts_transaction r),
    (SELECT md5(string_agg(r::text, ',' ORDER BY r.id)) FROM accounts_account r),
    (SELECT count(*) FROM pg_trigger
     WHERE NOT tgisinternal AND tgname LIKE 'accounts\\_%' AND tgenabled = 'O'),
    (SELECT string_agg(p.oid::regprocedure::text || ':' || md5(p.prosrc), ',' ORDER BY p.oid)
     FROM pg_proc p WHERE p.proname LIKE 'accounts\\_%')
"""


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


@dataclass(frozen=True)
class Refusal:
    statement: str
    sqlstate: str
    message: str


@dataclass
class Deployment:
    server: dict[str, Any]
    database: str
    owner: str
    owner_password: str
    app: str
    app_password: str
    everyday: dict[str, Any] | None = None

    def connect(
        self, user: str | None = None, password: str | None = None, dbname: str = ""
    ) -> Any:
        """A connection through the driver Django uses (psycopg 3 or psycopg2), not autocommit."""
        return django_connection.Database.connect(
            dbname=dbname or self.database,
            user=user or self.server["USER"],
            password=password if user else (self.server.get("PASSWORD") or None),
            host=self.server.get("HOST") or "127.0.0.1",
            port=self.server.get("PORT") or 5432,
        )

    def connect_as_app(self) -> Any:
        return self.connect(self.app, self.app_password)

    def url(self, role: str) -> str:
        password = self.owner_password if role == self.owner else self.app_password
        return database_url("postgres", self.server, role, password, self.database)

    def execute_as_superuser(self, statements: list[str], dbname: str = "") -> None:
        with contextlib.closing(self.connect(dbname=dbname)) as conn:
            conn.autocommit = True
            with conn.cursor() as cursor:
                for statement in statements:
                    cursor.execute(statement)

    def docs_script(self, name: str) -> list[str]:
        """A script of docs/sql with this deployment's names, as ``psql -v`` would fill them."""
        names = {
            "database": self.database,
            "owner": self.owner,
            "app": self.app,
            "owner_password": self.owner_password,
            "app_password": self.app_password,
        }
        replace = {f':"{k}"': ident(v) for k, v in names.items()}
        replace.update({f":'{k}'": literal(v) for k, v in names.items()})
        return sql_statements(name, replace)

    def apply_grants(self) -> None:
        self.execute_as_superuser(self.docs_script("postgresql-grants.sql"))

    def fingerprint(self) -> tuple[Any, ...]:
        """Everything a refused attempt must leave as it was: the ledger rows and the triggers."""
        with contextlib.closing(self.connect()) as conn, conn.cursor() as cursor:
            cursor.execute(FINGERPRINT_SQL)
            return tuple(cursor.fetchone())

    def attempt_as_app(self, statements: list[str], *, commit: bool = True) -> Refusal | None:
        """Run ``statements`` in one transaction as the application role, and commit it.

        Returns the error that stopped them (a refused ``COMMIT`` is reported as the statement
        ``COMMIT``: PostgreSQL checks deferred constraints then), or None if every statement
        succeeded. With ``commit=False`` the transaction is rolled back instead.
        """
        with contextlib.closing(self.connect_as_app()) as conn:
            statement = ""
            try:
                with conn.cursor() as cursor:
                    for statement in statements:
                        cursor.execute(statement)
                statement = "COMMIT"
                if commit:
                    conn.commit()
                return None
            except django_connection.Database.Error as exc:
                return Refusal(statement, exc.diag.sqlstate, exc.diag.message_primary or "")
            finally:
                conn.rollback()


@pytest.fixture(scope="module")
def deployment() -> Iterator[Deployment]:
    suffix = random_suffix()
    server = dict(settings.DATABASES["default"])
    deployed = Deployment(
        server=server,
        database=f"accounts_deploy_{suffix}",
        owner=f"accounts_deploy_owner_{suffix}",
        owner_password=random_suffix() + random_suffix(),
        app=f"accounts_deploy_app_{suffix}",
        app_password=random_suffix() + random_suffix(),
    )
    try:
        deployed.execute_as_superuser(deployed.docs_script("postgresql-setup.sql"), "postgres")
        check(run_django(deployed.url(deployed.owner), "migrate", "--noinput", "-v", "0"))
        deployed.apply_grants()
        deployed.everyday = do_everyday_work(deployed.url(deployed.app))
        yield deployed
    finally:
        deployed.execute_as_superuser(
            [
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                f"WHERE datname = {literal(deployed.database)} AND pid <> pg_backend_pid()",
                f"DROP DATABASE IF EXISTS {ident(deployed.database)}",
                f"DROP ROLE IF EXISTS {ident(deployed.app)}",
                f"DROP ROLE IF EXISTS {ident(deployed.owner)}",
            ],
            "postgres",
        )


def test_the_app_role_does_the_sites_everyday_work(deployment):
    work = deployment.everyday
    assert len(set(work["references"])) == 3
    # Loaded 50, spent 20, the spend reversed.
    assert Decimal(work["card_balance"]) == Decimal("50.00")
    assert work["lapsing_status"] == work["closed"]
    assert Decimal(work["lapsing_balance"]) == 0
    assert work["spend_user"] is None
    assert work["spend_username"] == "deploy-customer"
    # A keyed payment retried paid once; the purge deleted its key.
    assert work["replayed"] is True
    assert work["gift_transfers"] == 1
    assert work["keys_left"] == 0


UNLOCK = "SET accounts.ledger_unlocked = on"
UNLOCK_FOR_SESSION = "SELECT set_config('accounts.ledger_unlocked', 'on', false)"


@dataclass(frozen=True)
class Attempt:
    """What an intruder with the application role's password tries, and how it must end."""

    statements: tuple[str, ...]
    sqlstate: str
    #: The statement the server refuses: the last one unless said otherwise.
    refused: str = ""


ATTEMPTS = {
    "unlock, then change a leg": Attempt(
        (UNLOCK, "UPDATE accounts_transaction SET amount = amount * 2"),
        INSUFFICIENT_PRIVILEGE,
    ),
    "unlock, then delete a leg": Attempt(
        (UNLOCK_FOR_SESSION, "DELETE FROM accounts_transaction"),
        INSUFFICIENT_PRIVILEGE,
    ),
    "unlock, then change a transfer": Attempt(
        (UNLOCK, "UPDATE accounts_transfer SET description = 'rewritten', amount = amount * 2"),
        CHECK_VIOLATION,
    ),
    "unlock, then delete a transfer": Attempt(
        (UNLOCK_FOR_SESSION, "DELETE FROM accounts_transfer"),
        INSUFFICIENT_PRIVILEGE,
    ),
    "unlock, then move a balance": Attempt(
        (UNLOCK, "UPDATE accounts_account SET balance = balance + 1000 WHERE version > 0"),
        CHECK_VIOLATION,
    ),
    "disable the triggers": Attempt(
        ("ALTER TABLE accounts_transaction DISABLE TRIGGER ALL",),
        INSUFFICIENT_PRIVILEGE,
    ),
    "drop a trigger": Attempt(
        ("DROP TRIGGER accounts_transfer_guard ON accounts_transfer",),
        INSUFFICIENT_PRIVILEGE,
    ),
    "drop the credit limit": Attempt(
        ("ALTER TABLE accounts_account DROP CONSTRAINT accounts_account_within_credit_limit",),
        INSUFFICIENT_PRIVILEGE,
    ),
    "truncate the transfers": Attempt(
        ("TRUNCATE accounts_transfer CASCADE",),
        INSUFFICIENT_PRIVILEGE,
    ),
    "unlock, then truncate the legs": Attempt(
        (UNLOCK, "TRUNCATE accounts_transaction"),
        INSUFFICIENT_PRIVILEGE,
    ),
    "skip triggers as a replica": Attempt(
        ("SET session_replication_role = replica",),
        INSUFFICIENT_PRIVILEGE,
    ),
    "replace the unlock function": Attempt(
        (
            "CREATE OR REPLACE FUNCTION accounts_ledger_unlocked() RETURNS boolean "
            "LANGUAGE sql AS 'SELECT true'",
        ),
        INSUFFICIENT_PRIVILEGE,
    ),
    "shadow the unlock function from a schema of its own": Attempt(
        (
            "CREATE SCHEMA accounts_deploy_shadow",
            "CREATE FUNCTION accounts_deploy_shadow.accounts_ledger_unlocked() "
            "RETURNS boolean LANGUAGE sql AS 'SELECT true'",
            "SET search_path = accounts_deploy_shadow, public",
            "UPDATE public.accounts_transfer SET description = 'rewritten'",
        ),
        INSUFFICIENT_PRIVILEGE,
        refused="CREATE SCHEMA accounts_deploy_shadow",
    ),
    "shadow the unlock function in public": Attempt(
        (
            "CREATE FUNCTION public.accounts_ledger_unlocked(flag boolean = true) "
            "RETURNS boolean LANGUAGE sql AS 'SELECT true'",
        ),
        INSUFFICIENT_PRIVILEGE,
    ),
    "shadow the ledger with a temporary table": Attempt(
        ("CREATE TEMPORARY TABLE accounts_transaction (id bigint)",),
        INSUFFICIENT_PRIVILEGE,
    ),
    # Django's foreign keys on PostgreSQL are deferred: checked when the transaction commits.
    "delete an account that has legs": Attempt(
        ("DELETE FROM accounts_account WHERE version > 0",),
        FOREIGN_KEY_VIOLATION,
        refused="COMMIT",
    ),
}


@pytest.mark.parametrize("attempt", ATTEMPTS.values(), ids=ATTEMPTS.keys())
def test_the_app_role_cannot_get_past_the_ledger(deployment, attempt):
    before = deployment.fingerprint()

    refusal = deployment.attempt_as_app(list(attempt.statements))

    assert refusal is not None, "every statement succeeded, and was committed"
    print(f"{refusal.statement}\n  -> {refusal.sqlstate} {refusal.message}")
    # The steps before the refused one succeed: setting the unlock switch, say, is allowed.
    refused = attempt.refused or attempt.statements[-1]
    assert (refusal.statement, refusal.sqlstate) == (refused, attempt.sqlstate)
    assert deployment.fingerprint() == before


def test_the_app_role_cannot_become_the_owner(deployment):
    for statement in (
        f"SET ROLE {ident(deployment.owner)}",
        f"GRANT {ident(deployment.owner)} TO CURRENT_USER",
    ):
        refusal = deployment.attempt_as_app([statement])
        assert refusal is not None and refusal.sqlstate == INSUFFICIENT_PRIVILEGE, statement


def test_the_unlock_setting_means_nothing_to_the_app_role(deployment):
    with contextlib.closing(deployment.connect_as_app()) as conn, conn.cursor() as cursor:
        cursor.execute(UNLOCK)
        cursor.execute(
            "SELECT current_setting('accounts.ledger_unlocked'), accounts_ledger_unlocked()"
        )
        assert cursor.fetchone() == ("on", False)
        conn.rollback()


@contextlib.contextmanager
def over_granted(deployment: Deployment, privileges: str) -> Iterator[None]:
    """Give the application role ``privileges`` on the ledger tables for a while."""
    tables = "accounts_transfer, accounts_transaction, accounts_account"
    deployment.execute_as_superuser([f"GRANT {privileges} ON {tables} TO {ident(deployment.app)}"])
    try:
        yield
    finally:
        deployment.execute_as_superuser([f"REVOKE ALL ON {tables} FROM {ident(deployment.app)}"])
        deployment.apply_grants()


OVER_GRANTED_ATTEMPTS = [
    "UPDATE accounts_transaction SET amount = amount * 2",
    "DELETE FROM accounts_transaction",
    "DELETE FROM accounts_transfer",
    "TRUNCATE accounts_transaction",
]


def test_the_triggers_ignore_the_unlock_setting_even_for_an_over_granted_app_role(deployment):
    """A DBA who grants too much still leaves the ledger append-only for the app role."""
    before = deployment.fingerprint()
    with over_granted(deployment, "ALL PRIVILEGES"):
        for statement in OVER_GRANTED_ATTEMPTS:
            refusal = deployment.attempt_as_app([UNLOCK, statement])
            assert refusal is not None, statement
            print(f"{refusal.statement}\n  -> {refusal.sqlstate} {refusal.message}")
            assert (refusal.statement, refusal.sqlstate) == (statement, CHECK_VIOLATION)
    assert deployment.fingerprint() == before
    # The script put the privileges back as the docs have them.
    assert deployment.attempt_as_app(["DELETE FROM accounts_transaction"]).sqlstate == (
        INSUFFICIENT_PRIVILEGE
    )


#: With PostgreSQL's default TEMPORARY privilege, which the docs' grants withhold: temporary
#: tables named like the ledger's, which the trigger functions then read instead.
SHADOW_ATTEMPTS = {
    # The unlock rule asks who owns 'accounts_transaction': the temporary one is the app role's.
    "unlock the ledger": (
        "CREATE TEMPORARY TABLE accounts_transaction (id bigint)",
        UNLOCK,
        "UPDATE public.accounts_transfer SET description = 'rewritten'",
    ),
    # The balance check reads an account's newest leg, and that leg's transfer, by name.
    "move balances with no legs": (
        "CREATE TEMPORARY TABLE accounts_transaction AS SELECT id AS account_id, "
        "version + 1 AS account_version, 1000000::numeric AS balance_after, "
        "0::bigint AS transfer_id, 2 AS leg_index FROM public.accounts_account WHERE version > 0",
        "CREATE TEMPORARY TABLE accounts_transfer AS SELECT 0::bigint AS id, 2 AS leg_count",
        "UPDATE public.accounts_account SET balance = 1000000, version = version + 1 "
        "WHERE version > 0",
    ),
}


@pytest.mark.parametrize("statements", SHADOW_ATTEMPTS.values(), ids=SHADOW_ATTEMPTS.keys())
def test_temporary_tables_cannot_stand_in_for_the_ledger(deployment, statements):
    before = deployment.fingerprint()
    database, app = ident(deployment.database), ident(deployment.app)
    deployment.execute_as_superuser([f"GRANT TEMPORARY ON DATABASE {database} TO {app}"])
    try:
        # Never committed: if the attempt gets through, it must not stay in the books.
        refusal = deployment.attempt_as_app(list(statements), commit=False)
    finally:
        deployment.execute_as_superuser([f"REVOKE TEMPORARY ON DATABASE {database} FROM {app}"])
    assert deployment.fingerprint() == before
    assert refusal is not None, "the ledger was changed"
    assert (refusal.statement, refusal.sqlstate) == (statements[-1], CHECK_VIOLATION)


def test_tables_that_later_migrations_create_get_the_same_grants(deployment):
    owner = deployment.connect(deployment.owner, deployment.owner_password)
    with contextlib.closing(owner):
        owner.autocommit = True
        with owner.cursor() as cursor:
            cursor.execute("CREATE TABLE accounts_deploy_later (id serial PRIMARY KEY, note text)")
        try:
            assert (
                deployment.attempt_as_app(
                    [
                        "INSERT INTO accounts_deploy_later (note) VALUES ('new')",
                        "UPDATE accounts_deploy_later SET note = 'changed'",
                        "DELETE FROM accounts_deploy_later",
                    ]
                )
                is None
            )
            refusal = deployment.attempt_as_app(["TRUNCATE accounts_deploy_later"])
            assert refusal is not None and refusal.sqlstate == INSUFFICIENT_PRIVILEGE
        finally:
            with owner.cursor() as cursor:
                cursor.execute("DROP TABLE accounts_deploy_later")


def test_a_fixture_of_ledger_rows_loads_as_the_owner_only(deployment, tmp_path):
    fixture = str(ledger_fixture(tmp_path / "ledger.json"))
    before = deployment.fingerprint()

    as_app = run_django(deployment.url(deployment.app), "loaddata", fixture)

    assert as_app.returncode != 0
    assert "a new account starts with balance 0 and version 0" in as_app.stderr
    assert deployment.fingerprint() == before

    check(run_django(deployment.url(deployment.owner), "loaddata", fixture, "-v", "0"))

    with contextlib.closing(deployment.connect()) as conn, conn.cursor() as cursor:
        cursor.execute(
            "SELECT code, balance, version FROM accounts_account "
            "WHERE code LIKE 'DEPLOY-FIXTURE-%' ORDER BY code"
        )
        assert cursor.fetchall() == [
            ("DEPLOY-FIXTURE-CARD", Decimal("10"), 1),
            ("DEPLOY-FIXTURE-FLOAT", Decimal("10"), 1),
        ]


def test_the_books_are_intact_after_every_attempt(deployment):
    output = check(run_django(deployment.url(deployment.owner), "verify_ledger"))
    assert "The ledger balances" in output
