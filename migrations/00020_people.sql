-- +goose Up
-- Who cancelled: the person behind a cancel, on the task they moved, its execution and a
-- workflow run they stopped as a whole (null when the system cancelled: a node a failed
-- dependency took down, or a run whose nodes all ended cancelled). Executions and runs
-- also get the moment of the cancel, which tasks already had. miyabi_app reaches the new
-- columns through its table grants (00009); nothing else to grant.
ALTER TABLE tasks ADD COLUMN cancelled_by uuid REFERENCES users (id) ON DELETE SET NULL;
ALTER TABLE agent_executions
  ADD COLUMN cancelled_by uuid REFERENCES users (id) ON DELETE SET NULL,
  ADD COLUMN cancelled_at timestamptz;
ALTER TABLE workflow_runs
  ADD COLUMN cancelled_by uuid REFERENCES users (id) ON DELETE SET NULL,
  ADD COLUMN cancelled_at timestamptz;

-- History: a cancelled execution or run ended when it was cancelled.
UPDATE agent_executions SET cancelled_at = completed_at WHERE status = 'cancelled' AND cancelled_at IS NULL;
UPDATE workflow_runs SET cancelled_at = completed_at WHERE status = 'cancelled' AND cancelled_at IS NULL;

-- +goose Down
ALTER TABLE workflow_runs DROP COLUMN cancelled_at, DROP COLUMN cancelled_by;
ALTER TABLE agent_executions DROP COLUMN cancelled_at, DROP COLUMN cancelled_by;
ALTER TABLE tasks DROP COLUMN cancelled_by;
