DROP TRIGGER IF EXISTS accounts_audit_no_update
-- accounts: next statement
CREATE TRIGGER accounts_audit_no_update BEFORE UPDATE ON accounts_auditentry
FOR EACH ROW BEGIN
    IF (COALESCE(@accounts_ledger_unlocked, 0) <> 1 OR SUBSTRING_INDEX(USER(), '@', 1) <> SUBSTRING_INDEX(CURRENT_USER(), '@', 1)) AND (NOT (NEW.id <=> OLD.id) OR NOT (NEW.action <=> OLD.action) OR NOT (NEW.account_id <=> OLD.account_id) OR NOT (NEW.transfer_id <=> OLD.transfer_id) OR NOT (NEW.username <=> OLD.username) OR NOT (NEW.surface <=> OLD.surface) OR NOT (NEW.reason <=> OLD.reason) OR NOT (NEW.changes <=> OLD.changes) OR NOT (NEW.created_at <=> OLD.created_at)
            OR (NEW.user_id IS NOT NULL AND NOT (NEW.user_id <=> OLD.user_id))) THEN
        SIGNAL SQLSTATE '23000' SET MESSAGE_TEXT = 'accounts: audit entries are append-only and cannot be changed', MYSQL_ERRNO = 4025;
    END IF;
END
-- accounts: next statement
DROP TRIGGER IF EXISTS accounts_audit_no_delete
-- accounts: next statement
CREATE TRIGGER accounts_audit_no_delete BEFORE DELETE ON accounts_auditentry
FOR EACH ROW BEGIN
    IF (COALESCE(@accounts_ledger_unlocked, 0) <> 1 OR SUBSTRING_INDEX(USER(), '@', 1) <> SUBSTRING_INDEX(CURRENT_USER(), '@', 1)) THEN
        SIGNAL SQLSTATE '23000' SET MESSAGE_TEXT = 'accounts: audit entries are append-only and cannot be deleted', MYSQL_ERRNO = 4025;
    END IF;
END
