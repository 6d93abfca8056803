DROP TRIGGER IF EXISTS accounts_audit_no_update
-- accounts: next statement
DROP TRIGGER IF EXISTS accounts_audit_no_delete
