-- +goose Up
-- A task cancelled because a task it depends on failed remembers that task, so retrying
-- the failed task brings its dependents back; a task a person cancelled stays cancelled.
ALTER TABLE tasks ADD COLUMN cancelled_by_task_id uuid REFERENCES tasks (id) ON DELETE SET NULL;
CREATE INDEX tasks_cancelled_by_idx ON tasks (cancelled_by_task_id) WHERE cancelled_by_task_id IS NOT NULL;

-- +goose Down
DROP INDEX tasks_cancelled_by_idx;
ALTER TABLE tasks DROP COLUMN cancelled_by_task_id;
