"""What the database itself enforces, on PostgreSQL, MariaDB/MySQL and SQLite alike.

The rules below hold even for raw SQL that bypasses Python. Declarative CHECK and UNIQUE
constraints live in ``Meta.constraints``; what they cannot express is enforced by triggers.
The lists below write the current version of them; each migration that installs triggers runs
its own frozen copy (``accounts/migrations/sql/``), and :func:`ensure_installed` the latest:

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

from .migrations import sql as frozen_sql
from .vocabulary import debit_normal_sql

#: The kinds whose legs count negatively, as an SQL list (see vocabulary.debit_normal_sql).
_DEBIT_NORMAL = debit_normal_sql()

#: Columns of accounts_transfer other than user_id, which only the user's deletion may change.
TRANSFER_COLUMNS = (
    "id",
    "reference",
    "kind",
    "source_id",
    "destination_id",
    "amount",
    "currency",
    "leg_count",
    "parent_id",
    "reverses_id",
    "username",
    "merchant_reference",
    "description",
    "created_at",
)
#: How close two SQLite amounts (stored as floating point) must be to count as equal.
SQLITE_TOLERANCE = "0.00005"

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


# -- PostgreSQL --------------------------------------------------------------------------------

_PG_RAISE = "RAISE EXCEPTION USING ERRCODE = 'check_violation', MESSAGE = "
#: Every function looks names up in the ledger's schema only, with the caller's temporary tables
#: last: by default any role may create a temporary ``accounts_transaction`` that a function
#: using the caller's ``search_path`` would read instead of the ledger's. The placeholder is
#: filled in from ``current_schema()`` when the SQL is run (``accounts/migrations/sql``).
_PG_SEARCH_PATH = f"SET search_path = pg_catalog, {frozen_sql.SCHEMA_PLACEHOLDER}, pg_temp"


def _pg_statement_check(name: str, problems: str) -> str:
    """A PostgreSQL trigger function that checks a statement's rows with one query.

    ``problems`` selects one column, ``problem``: NULL for a row that is fine, else the message
    to refuse the statement with. The first problem found is raised.
    """
    return f"""
    CREATE OR REPLACE FUNCTION {name}() RETURNS trigger
    LANGUAGE plpgsql SET enable_seqscan = off {_PG_SEARCH_PATH} AS $$
    DECLARE problem text;
    BEGIN
        IF accounts_ledger_unlocked() THEN RETURN NULL; END IF;
        SELECT checked.problem INTO problem FROM ({problems}) checked
        WHERE checked.problem IS NOT NULL
        LIMIT 1;
        IF problem IS NOT NULL THEN
            {_PG_RAISE} problem;
        END IF;
        RETURN NULL;
    END $$
    """


POSTGRESQL = [
    f"""
    CREATE OR REPLACE FUNCTION accounts_ledger_unlocked() RETURNS boolean
    LANGUAGE sql STABLE {_PG_SEARCH_PATH} AS $$
        SELECT CASE
            WHEN coalesce(current_setting('accounts.ledger_unlocked', true), '') <> 'on'
            THEN false
            -- Only the role that owns the ledger (the one that runs migrations) may unlock it:
            -- any role can set a setting, so an application role that sets it is ignored.
            ELSE pg_has_role(
                current_user,
                (SELECT relowner FROM pg_class WHERE oid = 'accounts_transaction'::regclass),
                'USAGE'
            )
        END
    $$
    """,
    # T1
    f"""
    CREATE OR REPLACE FUNCTION accounts_transfer_guard() RETURNS trigger
    LANGUAGE plpgsql {_PG_SEARCH_PATH} AS $$
    DECLARE expected accounts_transfer;
    BEGIN
        IF accounts_ledger_unlocked() THEN
            IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
            RETURN NEW;
        END IF;
        IF TG_OP = 'DELETE' THEN
            {_PG_RAISE} 'accounts: transfer ' || OLD.reference
                || ' is append-only and cannot be deleted; post a correcting transfer';
        END IF;
        expected := OLD;
        expected.user_id := NEW.user_id;
        IF (NEW.user_id IS NOT NULL AND NEW.user_id IS DISTINCT FROM OLD.user_id)
                OR NEW IS DISTINCT FROM expected THEN
            {_PG_RAISE} 'accounts: transfer ' || OLD.reference
                || ' is append-only and cannot be changed; post a correcting transfer';
        END IF;
        RETURN NEW;
    END $$
    """,
    "DROP TRIGGER IF EXISTS accounts_transfer_guard ON accounts_transfer",
    """
    CREATE TRIGGER accounts_transfer_guard BEFORE UPDATE OR DELETE ON accounts_transfer
    FOR EACH ROW EXECUTE FUNCTION accounts_transfer_guard()
    """,
    # T2
    f"""
    CREATE OR REPLACE FUNCTION accounts_transaction_guard() RETURNS trigger
    LANGUAGE plpgsql {_PG_SEARCH_PATH} AS $$
    BEGIN
        IF accounts_ledger_unlocked() THEN
            IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
            RETURN NEW;
        END IF;
        {_PG_RAISE} 'accounts: legs are append-only and cannot be changed or deleted';
    END $$
    """,
    # T1 and T2 for TRUNCATE, which fires no row triggers (flush unlocks it).
    f"""
    CREATE OR REPLACE FUNCTION accounts_truncate_guard() RETURNS trigger
    LANGUAGE plpgsql {_PG_SEARCH_PATH} AS $$
    BEGIN
        IF NOT accounts_ledger_unlocked() THEN
            {_PG_RAISE} 'accounts: ' || TG_TABLE_NAME || ' is append-only and cannot be truncated';
        END IF;
        RETURN NULL;
    END $$
    """,
    "DROP TRIGGER IF EXISTS accounts_transfer_no_truncate ON accounts_transfer",
    """
    CREATE TRIGGER accounts_transfer_no_truncate BEFORE TRUNCATE ON accounts_transfer
    FOR EACH STATEMENT EXECUTE FUNCTION accounts_truncate_guard()
    """,
    "DROP TRIGGER IF EXISTS accounts_transaction_no_truncate ON accounts_transaction",
    """
    CREATE TRIGGER accounts_transaction_no_truncate BEFORE TRUNCATE ON accounts_transaction
    FOR EACH STATEMENT EXECUTE FUNCTION accounts_truncate_guard()
    """,
    "DROP TRIGGER IF EXISTS accounts_transaction_guard ON accounts_transaction",
    """
    CREATE TRIGGER accounts_transaction_guard BEFORE UPDATE OR DELETE ON accounts_transaction
    FOR EACH ROW EXECUTE FUNCTION accounts_transaction_guard()
    """,
    # T3: once per INSERT statement, over the statement's new legs. Its plan is made once per
    # session and kept, maybe from statistics of a nearly empty table: so no sequential scans
    # (the function's own setting), and each lookup is a LATERAL subquery with LIMIT 1 (never
    # a join that could become a scan of a whole table), shaped so that only one index fits:
    # an account's previous leg is "its newest leg below this version", which the unique
    # (account, version) index returns in order, where another index on (account, ...) would
    # filter the account's whole history. A transfer's legs are counted over its leg indexes
    # 1..n (a leg beyond n is refused here), which the unique (transfer, leg_index) index
    # answers. A CASE evaluates its subqueries lazily: the transfer-wide checks run only for a
    # transfer's last leg. The facade moves the balances in the same statement as it inserts
    # the legs, so the account row seen here may already carry the new leg's version: a leg is
    # kept at the end of its account's history by the unique (account, version) index, the
    # positive-version CHECK and the "previous leg is version - 1" rule instead.
    _pg_statement_check(
        "accounts_transaction_check",
        f"""
        SELECT CASE
            WHEN a.kind IS NULL THEN
                'accounts: leg on an account that does not exist'
            WHEN n.currency <> a.currency THEN
                'accounts: a leg must be in its account''s currency ('
                || a.currency || '), not ' || n.currency
            WHEN EXISTS (SELECT 1 FROM accounts_account c WHERE c.parent_id = n.account_id)
            THEN
                'accounts: an account with children cannot receive legs'
            WHEN t.leg_count IS NULL OR n.leg_index > t.leg_count THEN
                'accounts: leg beyond its transfer''s leg_count'
            WHEN n.account_version > 1
                AND p.account_version IS DISTINCT FROM n.account_version - 1
            THEN
                'accounts: leg skips a version of its account'
            WHEN n.backdated IS DISTINCT FROM coalesce(n.created_at < p.created_at, false)
            THEN
                'accounts: backdated must say whether the leg predates the one before'
            WHEN n.balance_after <> coalesce(p.balance_after, 0)
                + (CASE WHEN a.kind IN {_DEBIT_NORMAL} THEN -1 ELSE 1 END) * n.amount
            THEN
                'accounts: balance_after does not follow from the previous leg'
            WHEN n.leg_index = t.leg_count AND t.leg_count <> (
                SELECT count(*) FROM accounts_transaction l
                WHERE l.transfer_id = n.transfer_id AND l.leg_index BETWEEN 1 AND t.leg_count)
            THEN
                'accounts: transfer posted with ' || (
                    SELECT count(*) FROM accounts_transaction l
                    WHERE l.transfer_id = n.transfer_id
                    AND l.leg_index BETWEEN 1 AND t.leg_count)
                || ' of its ' || t.leg_count || ' legs'
            WHEN n.leg_index = t.leg_count AND EXISTS (
                SELECT 1 FROM accounts_transaction l
                WHERE l.transfer_id = n.transfer_id AND l.leg_index BETWEEN 1 AND t.leg_count
                GROUP BY l.currency HAVING sum(l.amount) <> 0)
            THEN
                'accounts: the legs of a transfer must sum to zero in each currency'
        END AS problem
        FROM accounts_new_legs n
        LEFT JOIN LATERAL (
            SELECT kind, currency, version FROM accounts_account
            WHERE id = n.account_id LIMIT 1
        ) a ON true
        LEFT JOIN LATERAL (
            SELECT leg_count FROM accounts_transfer WHERE id = n.transfer_id LIMIT 1
        ) t ON true
        LEFT JOIN LATERAL (
            SELECT account_version, balance_after, created_at FROM accounts_transaction
            WHERE account_id = n.account_id AND account_version < n.account_version
            ORDER BY account_version DESC LIMIT 1
        ) p ON true
        """,
    ),
    "DROP TRIGGER IF EXISTS accounts_transaction_check ON accounts_transaction",
    """
    CREATE TRIGGER accounts_transaction_check AFTER INSERT ON accounts_transaction
    REFERENCING NEW TABLE AS accounts_new_legs
    FOR EACH STATEMENT EXECUTE FUNCTION accounts_transaction_check()
    """,
    # T4, new accounts: one row at a time (accounts are created one by one).
    f"""
    CREATE OR REPLACE FUNCTION accounts_account_insert_check() RETURNS trigger
    LANGUAGE plpgsql {_PG_SEARCH_PATH} AS $$
    BEGIN
        IF accounts_ledger_unlocked() THEN RETURN NEW; END IF;
        IF NEW.balance <> 0 OR NEW.version <> 0 THEN
            {_PG_RAISE} 'accounts: a new account starts with balance 0 and version 0';
        END IF;
        IF NEW.parent_id IS NOT NULL
                AND EXISTS (SELECT 1 FROM accounts_account WHERE id = NEW.parent_id AND version > 0)
        THEN
            {_PG_RAISE} 'accounts: an account with legs cannot become a parent';
        END IF;
        RETURN NEW;
    END $$
    """,
    # The first shape of T4 was one row trigger for INSERT and UPDATE.
    "DROP TRIGGER IF EXISTS accounts_account_check ON accounts_account",
    "DROP FUNCTION IF EXISTS accounts_account_check()",
    "DROP TRIGGER IF EXISTS accounts_account_insert_check ON accounts_account",
    """
    CREATE TRIGGER accounts_account_insert_check BEFORE INSERT ON accounts_account
    FOR EACH ROW EXECUTE FUNCTION accounts_account_insert_check()
    """,
    # T4, changed accounts: once per UPDATE statement, old and new rows side by side. One
    # lookup per account, its newest leg (in order from the unique (account, version) index),
    # answers both "the balance is its last leg's" and "no leg is left out".
    _pg_statement_check(
        "accounts_account_update_check",
        """
        SELECT CASE
            WHEN o.version > 0 AND (n.kind <> o.kind OR n.currency <> o.currency) THEN
                'accounts: kind and currency are fixed once an account has legs'
            WHEN o.status = 'closed' AND n.status <> 'closed' THEN
                'accounts: a closed account stays closed'
            WHEN n.parent_id IS NOT NULL AND n.parent_id IS DISTINCT FROM o.parent_id
                AND EXISTS (
                    SELECT 1 FROM accounts_account WHERE id = n.parent_id AND version > 0)
            THEN
                'accounts: an account with legs cannot become a parent'
            WHEN n.balance IS NOT DISTINCT FROM o.balance AND n.version = o.version THEN
                NULL
            WHEN n.version <= o.version THEN
                'accounts: a balance changes only by posting legs'
            WHEN l.account_version > n.version THEN
                'accounts: the balance must include every leg of the account'
            WHEN l.account_version IS DISTINCT FROM n.version
                OR l.balance_after <> n.balance
            THEN
                'accounts: the balance must equal the balance after its last leg'
            WHEN NOT EXISTS (
                SELECT 1 FROM accounts_transaction last
                WHERE last.transfer_id = l.transfer_id AND last.leg_index = (
                    SELECT leg_count FROM accounts_transfer WHERE id = l.transfer_id))
            THEN
                'accounts: the balance includes an incomplete transfer'
        END AS problem
        FROM accounts_old_accounts o
        JOIN accounts_new_accounts n ON n.id = o.id
        LEFT JOIN LATERAL (
            SELECT account_version, balance_after, transfer_id FROM accounts_transaction
            WHERE account_id = n.id
            ORDER BY account_version DESC LIMIT 1
        ) l ON true
        """,
    ),
    "DROP TRIGGER IF EXISTS accounts_account_update_check ON accounts_account",
    """
    CREATE TRIGGER accounts_account_update_check AFTER UPDATE ON accounts_account
    REFERENCING OLD TABLE AS accounts_old_accounts NEW TABLE AS accounts_new_accounts
    FOR EACH STATEMENT EXECUTE FUNCTION accounts_account_update_check()
    """,
    # T5
    f"""
    CREATE OR REPLACE FUNCTION accounts_transfer_complete() RETURNS trigger
    LANGUAGE plpgsql SET enable_seqscan = off {_PG_SEARCH_PATH} AS $$
    BEGIN
        IF accounts_ledger_unlocked() THEN RETURN NULL; END IF;
        IF (SELECT count(*) FROM accounts_transaction
            WHERE transfer_id = NEW.id AND leg_index BETWEEN 1 AND NEW.leg_count)
                <> NEW.leg_count THEN
            {_PG_RAISE} 'accounts: transfer ' || NEW.reference
                || ' was committed without all of its legs';
        END IF;
        RETURN NULL;
    END $$
    """,
    "DROP TRIGGER IF EXISTS accounts_transfer_complete ON accounts_transfer",
    """
    CREATE CONSTRAINT TRIGGER accounts_transfer_complete AFTER INSERT ON accounts_transfer
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION accounts_transfer_complete()
    """,
]

POSTGRESQL_REVERSE = [
    "DROP TRIGGER IF EXISTS accounts_transfer_complete ON accounts_transfer",
    "DROP TRIGGER IF EXISTS accounts_account_update_check ON accounts_account",
    "DROP TRIGGER IF EXISTS accounts_account_insert_check ON accounts_account",
    "DROP TRIGGER IF EXISTS accounts_account_check ON accounts_account",
    "DROP TRIGGER IF EXISTS accounts_transaction_check ON accounts_transaction",
    "DROP TRIGGER IF EXISTS accounts_transaction_guard ON accounts_transaction",
    "DROP TRIGGER IF EXISTS accounts_transfer_guard ON accounts_transfer",
    "DROP TRIGGER IF EXISTS accounts_transaction_no_truncate ON accounts_transaction",
    "DROP TRIGGER IF EXISTS accounts_transfer_no_truncate ON accounts_transfer",
    "DROP FUNCTION IF EXISTS accounts_truncate_guard()",
    "DROP FUNCTION IF EXISTS accounts_transfer_complete()",
    "DROP FUNCTION IF EXISTS accounts_account_update_check()",
    "DROP FUNCTION IF EXISTS accounts_account_insert_check()",
    "DROP FUNCTION IF EXISTS accounts_account_check()",
    "DROP FUNCTION IF EXISTS accounts_transaction_check()",
    "DROP FUNCTION IF EXISTS accounts_transaction_guard()",
    "DROP FUNCTION IF EXISTS accounts_transfer_guard()",
    "DROP FUNCTION IF EXISTS accounts_ledger_unlocked()",
]


# -- MariaDB / MySQL ---------------------------------------------------------------------------

# Inside a trigger CURRENT_USER() is the trigger's definer (the role that ran the migrations)
# and USER() the client: any client can set the variable, but only the definer unlocks.
_MY_LOCKED = (
    "(COALESCE(@accounts_ledger_unlocked, 0) <> 1 "
    "OR SUBSTRING_INDEX(USER(), '@', 1) <> SUBSTRING_INDEX(CURRENT_USER(), '@', 1))"
)


def _my_raise(message: str) -> str:
    # Errno 4025 (a failed CHECK) makes Django raise IntegrityError, as the other backends do.
    text = message.replace("'", "''")
    return f"SIGNAL SQLSTATE '23000' SET MESSAGE_TEXT = '{text}', MYSQL_ERRNO = 4025;"


_MY_TRANSFER_CHANGED = " OR ".join(f"NOT (NEW.{c} <=> OLD.{c})" for c in TRANSFER_COLUMNS)


def _my_checks(table: str, rules: tuple[tuple[str, str, str], ...]) -> str:
    """IF blocks refusing what ``table``'s CHECK constraints refuse (T7), each named after one."""
    return "\n".join(
        f"IF {condition} THEN {_my_raise(f'accounts: {rule} (accounts_{table}_{name})')} END IF;"
        for condition, rule, name in rules
    )


#: The legs' CHECK constraints again (see T7 below), for the leg check.
_MY_LEG_CHECKS = _my_checks(
    "transaction",
    (
        ("NEW.amount = 0", "a leg moves money", "amount_not_zero"),
        ("NEW.account_version < 1", "versions start at 1", "version_positive"),
        ("NEW.leg_index < 1", "leg indexes start at 1", "leg_index_positive"),
    ),
)
#: The accounts' CHECK constraints again (see T7 below), for the insert and update checks. Each
#: refusal names the constraint it stands in for, as the constraint's own error would.
_MY_ACCOUNT_CHECKS = _my_checks(
    "account",
    (
        ("NEW.credit_limit < 0", "a credit limit is not negative", "credit_limit_not_negative"),
        (
            "NEW.balance < -NEW.credit_limit",
            "a balance stays within its credit limit",
            "within_credit_limit",
        ),
        ("NEW.version < 0", "a version is not negative", "version_not_negative"),
        (
            "NEW.is_card AND (NEW.kind <> 'liability' OR NEW.credit_limit IS NULL)",
            "a card is a liability with a credit limit",
            "card_is_limited_liability",
        ),
        (
            "NEW.is_card AND NEW.code LIKE 'CORE-%'",
            "a core account is never a card",
            "core_is_not_card",
        ),
    ),
)


MYSQL = [
    # T1
    "DROP TRIGGER IF EXISTS accounts_transfer_no_update",
    f"""
    CREATE TRIGGER accounts_transfer_no_update BEFORE UPDATE ON accounts_transfer
    FOR EACH ROW BEGIN
        IF {_MY_LOCKED} AND ({_MY_TRANSFER_CHANGED}
                OR (NEW.user_id IS NOT NULL AND NOT (NEW.user_id <=> OLD.user_id))) THEN
            {_my_raise("accounts: transfers are append-only; post a correcting transfer")}
        END IF;
    END
    """,
    "DROP TRIGGER IF EXISTS accounts_transfer_no_delete",
    f"""
    CREATE TRIGGER accounts_transfer_no_delete BEFORE DELETE ON accounts_transfer
    FOR EACH ROW BEGIN
        IF {_MY_LOCKED} THEN
            {_my_raise("accounts: transfers are append-only and cannot be deleted")}
        END IF;
    END
    """,
    # T2
    "DROP TRIGGER IF EXISTS accounts_transaction_no_update",
    f"""
    CREATE TRIGGER accounts_transaction_no_update BEFORE UPDATE ON accounts_transaction
    FOR EACH ROW BEGIN
        IF {_MY_LOCKED} THEN
            {_my_raise("accounts: legs are append-only and cannot be changed")}
        END IF;
    END
    """,
    "DROP TRIGGER IF EXISTS accounts_transaction_no_delete",
    f"""
    CREATE TRIGGER accounts_transaction_no_delete BEFORE DELETE ON accounts_transaction
    FOR EACH ROW BEGIN
        IF {_MY_LOCKED} THEN
            {_my_raise("accounts: legs are append-only and cannot be deleted")}
        END IF;
    END
    """,
    # T3
    "DROP TRIGGER IF EXISTS accounts_transaction_check",
    f"""
    CREATE TRIGGER accounts_transaction_check AFTER INSERT ON accounts_transaction
    FOR EACH ROW BEGIN
        DECLARE v_kind VARCHAR(16);
        DECLARE v_currency VARCHAR(3);
        DECLARE v_version BIGINT;
        DECLARE v_legs_expected BIGINT;
        DECLARE v_previous DECIMAL(30, 8);
        DECLARE v_previous_at DATETIME(6);
        IF {_MY_LOCKED} THEN
            -- The legs' CHECK constraints again: a session may switch CHECKs off (T7).
            {_MY_LEG_CHECKS}
            -- One lookup per row read; a missing row leaves the variables NULL.
            SELECT kind, currency, version INTO v_kind, v_currency, v_version
            FROM accounts_account WHERE id = NEW.account_id;
            IF v_kind IS NULL THEN
                {_my_raise("accounts: leg on an account that does not exist")}
            END IF;
            IF NEW.currency <> v_currency THEN
                {_my_raise("accounts: a leg must be in its account's currency")}
            END IF;
            IF EXISTS (SELECT 1 FROM accounts_account WHERE parent_id = NEW.account_id) THEN
                {_my_raise("accounts: an account with children cannot receive legs")}
            END IF;
            SET v_legs_expected = (
                SELECT leg_count FROM accounts_transfer WHERE id = NEW.transfer_id);
            IF v_legs_expected IS NULL OR NEW.leg_index > v_legs_expected THEN
                {_my_raise("accounts: leg beyond its transfer's leg_count")}
            END IF;
            IF NEW.account_version <= v_version THEN
                {_my_raise("accounts: leg version is not newer than its account")}
            END IF;
            IF NEW.account_version = 1 THEN
                SET v_previous = 0;
            ELSE
                SELECT balance_after, created_at INTO v_previous, v_previous_at
                FROM accounts_transaction
                WHERE account_id = NEW.account_id AND account_version = NEW.account_version - 1;
                IF v_previous IS NULL THEN
                    {_my_raise("accounts: leg skips a version of its account")}
                END IF;
            END IF;
            IF NOT (NEW.backdated <=> COALESCE(NEW.created_at < v_previous_at, 0)) THEN
                {_my_raise("accounts: backdated must say whether the leg predates the one before")}
            END IF;
            IF NEW.balance_after <> v_previous
                    + (CASE WHEN v_kind IN {_DEBIT_NORMAL} THEN -1 ELSE 1 END) * NEW.amount
            THEN
                {_my_raise("accounts: balance_after does not follow from the previous leg")}
            END IF;
            IF NEW.leg_index = v_legs_expected THEN
                IF (SELECT COUNT(*) FROM accounts_transaction
                    WHERE transfer_id = NEW.transfer_id) <> v_legs_expected THEN
                    {_my_raise("accounts: transfer posted without all of its legs")}
                END IF;
                IF EXISTS (SELECT currency FROM accounts_transaction
                           WHERE transfer_id = NEW.transfer_id
                           GROUP BY currency HAVING SUM(amount) <> 0) THEN
                    {_my_raise("accounts: a transfer's legs must sum to zero in each currency")}
                END IF;
            END IF;
        END IF;
    END
    """,
    # T4
    "DROP TRIGGER IF EXISTS accounts_account_insert_check",
    f"""
    CREATE TRIGGER accounts_account_insert_check BEFORE INSERT ON accounts_account
    FOR EACH ROW BEGIN
        IF {_MY_LOCKED} THEN
            {_MY_ACCOUNT_CHECKS}
            IF NEW.balance <> 0 OR NEW.version <> 0 THEN
                {_my_raise("accounts: a new account starts with balance 0 and version 0")}
            END IF;
            IF NEW.parent_id IS NOT NULL AND EXISTS (
                    SELECT 1 FROM accounts_account WHERE id = NEW.parent_id AND version > 0) THEN
                {_my_raise("accounts: an account with legs cannot become a parent")}
            END IF;
        END IF;
    END
    """,
    "DROP TRIGGER IF EXISTS accounts_account_update_check",
    f"""
    CREATE TRIGGER accounts_account_update_check BEFORE UPDATE ON accounts_account
    FOR EACH ROW BEGIN
        DECLARE v_balance_after DECIMAL(30, 8);
        DECLARE v_transfer BIGINT;
        IF {_MY_LOCKED} THEN
            {_MY_ACCOUNT_CHECKS}
            IF OLD.version > 0 AND (NEW.kind <> OLD.kind OR NEW.currency <> OLD.currency) THEN
                {_my_raise("accounts: kind and currency are fixed once an account has legs")}
            END IF;
            IF OLD.status = 'closed' AND NEW.status <> 'closed' THEN
                {_my_raise("accounts: a closed account stays closed")}
            END IF;
            IF NOT (NEW.balance <=> OLD.balance) OR NEW.version <> OLD.version THEN
                IF NEW.version <= OLD.version THEN
                    {_my_raise("accounts: a balance changes only by posting legs")}
                END IF;
                SELECT balance_after, transfer_id INTO v_balance_after, v_transfer
                FROM accounts_transaction
                WHERE account_id = NEW.id AND account_version = NEW.version;
                IF v_balance_after IS NULL OR v_balance_after <> NEW.balance THEN
                    {_my_raise("accounts: the balance must equal the balance after its last leg")}
                END IF;
                IF EXISTS (SELECT 1 FROM accounts_transaction
                           WHERE account_id = NEW.id AND account_version = NEW.version + 1) THEN
                    {_my_raise("accounts: the balance must include every leg of the account")}
                END IF;
                IF NOT EXISTS (
                        SELECT 1 FROM accounts_transaction l
                        JOIN accounts_transfer t ON t.id = l.transfer_id
                        WHERE l.transfer_id = v_transfer AND l.leg_index = t.leg_count) THEN
                    {_my_raise("accounts: the balance includes an incomplete transfer")}
                END IF;
            END IF;
            IF NEW.parent_id IS NOT NULL AND NOT (NEW.parent_id <=> OLD.parent_id) AND EXISTS (
                    SELECT 1 FROM accounts_account WHERE id = NEW.parent_id AND version > 0) THEN
                {_my_raise("accounts: an account with legs cannot become a parent")}
            END IF;
        END IF;
    END
    """,
]

#: The transfers' CHECK constraints again (T7).
_MY_TRANSFER_CHECKS = _my_checks(
    "transfer",
    (
        ("NOT (NEW.amount > 0)", "a transfer moves a positive amount", "amount_positive"),
        ("NEW.leg_count < 2", "a transfer has two legs or more", "at_least_two_legs"),
        (
            "NEW.source_id = NEW.destination_id",
            "a transfer is between different accounts",
            "source_not_destination",
        ),
    ),
)

MYSQL.extend(
    [
        # T7 (MariaDB/MySQL): what a CHECK or a foreign key refuses elsewhere, refused again here,
        # because any session may ``SET check_constraint_checks = 0`` or ``foreign_key_checks
        # = 0``, and triggers run whatever those say.
        "DROP TRIGGER IF EXISTS accounts_transfer_insert_check",
        f"""
        CREATE TRIGGER accounts_transfer_insert_check BEFORE INSERT ON accounts_transfer
        FOR EACH ROW BEGIN
            IF {_MY_LOCKED} THEN
                {_MY_TRANSFER_CHECKS}
            END IF;
        END
        """,
        "DROP TRIGGER IF EXISTS accounts_account_no_delete",
        f"""
        CREATE TRIGGER accounts_account_no_delete BEFORE DELETE ON accounts_account
        FOR EACH ROW BEGIN
            IF {_MY_LOCKED} AND OLD.version > 0 THEN
                {_my_raise("accounts: an account with legs cannot be deleted")}
            END IF;
        END
        """,
    ]
)

MYSQL_REVERSE = [
    f"DROP TRIGGER IF EXISTS {name}"
    for name in (
        "accounts_transfer_insert_check",
        "accounts_account_no_delete",
        "accounts_transfer_no_update",
        "accounts_transfer_no_delete",
        "accounts_transaction_no_update",
        "accounts_transaction_no_delete",
        "accounts_transaction_check",
        "accounts_account_insert_check",
        "accounts_account_update_check",
    )
]


# -- SQLite ------------------------------------------------------------------------------------


def _sq_raise(message: str, condition: str) -> str:
    text = message.replace("'", "''")
    return f"SELECT RAISE(ABORT, '{text}') WHERE {condition};"


_SQ_LOCKED = "NOT accounts_ledger_unlocked()"
_SQ_EQ = f"< {SQLITE_TOLERANCE}"
_SQ_TRANSFER_CHANGED = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in TRANSFER_COLUMNS)
_SQ_KIND_SIGN = (
    "(CASE WHEN (SELECT kind FROM accounts_account WHERE id = NEW.account_id) "
    f"IN {_DEBIT_NORMAL} THEN -1 ELSE 1 END)"
)
_SQ_PREVIOUS = (
    "(CASE WHEN NEW.account_version = 1 THEN 0 ELSE (SELECT balance_after "
    "FROM accounts_transaction WHERE account_id = NEW.account_id "
    "AND account_version = NEW.account_version - 1) END)"
)
_SQ_BACKDATED = (
    "NEW.backdated IS NOT COALESCE(NEW.created_at < (SELECT created_at "
    "FROM accounts_transaction WHERE account_id = NEW.account_id "
    "AND account_version = NEW.account_version - 1), 0)"
)
_SQ_REOPENED = "OLD.status = 'closed' AND NEW.status <> 'closed'"
_SQ_LAST_LEG = (
    "NEW.leg_index = (SELECT leg_count FROM accounts_transfer WHERE id = NEW.transfer_id)"
)
_SQ_BALANCE_MOVED = "(NEW.balance IS NOT OLD.balance OR NEW.version <> OLD.version)"

SQLITE = [
    # T1
    "DROP TRIGGER IF EXISTS accounts_transfer_no_update",
    f"""
    CREATE TRIGGER accounts_transfer_no_update BEFORE UPDATE ON accounts_transfer
    WHEN {_SQ_LOCKED} AND ({_SQ_TRANSFER_CHANGED}
        OR (NEW.user_id IS NOT NULL AND NEW.user_id IS NOT OLD.user_id))
    BEGIN
        {_sq_raise("accounts: transfers are append-only; post a correcting transfer", "1")}
    END
    """,
    "DROP TRIGGER IF EXISTS accounts_transfer_no_delete",
    f"""
    CREATE TRIGGER accounts_transfer_no_delete BEFORE DELETE ON accounts_transfer
    WHEN {_SQ_LOCKED}
    BEGIN
        {_sq_raise("accounts: transfers are append-only and cannot be deleted", "1")}
    END
    """,
    # T2
    "DROP TRIGGER IF EXISTS accounts_transaction_no_update",
    f"""
    CREATE TRIGGER accounts_transaction_no_update BEFORE UPDATE ON accounts_transaction
    WHEN {_SQ_LOCKED}
    BEGIN
        {_sq_raise("accounts: legs are append-only and cannot be changed", "1")}
    END
    """,
    "DROP TRIGGER IF EXISTS accounts_transaction_no_delete",
    f"""
    CREATE TRIGGER accounts_transaction_no_delete BEFORE DELETE ON accounts_transaction
    WHEN {_SQ_LOCKED}
    BEGIN
        {_sq_raise("accounts: legs are append-only and cannot be deleted", "1")}
    END
    """,
    # T3
    "DROP TRIGGER IF EXISTS accounts_transaction_check",
    f"""
    CREATE TRIGGER accounts_transaction_check AFTER INSERT ON accounts_transaction
    WHEN {_SQ_LOCKED}
    BEGIN
        {
        _sq_raise(
            "accounts: leg on an account that does not exist",
            "NOT EXISTS (SELECT 1 FROM accounts_account WHERE id = NEW.account_id)",
        )
    }
        {
        _sq_raise(
            "accounts: a leg must be in its account's currency",
            "NEW.currency IS NOT (SELECT currency FROM accounts_account WHERE id = NEW.account_id)",
        )
    }
        {
        _sq_raise(
            "accounts: an account with children cannot receive legs",
            "EXISTS (SELECT 1 FROM accounts_account WHERE parent_id = NEW.account_id)",
        )
    }
        {
        _sq_raise(
            "accounts: leg beyond its transfer's leg_count",
            "NEW.leg_index > COALESCE((SELECT leg_count FROM accounts_transfer "
            "WHERE id = NEW.transfer_id), 0)",
        )
    }
        {
        _sq_raise(
            "accounts: leg version is not newer than its account",
            "NEW.account_version <= (SELECT version FROM accounts_account "
            "WHERE id = NEW.account_id)",
        )
    }
        {_sq_raise("accounts: leg skips a version of its account", f"{_SQ_PREVIOUS} IS NULL")}
        {
        _sq_raise(
            "accounts: backdated must say whether the leg predates the one before", _SQ_BACKDATED
        )
    }
        {
        _sq_raise(
            "accounts: balance_after does not follow from the previous leg",
            f"NOT ABS(NEW.balance_after - ({_SQ_PREVIOUS} + {_SQ_KIND_SIGN} * NEW.amount))"
            f" {_SQ_EQ}",
        )
    }
        {
        _sq_raise(
            "accounts: transfer posted without all of its legs",
            f"{_SQ_LAST_LEG} AND (SELECT COUNT(*) FROM accounts_transaction "
            "WHERE transfer_id = NEW.transfer_id) <> NEW.leg_index",
        )
    }
        {
        _sq_raise(
            "accounts: the legs of a transfer must sum to zero in each currency",
            f"{_SQ_LAST_LEG} AND EXISTS (SELECT 1 FROM accounts_transaction "
            "WHERE transfer_id = NEW.transfer_id GROUP BY currency "
            f"HAVING NOT ABS(SUM(amount)) {_SQ_EQ})",
        )
    }
    END
    """,
    # T4
    "DROP TRIGGER IF EXISTS accounts_account_insert_check",
    f"""
    CREATE TRIGGER accounts_account_insert_check BEFORE INSERT ON accounts_account
    WHEN {_SQ_LOCKED}
    BEGIN
        {
        _sq_raise(
            "accounts: a new account starts with balance 0 and version 0",
            "NEW.balance <> 0 OR NEW.version <> 0",
        )
    }
        {
        _sq_raise(
            "accounts: an account with legs cannot become a parent",
            "NEW.parent_id IS NOT NULL AND EXISTS (SELECT 1 FROM accounts_account "
            "WHERE id = NEW.parent_id AND version > 0)",
        )
    }
    END
    """,
    "DROP TRIGGER IF EXISTS accounts_account_update_check",
    f"""
    CREATE TRIGGER accounts_account_update_check BEFORE UPDATE ON accounts_account
    WHEN {_SQ_LOCKED}
    BEGIN
        {
        _sq_raise(
            "accounts: kind and currency are fixed once an account has legs",
            "OLD.version > 0 AND (NEW.kind IS NOT OLD.kind OR NEW.currency IS NOT OLD.currency)",
        )
    }
        {_sq_raise("accounts: a closed account stays closed", _SQ_REOPENED)}
        {
        _sq_raise(
            "accounts: a balance changes only by posting legs",
            f"{_SQ_BALANCE_MOVED} AND NEW.version <= OLD.version",
        )
    }
        {
        _sq_raise(
            "accounts: the balance must equal the balance after its last leg",
            f"{_SQ_BALANCE_MOVED} AND NOT EXISTS (SELECT 1 FROM accounts_transaction "
            "WHERE account_id = NEW.id AND account_version = NEW.version "
            f"AND ABS(balance_after - NEW.balance) {_SQ_EQ})",
        )
    }
        {
        _sq_raise(
            "accounts: the balance must include every leg of the account",
            f"{_SQ_BALANCE_MOVED} AND EXISTS (SELECT 1 FROM accounts_transaction "
            "WHERE account_id = NEW.id AND account_version = NEW.version + 1)",
        )
    }
        {
        _sq_raise(
            "accounts: the balance includes an incomplete transfer",
            f"{_SQ_BALANCE_MOVED} AND NOT EXISTS (SELECT 1 FROM accounts_transaction l "
            "JOIN accounts_transfer t ON t.id = l.transfer_id "
            "JOIN accounts_transaction last ON last.transfer_id = t.id "
            "AND last.leg_index = t.leg_count "
            "WHERE l.account_id = NEW.id AND l.account_version = NEW.version)",
        )
    }
        {
        _sq_raise(
            "accounts: an account with legs cannot become a parent",
            "NEW.parent_id IS NOT NULL AND NEW.parent_id IS NOT OLD.parent_id "
            "AND EXISTS (SELECT 1 FROM accounts_account "
            "WHERE id = NEW.parent_id AND version > 0)",
        )
    }
    END
    """,
]

SQLITE_REVERSE = [stmt for stmt in MYSQL_REVERSE]

_BY_VENDOR = {
    "postgresql": (POSTGRESQL, POSTGRESQL_REVERSE),
    "mysql": (MYSQL, MYSQL_REVERSE),
    "sqlite": (SQLITE, SQLITE_REVERSE),
}


# -- T6: the audit trail is append-only ----------------------------------------------------------
#
# Installed by migration 0008, which creates the table, apart from T1-T5: the migrations before
# it install those and must not meet a table that does not exist yet.

#: Columns of accounts_auditentry other than user_id, which only the user's deletion may change.
AUDIT_COLUMNS = (
    "id",
    "action",
    "account_id",
    "transfer_id",
    "username",
    "surface",
    "reason",
    "changes",
    "created_at",
)
_MY_AUDIT_CHANGED = " OR ".join(f"NOT (NEW.{c} <=> OLD.{c})" for c in AUDIT_COLUMNS)
_SQ_AUDIT_CHANGED = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in AUDIT_COLUMNS)

AUDIT = {
    "postgresql": (
        [
            f"""
            CREATE OR REPLACE FUNCTION accounts_audit_guard() RETURNS trigger
            LANGUAGE plpgsql {_PG_SEARCH_PATH} AS $$
            DECLARE expected accounts_auditentry;
            BEGIN
                IF accounts_ledger_unlocked() THEN
                    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
                    RETURN NEW;
                END IF;
                IF TG_OP = 'DELETE' THEN
                    {_PG_RAISE} 'accounts: audit entries are append-only and cannot be deleted';
                END IF;
                expected := OLD;
                expected.user_id := NEW.user_id;
                IF (NEW.user_id IS NOT NULL AND NEW.user_id IS DISTINCT FROM OLD.user_id)
                        OR NEW IS DISTINCT FROM expected THEN
                    {_PG_RAISE} 'accounts: audit entries are append-only and cannot be changed';
                END IF;
                RETURN NEW;
            END $$
            """,
            "DROP TRIGGER IF EXISTS accounts_audit_guard ON accounts_auditentry",
            """
            CREATE TRIGGER accounts_audit_guard BEFORE UPDATE OR DELETE ON accounts_auditentry
            FOR EACH ROW EXECUTE FUNCTION accounts_audit_guard()
            """,
            "DROP TRIGGER IF EXISTS accounts_audit_no_truncate ON accounts_auditentry",
            """
            CREATE TRIGGER accounts_audit_no_truncate BEFORE TRUNCATE ON accounts_auditentry
            FOR EACH STATEMENT EXECUTE FUNCTION accounts_truncate_guard()
            """,
        ],
        [
            "DROP TRIGGER IF EXISTS accounts_audit_no_truncate ON accounts_auditentry",
            "DROP TRIGGER IF EXISTS accounts_audit_guard ON accounts_auditentry",
            "DROP FUNCTION IF EXISTS accounts_audit_guard()",
        ],
    ),
    "mysql": (
        [
            "DROP TRIGGER IF EXISTS accounts_audit_no_update",
            f"""
            CREATE TRIGGER accounts_audit_no_update BEFORE UPDATE ON accounts_auditentry
            FOR EACH ROW BEGIN
                IF {_MY_LOCKED} AND ({_MY_AUDIT_CHANGED}
                        OR (NEW.user_id IS NOT NULL AND NOT (NEW.user_id <=> OLD.user_id))) THEN
                    {_my_raise("accounts: audit entries are append-only and cannot be changed")}
                END IF;
            END
            """,
            "DROP TRIGGER IF EXISTS accounts_audit_no_delete",
            f"""
            CREATE TRIGGER accounts_audit_no_delete BEFORE DELETE ON accounts_auditentry
            FOR EACH ROW BEGIN
                IF {_MY_LOCKED} THEN
                    {_my_raise("accounts: audit entries are append-only and cannot be deleted")}
                END IF;
            END
            """,
        ],
        [
            "DROP TRIGGER IF EXISTS accounts_audit_no_update",
            "DROP TRIGGER IF EXISTS accounts_audit_no_delete",
        ],
    ),
    "sqlite": (
        [
            "DROP TRIGGER IF EXISTS accounts_audit_no_update",
            f"""
            CREATE TRIGGER accounts_audit_no_update BEFORE UPDATE ON accounts_auditentry
            WHEN {_SQ_LOCKED} AND ({_SQ_AUDIT_CHANGED}
                OR (NEW.user_id IS NOT NULL AND NEW.user_id IS NOT OLD.user_id))
            BEGIN
                {_sq_raise("accounts: audit entries are append-only and cannot be changed", "1")}
            END
            """,
            "DROP TRIGGER IF EXISTS accounts_audit_no_delete",
            f"""
            CREATE TRIGGER accounts_audit_no_delete BEFORE DELETE ON accounts_auditentry
            WHEN {_SQ_LOCKED}
            BEGIN
                {_sq_raise("accounts: audit entries are append-only and cannot be deleted", "1")}
            END
            """,
        ],
        [
            "DROP TRIGGER IF EXISTS accounts_audit_no_update",
            "DROP TRIGGER IF EXISTS accounts_audit_no_delete",
        ],
    ),
}
#: The frozen versions of the rules a fully migrated database carries (their SQL is in
#: ``accounts/migrations/sql/``): T1-T5 and T7, then T6. The lists above are where the next
#: version is written; ``tests/integrity/test_integrity.py`` checks that they still match these,
#: so an edit cannot reach a database without a new frozen version and a migration that
#: installs it.
LEDGER_VERSION = "0007"
AUDIT_VERSION = "0008"
#: The migration that creates the audit trail and installs T6.
AUDIT_MIGRATION = ("accounts", "0008_audit_trail")


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
    triggers of an earlier shape, which :func:`install` replaces. Returns whether anything was
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
    if installed_trigger_count(connection) == expected_trigger_count(
        connection.vendor, with_audit=with_audit
    ):
        return False
    # A plain cursor, not a schema editor: SQLite's refuses to run inside a transaction.
    versions = [LEDGER_VERSION, AUDIT_VERSION] if with_audit else [LEDGER_VERSION]
    with connection.cursor() as cursor:
        for version in versions:
            for sql in frozen_sql.statements(version, connection.vendor):
                cursor.execute(frozen_sql.render(connection, sql))
    return True


def expected_trigger_count(vendor: str, *, with_audit: bool = True) -> int:
    """How many triggers a fully migrated database holds (without T6: before migration 0008)."""
    ledger = {"postgresql": 8, "mysql": 9, "sqlite": 7}.get(vendor, 0)
    audit = {"postgresql": 2, "mysql": 2, "sqlite": 2}.get(vendor, 0)
    return ledger + (audit if with_audit else 0)
