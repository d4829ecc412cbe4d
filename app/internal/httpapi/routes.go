package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/miyabi/miyabi/app/internal/domain"
	"github.com/miyabi/miyabi/app/internal/perm"
)

// routes is the whole API, one route a line: method, path (under /api/v1), the guard that
// lets the caller in (authorization.go), the handler, and the operation's documentation
// (next to the handler). Nothing is registered anywhere else.
//
// Guards: public (anyone), person (any signed-in person), worker (a worker token),
// memberOrWorker (an active member, any role, or a worker token), ticketHolder (a
// redeemed events ticket of the query),
// inOrg(p) (p across the active organization), inPathOrg(p) (p in the organization of the
// path's {id}; non-members get 404), launch(p) (p org-wide or through a team role; the
// handler checks the launch target), onTask/onRepository/onExecution(p) (loads the {id}
// object of the active organization, 404 when absent, and checks p on it, team role included).
func (s *Server) routes() {
	defer func() {
		doc := s.api.OpenAPI()
		// health answers 503 with its usual body, saying what is down
		health := doc.Paths["/health"].Get
		health.Responses["503"].Content = health.Responses["200"].Content
		deep := doc.Paths["/ops/health"].Get
		deep.Responses["503"].Content = deep.Responses["200"].Content
		documentWebhookBody(doc)
		documentHeaders(doc)
	}()
	// health
	handle(s, "GET", "/health", public, s.health, docHealth)

	// sign-in and the session
	handle(s, "GET", "/auth/github", public, s.githubStart, docAuthGithub)
	handle(s, "GET", "/auth/github/callback", public, s.githubCallback, docAuthGithubCallback)
	handle(s, "POST", "/auth/refresh", public, s.refresh, docAuthRefresh)
	handle(s, "POST", "/auth/logout", person, s.logout, docAuthLogout)
	handle(s, "GET", "/auth/me", person, s.me, docAuthMe)
	handle(s, "POST", "/auth/switch-organization", person, s.switchOrganization, docAuthSwitchOrganization)
	if s.cfg.Development() {
		handle(s, "POST", "/auth/dev-login", public, s.devLogin, docAuthDevLogin) // exists only when APP_ENV=development
	}

	// organizations, members, invitations
	handle(s, "GET", "/organizations", person, s.listOrganizations, docListOrganizations)
	handle(s, "POST", "/organizations", person, s.createOrganization, docCreateOrganization)
	handle(s, "GET", "/organizations/{id}", inPathOrg(perm.OrganizationRead), s.getOrganization, docGetOrganization)
	handle(s, "PATCH", "/organizations/{id}", inPathOrg(perm.OrganizationUpdate), s.updateOrganization, docUpdateOrganization)
	handle(s, "DELETE", "/organizations/{id}", inPathOrg(perm.OrganizationDelete), s.deleteOrganization, docDeleteOrganization)
	handle(s, "GET", "/organizations/{id}/members", inPathOrg(perm.OrganizationMembersRead), s.listMembers, docListMembers)
	handle(s, "PATCH", "/organizations/{id}/members/{user_id}", inPathOrg(perm.OrganizationMembersManage), s.updateMember, docUpdateMember)
	handle(s, "DELETE", "/organizations/{id}/members/{user_id}", inPathOrg(perm.OrganizationMembersManage), s.removeMember, docRemoveMember)
	handle(s, "GET", "/organizations/{id}/invitations", inPathOrg(perm.OrganizationMembersManage), s.listInvitations, docListInvitations)
	handle(s, "POST", "/organizations/{id}/invitations", inPathOrg(perm.OrganizationMembersManage), s.createInvitation, docCreateInvitation)
	handle(s, "DELETE", "/organizations/{id}/invitations/{invitation_id}", inPathOrg(perm.OrganizationMembersManage), s.revokeInvitation, docRevokeInvitation)
	handle(s, "POST", "/invitations/lookup", person, s.lookupInvitation, docLookupInvitation)
	handle(s, "POST", "/invitations/accept", person, s.acceptInvitationBody, docAcceptInvitationBody)
	handle(s, "POST", "/invitations/{token}/accept", person, s.acceptInvitation, docAcceptInvitation) // deprecated: the token is in the path
	handle(s, "GET", "/organizations/{id}/audit-events", inPathOrg(perm.OrganizationAuditRead), s.listAuditEvents, docListAuditEvents)

	// teams
	handle(s, "GET", "/organizations/{id}/teams", inPathOrg(perm.TeamsRead), s.listTeams, docListTeams)
	handle(s, "POST", "/organizations/{id}/teams", inPathOrg(perm.TeamsCreate), s.createTeam, docCreateTeam)
	handle(s, "GET", "/organizations/{id}/teams/{team_id}", inPathOrg(perm.TeamsRead), s.getTeam, docGetTeam)
	handle(s, "PATCH", "/organizations/{id}/teams/{team_id}", inPathOrg(perm.TeamsUpdate), s.updateTeam, docUpdateTeam)
	handle(s, "DELETE", "/organizations/{id}/teams/{team_id}", inPathOrg(perm.TeamsDelete), s.deleteTeam, docDeleteTeam)
	handle(s, "GET", "/organizations/{id}/teams/{team_id}/members", inPathOrg(perm.TeamsRead), s.listTeamMembers, docListTeamMembers)
	handle(s, "POST", "/organizations/{id}/teams/{team_id}/members", inPathOrg(perm.TeamsUpdate), s.addTeamMember, docAddTeamMember)
	handle(s, "DELETE", "/organizations/{id}/teams/{team_id}/members/{user_id}", inPathOrg(perm.TeamsUpdate), s.removeTeamMember, docRemoveTeamMember)

	// notifications (channels, their delivery logs, the message language)
	handle(s, "GET", "/organizations/{id}/notification-settings", inPathOrg(perm.NotificationsManage), s.getNotificationSettings, docGetNotificationSettings)
	handle(s, "PATCH", "/organizations/{id}/notification-settings", inPathOrg(perm.NotificationsManage), s.updateNotificationSettings, docUpdateNotificationSettings)
	handle(s, "GET", "/organizations/{id}/notification-channels", inPathOrg(perm.NotificationsManage), s.listNotificationChannels, docListNotificationChannels)
	handle(s, "POST", "/organizations/{id}/notification-channels", inPathOrg(perm.NotificationsManage), s.createNotificationChannel, docCreateNotificationChannel)
	handle(s, "GET", "/organizations/{id}/notification-channels/{channel_id}", inPathOrg(perm.NotificationsManage), s.getNotificationChannel, docGetNotificationChannel)
	handle(s, "PATCH", "/organizations/{id}/notification-channels/{channel_id}", inPathOrg(perm.NotificationsManage), s.updateNotificationChannel, docUpdateNotificationChannel)
	handle(s, "DELETE", "/organizations/{id}/notification-channels/{channel_id}", inPathOrg(perm.NotificationsManage), s.deleteNotificationChannel, docDeleteNotificationChannel)
	handle(s, "POST", "/organizations/{id}/notification-channels/{channel_id}/test", inPathOrg(perm.NotificationsManage), s.testNotificationChannel, docTestNotificationChannel)
	handle(s, "GET", "/organizations/{id}/notification-channels/{channel_id}/deliveries", inPathOrg(perm.NotificationsManage), s.listNotificationDeliveries, docListNotificationDeliveries)

	// repositories
	handle(s, "GET", "/repositories", inOrg(perm.RepositoriesRead), s.listRepositories, docListRepositories)
	handle(s, "POST", "/repositories", inOrg(perm.RepositoriesWrite), s.createRepository, docCreateRepository)
	handle(s, "GET", "/repositories/{id}", inOrg(perm.RepositoriesRead), s.getRepository, docGetRepository)
	handle(s, "PATCH", "/repositories/{id}", onRepository(perm.RepositoriesWrite), s.updateRepository, docUpdateRepository)
	handle(s, "DELETE", "/repositories/{id}", inOrg(perm.RepositoriesDelete), s.deleteRepository, docDeleteRepository)
	handle(s, "GET", "/repositories/{id}/issues", onRepository(perm.RepositoriesRead), s.listRepositoryIssues, docListRepositoryIssues)

	// agents and their executions
	handle(s, "GET", "/agents", inOrg(perm.AgentsRead), s.listAgents, docListAgents)
	handle(s, "POST", "/agents/execute", launch(perm.AgentsExecute), s.executeAgent, docExecuteAgent)
	handle(s, "GET", "/agents/executions", inOrg(perm.AgentsRead), s.listExecutions, docListExecutions)
	handle(s, "GET", "/agents/executions/{id}", inOrg(perm.AgentsRead), s.getExecution, docGetExecution)
	handle(s, "GET", "/agents/executions/{id}/logs", inOrg(perm.AgentsRead), s.executionLogs, docListExecutionLogs)
	handle(s, "POST", "/agents/executions/{id}/cancel", onExecution(perm.AgentsStop), s.cancelExecution, docCancelExecution)

	// workflows and their runs
	handle(s, "GET", "/workflows", inOrg(perm.WorkflowsRead), s.listWorkflows, docListWorkflows)
	handle(s, "POST", "/workflows", inOrg(perm.WorkflowsCreate), s.createWorkflow, docCreateWorkflow)
	handle(s, "GET", "/workflows/{id}", inOrg(perm.WorkflowsRead), s.getWorkflow, docGetWorkflow)
	handle(s, "PATCH", "/workflows/{id}", inOrg(perm.WorkflowsUpdate), s.updateWorkflow, docUpdateWorkflow)
	handle(s, "DELETE", "/workflows/{id}", inOrg(perm.WorkflowsDelete), s.deleteWorkflow, docDeleteWorkflow)
	handle(s, "POST", "/workflows/{id}/run", inOrg(perm.WorkflowsExecute), s.runWorkflow, docRunWorkflow)
	handle(s, "GET", "/workflows/{id}/runs", inOrg(perm.WorkflowsRead), s.listWorkflowRuns, docListWorkflowRuns)
	handle(s, "GET", "/workflow-runs/{id}", inOrg(perm.WorkflowsRead), s.getWorkflowRun, docGetWorkflowRun)
	// workflows.execute: whoever may start a run may stop it, as agents.execute and agents.stop go together in every
	// role; a run is the workflow's, not one agent's (its node cancels need no agents.stop of their own)
	handle(s, "POST", "/workflow-runs/{id}/cancel", inOrg(perm.WorkflowsExecute), s.cancelWorkflowRun, docCancelWorkflowRun)

	// tasks (an agent's or manual work)
	handle(s, "GET", "/tasks", inOrg(perm.TasksRead), s.listTasks, docListTasks)
	handle(s, "GET", "/tasks/stats", inOrg(perm.TasksRead), s.taskStats, docTaskStats)
	handle(s, "GET", "/tasks/{id}", inOrg(perm.TasksRead), s.getTask, docGetTask)
	handle(s, "POST", "/tasks", launch(perm.TasksCreate), s.createTask, docCreateTask)
	handle(s, "PATCH", "/tasks/{id}", onTask(perm.TasksUpdate), s.updateTask, docUpdateTask)
	handle(s, "POST", "/tasks/{id}/start", onTask(perm.TasksUpdate), s.moveTaskHandler(domain.ActStart), docStartTask)
	handle(s, "POST", "/tasks/{id}/complete", onTask(perm.TasksUpdate), s.moveTaskHandler(domain.ActComplete), docCompleteTask)
	handle(s, "POST", "/tasks/{id}/fail", onTask(perm.TasksUpdate), s.moveTaskHandler(domain.ActFail), docFailTask)
	handle(s, "POST", "/tasks/{id}/cancel", onTask(perm.TasksUpdate).agentTasksAlsoNeed(perm.AgentsStop), s.moveTaskHandler(domain.ActCancel), docCancelTask)
	handle(s, "POST", "/tasks/{id}/retry", onTask(perm.TasksUpdate).agentTasksAlsoNeed(perm.AgentsExecute), s.moveTaskHandler(domain.ActRetry), docRetryTask)
	handle(s, "DELETE", "/tasks/{id}", inOrg(perm.TasksDelete), s.deleteTask, docDeleteTask)

	// dashboard
	handle(s, "GET", "/dashboard/summary", inOrg(perm.OrganizationRead), s.dashboardSummary, docDashboardSummary)
	handle(s, "GET", "/dashboard/recent", inOrg(perm.OrganizationRead), s.dashboardRecent, docDashboardRecent)
	handle(s, "GET", "/dashboard/metrics", inOrg(perm.OrganizationRead), s.dashboardMetrics, docDashboardMetrics)

	// workers
	handle(s, "GET", "/workers", inOrg(perm.AgentsRead), s.listWorkers, docListWorkers)
	handle(s, "GET", "/workers/{id}", inOrg(perm.AgentsRead), s.getWorker, docGetWorker)
	handle(s, "POST", "/workers", inOrg(perm.AgentsManage), s.createWorker, docCreateWorker)
	handle(s, "DELETE", "/workers/{id}", inOrg(perm.AgentsManage), s.deleteWorker, docDeleteWorker)

	// coordinators
	handle(s, "GET", "/coordinators", inOrg(perm.AgentsRead), s.listCoordinators, docListCoordinators)
	handle(s, "GET", "/coordinators/{id}", inOrg(perm.AgentsRead), s.getCoordinator, docGetCoordinator)
	handle(s, "POST", "/coordinators", inOrg(perm.AgentsManage), s.createCoordinator, docCreateCoordinator)
	handle(s, "PATCH", "/coordinators/{id}", inOrg(perm.AgentsManage), s.updateCoordinator, docUpdateCoordinator)
	handle(s, "DELETE", "/coordinators/{id}", inOrg(perm.AgentsManage), s.deleteCoordinator, docDeleteCoordinator)

	// the worker API (worker tokens)
	handle(s, "POST", "/worker/heartbeat", worker, s.workerHeartbeat, docWorkerHeartbeat)
	handle(s, "POST", "/worker/claim", worker, s.workerClaim, docWorkerClaim)
	handle(s, "POST", "/worker/tasks/{id}/logs", worker, s.workerTaskLogs, docWorkerTaskLogs)
	handle(s, "POST", "/worker/tasks/{id}/complete", worker, s.workerTaskComplete, docWorkerTaskComplete)
	handle(s, "POST", "/worker/tasks/{id}/fail", worker, s.workerTaskFail, docWorkerTaskFail)

	// GitHub (the App's webhook: no credentials, but the handler checks the body's
	// X-Hub-Signature-256 before reading anything else)
	handle(s, "POST", "/github/webhook", public, s.githubWebhook, docGitHubWebhook)

	// live events (a ticket, then the WebSocket it opens)
	handle(s, "POST", "/events/ticket", memberOrWorker, s.eventsTicket, docEventsTicket)
	handle(s, "GET", "/events", ticketHolder, s.serveEvents, docEvents)

	// operators (OPERATOR_GITHUB_IDS): the service's own figures and deep health
	handle(s, "GET", "/ops/health", operator, s.opsHealth, docOpsHealth)
	handle(s, "GET", "/ops/metrics", operator, s.opsMetrics, docOpsMetrics)
}

// permissionExt records each operation's permission in the OpenAPI document, so a test can
// prove no route was registered without one; scopeExt says where it is checked.
const (
	permissionExt = "x-miyabi-permission"
	scopeExt      = "x-miyabi-scope"
)

// handle registers one route behind its guard. Handlers return plain errors; handle turns
// them into problems in one place.
func handle[I, O any](s *Server, method, path string, g guard, handler func(context.Context, *I) (*O, error), doc huma.Operation) {
	o := doc
	o.Method, o.Path = method, path
	if doc.Responses != nil { // every server gets its own: huma and documentHeaders fill them in
		o.Responses = make(map[string]*huma.Response, len(doc.Responses))
		for code, r := range doc.Responses {
			copied := *r
			o.Responses[code] = &copied
		}
	}
	if o.Extensions == nil {
		o.Extensions = map[string]any{}
	}
	o.Extensions[permissionExt] = g.permission()
	o.Extensions[scopeExt] = g.scope.String()
	switch g.scope {
	case scopePublic:
		o.Security = []map[string][]string{} // `security: []`: no credentials needed
	case scopeWorker:
		o.Security = []map[string][]string{{"worker": {}}}
	case scopeMemberOrWorker:
		o.Security = []map[string][]string{{"bearer": {}}, {"worker": {}}}
	case scopeTicket:
		o.Security = []map[string][]string{{"ticket": {}}}
	default:
		o.Security = []map[string][]string{{"bearer": {}}}
	}
	o.Errors = slices.DeleteFunc(declaredErrors[I](g, method, path, o.Errors), func(code int) bool {
		_, own := o.Responses[fmt.Sprint(code)] // an answer the operation documents itself (health's 503)
		return own
	})
	if o.OperationID == "" {
		panic(fmt.Sprintf("%s %s has no operation id", method, path))
	}
	o.Middlewares = append(o.Middlewares, s.admit(g))
	huma.Register(s.api, o, func(ctx context.Context, in *I) (*O, error) {
		ctx, err := s.loadGuarded(ctx, g)
		if err != nil {
			return nil, problemFor(ctx, s.log, err)
		}
		out, err := handler(s.withActor(ctx), in) // who is behind it, for the audit trail
		if err != nil {
			return nil, problemFor(ctx, s.log, err)
		}
		return out, nil
	})
}

// declaredErrors is every error status a route can answer, so the document is exact:
// what the operation lists itself (409, 502...), plus what the engine and the guard
// answer on their own: 401 on secured routes; 409 on writes; 403 (a role without the permission, or a
// request that did not come through the distribution); 404 for an object of the path;
// 400, 413, 415 for a body that cannot be read; 422 for invalid input; 500; 503 when the
// database is away or the request deadline passes.
func declaredErrors[I any](g guard, method, path string, listed []int) []int {
	errs := slices.Clone(listed)
	add := func(codes ...int) {
		for _, c := range codes {
			if !slices.Contains(errs, c) {
				errs = append(errs, c)
			}
		}
	}
	// 429: every principal has a rate limit (ratelimit.go), answered with Retry-After
	add(http.StatusForbidden, http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusServiceUnavailable)
	if g.scope != scopePublic {
		add(http.StatusUnauthorized)
	}
	if method != http.MethodGet {
		add(http.StatusConflict) // a write can meet the state of things: a taken slug, a last owner, a full seat count
	}
	if strings.Contains(path, "{") {
		add(http.StatusNotFound, http.StatusUnprocessableEntity)
	}
	in := reflect.TypeFor[I]()
	if in.Kind() == reflect.Struct && in.NumField() > 0 {
		add(http.StatusUnprocessableEntity)
	}
	if f, ok := in.FieldByName("Body"); ok && f.Type != nil {
		add(http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType, http.StatusUnprocessableEntity)
	}
	slices.Sort(errs)
	return errs
}

// documentHeaders declares the headers every answer carries: X-Request-Id on all of
// them, WWW-Authenticate on 401s, Retry-After on 429s.
func documentHeaders(doc *huma.OpenAPI) {
	str := &huma.Schema{Type: huma.TypeString}
	for _, item := range doc.Paths {
		for _, o := range []*huma.Operation{item.Get, item.Post, item.Put, item.Patch, item.Delete} {
			if o == nil {
				continue
			}
			for code, r := range o.Responses {
				if r.Headers == nil {
					r.Headers = map[string]*huma.Param{}
				}
				r.Headers["X-Request-Id"] = &huma.Param{Description: "Names this request in the server's logs (sent back when the client set one)", Schema: str}
				switch code {
				case "401":
					r.Headers["WWW-Authenticate"] = &huma.Param{Description: `Bearer realm="miyabi"`, Schema: str}
				case "429":
					r.Headers["Retry-After"] = &huma.Param{Description: "Seconds to wait before trying again", Schema: &huma.Schema{Type: huma.TypeInteger}}
				}
			}
		}
	}
}
