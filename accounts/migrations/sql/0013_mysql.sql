DROP TRIGGER IF EXISTS accounts_transfer_no_update
-- accounts: next statement
CREATE TRIGGER accounts_transfer_no_update BEFORE UPDATE ON accounts_transfer
FOR EACH ROW BEGIN
    IF (COALESCE(@accounts_ledger_unlocked, 0) <> 1 OR SUBSTRING_INDEX(USER(), '@', 1) <> SUBSTRING_INDEX(CURRENT_USER(), '@', 1)) AND (NOT (NEW.id <=> OLD.id) OR NOT (NEW.reference <=> OLD.reference) OR NOT (NEW.kind <=> OLD.kind) OR NOT (NEW.source_id <=> OLD.source_id) OR NOT (NEW.destination_id <=> OLD.destination_id) OR NOT (NEW.amount <=> OLD.amount) OR NOT (NEW.currency <=> OLD.currency) OR NOT (NEW.leg_count <=> OLD.leg_count) OR NOT (NEW.parent_id <=> OLD.parent_id) OR NOT (NEW.reverses_id <=> OLD.reverses_id) OR NOT (NEW.username <=> OLD.username) OR NOT (NEW.merchant_reference <=> OLD.merchant_reference) OR NOT (NEW.description <=> OLD.description) OR NOT (NEW.created_at <=> OLD.created_at) OR NOT (NEW.rate <=> OLD.rate)
            OR (NEW.user_id IS NOT NULL AND NOT (NEW.user_id <=> OLD.user_id))) THEN
        SIGNAL SQLSTATE '23000' SET MESSAGE_TEXT = 'accounts: transfers are append-only; post a correcting transfer', MYSQL_ERRNO = 4025;
    END IF;
END
-- accounts: next statement
DROP TRIGGER IF EXISTS accounts_transfer_no_delete
-- accounts: next statement
CREATE TRIGGER accounts_transfer_no_delete BEFORE DELETE ON accounts_transfer
FOR EACH ROW BEGIN
    IF (COALESCE(@accounts_ledger_unlocked, 0) <> 1 OR SUBSTRING_INDEX(USER(), '@', 1) <> SUBSTRING_INDEX(CURRENT_USER(), '@', 1)) THEN
        SIGNAL SQLSTATE '23000' SET MESSAGE_TEXT = 'accounts: transfers are append-only and cannot be deleted', MYSQL_ERRNO = 4025;
    END IF;
END
-- accounts: next statement
DROP TRIGGER IF EXISTS accounts_transaction_no_update
-- accounts: next statement
CREATE TRIGGER accounts_transaction_no_update BEFORE UPDATE ON accounts_transaction
FOR EACH ROW BEGIN
    IF (COALESCE(@accounts_ledger_unlocked, 0) <> 1 OR SUBSTRING_INDEX(USER(), '@', 1) <> SUBSTRING_INDEX(CURRENT_USER(), '@', 1)) THEN
        SIGNAL SQLSTATE '23000' SET MESSAGE_TEXT = 'accounts: legs are append-only and cannot be changed', MYSQL_ERRNO = 4025;
    END IF;
END
-- accounts: next statement
DROP TRIGGER IF EXISTS accounts_transaction_no_delete
-- accounts: next statement
CREATE TRIGGER accounts_transaction_no_delete BEFORE DELETE ON accounts_transaction
FOR EACH ROW BEGIN
    IF (COALESCE(@accounts_ledger_unlocked, 0) <> 1 OR SUBSTRING_INDEX(USER(), '@', 1) <> SUBSTRING_INDEX(CURRENT_USER(), '@', 1)) THEN
        SIGNAL SQLSTATE '23000' SET MESSAGE_TEXT = 'accounts: legs are append-only and cannot be deleted', MYSQL_ERRNO = 4025;
    END IF;
END
-- accounts: next statement
DROP TRIGGER IF EXISTS accounts_transaction_check
-- accounts: next statement
CREATE TRIGGER accounts_transaction_check AFTER INSERT ON accounts_transaction
    FOR EACH ROW BEGIN
        DECLARE v_kind VARCHAR(16);
        DECLARE v_currency VARCHAR(3);
        DECLARE v_version BIGINT;
        DECLARE v_legs_expected BIGINT;
        DECLARE v_previous DECIMAL(30, 8);
        DECLARE v_previous_at DATETIME(6);
        IF (COALESCE(@accounts_ledger_unlocked, 0) <> 1 OR SUBSTRING_INDEX(USER(), '@', 1) <> SUBSTRING_INDEX(CURRENT_USER(), '@', 1)) THEN
            -- The legs' CHECK constraints again: a session may switch CHECKs off (T7).
            IF NEW.amount = 0 THEN SIGNAL SQLSTATE '23000' SET MESSAGE_TEXT = 'accounts: a leg moves money (accounts_transaction_amount_not_zero)', MYSQL_ERRNO = 4025; END IF;
IF NEW.account_version < 1 THEN SIGNAL SQLSTATE '23000' SET MESSAGE_TEXT = 'accounts: versions start at 1 (accounts_transaction_version_positive)', MYSQL_ERRNO = 4025; END IF;
IF NEW.leg_index < 1 THEN SIGNAL SQLSTATE '23000' SET MESSAGE_TEXT = 'accounts: leg indexes start at 1 (accounts_transaction_leg_index_positive)', MYSQL_ERRNO = 4025; END IF;
            -- One lookup per row read; a missing row leaves the variables NULL.
            SELECT kind, currency, version INTO v_kind, v_currency, v_version
            FROM accounts_account WHERE id = NEW.account_id;
            IF v_kind IS NULL THEN
                SIGNAL SQLSTATE '23000' SET MESSAGE_TEXT = 'accounts: leg on an account that does not exist', MYSQL_ERRNO = 4025;
            END IF;
            IF NEW.currency <> v_currency THEN
                SIGNAL SQLSTATE '23000' SET MESSAGE_TEXT = 'accounts: a leg must be in its account''s currency', MYSQL_ERRNO = 4025;
            END IF;
            IF EXISTS (SELECT 1 FROM accounts_account WHERE parent_id = NEW.account_id) THEN
                SIGNAL SQLSTATE '23000' SET MESSAGE_TEXT = 'accounts: an account with children cannot receive legs', MYSQL_ERRNO = 4025;
            END IF;
            SET v_legs_expected = (
                SELECT leg_count FROM accounts_transfer WHERE id = NEW.transfer_id);
            IF v_legs_expected IS NULL OR NEW.leg_index > v_legs_expected THEN
                SIGNAL SQLSTATE '23000' SET MESSAGE_TEXT = 'accounts: leg beyond its transfer''s leg_count', MYSQL_ERRNO = 4025;
            END IF;
            IF NEW.account_version <= v_version THEN
                SIGNAL SQLSTATE '23000' SET MESSAGE_TEXT = 'accounts: leg version is not newer than its account', MYSQL_ERRNO = 4025;
            END IF;
            IF NEW.account_version = 1 THEN
                SET v_previous = 0;
            ELSE
                SELECT balance_after, created_at INTO v_previous, v_previous_at
                FROM accounts_transaction
                WHERE account_id = NEW.account_id AND account_version = NEW.account_version - 1;
                IF v_previous IS NULL THEN
                    SIGNAL SQLSTATE '23000' SET MESSAGE_TEXT = 'accounts: leg skips a version of its account', MYSQL_ERRNO = 4025;
                END IF;
            END IF;
            IF NOT (NEW.backdated <=> COALESCE(NEW.created_at < v_previous_at, 0)) THEN
                SIGNAL SQLSTATE '23000' SET MESSAGE_TEXT = 'accounts: backdated must say whether the leg predates the one before', MYSQL_ERRNO = 4025;
            END IF;
            IF NEW.balance_after <> v_previous
                    + (CASE WHEN v_kind IN ('asset', 'expense') THEN -1 ELSE 1 END) * NEW.amount
            THEN
                SIGNAL SQLSTATE '23000' SET MESSAGE_TEXT = 'accounts: balance_after does not follow from the previous leg', MYSQL_ERRNO = 4025;
            END IF;
            IF NEW.leg_index = v_legs_expected THEN
                IF (SELECT COUNT(*) FROM accounts_transaction
                    WHERE transfer_id = NEW.transfer_id) <> v_legs_expected THEN
                    SIGNAL SQLSTATE '23000' SET MESSAGE_TEXT = 'accounts: transfer posted without all of its legs', MYSQL_ERRNO = 4025;
                END IF;
                IF EXISTS (SELECT currency FROM accounts_transaction
                           WHERE transfer_id = NEW.transfer_id
                           GROUP BY currency HAVING SUM(amount) <> 0) THEN
                    SIGNAL SQLSTATE '23000' SET MESSAGE_TEXT = 'accounts: a transfer''s legs must sum to zero in each currency', MYSQL_ERRNO = 4025;
                END IF;
            END IF;
        END IF;
    END
-- accounts: next statement
DROP TRIGGER IF EXISTS accounts_account_insert_check
-- accounts: next statement
CREATE TRIGGER accounts_account_insert_check BEFORE INSERT ON accounts_account
    FOR EACH ROW BEGIN
        IF (COALESCE(@accounts_ledger_unlocked, 0) <> 1 OR SUBSTRING_INDEX(USER(), '@', 1) <> SUBSTRING_INDEX(CURRENT_USER(), '@', 1)) THEN
            IF NEW.credit_limit < 0 THEN SIGNAL SQLSTATE '23000' SET MESSAGE_TEXT = 'accounts: a credit limit is not negative (accounts_account_credit_limit_not_negative)', MYSQL_ERRNO = 4025; END IF;
IF NEW.balance < -NEW.credit_limit THEN SIGNAL SQLSTATE '23000' SET MESSAGE_TEXT = 'accounts: a balance stays within its credit limit (accounts_account_within_credit_limit)', MYSQL_ERRNO = 4025; END IF;
IF NEW.credit_limit IS NOT NULL AND NEW.balance < (CASE WHEN NEW.kind IN ('asset', 'expense') THEN NEW.pending_credits ELSE NEW.pending_debits END) - NEW.credit_limit THEN SIGNAL SQLSTATE '23000' SET MESSAGE_TEXT = 'accounts: pending holds stay within the credit limit (accounts_account_within_credit_limit_holds)', MYSQL_ERRNO = 4025; END IF;
IF NEW.pending_debits < 0 OR NEW.pending_credits < 0 THEN SIGNAL SQLSTATE '23000' SET MESSAGE_TEXT = 'accounts: pending amounts are not negative (accounts_account_pending_not_negative)', MYSQL_ERRNO = 4025; END IF;
IF NEW.version < 0 THEN SIGNAL SQLSTATE '23000' SET MESSAGE_TEXT = 'accounts: a version is not negative (accounts_account_version_not_negative)', MYSQL_ERRNO = 4025; END IF;
IF NEW.is_card AND (NEW.kind <> 'liability' OR NEW.credit_limit IS NULL) THEN SIGNAL SQLSTATE '23000' SET MESSAGE_TEXT = 'accounts: a card is a liability with a credit limit (accounts_account_card_is_limited_liability)', MYSQL_ERRNO = 4025; END IF;
IF NEW.is_card AND NEW.code LIKE 'CORE-%' THEN SIGNAL SQLSTATE '23000' SET MESSAGE_TEXT = 'accounts: a core account is never a card (accounts_account_core_is_not_card)', MYSQL_ERRNO = 4025; END IF;
            IF NEW.balance <> 0 OR NEW.version <> 0 THEN
                SIGNAL SQLSTATE '23000' SET MESSAGE_TEXT = 'accounts: a new account starts with balance 0 and version 0', MYSQL_ERRNO = 4025;
            END IF;
            IF NEW.parent_id IS NOT NULL AND EXISTS (
                    SELECT 1 FROM accounts_account WHERE id = NEW.parent_id AND version > 0) THEN
                SIGNAL SQLSTATE '23000' SET MESSAGE_TEXT = 'accounts: an account with legs cannot become a parent', MYSQL_ERRNO = 4025;
            END IF;
        END IF;
    END
-- accounts: next statement
DROP TRIGGER IF EXISTS accounts_account_update_check
-- accounts: next statement
CREATE TRIGGER accounts_account_update_check BEFORE UPDATE ON accounts_account
    FOR EACH ROW BEGIN
        DECLARE v_balance_after DECIMAL(30, 8);
        DECLARE v_transfer BIGINT;
        IF (COALESCE(@accounts_ledger_unlocked, 0) <> 1 OR SUBSTRING_INDEX(USER(), '@', 1) <> SUBSTRING_INDEX(CURRENT_USER(), '@', 1)) THEN
            IF NEW.credit_limit < 0 THEN SIGNAL SQLSTATE '23000' SET MESSAGE_TEXT = 'accounts: a credit limit is not negative (accounts_account_credit_limit_not_negative)', MYSQL_ERRNO = 4025; END IF;
IF NEW.balance < -NEW.credit_limit THEN SIGNAL SQLSTATE '23000' SET MESSAGE_TEXT = 'accounts: a balance stays within its credit limit (accounts_account_within_credit_limit)', MYSQL_ERRNO = 4025; END IF;
IF NEW.credit_limit IS NOT NULL AND NEW.balance < (CASE WHEN NEW.kind IN ('asset', 'expense') THEN NEW.pending_credits ELSE NEW.pending_debits END) - NEW.credit_limit THEN SIGNAL SQLSTATE '23000' SET MESSAGE_TEXT = 'accounts: pending holds stay within the credit limit (accounts_account_within_credit_limit_holds)', MYSQL_ERRNO = 4025; END IF;
IF NEW.pending_debits < 0 OR NEW.pending_credits < 0 THEN SIGNAL SQLSTATE '23000' SET MESSAGE_TEXT = 'accounts: pending amounts are not negative (accounts_account_pending_not_negative)', MYSQL_ERRNO = 4025; END IF;
IF NEW.version < 0 THEN SIGNAL SQLSTATE '23000' SET MESSAGE_TEXT = 'accounts: a version is not negative (accounts_account_version_not_negative)', MYSQL_ERRNO = 4025; END IF;
IF NEW.is_card AND (NEW.kind <> 'liability' OR NEW.credit_limit IS NULL) THEN SIGNAL SQLSTATE '23000' SET MESSAGE_TEXT = 'accounts: a card is a liability with a credit limit (accounts_account_card_is_limited_liability)', MYSQL_ERRNO = 4025; END IF;
IF NEW.is_card AND NEW.code LIKE 'CORE-%' THEN SIGNAL SQLSTATE '23000' SET MESSAGE_TEXT = 'accounts: a core account is never a card (accounts_account_core_is_not_card)', MYSQL_ERRNO = 4025; END IF;
            IF OLD.version > 0 AND (NEW.kind <> OLD.kind OR NEW.currency <> OLD.currency) THEN
                SIGNAL SQLSTATE '23000' SET MESSAGE_TEXT = 'accounts: kind and currency are fixed once an account has legs', MYSQL_ERRNO = 4025;
            END IF;
            IF OLD.status = 'closed' AND NEW.status <> 'closed' THEN
                SIGNAL SQLSTATE '23000' SET MESSAGE_TEXT = 'accounts: a closed account stays closed', MYSQL_ERRNO = 4025;
            END IF;
            IF NOT (NEW.balance <=> OLD.balance) OR NEW.version <> OLD.version THEN
                IF NEW.version <= OLD.version THEN
                    SIGNAL SQLSTATE '23000' SET MESSAGE_TEXT = 'accounts: a balance changes only by posting legs', MYSQL_ERRNO = 4025;
                END IF;
                SELECT balance_after, transfer_id INTO v_balance_after, v_transfer
                FROM accounts_transaction
                WHERE account_id = NEW.id AND account_version = NEW.version;
                IF v_balance_after IS NULL OR v_balance_after <> NEW.balance THEN
                    SIGNAL SQLSTATE '23000' SET MESSAGE_TEXT = 'accounts: the balance must equal the balance after its last leg', MYSQL_ERRNO = 4025;
                END IF;
                IF EXISTS (SELECT 1 FROM accounts_transaction
                           WHERE account_id = NEW.id AND account_version = NEW.version + 1) THEN
                    SIGNAL SQLSTATE '23000' SET MESSAGE_TEXT = 'accounts: the balance must include every leg of the account', MYSQL_ERRNO = 4025;
                END IF;
                IF NOT EXISTS (
                        SELECT 1 FROM accounts_transaction l
                        JOIN accounts_transfer t ON t.id = l.transfer_id
                        WHERE l.transfer_id = v_transfer AND l.leg_index = t.leg_count) THEN
                    SIGNAL SQLSTATE '23000' SET MESSAGE_TEXT = 'accounts: the balance includes an incomplete transfer', MYSQL_ERRNO = 4025;
                END IF;
            END IF;
            IF NEW.parent_id IS NOT NULL AND NOT (NEW.parent_id <=> OLD.parent_id) AND EXISTS (
                    SELECT 1 FROM accounts_account WHERE id = NEW.parent_id AND version > 0) THEN
                SIGNAL SQLSTATE '23000' SET MESSAGE_TEXT = 'accounts: an account with legs cannot become a parent', MYSQL_ERRNO = 4025;
            END IF;
        END IF;
    END
-- accounts: next statement
DROP TRIGGER IF EXISTS accounts_transfer_insert_check
-- accounts: next statement
CREATE TRIGGER accounts_transfer_insert_check BEFORE INSERT ON accounts_transfer
        FOR EACH ROW BEGIN
            IF (COALESCE(@accounts_ledger_unlocked, 0) <> 1 OR SUBSTRING_INDEX(USER(), '@', 1) <> SUBSTRING_INDEX(CURRENT_USER(), '@', 1)) THEN
                IF NOT (NEW.amount > 0) THEN SIGNAL SQLSTATE '23000' SET MESSAGE_TEXT = 'accounts: a transfer moves a positive amount (accounts_transfer_amount_positive)', MYSQL_ERRNO = 4025; END IF;
IF NEW.leg_count < 2 THEN SIGNAL SQLSTATE '23000' SET MESSAGE_TEXT = 'accounts: a transfer has two legs or more (accounts_transfer_at_least_two_legs)', MYSQL_ERRNO = 4025; END IF;
IF NEW.source_id = NEW.destination_id THEN SIGNAL SQLSTATE '23000' SET MESSAGE_TEXT = 'accounts: a transfer is between different accounts (accounts_transfer_source_not_destination)', MYSQL_ERRNO = 4025; END IF;
IF NEW.rate <= 0 THEN SIGNAL SQLSTATE '23000' SET MESSAGE_TEXT = 'accounts: an exchange rate is positive (accounts_transfer_rate_positive)', MYSQL_ERRNO = 4025; END IF;
            END IF;
        END
-- accounts: next statement
DROP TRIGGER IF EXISTS accounts_account_no_delete
-- accounts: next statement
CREATE TRIGGER accounts_account_no_delete BEFORE DELETE ON accounts_account
FOR EACH ROW BEGIN
    IF (COALESCE(@accounts_ledger_unlocked, 0) <> 1 OR SUBSTRING_INDEX(USER(), '@', 1) <> SUBSTRING_INDEX(CURRENT_USER(), '@', 1)) AND OLD.version > 0 THEN
        SIGNAL SQLSTATE '23000' SET MESSAGE_TEXT = 'accounts: an account with legs cannot be deleted', MYSQL_ERRNO = 4025;
    END IF;
END
