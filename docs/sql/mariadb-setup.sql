-- django-managed-accounts on MariaDB/MySQL: two users and the database (docs/deploying.rst).
-- Run once, as an administrator, before the first migrate, with your own names for shop,
-- shop_owner and shop_app, your passwords, and the hosts the users connect from for '%'.
--
-- The owner runs migrate, loaddata and flush; the triggers it creates run as their definer,
-- the owner. The site connects as the application user, whose name must differ from the
-- owner's (a different host is not enough).
CREATE DATABASE `shop` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER 'shop_owner'@'%' IDENTIFIED BY 'owner-password';
CREATE USER 'shop_app'@'%' IDENTIFIED BY 'app-password';
GRANT ALL PRIVILEGES ON `shop`.* TO 'shop_owner'@'%';
