"""MariaDB deployed as docs/deploying.rst says: the application user cannot get past the ledger.

The MariaDB counterpart of ``test_deploy_roles.py``: as the administrator of DATABASE_URL's
server, the module creates an owner and an application user (random names) and a database with
``docs/sql/mariadb-setup.sql``, migrates it as the owner (the triggers' definer), applies
``docs/sql/mariadb-grants.sql``, does the site's everyday work as the application user and tries
each way past the append-only rules. Users and database are dropped afterwards, whatever
happened.

``tests/conftest.py`` collects this module only when the suite runs on MariaDB/MySQL.
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

#: MariaDB's error numbers for a missing privilege on a table, and on a database.
TABLE_ACCESS_DENIED = 1142
DATABASE_ACCESS_DENIED = 1044
#: What the ledger's triggers signal, and what a failed CHECK constraint raises.
CONSTRAINT_FAILED = 4025


@dataclass(frozen=True)
class Refusal:
    statement: str
    errno: int
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

    def connect(self, user: str | None = None, password: str = "", database: str = "") -> Any:
        """A connection through mysqlclient, not autocommit (InnoDB transactions)."""
        return django_connection.Database.connect(
            host=self.server.get("HOST") or "127.0.0.1",
            port=int(self.server.get("PORT") or 3306),
            user=user or self.server["USER"],
            password=password if user else (self.server.get("PASSWORD") or ""),
            database=database,
            charset="utf8mb4",
        )

    def connect_as_app(self) -> Any:
        return self.connect(self.app, self.app_password, self.database)

    def url(self, user: str) -> str:
        password = self.owner_password if user == self.owner else self.app_password
        return database_url("mysql", self.server, user, password, self.database)

    def execute_as_administrator(self, statements: list[str]) -> None:
        with contextlib.closing(self.connect()) as conn:
            with conn.cursor() as cursor:
                for statement in statements:
                    cursor.execute(statement)
            conn.commit()

    def docs_script(self, name: str) -> list[str]:
        """A script of docs/sql with this deployment's names for the placeholders it names."""
        return sql_statements(
            name,
            {
                "`shop`": f"`{self.database}`",
                "'shop_owner'": f"'{self.owner}'",
                "'shop_app'": f"'{self.app}'",
                "'owner-password'": f"'{self.owner_password}'",
                "'app-password'": f"'{self.app_password}'",
            },
        )

    def fingerprint(self) -> tuple[Any, ...]:
        """Everything a refused attempt must leave as it was: the ledger rows and the triggers."""
        with contextlib.closing(self.connect(database=self.database)) as conn:
            with conn.cursor() as cursor:
                cursor.execute(
                    "CHECKSUM TABLE accounts_transfer, accounts_transaction, accounts_account"
                )
                checksums = tuple(cursor.fetchall())
                cursor.execute(
                    "SELECT COUNT(*), SUM(CRC32(action_statement)) "
                    "FROM information_schema.triggers "
                    "WHERE trigger_schema = DATABASE() AND trigger_name LIKE 'accounts\\_%'"
                )
                return checksums + tuple(cursor.fetchone())

    def attempt_as_app(self, statements: list[str], *, commit: bool = True) -> Refusal | None:
        """Run ``statements`` in one transaction as the application user, and commit it.

        Returns the error that stopped them, or None if every statement succeeded. With
        ``commit=False`` the transaction is rolled back instead.
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
                return Refusal(statement, exc.args[0], exc.args[1])
            finally:
                conn.rollback()

    def row(self, sql: str) -> tuple[Any, ...]:
        with contextlib.closing(self.connect(database=self.database)) as conn:
            with conn.cursor() as cursor:
                cursor.execute(sql)
                return tuple(cursor.fetchone())


@pytest.fixture(scope="module")
def deployment() -> Iterator[Deployment]:
    suffix = random_suffix()
    deployed = Deployment(
        server=dict(settings.DATABASES["default"]),
        database=f"accounts_deploy_{suffix}",
        owner=f"accounts_deploy_owner_{suffix}",
        owner_password=random_suffix() + random_suffix(),
        app=f"accounts_deploy_app_{suffix}",
        app_password=random_suffix() + random_suffix(),
    )
    try:
        deployed.execute_as_administrator(deployed.docs_script("mariadb-setup.sql"))
        check(run_django(deployed.url(deployed.owner), "migrate", "--noinput", "-v", "0"))
        deployed.execute_as_administrator(deployed.docs_script("mariadb-grants.sql"))
        deployed.everyday = do_everyday_work(deployed.url(deployed.app))
        yield deployed
    finally:
        deployed.execute_as_administrator(
            [
                f"DROP DATABASE IF EXISTS `{deployed.database}`",
                f"DROP USER IF EXISTS '{deployed.app}'@'%'",
                f"DROP USER IF EXISTS '{deployed.owner}'@'%'",
            ]
        )


def test_the_app_user_does_the_sites_everyday_work(deployment):
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


UNLOCK = "SET @accounts_ledger_unlocked = 1"
NO_FOREIGN_KEYS = "SET foreign_key_checks = 0"


@dataclass(frozen=True)
class Attempt:
    """What an intruder with the application user's password tries, and how it must end."""

    statements: tuple[str, ...]
    errno: int
    #: The statement the server refuses: the last one unless said otherwise.
    refused: str = ""


ATTEMPTS = {
    "unlock, then change a leg": Attempt(
        (UNLOCK, "UPDATE accounts_transaction SET amount = amount * 2"),
        CONSTRAINT_FAILED,
    ),
    "unlock, then delete a leg": Attempt(
        (UNLOCK, NO_FOREIGN_KEYS, "DELETE FROM accounts_transaction"),
        TABLE_ACCESS_DENIED,
    ),
    "unlock, then change a transfer": Attempt(
        (UNLOCK, "UPDATE accounts_transfer SET description = 'rewritten', amount = amount * 2"),
        CONSTRAINT_FAILED,
    ),
    "unlock, then delete a transfer": Attempt(
        (UNLOCK, NO_FOREIGN_KEYS, "DELETE FROM accounts_transfer"),
        TABLE_ACCESS_DENIED,
    ),
    "unlock, then move a balance": Attempt(
        (UNLOCK, "UPDATE accounts_account SET balance = balance + 1000 WHERE version > 0"),
        CONSTRAINT_FAILED,
    ),
    "switch off foreign keys, then delete an account that has legs": Attempt(
        (NO_FOREIGN_KEYS, "DELETE FROM accounts_account WHERE version > 0"),
        TABLE_ACCESS_DENIED,
    ),
    "truncate the legs": Attempt(("TRUNCATE accounts_transaction",), TABLE_ACCESS_DENIED),
    "drop a trigger": Attempt(("DROP TRIGGER accounts_transfer_no_update",), TABLE_ACCESS_DENIED),
    "define a trigger": Attempt(
        (
            "CREATE TRIGGER accounts_deploy_shadow BEFORE UPDATE ON accounts_transfer "
            "FOR EACH ROW SET @accounts_ledger_unlocked = 1",
        ),
        TABLE_ACCESS_DENIED,
    ),
    "drop the credit limit": Attempt(
        ("ALTER TABLE accounts_account DROP CONSTRAINT accounts_account_within_credit_limit",),
        TABLE_ACCESS_DENIED,
    ),
    "create a routine": Attempt(
        ("CREATE FUNCTION accounts_deploy_shadow() RETURNS INT RETURN 1",),
        DATABASE_ACCESS_DENIED,
    ),
    "create a table": Attempt(
        ("CREATE TABLE accounts_deploy_shadow (id INT)",),
        TABLE_ACCESS_DENIED,
    ),
}


@pytest.mark.parametrize("attempt", ATTEMPTS.values(), ids=ATTEMPTS.keys())
def test_the_app_user_cannot_get_past_the_ledger(deployment, attempt):
    before = deployment.fingerprint()

    refusal = deployment.attempt_as_app(list(attempt.statements))

    assert refusal is not None, "every statement succeeded, and was committed"
    print(f"{refusal.statement}\n  -> {refusal.errno} {refusal.message}")
    # The steps before the refused one succeed: setting the unlock switch, say, is allowed.
    refused = attempt.refused or attempt.statements[-1]
    assert (refusal.statement, refusal.errno) == (refused, attempt.errno)
    assert deployment.fingerprint() == before


def test_the_triggers_ignore_the_unlock_switch_even_for_an_over_granted_app_user(deployment):
    """A DBA who grants DELETE on the ledger still leaves it append-only for the app user."""
    before = deployment.fingerprint()
    app, tables = f"'{deployment.app}'@'%'", ("accounts_transfer", "accounts_transaction")
    deployment.execute_as_administrator(
        [f"GRANT DELETE ON `{deployment.database}`.`{t}` TO {app}" for t in tables]
    )
    try:
        for table in reversed(tables):
            statement = f"DELETE FROM {table}"
            refusal = deployment.attempt_as_app([UNLOCK, statement])
            assert refusal is not None, statement
            print(f"{refusal.statement}\n  -> {refusal.errno} {refusal.message}")
            assert (refusal.statement, refusal.errno) == (statement, CONSTRAINT_FAILED)
    finally:
        deployment.execute_as_administrator(
            [f"REVOKE DELETE ON `{deployment.database}`.`{t}` FROM {app}" for t in tables]
        )
    assert deployment.fingerprint() == before


def overdraft(deployment: Deployment) -> list[str]:
    """Raw SQL that posts balanced, well-formed legs taking the card 80 below its limit of 0."""
    card, work = deployment.everyday["card"], deployment.everyday
    assert Decimal(work["card_balance"]) == Decimal("50.00")
    float_, float_balance, float_version = deployment.row(
        "SELECT id, balance, version FROM accounts_account WHERE name = 'Till float'"
    )
    (card_version,) = deployment.row(f"SELECT version FROM accounts_account WHERE id = {card}")
    amount, card_after, float_after = 80, Decimal("50.00") - 80, float_balance - 80
    return [
        "INSERT INTO accounts_transfer (reference, kind, amount, currency, leg_count, username, "
        "description, created_at, source_id, destination_id) VALUES ('DEPLOY-OVERDRAFT', "
        f"'transfer', {amount}, 'GBP', 2, '', '', UTC_TIMESTAMP(6), {card}, {float_})",
        "SET @transfer = LAST_INSERT_ID()",
        "INSERT INTO accounts_transaction (transfer_id, leg_index, account_id, amount, currency, "
        "balance_after, account_version, created_at, backdated) VALUES "
        f"(@transfer, 1, {card}, -{amount}, 'GBP', {card_after}, {card_version + 1}, "
        "UTC_TIMESTAMP(6), 0), "
        f"(@transfer, 2, {float_}, {amount}, 'GBP', {float_after}, {float_version + 1}, "
        "UTC_TIMESTAMP(6), 0)",
        f"UPDATE accounts_account SET balance = {card_after}, version = {card_version + 1} "
        f"WHERE id = {card}",
        f"UPDATE accounts_account SET balance = {float_after}, version = {float_version + 1} "
        f"WHERE id = {float_}",
    ]


@pytest.mark.parametrize(
    "switch",
    [
        pytest.param([], id="as it is"),
        # Any MariaDB session may switch CHECK constraints off; the triggers check the credit
        # limit again (T7).
        pytest.param(["SET check_constraint_checks = 0"], id="with CHECK constraints switched off"),
    ],
)
def test_raw_sql_cannot_overdraw_a_card(deployment, switch):
    before = deployment.fingerprint()
    statements = switch + overdraft(deployment)

    # Never committed: if the attempt gets through, it must not stay in the books.
    refusal = deployment.attempt_as_app(statements, commit=False)

    assert deployment.fingerprint() == before
    assert refusal is not None, "the card was overdrawn"
    assert (refusal.statement, refusal.errno) == (statements[-2], CONSTRAINT_FAILED)
    assert "accounts_account_within_credit_limit" in refusal.message


def test_tables_that_later_migrations_create_need_the_script_again_for_delete(deployment):
    database = deployment.database
    with contextlib.closing(deployment.connect(deployment.owner, deployment.owner_password)) as c:
        with c.cursor() as cursor:
            cursor.execute(f"CREATE TABLE `{database}`.accounts_deploy_later (id INT PRIMARY KEY)")
        try:
            assert (
                deployment.attempt_as_app(
                    [
                        "INSERT INTO accounts_deploy_later (id) VALUES (1)",
                        "UPDATE accounts_deploy_later SET id = 2",
                    ]
                )
                is None
            )
            refusal = deployment.attempt_as_app(["DELETE FROM accounts_deploy_later"])
            assert refusal is not None and refusal.errno == TABLE_ACCESS_DENIED
        finally:
            with c.cursor() as cursor:
                cursor.execute(f"DROP TABLE `{database}`.accounts_deploy_later")


def test_a_fixture_of_ledger_rows_loads_as_the_owner_only(deployment, tmp_path):
    fixture = str(ledger_fixture(tmp_path / "ledger.json"))
    before = deployment.fingerprint()

    as_app = run_django(deployment.url(deployment.app), "loaddata", fixture)

    assert as_app.returncode != 0
    assert "a new account starts with balance 0 and version 0" in as_app.stderr
    assert deployment.fingerprint() == before

    check(run_django(deployment.url(deployment.owner), "loaddata", fixture, "-v", "0"))

    with contextlib.closing(deployment.connect(database=deployment.database)) as conn:
        with conn.cursor() as cursor:
            cursor.execute(
                "SELECT code, balance, version FROM accounts_account "
                "WHERE code LIKE 'DEPLOY-FIXTURE-%' ORDER BY code"
            )
            assert cursor.fetchall() == (
                ("DEPLOY-FIXTURE-CARD", Decimal("10"), 1),
                ("DEPLOY-FIXTURE-FLOAT", Decimal("10"), 1),
            )


def test_the_books_are_intact_after_every_attempt(deployment):
    output = check(run_django(deployment.url(deployment.owner), "verify_ledger"))
    assert "The ledger balances" in output
