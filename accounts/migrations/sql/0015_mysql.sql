DROP TRIGGER IF EXISTS accounts_transaction_period_check
-- accounts: next statement
CREATE TRIGGER accounts_transaction_period_check BEFORE INSERT ON accounts_transaction
FOR EACH ROW BEGIN
    DECLARE v_until DATETIME(6) DEFAULT NULL;
    DECLARE CONTINUE HANDLER FOR NOT FOUND SET v_until = NULL;
    IF (COALESCE(@accounts_ledger_unlocked, 0) <> 1 OR SUBSTRING_INDEX(USER(), '@', 1) <> SUBSTRING_INDEX(CURRENT_USER(), '@', 1)) THEN
        SELECT closed_until INTO v_until FROM accounts_closedperiod
            ORDER BY closed_until DESC LIMIT 1 LOCK IN SHARE MODE;
        IF NEW.created_at < v_until THEN
            SIGNAL SQLSTATE '23000' SET MESSAGE_TEXT = 'accounts: a leg may not be dated inside a closed period', MYSQL_ERRNO = 4025;
        END IF;
    END IF;
END
-- accounts: next statement
DROP TRIGGER IF EXISTS accounts_period_insert_check
-- accounts: next statement
CREATE TRIGGER accounts_period_insert_check BEFORE INSERT ON accounts_closedperiod
FOR EACH ROW BEGIN
    IF (COALESCE(@accounts_ledger_unlocked, 0) <> 1 OR SUBSTRING_INDEX(USER(), '@', 1) <> SUBSTRING_INDEX(CURRENT_USER(), '@', 1)) AND NEW.closed_until <= (
            SELECT MAX(closed_until) FROM accounts_closedperiod) THEN
        SIGNAL SQLSTATE '23000' SET MESSAGE_TEXT = 'accounts: a closing must end after the one before', MYSQL_ERRNO = 4025;
    END IF;
END
-- accounts: next statement
DROP TRIGGER IF EXISTS accounts_period_no_update
-- accounts: next statement
CREATE TRIGGER accounts_period_no_update BEFORE UPDATE ON accounts_closedperiod
FOR EACH ROW BEGIN
    IF (COALESCE(@accounts_ledger_unlocked, 0) <> 1 OR SUBSTRING_INDEX(USER(), '@', 1) <> SUBSTRING_INDEX(CURRENT_USER(), '@', 1)) THEN
        SIGNAL SQLSTATE '23000' SET MESSAGE_TEXT = 'accounts: closed periods stay closed', MYSQL_ERRNO = 4025;
    END IF;
END
-- accounts: next statement
DROP TRIGGER IF EXISTS accounts_period_no_delete
-- accounts: next statement
CREATE TRIGGER accounts_period_no_delete BEFORE DELETE ON accounts_closedperiod
FOR EACH ROW BEGIN
    IF (COALESCE(@accounts_ledger_unlocked, 0) <> 1 OR SUBSTRING_INDEX(USER(), '@', 1) <> SUBSTRING_INDEX(CURRENT_USER(), '@', 1)) THEN
        SIGNAL SQLSTATE '23000' SET MESSAGE_TEXT = 'accounts: closed periods stay closed', MYSQL_ERRNO = 4025;
    END IF;
END
