DROP TRIGGER IF EXISTS accounts_transfer_no_update
-- accounts: next statement
CREATE TRIGGER accounts_transfer_no_update BEFORE UPDATE ON accounts_transfer
WHEN NOT accounts_ledger_unlocked() AND (NEW.id IS NOT OLD.id OR NEW.reference IS NOT OLD.reference OR NEW.kind IS NOT OLD.kind OR NEW.source_id IS NOT OLD.source_id OR NEW.destination_id IS NOT OLD.destination_id OR NEW.amount IS NOT OLD.amount OR NEW.currency IS NOT OLD.currency OR NEW.leg_count IS NOT OLD.leg_count OR NEW.parent_id IS NOT OLD.parent_id OR NEW.reverses_id IS NOT OLD.reverses_id OR NEW.username IS NOT OLD.username OR NEW.merchant_reference IS NOT OLD.merchant_reference OR NEW.description IS NOT OLD.description OR NEW.created_at IS NOT OLD.created_at OR NEW.rate IS NOT OLD.rate
    OR (NEW.user_id IS NOT NULL AND NEW.user_id IS NOT OLD.user_id))
BEGIN
    SELECT RAISE(ABORT, 'accounts: transfers are append-only; post a correcting transfer') WHERE 1;
END
-- accounts: next statement
DROP TRIGGER IF EXISTS accounts_transfer_no_delete
-- accounts: next statement
CREATE TRIGGER accounts_transfer_no_delete BEFORE DELETE ON accounts_transfer
WHEN NOT accounts_ledger_unlocked()
BEGIN
    SELECT RAISE(ABORT, 'accounts: transfers are append-only and cannot be deleted') WHERE 1;
END
-- accounts: next statement
DROP TRIGGER IF EXISTS accounts_transaction_no_update
-- accounts: next statement
CREATE TRIGGER accounts_transaction_no_update BEFORE UPDATE ON accounts_transaction
WHEN NOT accounts_ledger_unlocked()
BEGIN
    SELECT RAISE(ABORT, 'accounts: legs are append-only and cannot be changed') WHERE 1;
END
-- accounts: next statement
DROP TRIGGER IF EXISTS accounts_transaction_no_delete
-- accounts: next statement
CREATE TRIGGER accounts_transaction_no_delete BEFORE DELETE ON accounts_transaction
WHEN NOT accounts_ledger_unlocked()
BEGIN
    SELECT RAISE(ABORT, 'accounts: legs are append-only and cannot be deleted') WHERE 1;
END
-- accounts: next statement
DROP TRIGGER IF EXISTS accounts_transaction_check
-- accounts: next statement
CREATE TRIGGER accounts_transaction_check AFTER INSERT ON accounts_transaction
WHEN NOT accounts_ledger_unlocked()
BEGIN
    SELECT RAISE(ABORT, 'accounts: leg on an account that does not exist') WHERE NOT EXISTS (SELECT 1 FROM accounts_account WHERE id = NEW.account_id);
    SELECT RAISE(ABORT, 'accounts: a leg must be in its account''s currency') WHERE NEW.currency IS NOT (SELECT currency FROM accounts_account WHERE id = NEW.account_id);
    SELECT RAISE(ABORT, 'accounts: an account with children cannot receive legs') WHERE EXISTS (SELECT 1 FROM accounts_account WHERE parent_id = NEW.account_id);
    SELECT RAISE(ABORT, 'accounts: leg beyond its transfer''s leg_count') WHERE NEW.leg_index > COALESCE((SELECT leg_count FROM accounts_transfer WHERE id = NEW.transfer_id), 0);
    SELECT RAISE(ABORT, 'accounts: leg version is not newer than its account') WHERE NEW.account_version <= (SELECT version FROM accounts_account WHERE id = NEW.account_id);
    SELECT RAISE(ABORT, 'accounts: leg skips a version of its account') WHERE (CASE WHEN NEW.account_version = 1 THEN 0 ELSE (SELECT balance_after FROM accounts_transaction WHERE account_id = NEW.account_id AND account_version = NEW.account_version - 1) END) IS NULL;
    SELECT RAISE(ABORT, 'accounts: backdated must say whether the leg predates the one before') WHERE NEW.backdated IS NOT COALESCE(NEW.created_at < (SELECT created_at FROM accounts_transaction WHERE account_id = NEW.account_id AND account_version = NEW.account_version - 1), 0);
    SELECT RAISE(ABORT, 'accounts: balance_after does not follow from the previous leg') WHERE NOT ABS(NEW.balance_after - ((CASE WHEN NEW.account_version = 1 THEN 0 ELSE (SELECT balance_after FROM accounts_transaction WHERE account_id = NEW.account_id AND account_version = NEW.account_version - 1) END) + (CASE WHEN (SELECT kind FROM accounts_account WHERE id = NEW.account_id) IN ('asset', 'expense') THEN -1 ELSE 1 END) * NEW.amount)) < 0.00005;
    SELECT RAISE(ABORT, 'accounts: transfer posted without all of its legs') WHERE NEW.leg_index = (SELECT leg_count FROM accounts_transfer WHERE id = NEW.transfer_id) AND (SELECT COUNT(*) FROM accounts_transaction WHERE transfer_id = NEW.transfer_id) <> NEW.leg_index;
    SELECT RAISE(ABORT, 'accounts: the legs of a transfer must sum to zero in each currency') WHERE NEW.leg_index = (SELECT leg_count FROM accounts_transfer WHERE id = NEW.transfer_id) AND EXISTS (SELECT 1 FROM accounts_transaction WHERE transfer_id = NEW.transfer_id GROUP BY currency HAVING NOT ABS(SUM(amount)) < 0.00005);
END
-- accounts: next statement
DROP TRIGGER IF EXISTS accounts_account_insert_check
-- accounts: next statement
CREATE TRIGGER accounts_account_insert_check BEFORE INSERT ON accounts_account
WHEN NOT accounts_ledger_unlocked()
BEGIN
    SELECT RAISE(ABORT, 'accounts: a new account starts with balance 0 and version 0') WHERE NEW.balance <> 0 OR NEW.version <> 0;
    SELECT RAISE(ABORT, 'accounts: an account with legs cannot become a parent') WHERE NEW.parent_id IS NOT NULL AND EXISTS (SELECT 1 FROM accounts_account WHERE id = NEW.parent_id AND version > 0);
END
-- accounts: next statement
DROP TRIGGER IF EXISTS accounts_account_update_check
-- accounts: next statement
CREATE TRIGGER accounts_account_update_check BEFORE UPDATE ON accounts_account
WHEN NOT accounts_ledger_unlocked()
BEGIN
    SELECT RAISE(ABORT, 'accounts: kind and currency are fixed once an account has legs') WHERE OLD.version > 0 AND (NEW.kind IS NOT OLD.kind OR NEW.currency IS NOT OLD.currency);
    SELECT RAISE(ABORT, 'accounts: a closed account stays closed') WHERE OLD.status = 'closed' AND NEW.status <> 'closed';
    SELECT RAISE(ABORT, 'accounts: a balance changes only by posting legs') WHERE (NEW.balance IS NOT OLD.balance OR NEW.version <> OLD.version) AND NEW.version <= OLD.version;
    SELECT RAISE(ABORT, 'accounts: the balance must equal the balance after its last leg') WHERE (NEW.balance IS NOT OLD.balance OR NEW.version <> OLD.version) AND NOT EXISTS (SELECT 1 FROM accounts_transaction WHERE account_id = NEW.id AND account_version = NEW.version AND ABS(balance_after - NEW.balance) < 0.00005);
    SELECT RAISE(ABORT, 'accounts: the balance must include every leg of the account') WHERE (NEW.balance IS NOT OLD.balance OR NEW.version <> OLD.version) AND EXISTS (SELECT 1 FROM accounts_transaction WHERE account_id = NEW.id AND account_version = NEW.version + 1);
    SELECT RAISE(ABORT, 'accounts: the balance includes an incomplete transfer') WHERE (NEW.balance IS NOT OLD.balance OR NEW.version <> OLD.version) AND NOT EXISTS (SELECT 1 FROM accounts_transaction l JOIN accounts_transfer t ON t.id = l.transfer_id JOIN accounts_transaction last ON last.transfer_id = t.id AND last.leg_index = t.leg_count WHERE l.account_id = NEW.id AND l.account_version = NEW.version);
    SELECT RAISE(ABORT, 'accounts: an account with legs cannot become a parent') WHERE NEW.parent_id IS NOT NULL AND NEW.parent_id IS NOT OLD.parent_id AND EXISTS (SELECT 1 FROM accounts_account WHERE id = NEW.parent_id AND version > 0);
END
