-- +goose Up
-- The sweep's jobs, one row each (requeue_leases, purge, issue_comments, notifications,
-- queue_figures): what the last run of the job did (items it handled, items that failed
-- and will be retried, the error it stopped on) and running totals since the row was
-- first written, stamped by every sweep with its sweeper_runs row, so operators see
-- per-job failures from any instance (GET /api/v1/ops/metrics reads it). A new table:
-- the previous version, which never writes it, keeps working. miyabi_app gets its rights
-- from the default privileges of 00009.
CREATE TABLE sweeper_jobs (
  job           text PRIMARY KEY CHECK (job ~ '^[a-z][a-z_]{0,39}$'),
  last_run_at   timestamptz NOT NULL,
  items         integer NOT NULL CHECK (items >= 0),
  failed        integer NOT NULL CHECK (failed >= 0),
  error         text,
  runs          bigint NOT NULL CHECK (runs >= 0),
  items_total   bigint NOT NULL CHECK (items_total >= 0),
  failed_total  bigint NOT NULL CHECK (failed_total >= 0),
  errors_total  bigint NOT NULL CHECK (errors_total >= 0),
  last_error    text,
  last_error_at timestamptz,
  since         timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE sweeper_jobs;
