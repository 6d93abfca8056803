CREATE OR REPLACE FUNCTION accounts_period_leg_check() RETURNS trigger
LANGUAGE plpgsql SET enable_seqscan = off SET search_path = pg_catalog, @@SCHEMA@@, pg_temp AS $$
DECLARE problem text;
BEGIN
    IF accounts_ledger_unlocked() THEN RETURN NULL; END IF;
    SELECT checked.problem INTO problem FROM (
    SELECT CASE WHEN n.created_at < c.closed_until THEN
        'accounts: a leg may not be dated inside a closed period'
    END AS problem
    FROM accounts_new_period_legs n
    CROSS JOIN (SELECT max(closed_until) AS closed_until FROM accounts_closedperiod) c
    ) checked
    WHERE checked.problem IS NOT NULL
    LIMIT 1;
    IF problem IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'check_violation', MESSAGE =  problem;
    END IF;
    RETURN NULL;
END $$
-- accounts: next statement
DROP TRIGGER IF EXISTS accounts_transaction_period_check ON accounts_transaction
-- accounts: next statement
CREATE TRIGGER accounts_transaction_period_check AFTER INSERT ON accounts_transaction
REFERENCING NEW TABLE AS accounts_new_period_legs
FOR EACH STATEMENT EXECUTE FUNCTION accounts_period_leg_check()
-- accounts: next statement
CREATE OR REPLACE FUNCTION accounts_period_guard() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, @@SCHEMA@@, pg_temp AS $$
BEGIN
    IF accounts_ledger_unlocked() THEN
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        RAISE EXCEPTION USING ERRCODE = 'check_violation', MESSAGE =  'accounts: closed periods stay closed';
    END IF;
    IF NEW.closed_until <= (SELECT max(closed_until) FROM accounts_closedperiod) THEN
        RAISE EXCEPTION USING ERRCODE = 'check_violation', MESSAGE =  'accounts: a closing must end after the one before';
    END IF;
    RETURN NEW;
END $$
-- accounts: next statement
DROP TRIGGER IF EXISTS accounts_period_guard ON accounts_closedperiod
-- accounts: next statement
CREATE TRIGGER accounts_period_guard BEFORE INSERT OR UPDATE OR DELETE
ON accounts_closedperiod FOR EACH ROW EXECUTE FUNCTION accounts_period_guard()
