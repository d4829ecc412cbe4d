// Package perm names the permissions Miyabi seeds (migrations, api.md's role table) as
// typed constants, so a route declares perm.TasksUpdate and a typo does not compile.
package perm

// Permission is one seeded permission (permissions.name).
type Permission string

// The seeded permissions.
const (
	RepositoriesRead   Permission = "repositories.read"
	RepositoriesWrite  Permission = "repositories.write"
	RepositoriesDelete Permission = "repositories.delete"
	RepositoriesManage Permission = "repositories.manage"

	AgentsRead    Permission = "agents.read"
	AgentsExecute Permission = "agents.execute"
	AgentsStop    Permission = "agents.stop"
	AgentsManage  Permission = "agents.manage"

	WorkflowsRead    Permission = "workflows.read"
	WorkflowsCreate  Permission = "workflows.create"
	WorkflowsUpdate  Permission = "workflows.update"
	WorkflowsDelete  Permission = "workflows.delete"
	WorkflowsExecute Permission = "workflows.execute"

	TasksRead   Permission = "tasks.read"
	TasksCreate Permission = "tasks.create"
	TasksUpdate Permission = "tasks.update"
	TasksDelete Permission = "tasks.delete"
	TasksAssign Permission = "tasks.assign"

	OrganizationRead          Permission = "organization.read"
	OrganizationUpdate        Permission = "organization.update"
	OrganizationDelete        Permission = "organization.delete"
	OrganizationMembersRead   Permission = "organization.members.read"
	OrganizationMembersManage Permission = "organization.members.manage"
	OrganizationAuditRead     Permission = "organization.audit.read" // migration 00011

	TeamsRead   Permission = "teams.read"
	TeamsCreate Permission = "teams.create"
	TeamsUpdate Permission = "teams.update"
	TeamsDelete Permission = "teams.delete"

	// NotificationsManage: the organization's notification channels and settings
	// (owners and admins; migration 00015).
	NotificationsManage Permission = "notifications.manage"
)

// All is every seeded permission, in api.md's order.
var All = []Permission{
	RepositoriesRead, RepositoriesWrite, RepositoriesDelete, RepositoriesManage,
	AgentsRead, AgentsExecute, AgentsStop, AgentsManage,
	WorkflowsRead, WorkflowsCreate, WorkflowsUpdate, WorkflowsDelete, WorkflowsExecute,
	TasksRead, TasksCreate, TasksUpdate, TasksDelete, TasksAssign,
	OrganizationRead, OrganizationUpdate, OrganizationDelete, OrganizationMembersRead, OrganizationMembersManage, OrganizationAuditRead,
	TeamsRead, TeamsCreate, TeamsUpdate, TeamsDelete,
	NotificationsManage,
}
