-- +goose Up
-- The audit trail: who did what in an organization, written in the same transaction as
-- the change it records, read by owners and admins, never changed afterwards.

CREATE TABLE audit_events (
  id              bigserial PRIMARY KEY,
  organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  actor_user_id   uuid REFERENCES users (id) ON DELETE SET NULL,
  actor_login     text NOT NULL DEFAULT '',
  action          text NOT NULL CHECK (action ~ '^[a-z_]+\.[a-z_]+$'),
  target_type     text NOT NULL DEFAULT '',
  target_id       text NOT NULL DEFAULT '',
  details         jsonb NOT NULL DEFAULT '{}',
  client_address  text NOT NULL DEFAULT '',
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_events_org_idx ON audit_events (organization_id, created_at DESC, id DESC);
CREATE INDEX audit_events_org_action_idx ON audit_events (organization_id, action, created_at DESC);
CREATE INDEX audit_events_org_actor_idx ON audit_events (organization_id, actor_user_id, created_at DESC);
CREATE INDEX audit_events_created_idx ON audit_events (created_at);

-- Append-only for the application: rows are inserted, never changed. Only retention
-- (older than audit_retention_days) may delete, and only through this function.
-- +goose StatementBegin
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  keep_days bigint;
BEGIN
  IF TG_OP = 'DELETE' THEN
    SELECT value INTO keep_days FROM settings WHERE name = 'audit_retention_days';
    IF OLD.created_at < now() - make_interval(days => coalesce(keep_days, 400)::int) THEN
      RETURN OLD;
    END IF;
    -- an organization being deleted takes its trail with it
    IF NOT EXISTS (SELECT 1 FROM organizations WHERE id = OLD.organization_id) THEN
      RETURN OLD;
    END IF;
  END IF;
  RAISE EXCEPTION 'audit events are append-only'
    USING ERRCODE = '42501', CONSTRAINT = 'audit_events_append_only';
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();

-- The API's role (miyabi_app, migration 00009) may add entries and read them, never
-- change or remove one; the default privileges granted it all four.
REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM miyabi_app;

INSERT INTO permissions (name, description) VALUES
  ('organization.audit.read', 'See the audit trail of the organization');
INSERT INTO role_permissions (role_name, permission_name) VALUES
  ('org:owner', 'organization.audit.read'), ('org:admin', 'organization.audit.read');

-- Retention runs through this function, as the owner of the table, because the
-- application's role may not delete audit rows itself.
-- +goose StatementBegin
CREATE FUNCTION purge_audit_events() RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE
  n bigint;
BEGIN
  DELETE FROM audit_events WHERE created_at < now() - make_interval(days => coalesce(
    (SELECT value FROM settings WHERE name = 'audit_retention_days'), 400)::int);
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END;
$$;
-- +goose StatementEnd

-- The application's database role (migration 00009, when present) may insert and read
-- the trail, never rewrite it.
-- +goose StatementBegin
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'miyabi_app') THEN
    REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM miyabi_app;
  END IF;
END;
$$;
-- +goose StatementEnd

-- +goose Down
DELETE FROM role_permissions WHERE permission_name = 'organization.audit.read';
DELETE FROM permissions WHERE name = 'organization.audit.read';
DROP FUNCTION purge_audit_events();
DROP TABLE audit_events;
DROP FUNCTION audit_events_append_only();
