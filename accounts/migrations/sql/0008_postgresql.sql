CREATE OR REPLACE FUNCTION accounts_audit_guard() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, @@SCHEMA@@, pg_temp AS $$
DECLARE expected accounts_auditentry;
BEGIN
    IF accounts_ledger_unlocked() THEN
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION USING ERRCODE = 'check_violation', MESSAGE =  'accounts: audit entries are append-only and cannot be deleted';
    END IF;
    expected := OLD;
    expected.user_id := NEW.user_id;
    IF (NEW.user_id IS NOT NULL AND NEW.user_id IS DISTINCT FROM OLD.user_id)
            OR NEW IS DISTINCT FROM expected THEN
        RAISE EXCEPTION USING ERRCODE = 'check_violation', MESSAGE =  'accounts: audit entries are append-only and cannot be changed';
    END IF;
    RETURN NEW;
END $$
-- accounts: next statement
DROP TRIGGER IF EXISTS accounts_audit_guard ON accounts_auditentry
-- accounts: next statement
CREATE TRIGGER accounts_audit_guard BEFORE UPDATE OR DELETE ON accounts_auditentry
FOR EACH ROW EXECUTE FUNCTION accounts_audit_guard()
-- accounts: next statement
DROP TRIGGER IF EXISTS accounts_audit_no_truncate ON accounts_auditentry
-- accounts: next statement
CREATE TRIGGER accounts_audit_no_truncate BEFORE TRUNCATE ON accounts_auditentry
FOR EACH STATEMENT EXECUTE FUNCTION accounts_truncate_guard()
