-- +goose Up
-- The sweeper's heartbeat: one row, stamped by every sweep (the local goroutine or the
-- Lambda's scheduled invocation), so the operators' deep health check can tell from any
-- instance when the sweep last ran and what it moved. miyabi_app gets its rights from the
-- default privileges of 00009.
CREATE TABLE sweeper_runs (
  id           boolean PRIMARY KEY DEFAULT true CHECK (id),
  last_run_at  timestamptz NOT NULL,
  requeued     integer NOT NULL CHECK (requeued >= 0),
  last_error   text
);

-- The deep health check compares the database's migration version with the binary's.
-- The bookkeeping table stays the migrator's alone (00009 revokes it from miyabi_app):
-- this function, running as its owner, answers the one number and nothing else.
-- +goose StatementBegin
CREATE FUNCTION schema_version() RETURNS bigint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$ SELECT coalesce(max(version_id), 0) FROM goose_db_version $$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION schema_version() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION schema_version() TO miyabi_app;

-- +goose Down
DROP FUNCTION schema_version();
DROP TABLE sweeper_runs;
