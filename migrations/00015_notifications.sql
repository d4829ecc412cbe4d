-- +goose Up
-- Notifications (issue 18): channels per organization (LINE, Slack, signed webhooks),
-- and the outbox of deliveries written in the same transaction as the change.

INSERT INTO permissions (name, description) VALUES
  ('notifications.manage', 'Manage notification channels (LINE, Slack, webhooks) and see their deliveries');
INSERT INTO role_permissions (role_name, permission_name) VALUES
  ('org:owner', 'notifications.manage'), ('org:admin', 'notifications.manage');

-- Messages are written in the organization's language.
ALTER TABLE organizations ADD COLUMN language text NOT NULL DEFAULT 'en' CHECK (language IN ('en', 'ja'));

CREATE TABLE notification_channels (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  kind            text NOT NULL CHECK (kind IN ('line', 'slack', 'webhook')),
  -- what is safe to show: the LINE recipient id, the Slack host, the webhook URL
  target          text NOT NULL CHECK (length(target) BETWEEN 1 AND 2048),
  -- AES-GCM (TOKEN_ENCRYPTION_KEY) bound to the channel id: the LINE channel access
  -- token, the Slack incoming webhook URL, or the webhook signing secret
  secret_sealed   bytea NOT NULL,
  event_types     text[] NOT NULL CHECK (cardinality(event_types) >= 1),
  -- empty: every repository
  repository_ids  uuid[] NOT NULL DEFAULT '{}',
  is_active       boolean NOT NULL DEFAULT true,
  status          text NOT NULL DEFAULT 'ok' CHECK (status IN ('ok', 'failing')),
  failure_reason  text,
  failing_since   timestamptz,
  created_by      uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (organization_id, id)
);
CREATE INDEX notification_channels_org ON notification_channels (organization_id, created_at DESC);

-- One row per (channel, event): the outbox and the delivery log at once. event_key is
-- unique per channel, so an event can never be queued twice for a channel.
CREATE TABLE notification_deliveries (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  channel_id      uuid NOT NULL,
  event_type      text NOT NULL,
  event_key       text NOT NULL,
  payload         jsonb NOT NULL,
  status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivering', 'delivered', 'failed')),
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  -- a claim sets lease_token and moves next_attempt_at to the lease's end: a delivery
  -- whose deliverer died is due again then
  lease_token     uuid,
  response_code   integer,
  response_body   text CHECK (octet_length(response_body) <= 1024),
  last_error      text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  delivered_at    timestamptz,
  UNIQUE (channel_id, event_key),
  FOREIGN KEY (organization_id, channel_id) REFERENCES notification_channels (organization_id, id) ON DELETE CASCADE
);
CREATE INDEX notification_deliveries_due ON notification_deliveries (next_attempt_at) WHERE status IN ('pending', 'delivering');
CREATE INDEX notification_deliveries_channel ON notification_deliveries (organization_id, channel_id, created_at DESC);

-- +goose Down
DROP TABLE notification_deliveries;
DROP TABLE notification_channels;
ALTER TABLE organizations DROP COLUMN language;
DELETE FROM permissions WHERE name = 'notifications.manage';
