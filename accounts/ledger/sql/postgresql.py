"""PostgreSQL's SQL: the posting's one statement, and the triggers T1-T5 (``TRIGGERS``, undone
by ``REVERSE``) and T6 (``AUDIT``).

A posting's three writes travel as one statement (:func:`posting_statement`): PostgreSQL runs
INSERTs and UPDATEs inside ``WITH``, so that is two round trips fewer while the accounts are
locked. The triggers run after the whole statement and see all of it.

T3 and the update half of T4 are statement triggers, checking a statement's rows from its
transition tables with one query (:func:`_pg_statement_check`).
"""

from __future__ import annotations

from accounts.ledger.sql.common import DEBIT_NORMAL
from accounts.migrations.sql import SCHEMA_PLACEHOLDER

#: Whether a posting's writes are one statement here (see :func:`posting_statement`).
WRITES_IN_ONE_STATEMENT = True


def posting_statement(
    *,
    transfer_insert: str,
    transfer_key: str,
    leg_table: str,
    leg_columns: list[str],
    leg_casts: list[str],
    legs: int,
    balances_update: str,
) -> str:
    """The three writes in one statement: WITH the transfer's INSERT (``transfer_insert``,
    returning ``transfer_key``), its legs' INSERT taking the new key from the first, and the
    balances' UPDATE (``balances_update``). Each leg's values but the first (the transfer's key)
    are cast to their column's type, as ``VALUES`` alone would not type them.
    """
    names = [f"v{i}" for i in range(1, len(leg_columns))]
    row = "(" + ", ".join(f"CAST(%s AS {cast})" for cast in leg_casts) + ")"
    return (
        f"WITH new_transfer AS ({transfer_insert}), "
        f"new_legs AS (INSERT INTO {leg_table} ({', '.join(leg_columns)}) "
        f"SELECT new_transfer.{transfer_key}, {', '.join(names)} "
        f"FROM new_transfer, (VALUES {', '.join([row] * legs)}) AS leg ({', '.join(names)})), "
        f"moved AS ({balances_update}) "
        f"SELECT {transfer_key} FROM new_transfer"
    )


_PG_RAISE = "RAISE EXCEPTION USING ERRCODE = 'check_violation', MESSAGE = "
#: Every function looks names up in the ledger's schema only, with the caller's temporary tables
#: last: by default any role may create a temporary ``accounts_transaction`` that a function
#: using the caller's ``search_path`` would read instead of the ledger's. The placeholder is
#: filled in from ``current_schema()`` when the SQL is run (``accounts/migrations/sql``).
_PG_SEARCH_PATH = f"SET search_path = pg_catalog, {SCHEMA_PLACEHOLDER}, pg_temp"


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


TRIGGERS = [
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
                + (CASE WHEN a.kind IN {DEBIT_NORMAL} THEN -1 ELSE 1 END) * n.amount
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

REVERSE = [
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


# -- T6: the audit trail is append-only --------------------------------------------------------
#
# Installed by migration 0008, which creates the table, apart from the other rules: the
# migrations before it install those and must not meet a table that does not exist yet.

AUDIT = [
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
]

AUDIT_REVERSE = [
    "DROP TRIGGER IF EXISTS accounts_audit_no_truncate ON accounts_auditentry",
    "DROP TRIGGER IF EXISTS accounts_audit_guard ON accounts_auditentry",
    "DROP FUNCTION IF EXISTS accounts_audit_guard()",
]


# -- T8: closed periods ------------------------------------------------------------------------
#
# Installed by migration 0011, which creates the table of closings: no leg may be dated before
# the latest closing's end, closings are append-only, and each ends after the one before.

PERIODS = [
    _pg_statement_check(
        "accounts_period_leg_check",
        """
        SELECT CASE WHEN n.created_at < c.closed_until THEN
            'accounts: a leg may not be dated inside a closed period'
        END AS problem
        FROM accounts_new_period_legs n
        CROSS JOIN (SELECT max(closed_until) AS closed_until FROM accounts_closedperiod) c
        """,
    ),
    "DROP TRIGGER IF EXISTS accounts_transaction_period_check ON accounts_transaction",
    """
    CREATE TRIGGER accounts_transaction_period_check AFTER INSERT ON accounts_transaction
    REFERENCING NEW TABLE AS accounts_new_period_legs
    FOR EACH STATEMENT EXECUTE FUNCTION accounts_period_leg_check()
    """,
    f"""
    CREATE OR REPLACE FUNCTION accounts_period_guard() RETURNS trigger
    LANGUAGE plpgsql {_PG_SEARCH_PATH} AS $$
    BEGIN
        IF accounts_ledger_unlocked() THEN
            IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
            RETURN NEW;
        END IF;
        IF TG_OP <> 'INSERT' THEN
            {_PG_RAISE} 'accounts: closed periods stay closed';
        END IF;
        IF NEW.closed_until <= (SELECT max(closed_until) FROM accounts_closedperiod) THEN
            {_PG_RAISE} 'accounts: a closing must end after the one before';
        END IF;
        RETURN NEW;
    END $$
    """,
    "DROP TRIGGER IF EXISTS accounts_period_guard ON accounts_closedperiod",
    """
    CREATE TRIGGER accounts_period_guard BEFORE INSERT OR UPDATE OR DELETE
    ON accounts_closedperiod FOR EACH ROW EXECUTE FUNCTION accounts_period_guard()
    """,
]

PERIODS_REVERSE = [
    "DROP TRIGGER IF EXISTS accounts_period_guard ON accounts_closedperiod",
    "DROP TRIGGER IF EXISTS accounts_transaction_period_check ON accounts_transaction",
    "DROP FUNCTION IF EXISTS accounts_period_guard()",
    "DROP FUNCTION IF EXISTS accounts_period_leg_check()",
]
