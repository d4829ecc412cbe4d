-- +goose Up
-- Security and abuse, round two (issue 14): limits every tenant lives within, the
-- dependency-cycle lock taken per organization, single-use OAuth states, the refresh
-- grace for two tabs, invitations bound to a GitHub account id, workers revoked with
-- the person who made them, and a shared store for rate limits.

-- The limits and quotas, one row each, read by the application (and the dependency
-- trigger) on use: an operator changes a value with one UPDATE, no deploy.
CREATE TABLE settings (
  name        text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9_]*$'),
  value       bigint NOT NULL CHECK (value >= 0),
  description text NOT NULL
);

INSERT INTO settings (name, value, description) VALUES
  ('max_dependency_depth', 50, 'Longest chain of task dependencies (tasks above a new task)'),
  ('max_dependencies_per_task', 20, 'Dependencies one task may declare'),
  ('max_dependencies_per_organization', 5000, 'Dependency edges among an organization''s unfinished tasks'),
  ('max_organizations_per_user', 20, 'Organizations one person may create'),
  ('max_workers_per_organization', 50, 'Live workers per organization'),
  ('max_open_invitations_per_organization', 50, 'Pending invitations per organization'),
  ('max_log_lines_per_execution', 50000, 'Log lines kept per execution; later lines are dropped after one marker line'),
  ('max_log_bytes_per_execution', 16777216, 'Log bytes kept per execution; later lines are dropped after one marker line'),
  ('idempotency_key_ttl_hours', 24, 'How long an Idempotency-Key is remembered'),
  ('audit_retention_days', 400, 'How long audit entries are kept');

-- Depth of a task in its dependency graph (0: depends on nothing), kept by the trigger
-- below so the depth cap is one lookup instead of a walk.
ALTER TABLE tasks ADD COLUMN dependency_depth integer NOT NULL DEFAULT 0 CHECK (dependency_depth >= 0);

-- The cycle check locked one advisory key for the whole database: one organization's
-- long chains made every other organization's dependent tasks wait. The lock is now
-- per organization (two halves of a cycle are always in one organization), and the
-- depth is capped, which bounds the walk.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION task_dependencies_reject_cycle() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  org uuid;
  dep_org uuid;
  dep_depth integer;
  max_depth integer;
BEGIN
  SELECT organization_id INTO org FROM tasks WHERE id = NEW.task_id;
  SELECT organization_id, dependency_depth INTO dep_org, dep_depth FROM tasks WHERE id = NEW.depends_on_task_id;
  IF org IS DISTINCT FROM dep_org THEN
    RAISE EXCEPTION 'task dependency across organizations: % -> %', NEW.task_id, NEW.depends_on_task_id
      USING ERRCODE = '23514', CONSTRAINT = 'task_dependencies_same_organization';
  END IF;
  PERFORM pg_advisory_xact_lock(hashtext('task_dependencies'), hashtext(org::text));
  SELECT value INTO max_depth FROM settings WHERE name = 'max_dependency_depth';
  IF max_depth IS NOT NULL AND dep_depth + 1 > max_depth THEN
    RAISE EXCEPTION 'task dependency chain deeper than % tasks', max_depth
      USING ERRCODE = '23514', CONSTRAINT = 'task_dependencies_depth';
  END IF;
  -- only a task that others already depend on can close a cycle: a new task (the
  -- usual case) skips the walk over its ancestors
  IF EXISTS (SELECT 1 FROM task_dependencies WHERE depends_on_task_id = NEW.task_id) AND EXISTS (
    WITH RECURSIVE reach(id) AS (
      SELECT NEW.depends_on_task_id
      UNION
      SELECT d.depends_on_task_id FROM task_dependencies d JOIN reach r ON d.task_id = r.id
    )
    SELECT 1 FROM reach WHERE id = NEW.task_id
  ) THEN
    RAISE EXCEPTION 'task dependency cycle: % -> %', NEW.task_id, NEW.depends_on_task_id
      USING ERRCODE = '23514', CONSTRAINT = 'task_dependencies_acyclic';
  END IF;
  UPDATE tasks SET dependency_depth = dep_depth + 1 WHERE id = NEW.task_id AND dependency_depth < dep_depth + 1;
  RETURN NEW;
END;
$$;
-- +goose StatementEnd

-- An OAuth state is spent by the first callback that presents it.
CREATE TABLE oauth_states_used (
  state_hash bytea PRIMARY KEY CHECK (length(state_hash) = 32),
  used_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX oauth_states_used_at_idx ON oauth_states_used (used_at);

-- The token a refresh token was rotated into: two tabs refreshing at once both get it
-- within the grace, instead of the second one tripping reuse detection.
ALTER TABLE refresh_tokens ADD COLUMN successor_hash bytea;

-- Invitations name a GitHub account by its numeric id (logins are reused after renames).
ALTER TABLE invitations ADD COLUMN github_user_id bigint;

-- Why a worker token was revoked: deleted by a person, or with the person who created it.
ALTER TABLE workers ADD COLUMN revoked_reason text
  CHECK (revoked_reason IN ('deleted', 'creator_removed', 'creator_suspended', 'creator_demoted'));

-- Rate-limit windows shared by every server and Lambda environment. Unlogged: after a
-- crash the counters start again, which only forgives a minute of requests.
CREATE UNLOGGED TABLE rate_limit_windows (
  key          text NOT NULL,
  window_start timestamptz NOT NULL,
  hits         integer NOT NULL,
  PRIMARY KEY (key, window_start)
);
CREATE INDEX rate_limit_windows_start_idx ON rate_limit_windows (window_start);

-- What each execution's log holds, so the per-execution caps cost one row lock per
-- batch instead of a count over the log.
CREATE TABLE execution_log_usage (
  execution_id    uuid PRIMARY KEY,
  organization_id uuid NOT NULL,
  lines           bigint NOT NULL DEFAULT 0,
  bytes           bigint NOT NULL DEFAULT 0,
  truncated       boolean NOT NULL DEFAULT false,
  FOREIGN KEY (organization_id, execution_id) REFERENCES agent_executions (organization_id, id) ON DELETE CASCADE
);

-- +goose Down
DROP TABLE execution_log_usage;
DROP TABLE rate_limit_windows;
ALTER TABLE workers DROP COLUMN revoked_reason;
ALTER TABLE invitations DROP COLUMN github_user_id;
ALTER TABLE refresh_tokens DROP COLUMN successor_hash;
DROP TABLE oauth_states_used;
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION task_dependencies_reject_cycle() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- serialise concurrent edge inserts so two halves of a cycle cannot pass at once
  PERFORM pg_advisory_xact_lock(hashtext('task_dependencies'));
  IF EXISTS (
    WITH RECURSIVE reach(id) AS (
      SELECT NEW.depends_on_task_id
      UNION
      SELECT d.depends_on_task_id FROM task_dependencies d JOIN reach r ON d.task_id = r.id
    )
    SELECT 1 FROM reach WHERE id = NEW.task_id
  ) THEN
    RAISE EXCEPTION 'task dependency cycle: % -> %', NEW.task_id, NEW.depends_on_task_id
      USING ERRCODE = '23514', CONSTRAINT = 'task_dependencies_acyclic';
  END IF;
  RETURN NEW;
END;
$$;
-- +goose StatementEnd
ALTER TABLE tasks DROP COLUMN dependency_depth;
DROP TABLE settings;
