"""SQLite's triggers: T1-T4 (``TRIGGERS``, undone by ``REVERSE``) and T6 (``AUDIT``).

The guard asks ``accounts_ledger_unlocked()``, a function :mod:`accounts.integrity` registers on
each connection.
"""

from __future__ import annotations

from accounts.ledger.sql.common import (
    AUDIT_COLUMNS,
    DEBIT_NORMAL,
    SQLITE_TOLERANCE,
    TRANSFER_COLUMNS,
)

#: SQLite cannot put an INSERT inside ``WITH``: a posting's three writes are three
#: statements here, through one cursor.
WRITES_IN_ONE_STATEMENT = False


def _sq_raise(message: str, condition: str) -> str:
    text = message.replace("'", "''")
    return f"SELECT RAISE(ABORT, '{text}') WHERE {condition};"


_SQ_LOCKED = "NOT accounts_ledger_unlocked()"
_SQ_EQ = f"< {SQLITE_TOLERANCE}"
_SQ_TRANSFER_CHANGED = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in TRANSFER_COLUMNS)
_SQ_KIND_SIGN = (
    "(CASE WHEN (SELECT kind FROM accounts_account WHERE id = NEW.account_id) "
    f"IN {DEBIT_NORMAL} THEN -1 ELSE 1 END)"
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

TRIGGERS = [
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
#: The same statements as MariaDB/MySQL's: the first two triggers exist only there, and dropping
#: them is harmless here.
REVERSE = [
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


# -- T6: the audit trail is append-only --------------------------------------------------------
#
# Installed by migration 0008, which creates the table, apart from the other rules: the
# migrations before it install those and must not meet a table that does not exist yet.

_SQ_AUDIT_CHANGED = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in AUDIT_COLUMNS)

AUDIT = [
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
]

AUDIT_REVERSE = [
    "DROP TRIGGER IF EXISTS accounts_audit_no_update",
    "DROP TRIGGER IF EXISTS accounts_audit_no_delete",
]


# -- T8: closed periods (migration 0011) -------------------------------------------------------
# Times are stored as UTC text of one fixed shape, so comparing them as text orders them.

PERIODS = [
    "DROP TRIGGER IF EXISTS accounts_transaction_period_check",
    f"""
    CREATE TRIGGER accounts_transaction_period_check BEFORE INSERT ON accounts_transaction
    WHEN {_SQ_LOCKED}
        AND NEW.created_at < (SELECT MAX(closed_until) FROM accounts_closedperiod)
    BEGIN
        {_sq_raise("accounts: a leg may not be dated inside a closed period", "1")}
    END
    """,
    "DROP TRIGGER IF EXISTS accounts_period_insert_check",
    f"""
    CREATE TRIGGER accounts_period_insert_check BEFORE INSERT ON accounts_closedperiod
    WHEN {_SQ_LOCKED}
        AND NEW.closed_until <= (SELECT MAX(closed_until) FROM accounts_closedperiod)
    BEGIN
        {_sq_raise("accounts: a closing must end after the one before", "1")}
    END
    """,
    "DROP TRIGGER IF EXISTS accounts_period_no_update",
    f"""
    CREATE TRIGGER accounts_period_no_update BEFORE UPDATE ON accounts_closedperiod
    WHEN {_SQ_LOCKED}
    BEGIN
        {_sq_raise("accounts: closed periods stay closed", "1")}
    END
    """,
    "DROP TRIGGER IF EXISTS accounts_period_no_delete",
    f"""
    CREATE TRIGGER accounts_period_no_delete BEFORE DELETE ON accounts_closedperiod
    WHEN {_SQ_LOCKED}
    BEGIN
        {_sq_raise("accounts: closed periods stay closed", "1")}
    END
    """,
]

PERIODS_REVERSE = [
    "DROP TRIGGER IF EXISTS accounts_transaction_period_check",
    "DROP TRIGGER IF EXISTS accounts_period_insert_check",
    "DROP TRIGGER IF EXISTS accounts_period_no_update",
    "DROP TRIGGER IF EXISTS accounts_period_no_delete",
]
