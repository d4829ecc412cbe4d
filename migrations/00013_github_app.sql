-- +goose Up
-- The GitHub loop (issue 16): repositories reached through the Miyabi GitHub App, webhook
-- deliveries remembered for idempotency, the one issue comment per execution (an outbox
-- written in the same transaction as the change it reports), and pull requests recorded
-- once each.

-- The App installation that reaches the repository (NULL: unknown, or the App was
-- removed), and why the App deactivated it (NULL when a person did, or never).
ALTER TABLE repositories ADD COLUMN github_installation_id bigint;
ALTER TABLE repositories ADD COLUMN inactive_reason text CHECK (length(inactive_reason) <= 500);
CREATE INDEX repositories_github_repo_idx ON repositories (github_repo_id);
CREATE INDEX repositories_installation_idx ON repositories (github_installation_id) WHERE github_installation_id IS NOT NULL;

-- Every webhook delivery handled, by X-GitHub-Delivery: a redelivery does nothing twice.
CREATE TABLE github_webhook_deliveries (
  delivery_id text PRIMARY KEY CHECK (length(delivery_id) BETWEEN 1 AND 100),
  event       text NOT NULL,
  action      text NOT NULL DEFAULT '',
  received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX github_webhook_deliveries_received_idx ON github_webhook_deliveries (received_at);

-- The issue comment Miyabi keeps for an execution (execution_id set; the body is
-- rendered from the execution when delivered) or a one-off notice (body set). A change
-- bumps version in the same transaction; a delivery posts or edits the comment and
-- records the version it sent. Several changes before a delivery become one edit.
CREATE TABLE github_issue_comments (
  id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id   uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  execution_id      uuid UNIQUE,
  installation_id   bigint NOT NULL,
  repo_full_name    text NOT NULL CHECK (repo_full_name ~ '^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$'),
  issue_number      integer NOT NULL CHECK (issue_number > 0),
  body              text CHECK (length(body) <= 60000),
  comment_id        bigint,
  version           integer NOT NULL DEFAULT 1,
  delivered_version integer NOT NULL DEFAULT 0,
  attempts          integer NOT NULL DEFAULT 0,
  next_attempt_at   timestamptz NOT NULL DEFAULT now(),
  lease_until       timestamptz,
  last_error        text,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  CHECK (execution_id IS NOT NULL OR body IS NOT NULL),
  FOREIGN KEY (organization_id, execution_id) REFERENCES agent_executions (organization_id, id) ON DELETE CASCADE
);
CREATE INDEX github_issue_comments_due_idx ON github_issue_comments (next_attempt_at) WHERE delivered_version < version;
CREATE TRIGGER github_issue_comments_updated_at BEFORE UPDATE ON github_issue_comments FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- Pull requests, once each per organization and GitHub repository, whoever reported them
-- (a pull_request webhook, or the agent's result).
CREATE TABLE pull_requests (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  github_repo_id  bigint NOT NULL,
  repository_id   uuid,
  number          integer NOT NULL CHECK (number > 0),
  execution_id    uuid,
  url             text NOT NULL CHECK (length(url) <= 500),
  state           text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'closed')),
  merged          boolean NOT NULL DEFAULT false,
  merged_at       timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (organization_id, github_repo_id, number),
  FOREIGN KEY (organization_id, repository_id) REFERENCES repositories (organization_id, id) ON DELETE SET NULL (repository_id),
  FOREIGN KEY (organization_id, execution_id) REFERENCES agent_executions (organization_id, id) ON DELETE SET NULL (execution_id)
);
CREATE INDEX pull_requests_execution_idx ON pull_requests (execution_id) WHERE execution_id IS NOT NULL;
CREATE TRIGGER pull_requests_updated_at BEFORE UPDATE ON pull_requests FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- +goose Down
DROP TABLE pull_requests;
DROP TABLE github_issue_comments;
DROP TABLE github_webhook_deliveries;
DROP INDEX repositories_installation_idx;
DROP INDEX repositories_github_repo_idx;
ALTER TABLE repositories DROP COLUMN inactive_reason;
ALTER TABLE repositories DROP COLUMN github_installation_id;
