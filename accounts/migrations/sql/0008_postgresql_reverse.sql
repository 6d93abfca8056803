DROP TRIGGER IF EXISTS accounts_audit_no_truncate ON accounts_auditentry
-- accounts: next statement
DROP TRIGGER IF EXISTS accounts_audit_guard ON accounts_auditentry
-- accounts: next statement
DROP FUNCTION IF EXISTS accounts_audit_guard()
