-- django-managed-accounts on MariaDB/MySQL: what the application user may do
-- (docs/deploying.rst). Run as an administrator after the first migrate and again after every
-- upgrade's migrate, with the names of mariadb-setup.sql.
--
-- Rows, never tables: no DROP (which TRUNCATE needs), ALTER, CREATE, INDEX, TRIGGER,
-- CREATE ROUTINE, LOCK TABLES or REFERENCES, and no privilege on other databases.
GRANT SELECT, INSERT, UPDATE ON `shop`.* TO 'shop_app'@'%';

-- DELETE table by table: never on the ledger (accounts_account, accounts_transfer and
-- accounts_transaction). Add a line for each table of your own apps that deletes rows.
GRANT DELETE ON `shop`.`accounts_account_secondary_users` TO 'shop_app'@'%';
GRANT DELETE ON `shop`.`accounts_accounttype` TO 'shop_app'@'%';
GRANT DELETE ON `shop`.`accounts_apikey` TO 'shop_app'@'%';
GRANT DELETE ON `shop`.`accounts_idempotencykey` TO 'shop_app'@'%';
GRANT DELETE ON `shop`.`accounts_lookupthrottle` TO 'shop_app'@'%';
GRANT DELETE ON `shop`.`accounts_matchingrule` TO 'shop_app'@'%';
GRANT DELETE ON `shop`.`auth_group` TO 'shop_app'@'%';
GRANT DELETE ON `shop`.`auth_group_permissions` TO 'shop_app'@'%';
GRANT DELETE ON `shop`.`auth_user` TO 'shop_app'@'%';
GRANT DELETE ON `shop`.`auth_user_groups` TO 'shop_app'@'%';
GRANT DELETE ON `shop`.`auth_user_user_permissions` TO 'shop_app'@'%';
GRANT DELETE ON `shop`.`django_admin_log` TO 'shop_app'@'%';
GRANT DELETE ON `shop`.`django_session` TO 'shop_app'@'%';
