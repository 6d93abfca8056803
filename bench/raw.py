"""The raw-SQL baseline: the same work per transfer, by hand, with the bare database driver.

Per transfer, on its own plain tables (``bench_raw_*``: no triggers, no Django):

1. ``BEGIN`` (psycopg and MySQLdb open the transaction with the first statement; SQLite is sent
   an explicit ``BEGIN``, as Django does);
2. lock both account rows in primary-key order (``SELECT ... ORDER BY id FOR UPDATE``; SQLite has
   no row locks and takes its write lock at the first write);
3. check the source's credit limit against the locked row, in Python;
4. insert the transfer (with a fresh random reference) and get its id;
5. insert both legs in one statement (amount, balance after, account version, time);
6. update both balances and versions in one statement;
7. ``COMMIT``.

That is the facade's own statement shape, so the ratio between the two measures what the facade
adds on top of the unavoidable round trips: Python and Django work, and the integrity triggers.
The tables carry the keys and indexes the ledger's tables need for the same job (a unique
reference, foreign keys, a unique account version, the account/time index).

For the read scenario the baseline reads the ledger's own tables (reading is not writing): the
stored balance by primary key, and the balance as of a moment as the last leg at or before it.

The driver is used as a programmer would use it out of the box: psycopg 3 with its default
server-side binding (it prepares a statement after five executions), MySQLdb with client-side
interpolation, sqlite3 with ``?`` parameters.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from accounts import codes

from .ledger import ACCOUNT_FUNDS, HOT_FUNDS, RunResult, run_pairs

TABLES = ("bench_raw_leg", "bench_raw_transfer", "bench_raw_account")

_SCHEMA = {
    "postgresql": [
        """CREATE TABLE IF NOT EXISTS bench_raw_account (
            id bigserial PRIMARY KEY,
            balance numeric(30, 4) NOT NULL DEFAULT 0,
            credit_limit numeric(30, 4) NULL DEFAULT 0,
            version bigint NOT NULL DEFAULT 0)""",
        """CREATE TABLE IF NOT EXISTS bench_raw_transfer (
            id bigserial PRIMARY KEY,
            reference varchar(32) NOT NULL UNIQUE,
            source_id bigint NOT NULL REFERENCES bench_raw_account (id),
            destination_id bigint NOT NULL REFERENCES bench_raw_account (id),
            amount numeric(30, 4) NOT NULL,
            created_at timestamptz NOT NULL)""",
        "CREATE INDEX IF NOT EXISTS bench_raw_transfer_source ON bench_raw_transfer (source_id)",
        "CREATE INDEX IF NOT EXISTS bench_raw_transfer_destination "
        "ON bench_raw_transfer (destination_id)",
        """CREATE TABLE IF NOT EXISTS bench_raw_leg (
            id bigserial PRIMARY KEY,
            transfer_id bigint NOT NULL REFERENCES bench_raw_transfer (id),
            account_id bigint NOT NULL REFERENCES bench_raw_account (id),
            amount numeric(30, 4) NOT NULL,
            balance_after numeric(30, 4) NOT NULL,
            account_version bigint NOT NULL,
            created_at timestamptz NOT NULL,
            UNIQUE (account_id, account_version))""",
        "CREATE INDEX IF NOT EXISTS bench_raw_leg_transfer ON bench_raw_leg (transfer_id)",
        "CREATE INDEX IF NOT EXISTS bench_raw_leg_account_time "
        "ON bench_raw_leg (account_id, created_at, account_version)",
    ],
    "mysql": [
        """CREATE TABLE IF NOT EXISTS bench_raw_account (
            id bigint AUTO_INCREMENT PRIMARY KEY,
            balance decimal(30, 4) NOT NULL DEFAULT 0,
            credit_limit decimal(30, 4) NULL DEFAULT 0,
            version bigint NOT NULL DEFAULT 0) ENGINE=InnoDB""",
        """CREATE TABLE IF NOT EXISTS bench_raw_transfer (
            id bigint AUTO_INCREMENT PRIMARY KEY,
            reference varchar(32) NOT NULL UNIQUE,
            source_id bigint NOT NULL,
            destination_id bigint NOT NULL,
            amount decimal(30, 4) NOT NULL,
            created_at datetime(6) NOT NULL,
            FOREIGN KEY (source_id) REFERENCES bench_raw_account (id),
            FOREIGN KEY (destination_id) REFERENCES bench_raw_account (id)) ENGINE=InnoDB""",
        """CREATE TABLE IF NOT EXISTS bench_raw_leg (
            id bigint AUTO_INCREMENT PRIMARY KEY,
            transfer_id bigint NOT NULL,
            account_id bigint NOT NULL,
            amount decimal(30, 4) NOT NULL,
            balance_after decimal(30, 4) NOT NULL,
            account_version bigint NOT NULL,
            created_at datetime(6) NOT NULL,
            UNIQUE (account_id, account_version),
            KEY bench_raw_leg_account_time (account_id, created_at, account_version),
            FOREIGN KEY (transfer_id) REFERENCES bench_raw_transfer (id),
            FOREIGN KEY (account_id) REFERENCES bench_raw_account (id)) ENGINE=InnoDB""",
    ],
    "sqlite": [
        """CREATE TABLE IF NOT EXISTS bench_raw_account (
            id integer PRIMARY KEY AUTOINCREMENT,
            balance decimal NOT NULL DEFAULT 0,
            credit_limit decimal NULL DEFAULT 0,
            version bigint NOT NULL DEFAULT 0)""",
        """CREATE TABLE IF NOT EXISTS bench_raw_transfer (
            id integer PRIMARY KEY AUTOINCREMENT,
            reference varchar(32) NOT NULL UNIQUE,
            source_id bigint NOT NULL REFERENCES bench_raw_account (id),
            destination_id bigint NOT NULL REFERENCES bench_raw_account (id),
            amount decimal NOT NULL,
            created_at datetime NOT NULL)""",
        "CREATE INDEX IF NOT EXISTS bench_raw_transfer_source ON bench_raw_transfer (source_id)",
        "CREATE INDEX IF NOT EXISTS bench_raw_transfer_destination "
        "ON bench_raw_transfer (destination_id)",
        """CREATE TABLE IF NOT EXISTS bench_raw_leg (
            id integer PRIMARY KEY AUTOINCREMENT,
            transfer_id bigint NOT NULL REFERENCES bench_raw_transfer (id),
            account_id bigint NOT NULL REFERENCES bench_raw_account (id),
            amount decimal NOT NULL,
            balance_after decimal NOT NULL,
            account_version bigint NOT NULL,
            created_at datetime NOT NULL,
            UNIQUE (account_id, account_version))""",
        "CREATE INDEX IF NOT EXISTS bench_raw_leg_transfer ON bench_raw_leg (transfer_id)",
        "CREATE INDEX IF NOT EXISTS bench_raw_leg_account_time "
        "ON bench_raw_leg (account_id, created_at, account_version)",
    ],
}


class Baseline:
    """One raw connection and the hand-written transfer, for one vendor."""

    def __init__(self, conn: Any, vendor: str, *, sqlite_begin: str = "BEGIN") -> None:
        self.conn = conn
        self.vendor = vendor
        self.sqlite_begin = sqlite_begin
        p = "?" if vendor == "sqlite" else "%s"
        lock = "" if vendor == "sqlite" else " FOR UPDATE"
        self.sql_lock = (
            f"SELECT id, balance, credit_limit, version FROM bench_raw_account "
            f"WHERE id IN ({p}, {p}) ORDER BY id{lock}"
        )
        returning = " RETURNING id" if vendor == "postgresql" else ""
        self.sql_transfer = (
            "INSERT INTO bench_raw_transfer (reference, source_id, destination_id, amount, "
            f"created_at) VALUES ({p}, {p}, {p}, {p}, {p}){returning}"
        )
        self.sql_legs = (
            "INSERT INTO bench_raw_leg (transfer_id, account_id, amount, balance_after, "
            f"account_version, created_at) VALUES ({p}, {p}, {p}, {p}, {p}, {p}), "
            f"({p}, {p}, {p}, {p}, {p}, {p})"
        )
        self.sql_update = (
            f"UPDATE bench_raw_account SET balance = CASE id WHEN {p} THEN {p} WHEN {p} THEN {p} "
            f"END, version = CASE id WHEN {p} THEN {p} WHEN {p} THEN {p} END "
            f"WHERE id IN ({p}, {p})"
        )

    # -- schema and fixtures -------------------------------------------------------------------

    def create_tables(self) -> None:
        cursor = self.conn.cursor()
        for statement in _SCHEMA[self.vendor]:
            cursor.execute(statement)
        self._commit()

    def reset(self) -> None:
        cursor = self.conn.cursor()
        if self.vendor == "postgresql":
            cursor.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY")
        elif self.vendor == "mysql":
            cursor.execute("SET FOREIGN_KEY_CHECKS = 0")
            for table in TABLES:
                cursor.execute(f"TRUNCATE TABLE {table}")
            cursor.execute("SET FOREIGN_KEY_CHECKS = 1")
        else:
            for table in TABLES:
                cursor.execute(f"DELETE FROM {table}")
            cursor.execute("DELETE FROM sqlite_sequence WHERE name LIKE 'bench_raw_%'")
        self._commit()

    def make_accounts(self, count: int, *, funds: Decimal = ACCOUNT_FUNDS) -> list[int]:
        """Accounts with ``funds`` already in them (the baseline keeps no funding history)."""
        p = "?" if self.vendor == "sqlite" else "%s"
        cursor = self.conn.cursor()
        if self.vendor == "sqlite":
            cursor.execute(self.sqlite_begin)
        cursor.executemany(
            f"INSERT INTO bench_raw_account (balance, credit_limit, version) VALUES ({p}, 0, 0)",
            [(self._param(funds),)] * count,
        )
        self._commit()
        cursor.execute(f"SELECT id FROM bench_raw_account ORDER BY id DESC LIMIT {int(count)}")
        pks = sorted(row[0] for row in cursor.fetchall())
        self._commit()
        return pks

    def make_hot_account(self) -> int:
        return self.make_accounts(1, funds=HOT_FUNDS)[0]

    # -- the transfer --------------------------------------------------------------------------

    def transfer(self, source_id: int, destination_id: int, value: Decimal) -> None:
        """Move ``value`` between two accounts: the seven steps of the module docstring."""
        cursor = self.conn.cursor()
        try:
            if self.vendor == "sqlite":
                cursor.execute(self.sqlite_begin)
            cursor.execute(
                self.sql_lock, (min(source_id, destination_id), max(source_id, destination_id))
            )
            rows = {row[0]: row for row in cursor.fetchall()}
            _, src_balance, src_limit, src_version = rows[source_id]
            _, dst_balance, _, dst_version = rows[destination_id]
            src_balance, dst_balance = Decimal(str(src_balance)), Decimal(str(dst_balance))
            src_after, dst_after = src_balance - value, dst_balance + value
            if src_limit is not None and src_after < -Decimal(str(src_limit)):
                raise InsufficientFunds(f"account {source_id} cannot pay {value}")
            now = self._now()
            cursor.execute(
                self.sql_transfer,
                (codes.generate(), source_id, destination_id, self._param(value), now),
            )
            transfer_id = cursor.fetchone()[0] if self.vendor == "postgresql" else cursor.lastrowid
            cursor.execute(
                self.sql_legs,
                (
                    transfer_id,
                    source_id,
                    self._param(-value),
                    self._param(src_after),
                    src_version + 1,
                    now,
                    transfer_id,
                    destination_id,
                    self._param(value),
                    self._param(dst_after),
                    dst_version + 1,
                    now,
                ),
            )
            cursor.execute(
                self.sql_update,
                (
                    source_id,
                    self._param(src_after),
                    destination_id,
                    self._param(dst_after),
                    source_id,
                    src_version + 1,
                    destination_id,
                    dst_version + 1,
                    source_id,
                    destination_id,
                ),
            )
            self._commit()
        except BaseException:
            self._rollback()
            raise

    def run_transfers(
        self, pks: Sequence[int], count: int, rng: random.Random, *, hot: int | None = None
    ) -> RunResult:
        return run_pairs(list(pks), count, rng, self.transfer, hot=hot)

    # -- reads on the ledger's own tables ------------------------------------------------------

    def read_balance(self, account_id: int) -> Decimal:
        p = "?" if self.vendor == "sqlite" else "%s"
        cursor = self.conn.cursor()
        cursor.execute(f"SELECT balance FROM accounts_account WHERE id = {p}", (account_id,))
        return cursor.fetchone()[0]

    def read_balance_as_of(self, account_id: int, as_of: Any) -> Decimal:
        """The balance after the last leg at or before ``as_of``: two index probes.

        ``MAX()`` without ``GROUP BY`` is answered from the end of the (account, time) index on
        every backend; ordering the range and taking the first row instead makes MariaDB read
        every leg up to ``as_of``.
        """
        p = "?" if self.vendor == "sqlite" else "%s"
        cursor = self.conn.cursor()
        cursor.execute(
            "SELECT balance_after FROM accounts_transaction "
            f"WHERE account_id = {p} AND created_at = (SELECT MAX(created_at) "
            f"FROM accounts_transaction WHERE account_id = {p} AND created_at <= {p}) "
            "ORDER BY account_version DESC LIMIT 1",
            (account_id, account_id, self._time_param(as_of)),
        )
        return cursor.fetchone()[0]

    def autocommit(self, on: bool) -> None:
        """Reads run one statement each, in autocommit mode, as Django runs them."""
        if self.vendor == "postgresql":
            self.conn.rollback()
            self.conn.autocommit = on
        elif self.vendor == "mysql":
            self.conn.rollback()
            self.conn.autocommit(on)

    # -- helpers -------------------------------------------------------------------------------

    def end_transaction(self) -> None:
        """Close the transaction a bookkeeping query opened, so timing starts from idle."""
        self._rollback()

    def _now(self) -> Any:
        return self._time_param(datetime.datetime.now(datetime.timezone.utc))

    def _time_param(self, moment: datetime.datetime) -> Any:
        """An aware datetime as each database stores it (naive UTC text on SQLite, as Django)."""
        if self.vendor == "postgresql":
            return moment
        naive = moment.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        return str(naive) if self.vendor == "sqlite" else naive

    def _param(self, value: Decimal) -> Any:
        return str(value) if self.vendor == "sqlite" else value

    def _commit(self) -> None:
        if self.vendor == "sqlite":
            if self.conn.in_transaction:
                self.conn.execute("COMMIT")
        else:
            self.conn.commit()

    def _rollback(self) -> None:
        if self.vendor == "sqlite":
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
        else:
            self.conn.rollback()


class InsufficientFunds(Exception):
    """The baseline's refusal when a transfer would break the source's credit limit."""
