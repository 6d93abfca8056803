DROP TRIGGER IF EXISTS accounts_transfer_complete ON accounts_transfer
-- accounts: next statement
DROP TRIGGER IF EXISTS accounts_account_update_check ON accounts_account
-- accounts: next statement
DROP TRIGGER IF EXISTS accounts_account_insert_check ON accounts_account
-- accounts: next statement
DROP TRIGGER IF EXISTS accounts_account_check ON accounts_account
-- accounts: next statement
DROP TRIGGER IF EXISTS accounts_transaction_check ON accounts_transaction
-- accounts: next statement
DROP TRIGGER IF EXISTS accounts_transaction_guard ON accounts_transaction
-- accounts: next statement
DROP TRIGGER IF EXISTS accounts_transfer_guard ON accounts_transfer
-- accounts: next statement
DROP TRIGGER IF EXISTS accounts_transaction_no_truncate ON accounts_transaction
-- accounts: next statement
DROP TRIGGER IF EXISTS accounts_transfer_no_truncate ON accounts_transfer
-- accounts: next statement
DROP FUNCTION IF EXISTS accounts_truncate_guard()
-- accounts: next statement
DROP FUNCTION IF EXISTS accounts_transfer_complete()
-- accounts: next statement
DROP FUNCTION IF EXISTS accounts_account_update_check()
-- accounts: next statement
DROP FUNCTION IF EXISTS accounts_account_insert_check()
-- accounts: next statement
DROP FUNCTION IF EXISTS accounts_account_check()
-- accounts: next statement
DROP FUNCTION IF EXISTS accounts_transaction_check()
-- accounts: next statement
DROP FUNCTION IF EXISTS accounts_transaction_guard()
-- accounts: next statement
DROP FUNCTION IF EXISTS accounts_transfer_guard()
-- accounts: next statement
DROP FUNCTION IF EXISTS accounts_ledger_unlocked()
