CREATE OR REPLACE FUNCTION accounts_ledger_unlocked() RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT coalesce(current_setting('accounts.ledger_unlocked', true), '') = 'on'
$$
-- accounts: next statement
CREATE OR REPLACE FUNCTION accounts_transfer_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE expected accounts_transfer;
BEGIN
    IF accounts_ledger_unlocked() THEN
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION USING ERRCODE = 'check_violation', MESSAGE =  'accounts: transfer ' || OLD.reference
            || ' is append-only and cannot be deleted; post a correcting transfer';
    END IF;
    expected := OLD;
    expected.user_id := NEW.user_id;
    IF (NEW.user_id IS NOT NULL AND NEW.user_id IS DISTINCT FROM OLD.user_id)
            OR NEW IS DISTINCT FROM expected THEN
        RAISE EXCEPTION USING ERRCODE = 'check_violation', MESSAGE =  'accounts: transfer ' || OLD.reference
            || ' is append-only and cannot be changed; post a correcting transfer';
    END IF;
    RETURN NEW;
END $$
-- accounts: next statement
DROP TRIGGER IF EXISTS accounts_transfer_guard ON accounts_transfer
-- accounts: next statement
CREATE TRIGGER accounts_transfer_guard BEFORE UPDATE OR DELETE ON accounts_transfer
FOR EACH ROW EXECUTE FUNCTION accounts_transfer_guard()
-- accounts: next statement
CREATE OR REPLACE FUNCTION accounts_transaction_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF accounts_ledger_unlocked() THEN
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END IF;
    RAISE EXCEPTION USING ERRCODE = 'check_violation', MESSAGE =  'accounts: legs are append-only and cannot be changed or deleted';
END $$
-- accounts: next statement
CREATE OR REPLACE FUNCTION accounts_truncate_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT accounts_ledger_unlocked() THEN
        RAISE EXCEPTION USING ERRCODE = 'check_violation', MESSAGE =  'accounts: ' || TG_TABLE_NAME || ' is append-only and cannot be truncated';
    END IF;
    RETURN NULL;
END $$
-- accounts: next statement
DROP TRIGGER IF EXISTS accounts_transfer_no_truncate ON accounts_transfer
-- accounts: next statement
CREATE TRIGGER accounts_transfer_no_truncate BEFORE TRUNCATE ON accounts_transfer
FOR EACH STATEMENT EXECUTE FUNCTION accounts_truncate_guard()
-- accounts: next statement
DROP TRIGGER IF EXISTS accounts_transaction_no_truncate ON accounts_transaction
-- accounts: next statement
CREATE TRIGGER accounts_transaction_no_truncate BEFORE TRUNCATE ON accounts_transaction
FOR EACH STATEMENT EXECUTE FUNCTION accounts_truncate_guard()
-- accounts: next statement
DROP TRIGGER IF EXISTS accounts_transaction_guard ON accounts_transaction
-- accounts: next statement
CREATE TRIGGER accounts_transaction_guard BEFORE UPDATE OR DELETE ON accounts_transaction
FOR EACH ROW EXECUTE FUNCTION accounts_transaction_guard()
-- accounts: next statement
CREATE OR REPLACE FUNCTION accounts_transaction_check() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    acct record;
    legs_expected integer;
    previous numeric;
    legs_found integer;
    previous_at timestamptz;
BEGIN
    IF accounts_ledger_unlocked() THEN RETURN NULL; END IF;
    SELECT kind, currency, version INTO acct FROM accounts_account WHERE id = NEW.account_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'check_violation', MESSAGE =  'accounts: leg on an account that does not exist';
    END IF;
    IF NEW.currency <> acct.currency THEN
        RAISE EXCEPTION USING ERRCODE = 'check_violation', MESSAGE =  'accounts: a leg must be in its account''s currency ('
            || acct.currency || '), not ' || NEW.currency;
    END IF;
    IF EXISTS (SELECT 1 FROM accounts_account WHERE parent_id = NEW.account_id) THEN
        RAISE EXCEPTION USING ERRCODE = 'check_violation', MESSAGE =  'accounts: an account with children cannot receive legs';
    END IF;
    SELECT leg_count INTO legs_expected FROM accounts_transfer WHERE id = NEW.transfer_id;
    IF NOT FOUND OR NEW.leg_index > legs_expected THEN
        RAISE EXCEPTION USING ERRCODE = 'check_violation', MESSAGE =  'accounts: leg beyond its transfer''s leg_count';
    END IF;
    IF NEW.account_version <= acct.version THEN
        RAISE EXCEPTION USING ERRCODE = 'check_violation', MESSAGE =  'accounts: leg version is not newer than its account';
    END IF;
    IF NEW.account_version = 1 THEN
        previous := 0;
    ELSE
        SELECT balance_after, created_at INTO previous, previous_at
        FROM accounts_transaction
        WHERE account_id = NEW.account_id AND account_version = NEW.account_version - 1;
        IF NOT FOUND THEN
            RAISE EXCEPTION USING ERRCODE = 'check_violation', MESSAGE =  'accounts: leg skips a version of its account';
        END IF;
    END IF;
    IF NEW.backdated IS DISTINCT FROM coalesce(NEW.created_at < previous_at, false) THEN
        RAISE EXCEPTION USING ERRCODE = 'check_violation', MESSAGE =  'accounts: backdated must say whether the leg predates the one before';
    END IF;
    IF NEW.balance_after <> previous
            + (CASE WHEN acct.kind IN ('asset', 'expense') THEN -1 ELSE 1 END) * NEW.amount THEN
        RAISE EXCEPTION USING ERRCODE = 'check_violation', MESSAGE =  'accounts: balance_after does not follow from the previous leg';
    END IF;
    IF NEW.leg_index = legs_expected THEN
        SELECT count(*) INTO legs_found FROM accounts_transaction
        WHERE transfer_id = NEW.transfer_id;
        IF legs_found <> legs_expected THEN
            RAISE EXCEPTION USING ERRCODE = 'check_violation', MESSAGE =  'accounts: transfer posted with ' || legs_found
                || ' of its ' || legs_expected || ' legs';
        END IF;
        IF EXISTS (
            SELECT 1 FROM accounts_transaction WHERE transfer_id = NEW.transfer_id
            GROUP BY currency HAVING sum(amount) <> 0
        ) THEN
            RAISE EXCEPTION USING ERRCODE = 'check_violation', MESSAGE =  'accounts: the legs of a transfer must sum to zero in each currency';
        END IF;
    END IF;
    RETURN NULL;
END $$
-- accounts: next statement
DROP TRIGGER IF EXISTS accounts_transaction_check ON accounts_transaction
-- accounts: next statement
CREATE TRIGGER accounts_transaction_check AFTER INSERT ON accounts_transaction
FOR EACH ROW EXECUTE FUNCTION accounts_transaction_check()
-- accounts: next statement
CREATE OR REPLACE FUNCTION accounts_account_check() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE last record;
BEGIN
    IF accounts_ledger_unlocked() THEN RETURN NEW; END IF;
    IF TG_OP = 'INSERT' THEN
        IF NEW.balance <> 0 OR NEW.version <> 0 THEN
            RAISE EXCEPTION USING ERRCODE = 'check_violation', MESSAGE =  'accounts: a new account starts with balance 0 and version 0';
        END IF;
    ELSE
        IF OLD.version > 0 AND (NEW.kind <> OLD.kind OR NEW.currency <> OLD.currency) THEN
            RAISE EXCEPTION USING ERRCODE = 'check_violation', MESSAGE =  'accounts: kind and currency are fixed once an account has legs';
        END IF;
        IF OLD.status = 'closed' AND NEW.status <> 'closed' THEN
            RAISE EXCEPTION USING ERRCODE = 'check_violation', MESSAGE =  'accounts: a closed account stays closed';
        END IF;
        IF NEW.balance IS DISTINCT FROM OLD.balance OR NEW.version <> OLD.version THEN
            IF NEW.version <= OLD.version THEN
                RAISE EXCEPTION USING ERRCODE = 'check_violation', MESSAGE =  'accounts: a balance changes only by posting legs';
            END IF;
            SELECT l.balance_after, l.transfer_id, t.leg_count INTO last
            FROM accounts_transaction l JOIN accounts_transfer t ON t.id = l.transfer_id
            WHERE l.account_id = NEW.id AND l.account_version = NEW.version;
            IF NOT FOUND OR last.balance_after <> NEW.balance THEN
                RAISE EXCEPTION USING ERRCODE = 'check_violation', MESSAGE =  'accounts: the balance must equal the balance after its last leg';
            END IF;
            IF EXISTS (SELECT 1 FROM accounts_transaction
                       WHERE account_id = NEW.id AND account_version = NEW.version + 1) THEN
                RAISE EXCEPTION USING ERRCODE = 'check_violation', MESSAGE =  'accounts: the balance must include every leg of the account';
            END IF;
            IF NOT EXISTS (SELECT 1 FROM accounts_transaction
                           WHERE transfer_id = last.transfer_id
                           AND leg_index = last.leg_count) THEN
                RAISE EXCEPTION USING ERRCODE = 'check_violation', MESSAGE =  'accounts: the balance includes an incomplete transfer';
            END IF;
        END IF;
    END IF;
    IF NEW.parent_id IS NOT NULL
            AND (TG_OP = 'INSERT' OR NEW.parent_id IS DISTINCT FROM OLD.parent_id)
            AND EXISTS (SELECT 1 FROM accounts_account WHERE id = NEW.parent_id AND version > 0)
    THEN
        RAISE EXCEPTION USING ERRCODE = 'check_violation', MESSAGE =  'accounts: an account with legs cannot become a parent';
    END IF;
    RETURN NEW;
END $$
-- accounts: next statement
DROP TRIGGER IF EXISTS accounts_account_check ON accounts_account
-- accounts: next statement
CREATE TRIGGER accounts_account_check BEFORE INSERT OR UPDATE ON accounts_account
FOR EACH ROW EXECUTE FUNCTION accounts_account_check()
-- accounts: next statement
CREATE OR REPLACE FUNCTION accounts_transfer_complete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF accounts_ledger_unlocked() THEN RETURN NULL; END IF;
    IF (SELECT count(*) FROM accounts_transaction WHERE transfer_id = NEW.id)
            <> NEW.leg_count THEN
        RAISE EXCEPTION USING ERRCODE = 'check_violation', MESSAGE =  'accounts: transfer ' || NEW.reference
            || ' was committed without all of its legs';
    END IF;
    RETURN NULL;
END $$
-- accounts: next statement
DROP TRIGGER IF EXISTS accounts_transfer_complete ON accounts_transfer
-- accounts: next statement
CREATE CONSTRAINT TRIGGER accounts_transfer_complete AFTER INSERT ON accounts_transfer
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION accounts_transfer_complete()
