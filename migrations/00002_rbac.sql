-- +goose Up
-- Permissions and roles, seeded exactly as api.md says. The application reads these
-- tables; it holds no second copy of who may do what.

CREATE TABLE permissions (
  name        text PRIMARY KEY CHECK (name ~ '^[a-z]+(\.[a-z]+)+$'),
  description text NOT NULL
);

CREATE TABLE roles (
  name        text PRIMARY KEY,
  scope       text NOT NULL CHECK (scope IN ('organization', 'team')),
  description text NOT NULL
);

CREATE TABLE role_permissions (
  role_name       text NOT NULL REFERENCES roles (name) ON DELETE CASCADE,
  permission_name text NOT NULL REFERENCES permissions (name) ON DELETE CASCADE,
  PRIMARY KEY (role_name, permission_name)
);

CREATE TABLE user_permissions (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  permission_name text NOT NULL REFERENCES permissions (name) ON DELETE CASCADE,
  granted_by      uuid REFERENCES users (id) ON DELETE SET NULL,
  expires_at      timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (organization_id, user_id, permission_name)
);

INSERT INTO permissions (name, description) VALUES
  ('repositories.read', 'See connected repositories'),
  ('repositories.write', 'Connect repositories and change their settings'),
  ('repositories.delete', 'Disconnect repositories'),
  ('repositories.manage', 'Manage repository access for teams'),
  ('agents.read', 'See agents, executions, logs, workers and coordinators'),
  ('agents.execute', 'Launch agents'),
  ('agents.stop', 'Cancel running agents'),
  ('agents.manage', 'Register and revoke workers and coordinators'),
  ('workflows.read', 'See workflows and their runs'),
  ('workflows.create', 'Create workflows'),
  ('workflows.update', 'Edit workflows'),
  ('workflows.delete', 'Delete workflows'),
  ('workflows.execute', 'Run workflows'),
  ('tasks.read', 'See tasks'),
  ('tasks.create', 'Create tasks'),
  ('tasks.update', 'Edit tasks and move them through their states'),
  ('tasks.delete', 'Delete tasks'),
  ('tasks.assign', 'Assign tasks'),
  ('organization.read', 'See the organization and its dashboard'),
  ('organization.update', 'Change the organization settings'),
  ('organization.delete', 'Delete the organization'),
  ('organization.members.read', 'See the members'),
  ('organization.members.manage', 'Invite, change and remove members'),
  ('teams.read', 'See teams'),
  ('teams.create', 'Create teams'),
  ('teams.update', 'Edit teams and their members'),
  ('teams.delete', 'Delete teams');

INSERT INTO roles (name, scope, description) VALUES
  ('org:owner', 'organization', 'Everything, including deleting the organization'),
  ('org:admin', 'organization', 'Everything but deleting the organization'),
  ('org:member', 'organization', 'Day-to-day work: repositories, agents, workflows, tasks'),
  ('org:viewer', 'organization', 'Read only'),
  ('team:lead', 'team', 'Leads a team: manages its repositories and their work'),
  ('team:member', 'team', 'Works on the repositories of the team');

INSERT INTO role_permissions (role_name, permission_name)
SELECT 'org:owner', name FROM permissions;

INSERT INTO role_permissions (role_name, permission_name)
SELECT 'org:admin', name FROM permissions WHERE name <> 'organization.delete';

INSERT INTO role_permissions (role_name, permission_name) VALUES
  ('org:member', 'repositories.read'), ('org:member', 'repositories.write'),
  ('org:member', 'agents.read'), ('org:member', 'agents.execute'), ('org:member', 'agents.stop'),
  ('org:member', 'workflows.read'), ('org:member', 'workflows.create'),
  ('org:member', 'workflows.update'), ('org:member', 'workflows.execute'),
  ('org:member', 'tasks.read'), ('org:member', 'tasks.create'), ('org:member', 'tasks.update'),
  ('org:member', 'organization.read'), ('org:member', 'organization.members.read'),
  ('org:member', 'teams.read');

INSERT INTO role_permissions (role_name, permission_name)
SELECT 'org:viewer', name FROM permissions WHERE name LIKE '%.read';

INSERT INTO role_permissions (role_name, permission_name) VALUES
  ('team:lead', 'repositories.read'), ('team:lead', 'repositories.write'), ('team:lead', 'repositories.manage'),
  ('team:lead', 'agents.read'), ('team:lead', 'agents.execute'), ('team:lead', 'agents.stop'),
  ('team:lead', 'tasks.read'), ('team:lead', 'tasks.create'), ('team:lead', 'tasks.update'), ('team:lead', 'tasks.assign'),
  ('team:member', 'repositories.read'),
  ('team:member', 'agents.read'), ('team:member', 'agents.execute'),
  ('team:member', 'tasks.read'), ('team:member', 'tasks.create'), ('team:member', 'tasks.update');

-- +goose Down
DROP TABLE user_permissions;
DROP TABLE role_permissions;
DROP TABLE roles;
DROP TABLE permissions;
