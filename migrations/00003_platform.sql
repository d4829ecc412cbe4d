-- +goose Up
-- The agent platform: repositories, workers, executions, workflows, tasks.

CREATE TABLE repositories (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  team_id         uuid,
  github_repo_id  bigint NOT NULL,
  full_name       text NOT NULL CHECK (full_name ~ '^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$'),
  default_branch  text NOT NULL DEFAULT 'main',
  is_private      boolean NOT NULL DEFAULT false,
  is_active       boolean NOT NULL DEFAULT true,
  created_by      uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (organization_id, github_repo_id),
  UNIQUE (organization_id, id),
  FOREIGN KEY (organization_id, team_id) REFERENCES teams (organization_id, id) ON DELETE SET NULL (team_id)
);
CREATE INDEX repositories_org_idx ON repositories (organization_id, created_at DESC);
CREATE INDEX repositories_team_idx ON repositories (team_id) WHERE team_id IS NOT NULL;
CREATE TRIGGER repositories_updated_at BEFORE UPDATE ON repositories FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE coordinators (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  host            text NOT NULL CHECK (length(host) BETWEEN 1 AND 255),
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (organization_id, name),
  UNIQUE (organization_id, id)
);
CREATE TRIGGER coordinators_updated_at BEFORE UPDATE ON coordinators FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE workers (
  id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id   uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  coordinator_id    uuid,
  name              text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  token_hash        bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
  agent_types       text[] NOT NULL DEFAULT '{}',
  max_concurrency   integer NOT NULL DEFAULT 1 CHECK (max_concurrency BETWEEN 1 AND 64),
  version           text NOT NULL DEFAULT '',
  last_heartbeat_at timestamptz,
  revoked_at        timestamptz,
  created_by        uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  UNIQUE (organization_id, id),
  FOREIGN KEY (organization_id, coordinator_id) REFERENCES coordinators (organization_id, id) ON DELETE SET NULL (coordinator_id)
);
CREATE INDEX workers_org_idx ON workers (organization_id, created_at DESC);
CREATE INDEX workers_coordinator_idx ON workers (coordinator_id) WHERE coordinator_id IS NOT NULL;
CREATE TRIGGER workers_updated_at BEFORE UPDATE ON workers FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE workflows (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  description     text NOT NULL DEFAULT '',
  definition      jsonb NOT NULL,
  created_by      uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (organization_id, id)
);
CREATE INDEX workflows_org_idx ON workflows (organization_id, created_at DESC);
CREATE TRIGGER workflows_updated_at BEFORE UPDATE ON workflows FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE workflow_runs (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  workflow_id     uuid NOT NULL,
  repository_id   uuid,
  issue_number    integer CHECK (issue_number > 0),
  status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'completed', 'failed', 'cancelled')),
  definition      jsonb NOT NULL,
  created_by      uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  started_at      timestamptz,
  completed_at    timestamptz,
  UNIQUE (organization_id, id),
  FOREIGN KEY (organization_id, workflow_id) REFERENCES workflows (organization_id, id) ON DELETE CASCADE,
  FOREIGN KEY (organization_id, repository_id) REFERENCES repositories (organization_id, id) ON DELETE SET NULL (repository_id)
);
CREATE INDEX workflow_runs_workflow_idx ON workflow_runs (organization_id, workflow_id, created_at DESC);
CREATE TRIGGER workflow_runs_updated_at BEFORE UPDATE ON workflow_runs FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE agent_executions (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  repository_id   uuid,
  workflow_run_id uuid,
  agent_type      text NOT NULL CHECK (agent_type ~ '^[a-z][a-z0-9_-]{0,39}$'),
  issue_number    integer CHECK (issue_number > 0),
  status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'completed', 'failed', 'cancelled')),
  options         jsonb NOT NULL DEFAULT '{}',
  pr_number       integer CHECK (pr_number > 0),
  quality_score   real CHECK (quality_score BETWEEN 0 AND 100),
  summary         text,
  error           text,
  created_by      uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  started_at      timestamptz,
  completed_at    timestamptz,
  UNIQUE (organization_id, id),
  FOREIGN KEY (organization_id, repository_id) REFERENCES repositories (organization_id, id) ON DELETE SET NULL (repository_id),
  FOREIGN KEY (organization_id, workflow_run_id) REFERENCES workflow_runs (organization_id, id) ON DELETE SET NULL (workflow_run_id)
);
CREATE INDEX agent_executions_org_created_idx ON agent_executions (organization_id, created_at DESC) INCLUDE (status);
CREATE INDEX agent_executions_org_status_idx ON agent_executions (organization_id, status, created_at DESC);
CREATE INDEX agent_executions_org_agent_idx ON agent_executions (organization_id, agent_type, created_at DESC);
CREATE INDEX agent_executions_org_repo_idx ON agent_executions (organization_id, repository_id, created_at DESC) WHERE repository_id IS NOT NULL;
CREATE TRIGGER agent_executions_updated_at BEFORE UPDATE ON agent_executions FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE tasks (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id  uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  name             text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  description      text NOT NULL DEFAULT '',
  status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'completed', 'failed', 'cancelled')),
  priority         text NOT NULL DEFAULT 'P1' CHECK (priority IN ('P0', 'P1', 'P2')),
  agent_type       text CHECK (agent_type ~ '^[a-z][a-z0-9_-]{0,39}$'),
  repository_id    uuid,
  issue_number     integer CHECK (issue_number > 0),
  execution_id     uuid,
  workflow_run_id  uuid,
  workflow_node_id text,
  metadata         jsonb NOT NULL DEFAULT '{}',
  result           jsonb,
  error            text,
  retry_count      integer NOT NULL DEFAULT 0 CHECK (retry_count >= 0),
  max_retries      integer NOT NULL DEFAULT 3 CHECK (max_retries BETWEEN 0 AND 10),
  timeout_seconds  integer NOT NULL DEFAULT 1800 CHECK (timeout_seconds BETWEEN 1 AND 86400),
  -- how many of the tasks this one depends on have not completed yet; 0 = claimable
  deps_pending     integer NOT NULL DEFAULT 0 CHECK (deps_pending >= 0),
  lease_owner      uuid REFERENCES workers (id) ON DELETE SET NULL,
  lease_expires_at timestamptz,
  cancel_requested boolean NOT NULL DEFAULT false,
  created_by       uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  started_at       timestamptz,
  completed_at     timestamptz,
  failed_at        timestamptz,
  cancelled_at     timestamptz,
  UNIQUE (organization_id, id),
  FOREIGN KEY (organization_id, repository_id) REFERENCES repositories (organization_id, id) ON DELETE SET NULL (repository_id),
  FOREIGN KEY (organization_id, execution_id) REFERENCES agent_executions (organization_id, id) ON DELETE CASCADE,
  FOREIGN KEY (organization_id, workflow_run_id) REFERENCES workflow_runs (organization_id, id) ON DELETE CASCADE
);
CREATE INDEX tasks_org_order_idx ON tasks (organization_id, priority, created_at DESC);
CREATE INDEX tasks_org_status_idx ON tasks (organization_id, status, priority, created_at DESC);
CREATE INDEX tasks_org_repo_idx ON tasks (organization_id, repository_id) WHERE repository_id IS NOT NULL;
CREATE INDEX tasks_org_agent_idx ON tasks (organization_id, agent_type) WHERE agent_type IS NOT NULL;
CREATE INDEX tasks_claim_idx ON tasks (organization_id, priority, created_at)
  WHERE status = 'pending' AND deps_pending = 0 AND agent_type IS NOT NULL;
CREATE INDEX tasks_lease_idx ON tasks (lease_expires_at) WHERE status = 'running';
CREATE INDEX tasks_lease_owner_idx ON tasks (lease_owner) WHERE lease_owner IS NOT NULL;
CREATE UNIQUE INDEX tasks_execution_idx ON tasks (execution_id) WHERE execution_id IS NOT NULL;
CREATE INDEX tasks_run_idx ON tasks (workflow_run_id) WHERE workflow_run_id IS NOT NULL;
CREATE TRIGGER tasks_updated_at BEFORE UPDATE ON tasks FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE task_dependencies (
  task_id            uuid NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
  depends_on_task_id uuid NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
  PRIMARY KEY (task_id, depends_on_task_id),
  CHECK (task_id <> depends_on_task_id)
);
CREATE INDEX task_dependencies_reverse_idx ON task_dependencies (depends_on_task_id);

-- The database itself refuses a dependency that closes a cycle, whoever inserts it.
-- +goose StatementBegin
CREATE FUNCTION task_dependencies_reject_cycle() RETURNS trigger LANGUAGE plpgsql AS $$
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
CREATE TRIGGER task_dependencies_acyclic BEFORE INSERT OR UPDATE ON task_dependencies
  FOR EACH ROW EXECUTE FUNCTION task_dependencies_reject_cycle();

CREATE TABLE execution_logs (
  id              bigserial PRIMARY KEY,
  organization_id uuid NOT NULL,
  execution_id    uuid NOT NULL,
  stream          text NOT NULL DEFAULT 'stdout' CHECK (stream IN ('stdout', 'stderr', 'system')),
  message         text NOT NULL,
  logged_at       timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (organization_id, execution_id) REFERENCES agent_executions (organization_id, id) ON DELETE CASCADE
);
CREATE INDEX execution_logs_execution_idx ON execution_logs (execution_id, id);

CREATE TABLE idempotency_keys (
  organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  route           text NOT NULL,
  key             text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
  request_hash    bytea NOT NULL,
  response_status integer NOT NULL,
  response_body   jsonb NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organization_id, user_id, route, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);

-- Dashboard counters, kept by a trigger in the same transaction as each execution change,
-- so the summary and the charts read a few rows instead of scanning executions.
-- Each organization's counters are split over 8 shards (chosen from the execution id) so
-- concurrent launches in one organization do not serialise on one row.
CREATE TABLE execution_counters (
  organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  status          text NOT NULL,
  shard           smallint NOT NULL,
  n               bigint NOT NULL DEFAULT 0,
  prs             bigint NOT NULL DEFAULT 0,
  duration_ms     bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (organization_id, status, shard)
);

CREATE TABLE execution_buckets (
  organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  bucket          timestamptz NOT NULL,
  status          text NOT NULL,
  n               bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (organization_id, bucket, status)
);

-- +goose StatementBegin
CREATE FUNCTION agent_executions_count() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  s smallint;
BEGIN
  IF TG_OP = 'UPDATE' AND OLD.status = NEW.status AND OLD.pr_number IS NOT DISTINCT FROM NEW.pr_number
     AND OLD.completed_at IS NOT DISTINCT FROM NEW.completed_at THEN
    RETURN NULL;
  END IF;
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    s := (hashtext(OLD.id::text) & 7);
    UPDATE execution_counters SET n = n - 1,
      prs = prs - (OLD.pr_number IS NOT NULL)::int,
      duration_ms = duration_ms - coalesce((extract(epoch FROM OLD.completed_at - OLD.started_at) * 1000)::bigint, 0)
    WHERE organization_id = OLD.organization_id AND status = OLD.status AND shard = s;
    UPDATE execution_buckets SET n = n - 1
    WHERE organization_id = OLD.organization_id AND bucket = date_trunc('hour', OLD.created_at) AND status = OLD.status;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    s := (hashtext(NEW.id::text) & 7);
    INSERT INTO execution_counters AS c (organization_id, status, shard, n, prs, duration_ms)
    VALUES (NEW.organization_id, NEW.status, s, 1, (NEW.pr_number IS NOT NULL)::int,
            coalesce((extract(epoch FROM NEW.completed_at - NEW.started_at) * 1000)::bigint, 0))
    ON CONFLICT (organization_id, status, shard) DO UPDATE
      SET n = c.n + 1, prs = c.prs + excluded.prs, duration_ms = c.duration_ms + excluded.duration_ms;
    INSERT INTO execution_buckets AS b (organization_id, bucket, status, n)
    VALUES (NEW.organization_id, date_trunc('hour', NEW.created_at), NEW.status, 1)
    ON CONFLICT (organization_id, bucket, status) DO UPDATE SET n = b.n + 1;
  END IF;
  RETURN NULL;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER agent_executions_count AFTER INSERT OR UPDATE OR DELETE ON agent_executions
  FOR EACH ROW EXECUTE FUNCTION agent_executions_count();

-- +goose Down
DROP TRIGGER agent_executions_count ON agent_executions;
DROP FUNCTION agent_executions_count();
DROP TABLE execution_buckets;
DROP TABLE execution_counters;
DROP TABLE idempotency_keys;
DROP TABLE execution_logs;
DROP TABLE task_dependencies;
DROP FUNCTION task_dependencies_reject_cycle();
DROP TABLE tasks;
DROP TABLE agent_executions;
DROP TABLE workflow_runs;
DROP TABLE workflows;
DROP TABLE workers;
DROP TABLE coordinators;
DROP TABLE repositories;
