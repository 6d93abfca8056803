"""What the database itself enforces, on PostgreSQL, MariaDB/MySQL and SQLite alike.

The rules below hold even for raw SQL that bypasses Python. Declarative CHECK and UNIQUE
constraints live in ``Meta.constraints``; what they cannot express is enforced by triggers.
The modules of :mod:`accounts.ledger.sql`, one per vendor, write the current version of them;
each migration that installs triggers runs its own frozen copy (``accounts/migrations/sql/``),
and :func:`ensure_installed` the latest:

T1  a transfer is never updated or deleted (deleting its user may set ``user_id`` to NULL);
T2  a leg is never updated or deleted (on PostgreSQL, neither table can be truncated either;
    MariaDB has no TRUNCATE triggers, so there only privileges can stop it);
T3  a leg is checked when inserted: its currency is its account's, its account has no children,
    its ``leg_index`` fits the transfer's ``leg_count``, its ``account_version`` follows the
    account's previous leg, its ``balance_after`` is the previous balance plus the amount in
    the account's natural sign, and ``backdated`` says truly whether it predates that leg;
    when the transfer's last leg lands, the transfer must have all its legs and they must sum
    to zero in every currency;
T4  an account starts at balance 0 and version 0; afterwards its stored balance may only change
    to the ``balance_after`` of its newest leg, which must belong to a complete transfer; its
    kind and currency are fixed once it has legs; an account with legs cannot get children;
    a closed account is never reopened;
T5  (PostgreSQL) at commit, every new transfer has all of its legs;
T6  an audit entry is never updated or deleted (deleting its user may set ``user_id`` to NULL;
    on PostgreSQL the table cannot be truncated either);
T7  (MariaDB/MySQL) what the CHECK constraints and foreign keys refuse, refused again by
    triggers, since any session may switch those off.

PostgreSQL's functions look names up in the ledger's schema with ``pg_temp`` last, so no
session's temporary table can stand in for a ledger table.

Every check costs a few indexed lookups per row; the balance check of T3 reads the transfer's
legs once, when its last leg lands, so an entry of n legs costs O(n). On PostgreSQL, T3 and the
update half of T4 are statement triggers: one call per INSERT or UPDATE statement, checking its
rows (from transition tables) with one query.

Django's ``flush`` (run by every ``TransactionTestCase``) and ``loaddata`` must get past the
append-only rules: :func:`unlocked` turns the guard off for one connection, through a setting
local to the transaction on PostgreSQL, a session variable on MySQL and a connection function
on SQLite. The database honours the switch only for the role that owns the ledger (PostgreSQL)
or defined its triggers (MySQL), so an application role that sets it gains nothing. A fixture
row unlocks only for the ``atomic`` block ``loaddata`` runs in (:func:`unlock_for_row`): when
that block ends, whether the row was saved or not, the guard is on again.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.db import connections, transaction

from .ledger.sql import mysql, postgresql, sqlite
from .migrations import sql as frozen_sql

PG_SETTING = "accounts.ledger_unlocked"


# -- the unlock switch -------------------------------------------------------------------------


@dataclass
class _Switch:
    """The unlock switch of one connection, as Python sees it.

    ``on`` and ``scope`` say whether the guard should be off now: ``scope`` is the ``atomic``
    block an unlock for one fixture row belongs to (None for :func:`unlocked`, which always
    switches back). ``server_may_be_on`` and ``relock_sent`` follow what the server may still
    hold, which can differ: PostgreSQL keeps a transaction-local setting past a released
    savepoint and restores it when a later savepoint is rolled back; MySQL's session variable
    outlives transactions altogether.
    """

    on: bool = False
    scope: Any = None
    server_may_be_on: bool = False
    relock_sent: bool = True

    def wanted(self, connection: Any) -> bool:
        if not self.on:
            return False
        return self.scope is None or any(block is self.scope for block in connection.atomic_blocks)


def _switch(connection: Any) -> _Switch:
    switch = getattr(connection, "_accounts_unlock_switch", None)
    if switch is None:
        switch = connection._accounts_unlock_switch = _Switch()
    return switch


#: What switches the guard back on, for the servers whose switch lives in the session.
_RELOCK_SQL = {
    "postgresql": f"SELECT set_config('{PG_SETTING}', 'off', true)",
    "mysql": "SET @accounts_ledger_unlocked = 0",
}


def set_unlocked(using: str, flag: bool) -> None:
    connection = connections[using]
    switch = _switch(connection)
    switch.on, switch.scope = flag, None
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config(%s, %s, true)", [PG_SETTING, "on" if flag else "off"])
    elif connection.vendor == "mysql":
        with connection.cursor() as cursor:
            cursor.execute("SET @accounts_ledger_unlocked = %s", [1 if flag else 0])
    if connection.vendor in _RELOCK_SQL:
        # After switching off, PostgreSQL may still bring the setting back (see _Switch).
        switch.server_may_be_on = flag or connection.vendor == "postgresql"
        switch.relock_sent = not flag


def unlock_for_row(using: str) -> bool:
    """Unlock the guard for the innermost ``atomic`` block only; False outside of one.

    ``loaddata`` saves each fixture row between ``pre_save`` and ``post_save``; if the save
    fails, ``post_save`` never comes. Tying the unlock to the block that ``loaddata`` opened
    means the guard is on again as soon as that block ends, committed or rolled back: SQLite's
    guard function asks whether the block is still open, and on PostgreSQL and MySQL the next
    statement sent after it ended first switches the guard back on
    (:func:`_relock_stale_unlock`).
    """
    connection = connections[using]
    if not connection.in_atomic_block:
        return False
    set_unlocked(using, True)
    _switch(connection).scope = connection.atomic_blocks[-1]
    return True


#: How Django's savepoint statements start (``connection.ops.savepoint_*_sql``).
_SAVEPOINT_STATEMENTS = ("SAVEPOINT ", "RELEASE SAVEPOINT ")
_ROLLBACK_TO_SAVEPOINT = "ROLLBACK TO SAVEPOINT "


def _relock_stale_unlock(connection: Any) -> Any:
    """An execute wrapper: switch the server's guard back on once it should no longer be off.

    While nothing was unlocked in the current transaction it costs one attribute lookup per
    statement.
    """
    relock = _RELOCK_SQL[connection.vendor]
    postgresql = connection.vendor == "postgresql"

    def wrapper(execute: Any, sql: Any, params: Any, many: bool, context: Any) -> Any:
        switch = _switch(connection)
        if switch.server_may_be_on and not switch.wanted(connection):
            text = sql if isinstance(sql, str) else ""
            if postgresql and not connection.in_atomic_block:
                # The transaction that held the local setting has ended.
                switch.server_may_be_on = False
            elif text.startswith(_ROLLBACK_TO_SAVEPOINT):
                # Nothing else may run before it after a failure; it may restore the setting.
                switch.relock_sent = False
            elif text.startswith(_SAVEPOINT_STATEMENTS):
                pass
            elif not switch.relock_sent:
                context["cursor"].cursor.execute(relock)
                switch.relock_sent = True
                switch.server_may_be_on = postgresql
        return execute(sql, params, many, context)

    return wrapper


@contextmanager
def unlocked(using: str = "default") -> Iterator[None]:
    """Let wholesale resets (``flush``) and fixture loads past the append-only guard."""
    set_unlocked(using, True)
    try:
        yield
    finally:
        set_unlocked(using, False)


def prepare_connection(connection: Any) -> None:
    """Register SQLite's guard function and let ``flush`` through on this connection."""
    connection._accounts_unlock_switch = _Switch()
    if connection.vendor == "sqlite":
        connection.connection.create_function(
            "accounts_ledger_unlocked",
            0,
            lambda: 1 if _switch(connection).wanted(connection) else 0,
        )
    if connection.vendor in _RELOCK_SQL and not getattr(
        connection, "_accounts_relock_wrapped", False
    ):
        connection.execute_wrappers.append(_relock_stale_unlock(connection))
        connection._accounts_relock_wrapped = True
    ops = connection.ops
    if getattr(ops, "_accounts_flush_wrapped", False):
        return
    original = ops.execute_sql_flush

    def execute_sql_flush(sql_list: list[str]) -> None:
        # PostgreSQL's unlock lasts until the end of the transaction, so one must span the flush.
        savepoint = connection.features.can_rollback_ddl
        with transaction.atomic(using=connection.alias, savepoint=savepoint):
            with unlocked(connection.alias):
                original(sql_list)

    ops.execute_sql_flush = execute_sql_flush
    ops._accounts_flush_wrapped = True


# -- the rules, as each vendor's module writes them (accounts/ledger/sql/) ---------------------

POSTGRESQL, POSTGRESQL_REVERSE = postgresql.TRIGGERS, postgresql.REVERSE
MYSQL, MYSQL_REVERSE = mysql.TRIGGERS, mysql.REVERSE
SQLITE, SQLITE_REVERSE = sqlite.TRIGGERS, sqlite.REVERSE

_BY_VENDOR = {
    "postgresql": (POSTGRESQL, POSTGRESQL_REVERSE),
    "mysql": (MYSQL, MYSQL_REVERSE),
    "sqlite": (SQLITE, SQLITE_REVERSE),
}

#: T6, installed by migration 0008 apart from the rest (see the vendor modules).
AUDIT = {
    "postgresql": (postgresql.AUDIT, postgresql.AUDIT_REVERSE),
    "mysql": (mysql.AUDIT, mysql.AUDIT_REVERSE),
    "sqlite": (sqlite.AUDIT, sqlite.AUDIT_REVERSE),
}

#: T8, installed by migration 0011 with the table of closed periods (MariaDB's again by 0015).
PERIODS = {
    "postgresql": (postgresql.PERIODS, postgresql.PERIODS_REVERSE),
    "mysql": (mysql.PERIODS, mysql.PERIODS_REVERSE),
    "sqlite": (sqlite.PERIODS, sqlite.PERIODS_REVERSE),
}

#: The frozen versions of the rules a fully migrated database carries (their SQL is in
#: ``accounts/migrations/sql/``): T1-T5 and T7, then T6. The lists above are where the next
#: version is written; ``tests/integrity/test_migrations_sql.py`` checks that they still match
#: these, so an edit cannot reach a database without a new frozen version and a migration that
#: installs it.
LEDGER_VERSION = "0013"
AUDIT_VERSION = "0008"
#: T8 by vendor: MariaDB's leg check reads the latest closing with a lock since 0015.
PERIODS_VERSIONS = {"postgresql": "0011", "mysql": "0015", "sqlite": "0011"}
#: The migration that creates the audit trail and installs T6.
AUDIT_MIGRATION = ("accounts", "0008_audit_trail")
#: The migration that creates the table of closed periods and installs T8.
PERIODS_MIGRATION = ("accounts", "0011_closed_periods")


def installed_trigger_count(connection: Any) -> int:
    """How many of this app's triggers exist, to notice SQLite table rebuilds dropping them."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger' "
                "AND name LIKE 'accounts\\_%' ESCAPE '\\'"
            )
        elif connection.vendor == "postgresql":
            cursor.execute(
                "SELECT COUNT(*) FROM pg_trigger WHERE NOT tgisinternal "
                "AND tgname LIKE 'accounts\\_%'"
            )
        elif connection.vendor == "mysql":
            cursor.execute(
                "SELECT COUNT(*) FROM information_schema.triggers "
                "WHERE trigger_schema = DATABASE() AND trigger_name LIKE 'accounts\\_%'"
            )
        else:
            return 0
        return int(cursor.fetchone()[0])


def ensure_installed(using: str) -> bool:
    """Install the triggers on ``using`` if migration 0002 ran but they are not all there.

    Also when there are more than expected: a database migrated by an older release may hold
    triggers of an earlier shape, which the latest frozen SQL replaces. Returns whether anything was
    installed.
    """
    from django.db.migrations.recorder import MigrationRecorder

    connection = connections[using]
    if not expected_trigger_count(connection.vendor):
        return False
    applied = MigrationRecorder(connection).applied_migrations()
    if ("accounts", "0002_ledger_integrity") not in applied:
        return False
    with_audit = AUDIT_MIGRATION in applied
    with_periods = PERIODS_MIGRATION in applied
    if installed_trigger_count(connection) == expected_trigger_count(
        connection.vendor, with_audit=with_audit, with_periods=with_periods
    ):
        return False
    # A plain cursor, not a schema editor: SQLite's refuses to run inside a transaction.
    versions = [LEDGER_VERSION, AUDIT_VERSION] if with_audit else [LEDGER_VERSION]
    if with_periods:
        versions.append(PERIODS_VERSIONS[connection.vendor])
    with connection.cursor() as cursor:
        for version in versions:
            for sql in frozen_sql.statements(version, connection.vendor):
                cursor.execute(frozen_sql.render(connection, sql))
    return True


def expected_trigger_count(
    vendor: str, *, with_audit: bool = True, with_periods: bool = True
) -> int:
    """How many triggers a fully migrated database holds (without T6: before migration 0008;
    without T8: before 0011)."""
    ledger = {"postgresql": 8, "mysql": 9, "sqlite": 7}.get(vendor, 0)
    audit = {"postgresql": 2, "mysql": 2, "sqlite": 2}.get(vendor, 0)
    periods = {"postgresql": 2, "mysql": 4, "sqlite": 4}.get(vendor, 0)
    return ledger + (audit if with_audit else 0) + (periods if with_periods else 0)
