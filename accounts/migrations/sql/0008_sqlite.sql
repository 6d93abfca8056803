DROP TRIGGER IF EXISTS accounts_audit_no_update
-- accounts: next statement
CREATE TRIGGER accounts_audit_no_update BEFORE UPDATE ON accounts_auditentry
WHEN NOT accounts_ledger_unlocked() AND (NEW.id IS NOT OLD.id OR NEW.action IS NOT OLD.action OR NEW.account_id IS NOT OLD.account_id OR NEW.transfer_id IS NOT OLD.transfer_id OR NEW.username IS NOT OLD.username OR NEW.surface IS NOT OLD.surface OR NEW.reason IS NOT OLD.reason OR NEW.changes IS NOT OLD.changes OR NEW.created_at IS NOT OLD.created_at
    OR (NEW.user_id IS NOT NULL AND NEW.user_id IS NOT OLD.user_id))
BEGIN
    SELECT RAISE(ABORT, 'accounts: audit entries are append-only and cannot be changed') WHERE 1;
END
-- accounts: next statement
DROP TRIGGER IF EXISTS accounts_audit_no_delete
-- accounts: next statement
CREATE TRIGGER accounts_audit_no_delete BEFORE DELETE ON accounts_auditentry
WHEN NOT accounts_ledger_unlocked()
BEGIN
    SELECT RAISE(ABORT, 'accounts: audit entries are append-only and cannot be deleted') WHERE 1;
END
