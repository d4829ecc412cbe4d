-- +goose Up
-- The API's own role: it reads and writes the application's rows and nothing else (no
-- DDL, no superuser, no role management). The migrate action runs as the owner (the RDS
-- master user); the API connects as miyabi_app (on AWS through RDS IAM authentication,
-- so it has no password that could go stale).
--
-- Roles are cluster-wide while this runs once per database (and tests clone many
-- databases from one template, some migrating in parallel), so the role is created only
-- when missing, and a concurrent creation is not an error.

-- +goose StatementBegin
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'miyabi_app') THEN
    CREATE ROLE miyabi_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION;
  END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
  NULL; -- created at the same moment by a migration of another database
END;
$$;
-- +goose StatementEnd

-- On RDS, membership of rds_iam lets miyabi_app sign in with an IAM token instead of a
-- password; elsewhere that role does not exist and passwords (or trust) apply.
-- +goose StatementBegin
DO $$
BEGIN
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'rds_iam')
     AND NOT pg_has_role('miyabi_app', 'rds_iam', 'MEMBER') THEN
    GRANT rds_iam TO miyabi_app;
  END IF;
END;
$$;
-- +goose StatementEnd

-- +goose StatementBegin
DO $$ BEGIN EXECUTE format('GRANT CONNECT ON DATABASE %I TO miyabi_app', current_database()); END; $$;
-- +goose StatementEnd
GRANT USAGE ON SCHEMA public TO miyabi_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO miyabi_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO miyabi_app;
-- The migration bookkeeping belongs to the migrator alone.
REVOKE ALL ON goose_db_version FROM miyabi_app;

-- Tables and sequences that later migrations create (run by the same owner) get the
-- same rights without each migration having to remember. A table that must be
-- append-only revokes UPDATE and DELETE in its own migration.
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO miyabi_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO miyabi_app;

-- +goose Down
-- The role itself stays: it is cluster-wide and other databases may still grant to it.
ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE USAGE, SELECT ON SEQUENCES FROM miyabi_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM miyabi_app;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM miyabi_app;
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM miyabi_app;
REVOKE USAGE ON SCHEMA public FROM miyabi_app;
-- +goose StatementBegin
DO $$ BEGIN EXECUTE format('REVOKE CONNECT ON DATABASE %I FROM miyabi_app', current_database()); END; $$;
-- +goose StatementEnd
