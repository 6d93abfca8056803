DROP TRIGGER IF EXISTS accounts_period_guard ON accounts_closedperiod
-- accounts: next statement
DROP TRIGGER IF EXISTS accounts_transaction_period_check ON accounts_transaction
-- accounts: next statement
DROP FUNCTION IF EXISTS accounts_period_guard()
-- accounts: next statement
DROP FUNCTION IF EXISTS accounts_period_leg_check()
