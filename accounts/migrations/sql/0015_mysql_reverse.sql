DROP TRIGGER IF EXISTS accounts_transaction_period_check
-- accounts: next statement
DROP TRIGGER IF EXISTS accounts_period_insert_check
-- accounts: next statement
DROP TRIGGER IF EXISTS accounts_period_no_update
-- accounts: next statement
DROP TRIGGER IF EXISTS accounts_period_no_delete
