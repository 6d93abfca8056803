"""MariaDB/MySQL's triggers: T1-T4 and T7 (``TRIGGERS``, undone by ``REVERSE``), T6 (``AUDIT``)."""

from __future__ import annotations

from accounts.ledger.sql.common import AUDIT_COLUMNS, DEBIT_NORMAL, TRANSFER_COLUMNS

#: MariaDB/MySQL cannot put an INSERT inside ``WITH``: a posting's three writes are three
#: statements here, through one cursor.
WRITES_IN_ONE_STATEMENT = False

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
        (
            f"NEW.credit_limit IS NOT NULL AND NEW.balance < (CASE WHEN NEW.kind IN "
            f"{DEBIT_NORMAL} THEN NEW.pending_credits ELSE NEW.pending_debits END) "
            "- NEW.credit_limit",
            "pending holds stay within the credit limit",
            "within_credit_limit_holds",
        ),
        (
            "NEW.pending_debits < 0 OR NEW.pending_credits < 0",
            "pending amounts are not negative",
            "pending_not_negative",
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


TRIGGERS = [
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
                    + (CASE WHEN v_kind IN {DEBIT_NORMAL} THEN -1 ELSE 1 END) * NEW.amount
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
        ("NEW.rate <= 0", "an exchange rate is positive", "rate_positive"),
    ),
)

TRIGGERS.extend(
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

_MY_AUDIT_CHANGED = " OR ".join(f"NOT (NEW.{c} <=> OLD.{c})" for c in AUDIT_COLUMNS)

AUDIT = [
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
]

AUDIT_REVERSE = [
    "DROP TRIGGER IF EXISTS accounts_audit_no_update",
    "DROP TRIGGER IF EXISTS accounts_audit_no_delete",
]


# -- T8: closed periods (migration 0011; the leg check's locking read, 0015) -------------------
#
# Each leg reads the latest closing with a shared lock, not a plain read: at READ COMMITTED a
# closing written but not committed is invisible to a plain read, and a posting would commit
# inside it. The locking read waits for that closing and then refuses the leg; a closing that
# comes second waits for the posting (see accounts.ledger.periods).

PERIODS = [
    "DROP TRIGGER IF EXISTS accounts_transaction_period_check",
    f"""
    CREATE TRIGGER accounts_transaction_period_check BEFORE INSERT ON accounts_transaction
    FOR EACH ROW BEGIN
        DECLARE v_until DATETIME(6) DEFAULT NULL;
        DECLARE CONTINUE HANDLER FOR NOT FOUND SET v_until = NULL;
        IF {_MY_LOCKED} THEN
            SELECT closed_until INTO v_until FROM accounts_closedperiod
                ORDER BY closed_until DESC LIMIT 1 LOCK IN SHARE MODE;
            IF NEW.created_at < v_until THEN
                {_my_raise("accounts: a leg may not be dated inside a closed period")}
            END IF;
        END IF;
    END
    """,
    "DROP TRIGGER IF EXISTS accounts_period_insert_check",
    f"""
    CREATE TRIGGER accounts_period_insert_check BEFORE INSERT ON accounts_closedperiod
    FOR EACH ROW BEGIN
        IF {_MY_LOCKED} AND NEW.closed_until <= (
                SELECT MAX(closed_until) FROM accounts_closedperiod) THEN
            {_my_raise("accounts: a closing must end after the one before")}
        END IF;
    END
    """,
    "DROP TRIGGER IF EXISTS accounts_period_no_update",
    f"""
    CREATE TRIGGER accounts_period_no_update BEFORE UPDATE ON accounts_closedperiod
    FOR EACH ROW BEGIN
        IF {_MY_LOCKED} THEN
            {_my_raise("accounts: closed periods stay closed")}
        END IF;
    END
    """,
    "DROP TRIGGER IF EXISTS accounts_period_no_delete",
    f"""
    CREATE TRIGGER accounts_period_no_delete BEFORE DELETE ON accounts_closedperiod
    FOR EACH ROW BEGIN
        IF {_MY_LOCKED} THEN
            {_my_raise("accounts: closed periods stay closed")}
        END IF;
    END
    """,
]

PERIODS_REVERSE = [
    "DROP TRIGGER IF EXISTS accounts_transaction_period_check",
    "DROP TRIGGER IF EXISTS accounts_period_insert_check",
    "DROP TRIGGER IF EXISTS accounts_period_no_update",
    "DROP TRIGGER IF EXISTS accounts_period_no_delete",
]
