DROP TRIGGER IF EXISTS accounts_transfer_insert_check
-- accounts: next statement
DROP TRIGGER IF EXISTS accounts_account_no_delete
-- accounts: next statement
DROP TRIGGER IF EXISTS accounts_transfer_no_update
-- accounts: next statement
DROP TRIGGER IF EXISTS accounts_transfer_no_delete
-- accounts: next statement
DROP TRIGGER IF EXISTS accounts_transaction_no_update
-- accounts: next statement
DROP TRIGGER IF EXISTS accounts_transaction_no_delete
-- accounts: next statement
DROP TRIGGER IF EXISTS accounts_transaction_check
-- accounts: next statement
DROP TRIGGER IF EXISTS accounts_account_insert_check
-- accounts: next statement
DROP TRIGGER IF EXISTS accounts_account_update_check
