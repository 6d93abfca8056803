CREATE OR REPLACE FUNCTION accounts_ledger_unlocked() RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, @@SCHEMA@@, pg_temp AS $$
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
-- accounts: next statement
CREATE OR REPLACE FUNCTION accounts_transfer_guard() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, @@SCHEMA@@, pg_temp AS $$
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
LANGUAGE plpgsql SET search_path = pg_catalog, @@SCHEMA@@, pg_temp AS $$
BEGIN
    IF accounts_ledger_unlocked() THEN
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END IF;
    RAISE EXCEPTION USING ERRCODE = 'check_violation', MESSAGE =  'accounts: legs are append-only and cannot be changed or deleted';
END $$
-- accounts: next statement
CREATE OR REPLACE FUNCTION accounts_truncate_guard() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, @@SCHEMA@@, pg_temp AS $$
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
LANGUAGE plpgsql SET enable_seqscan = off SET search_path = pg_catalog, @@SCHEMA@@, pg_temp AS $$
DECLARE problem text;
BEGIN
    IF accounts_ledger_unlocked() THEN RETURN NULL; END IF;
    SELECT checked.problem INTO problem FROM (
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
            + (CASE WHEN a.kind IN ('asset', 'expense') THEN -1 ELSE 1 END) * n.amount
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
    ) checked
    WHERE checked.problem IS NOT NULL
    LIMIT 1;
    IF problem IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'check_violation', MESSAGE =  problem;
    END IF;
    RETURN NULL;
END $$
-- accounts: next statement
DROP TRIGGER IF EXISTS accounts_transaction_check ON accounts_transaction
-- accounts: next statement
CREATE TRIGGER accounts_transaction_check AFTER INSERT ON accounts_transaction
REFERENCING NEW TABLE AS accounts_new_legs
FOR EACH STATEMENT EXECUTE FUNCTION accounts_transaction_check()
-- accounts: next statement
CREATE OR REPLACE FUNCTION accounts_account_insert_check() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, @@SCHEMA@@, pg_temp AS $$
BEGIN
    IF accounts_ledger_unlocked() THEN RETURN NEW; END IF;
    IF NEW.balance <> 0 OR NEW.version <> 0 THEN
        RAISE EXCEPTION USING ERRCODE = 'check_violation', MESSAGE =  'accounts: a new account starts with balance 0 and version 0';
    END IF;
    IF NEW.parent_id IS NOT NULL
            AND EXISTS (SELECT 1 FROM accounts_account WHERE id = NEW.parent_id AND version > 0)
    THEN
        RAISE EXCEPTION USING ERRCODE = 'check_violation', MESSAGE =  'accounts: an account with legs cannot become a parent';
    END IF;
    RETURN NEW;
END $$
-- accounts: next statement
DROP TRIGGER IF EXISTS accounts_account_check ON accounts_account
-- accounts: next statement
DROP FUNCTION IF EXISTS accounts_account_check()
-- accounts: next statement
DROP TRIGGER IF EXISTS accounts_account_insert_check ON accounts_account
-- accounts: next statement
CREATE TRIGGER accounts_account_insert_check BEFORE INSERT ON accounts_account
FOR EACH ROW EXECUTE FUNCTION accounts_account_insert_check()
-- accounts: next statement
CREATE OR REPLACE FUNCTION accounts_account_update_check() RETURNS trigger
LANGUAGE plpgsql SET enable_seqscan = off SET search_path = pg_catalog, @@SCHEMA@@, pg_temp AS $$
DECLARE problem text;
BEGIN
    IF accounts_ledger_unlocked() THEN RETURN NULL; END IF;
    SELECT checked.problem INTO problem FROM (
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
    ) checked
    WHERE checked.problem IS NOT NULL
    LIMIT 1;
    IF problem IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'check_violation', MESSAGE =  problem;
    END IF;
    RETURN NULL;
END $$
-- accounts: next statement
DROP TRIGGER IF EXISTS accounts_account_update_check ON accounts_account
-- accounts: next statement
CREATE TRIGGER accounts_account_update_check AFTER UPDATE ON accounts_account
REFERENCING OLD TABLE AS accounts_old_accounts NEW TABLE AS accounts_new_accounts
FOR EACH STATEMENT EXECUTE FUNCTION accounts_account_update_check()
-- accounts: next statement
CREATE OR REPLACE FUNCTION accounts_transfer_complete() RETURNS trigger
LANGUAGE plpgsql SET enable_seqscan = off SET search_path = pg_catalog, @@SCHEMA@@, pg_temp AS $$
BEGIN
    IF accounts_ledger_unlocked() THEN RETURN NULL; END IF;
    IF (SELECT count(*) FROM accounts_transaction
        WHERE transfer_id = NEW.id AND leg_index BETWEEN 1 AND NEW.leg_count)
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
