-- django-managed-accounts on PostgreSQL: what the application role may do (docs/deploying.rst).
-- Run as a superuser, connected to the database, after the first migrate and again after every
-- upgrade's migrate (running it twice changes nothing):
--
--   psql -U postgres -d shop -v database=shop -v owner=shop_owner -v app=shop_app \
--        -f postgresql-grants.sql
--
-- Nothing in the database for other roles: no connecting, no temporary tables, no schemas.
-- The triggers look tables up by name, and a session's temporary tables come first.
REVOKE ALL ON DATABASE :"database" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"database" TO :"app";

-- Nothing new in the schema except by the owner (PostgreSQL 14 and older let every role).
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO :"app";

-- Rows, never tables: no TRUNCATE, REFERENCES or TRIGGER.
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO :"app";
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO :"app";

-- The ledger is append-only. Legs are only ever inserted; a transfer's one change is its user
-- set to NULL when that user is deleted.
REVOKE UPDATE, DELETE ON public.accounts_transaction FROM :"app";
REVOKE DELETE ON public.accounts_transfer FROM :"app";

-- The migration history is the owner's to write.
REVOKE INSERT, UPDATE, DELETE ON public.django_migrations FROM :"app";

-- Tables and sequences that later migrations create, as the owner, get the same grants.
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"app";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public
    GRANT USAGE ON SEQUENCES TO :"app";
