package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"slices"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humagin"
	"github.com/google/uuid"

	"github.com/miyabi/miyabi/app/internal/auth"
	"github.com/miyabi/miyabi/app/internal/domain"
	"github.com/miyabi/miyabi/app/internal/perm"
	"github.com/miyabi/miyabi/app/internal/store"
)

// scope is where a guard checks its permission.
type scope int

const (
	scopePublic         scope = iota // anyone, signed in or not
	scopePerson                      // any signed-in person, whatever their role
	scopeWorker                      // a worker token, on /worker/* only
	scopeOrg                         // the permission across the active organization
	scopeTeam                        // the permission across the active organization, or through a team role on the object's team
	scopePathOrg                     // the permission in the organization named by the path's {id}
	scopeMemberOrWorker              // an active member of their active organization, or a worker token
	scopeTicket                      // a single-use events ticket in the query (?ticket=), no token
	scopeOperator                    // a person named in OPERATOR_GITHUB_IDS: the service, not an organization
)

func (sc scope) String() string {
	return [...]string{"public", "person", "worker", "organization", "team", "path-organization", "member-or-worker", "ticket", "operator"}[sc]
}

// guard is a route's access rule: who may call it and, for routes on one object, which
// object it loads and checks before the handler runs. Refusals keep one order: 401 (no
// valid credentials), 403 (the caller's role cannot do this anywhere), then, once the
// request is valid, 404 (no such object in the organization) and 403 (the caller's team
// role does not reach this object).
type guard struct {
	scope scope
	perm  perm.Permission
	// load fetches the object named by the path's {id} in the active organization, puts it
	// in the context and returns its team (nil when none) for team-role checks.
	load func(s *Server, ctx context.Context, orgID, id uuid.UUID, needTeam bool) (context.Context, *uuid.UUID, error)
	// agentPerm is also needed when the loaded task is an agent's (stop or relaunch it).
	agentPerm perm.Permission
}

var (
	public = guard{scope: scopePublic}
	person = guard{scope: scopePerson}
	worker = guard{scope: scopeWorker}
	// memberOrWorker is a person who is an active member of their active organization
	// (any role), or a worker token: the events ticket.
	memberOrWorker = guard{scope: scopeMemberOrWorker}
	// ticketHolder redeems the single-use ticket of the query (?ticket=, from POST
	// /events/ticket) and puts its caller in the context (ticketCallerFrom): the events
	// WebSocket, where no token may travel in the URL.
	ticketHolder = guard{scope: scopeTicket}
	// operator is a signed-in person whose GitHub account is in OPERATOR_GITHUB_IDS
	// (numeric ids: a login can be renamed and re-registered by someone else). Operators
	// run the service; no organization role makes one.
	operator = guard{scope: scopeOperator}
)

// inOrg needs p across the caller's active organization.
func inOrg(p perm.Permission) guard { return guard{scope: scopeOrg, perm: p} }

// inPathOrg needs p in the organization of the path's {id}, which need not be the active
// one: non-members get 404, members without p 403. The handler finds the caller, scoped
// to that organization, with principalFrom.
func inPathOrg(p perm.Permission) guard { return guard{scope: scopePathOrg, perm: p} }

// launch needs p across the organization or through a team role; the handler checks the
// launch target (launchTarget) the body names.
func launch(p perm.Permission) guard { return guard{scope: scopeTeam, perm: p} }

// onTask loads the task of the path ({id}) and needs p on it (taskFrom).
func onTask(p perm.Permission) guard { return guard{scope: scopeTeam, perm: p, load: loadTask} }

// onRepository loads the repository of the path ({id}) and needs p on it (repositoryFrom).
func onRepository(p perm.Permission) guard {
	return guard{scope: scopeTeam, perm: p, load: loadRepository}
}

// onExecution loads the execution of the path ({id}) and needs p on it (executionTaskFrom).
func onExecution(p perm.Permission) guard {
	return guard{scope: scopeTeam, perm: p, load: loadExecution}
}

// agentTasksAlsoNeed adds a permission the loaded task needs when it is an agent's.
func (g guard) agentTasksAlsoNeed(p perm.Permission) guard { g.agentPerm = p; return g }

// permission is what the OpenAPI document records for the route.
func (g guard) permission() string {
	if g.perm != "" {
		return string(g.perm)
	}
	return g.scope.String()
}

type (
	pathIDKey       struct{}
	taskKey         struct{}
	repositoryKey   struct{}
	executionKey    struct{}
	principalCtxKey struct{}
	workerCtxKey    struct{}
	ticketCallerKey struct{}
)

// principalFrom returns the caller of a person route (never nil behind a person guard);
// behind inPathOrg it is the caller as a member of the path's organization.
func principalFrom(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalCtxKey{}).(*Principal)
	return p
}

// workerFrom returns the caller of a worker route.
func workerFrom(ctx context.Context) *WorkerPrincipal {
	w, _ := ctx.Value(workerCtxKey{}).(*WorkerPrincipal)
	return w
}

// ticketCallerFrom returns the caller of the ticket a ticketHolder guard redeemed.
func ticketCallerFrom(ctx context.Context) store.EventCaller {
	c, _ := ctx.Value(ticketCallerKey{}).(store.EventCaller)
	return c
}

// taskFrom returns the task an onTask guard loaded.
func taskFrom(ctx context.Context) store.Task { t, _ := ctx.Value(taskKey{}).(store.Task); return t }

// repositoryFrom returns the repository an onRepository guard loaded.
func repositoryFrom(ctx context.Context) store.Repository {
	r, _ := ctx.Value(repositoryKey{}).(store.Repository)
	return r
}

// executionTaskFrom returns the task of the execution an onExecution guard loaded (nil
// when it has none).
func executionTaskFrom(ctx context.Context) *uuid.UUID {
	id, _ := ctx.Value(executionKey{}).(*uuid.UUID)
	return id
}

func loadTask(s *Server, ctx context.Context, orgID, id uuid.UUID, needTeam bool) (context.Context, *uuid.UUID, error) {
	t, err := s.store.Task(ctx, orgID, id)
	if err != nil {
		return ctx, nil, err
	}
	ctx = context.WithValue(ctx, taskKey{}, t)
	if t.RepositoryID == nil || !needTeam {
		return ctx, nil, nil
	}
	team, err := s.store.TaskTeam(ctx, orgID, id)
	return ctx, team, err
}

func loadRepository(s *Server, ctx context.Context, orgID, id uuid.UUID, needTeam bool) (context.Context, *uuid.UUID, error) {
	r, err := s.store.Repository(ctx, orgID, id)
	if err != nil {
		return ctx, nil, err
	}
	return context.WithValue(ctx, repositoryKey{}, r), r.TeamID, nil
}

func loadExecution(s *Server, ctx context.Context, orgID, id uuid.UUID, needTeam bool) (context.Context, *uuid.UUID, error) {
	taskID, team, err := s.store.ExecutionTaskID(ctx, orgID, id)
	if err != nil {
		return ctx, nil, err
	}
	return context.WithValue(ctx, executionKey{}, taskID), team, nil
}

// admit runs before the request is read: it authenticates the caller and checks the
// guard's permission where it can be checked without the object (401, 403; 404 for an
// organization of the path the caller is not a member of).
func (s *Server) admit(g guard) func(huma.Context, func(huma.Context)) {
	return func(hctx huma.Context, nextOp func(huma.Context)) {
		next := func(hctx huma.Context) {
			if !s.refuseNulls(hctx) {
				nextOp(hctx)
			}
		}
		switch g.scope {
		case scopePublic:
			next(hctx)
			return
		case scopeWorker:
			wp, ok := s.authenticateWorker(hctx)
			if !ok {
				return
			}
			humagin.Unwrap(hctx).Set(workerPrincipalKey, wp)
			next(huma.WithValue(hctx, workerCtxKey{}, wp))
			return
		case scopeTicket:
			caller, ok := s.redeemTicket(hctx)
			if !ok {
				return
			}
			next(huma.WithValue(hctx, ticketCallerKey{}, caller))
			return
		case scopeMemberOrWorker:
			if raw, _ := bearer(hctx.Header("Authorization")); auth.IsWorkerToken(raw) {
				wp, ok := s.authenticateWorker(hctx)
				if !ok {
					return
				}
				humagin.Unwrap(hctx).Set(workerPrincipalKey, wp)
				next(huma.WithValue(hctx, workerCtxKey{}, wp))
				return
			}
		}
		p, ok := s.authenticatePerson(hctx)
		if !ok {
			return
		}
		switch g.scope {
		case scopeOperator:
			if !s.admitOperator(hctx, p) {
				return
			}
		case scopeOrg, scopeTeam, scopeMemberOrWorker:
			// A person removed from their active organization keeps the person routes (me,
			// switch, invitations, logout) but nothing inside that organization.
			if p.Role == "" {
				s.deny(hctx, http.StatusForbidden, "You are not an active member of this organization; switch organization or sign in again.")
				return
			}
			if g.scope != scopeMemberOrWorker && !p.Can(g.perm) && !(g.scope == scopeTeam && p.CanThroughTeam(g.perm)) {
				s.deny(hctx, http.StatusForbidden, fmt.Sprintf("Your role (%s) does not allow %s.", p.Role, g.perm))
				return
			}
		case scopePathOrg:
			orgID, err := uuid.Parse(hctx.Param("id"))
			if err != nil {
				s.deny(hctx, http.StatusNotFound, "organization not found")
				return
			}
			scoped, err := s.inOrganization(hctx.Context(), p, orgID, g.perm)
			if err != nil {
				pr := problemFor(hctx.Context(), s.log, err)
				_ = huma.WriteErr(s.api, hctx, pr.Status, pr.Detail)
				return
			}
			p = scoped
		}
		humagin.Unwrap(hctx).Set(principalKey, p)
		hctx = huma.WithValue(hctx, principalCtxKey{}, p)
		if g.load != nil {
			hctx = huma.WithValue(hctx, pathIDKey{}, hctx.Param("id"))
		}
		next(hctx)
	}
}

// loadGuarded runs once the request is valid (huma has checked the path, query and body):
// it loads the guard's object (404 when the organization has none) and checks the
// caller's right on it, team role included (403).
func (s *Server) loadGuarded(ctx context.Context, g guard) (context.Context, error) {
	if g.load == nil {
		return ctx, nil
	}
	p := principalFrom(ctx)
	raw, _ := ctx.Value(pathIDKey{}).(string)
	id, err := uuid.Parse(raw)
	if err != nil {
		return ctx, domain.NotFound("object")
	}
	needTeam := !p.Can(g.perm) || (g.agentPerm != "" && !p.Can(g.agentPerm))
	ctx, team, err := g.load(s, ctx, p.OrgID, id, needTeam)
	if err != nil {
		return ctx, err
	}
	if err := s.mayOnTeam(ctx, g.perm, team); err != nil {
		return ctx, err
	}
	if g.agentPerm != "" && taskFrom(ctx).AgentType != nil {
		if err := s.mayOnTeam(ctx, g.agentPerm, team); err != nil {
			return ctx, err
		}
	}
	return ctx, nil
}

// inOrganization returns the caller as a member of orgID holding need: 404 when they are
// not an active member (the organization is none of their business), 403 when their role
// there does not allow it.
func (s *Server) inOrganization(ctx context.Context, p *Principal, orgID uuid.UUID, need perm.Permission) (*Principal, error) {
	if orgID != p.OrgID {
		caller, err := s.store.LoadCaller(ctx, p.SessionID, p.UserID, orgID)
		if err != nil {
			return nil, err
		}
		if caller.Role == nil {
			return nil, domain.NotFound("organization")
		}
		p = &Principal{UserID: p.UserID, SessionID: p.SessionID, OrgID: orgID, Login: p.Login,
			Role: *caller.Role, perms: caller.Permissions, teamPerms: caller.TeamPermissions}
	}
	if !p.Can(need) {
		return nil, domain.Errorf(domain.CodeForbidden, "Your role (%s) does not allow %s.", p.Role, need)
	}
	return p, nil
}

// mayOnTeam lets the caller act on an object of teamID (nil: no team) through an
// organization-wide permission or a team role on that team.
func (s *Server) mayOnTeam(ctx context.Context, need perm.Permission, teamID *uuid.UUID) error {
	p := principalFrom(ctx)
	if p.Can(need) {
		return nil
	}
	if teamID != nil && p.CanThroughTeam(need) {
		ok, err := s.store.TeamGrants(ctx, p.OrgID, *teamID, p.UserID, string(need))
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
	}
	return domain.Errorf(domain.CodeForbidden, "Your role (%s) does not allow %s on this repository.", p.Role, need)
}

// Can reports whether the caller holds need across the organization.
func (p *Principal) Can(need perm.Permission) bool { return slices.Contains(p.perms, string(need)) }

// CanThroughTeam reports whether one of the caller's team roles grants need (on the
// objects of that team; mayOnTeam checks which).
func (p *Principal) CanThroughTeam(need perm.Permission) bool {
	return slices.Contains(p.teamPerms, string(need))
}
