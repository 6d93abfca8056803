DROP TRIGGER IF EXISTS accounts_transaction_period_check
-- accounts: next statement
CREATE TRIGGER accounts_transaction_period_check BEFORE INSERT ON accounts_transaction
WHEN NOT accounts_ledger_unlocked()
    AND NEW.created_at < (SELECT MAX(closed_until) FROM accounts_closedperiod)
BEGIN
    SELECT RAISE(ABORT, 'accounts: a leg may not be dated inside a closed period') WHERE 1;
END
-- accounts: next statement
DROP TRIGGER IF EXISTS accounts_period_insert_check
-- accounts: next statement
CREATE TRIGGER accounts_period_insert_check BEFORE INSERT ON accounts_closedperiod
WHEN NOT accounts_ledger_unlocked()
    AND NEW.closed_until <= (SELECT MAX(closed_until) FROM accounts_closedperiod)
BEGIN
    SELECT RAISE(ABORT, 'accounts: a closing must end after the one before') WHERE 1;
END
-- accounts: next statement
DROP TRIGGER IF EXISTS accounts_period_no_update
-- accounts: next statement
CREATE TRIGGER accounts_period_no_update BEFORE UPDATE ON accounts_closedperiod
WHEN NOT accounts_ledger_unlocked()
BEGIN
    SELECT RAISE(ABORT, 'accounts: closed periods stay closed') WHERE 1;
END
-- accounts: next statement
DROP TRIGGER IF EXISTS accounts_period_no_delete
-- accounts: next statement
CREATE TRIGGER accounts_period_no_delete BEFORE DELETE ON accounts_closedperiod
WHEN NOT accounts_ledger_unlocked()
BEGIN
    SELECT RAISE(ABORT, 'accounts: closed periods stay closed') WHERE 1;
END
