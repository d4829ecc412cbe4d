-- +goose Up
-- The sweeper's heartbeat: one row, stamped by every sweep (the local goroutine or the
-- Lambda's scheduled invocation), so the operators' deep health check can tell from any
-- instance when the sweep last ran and what it moved.
CREATE TABLE sweeper_runs (
  id           boolean PRIMARY KEY DEFAULT true CHECK (id),
  last_run_at  timestamptz NOT NULL,
  requeued     integer NOT NULL CHECK (requeued >= 0),
  last_error   text
);

-- +goose Down
DROP TABLE sweeper_runs;
