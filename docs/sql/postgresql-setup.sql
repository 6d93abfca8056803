-- django-managed-accounts on PostgreSQL: two roles and the database (docs/deploying.rst).
-- Run once, as a superuser, before the first migrate:
--
--   psql -U postgres -d postgres -v database=shop -v owner=shop_owner -v app=shop_app \
--        -v owner_password='...' -v app_password='...' -f postgresql-setup.sql
--
-- The owner runs migrate, loaddata and flush, and owns every table, sequence, function and
-- trigger they create. The site connects as the application role.
CREATE ROLE :"owner" LOGIN PASSWORD :'owner_password'
    NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
CREATE ROLE :"app" LOGIN PASSWORD :'app_password'
    NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
CREATE DATABASE :"database" OWNER :"owner";
