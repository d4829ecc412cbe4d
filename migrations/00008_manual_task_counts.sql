-- +goose Up
-- The summary counts agent tasks through their executions' counters (an agent task and
-- its execution are always in the same status) and only manual tasks live: this index
-- keeps that count to the manual tasks of one organization.
CREATE INDEX tasks_org_manual_status_idx ON tasks (organization_id, status) WHERE execution_id IS NULL;

-- +goose Down
DROP INDEX tasks_org_manual_status_idx;
