package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humagin"
	"github.com/google/uuid"

	"github.com/miyabi/miyabi/app/internal/auth"
	"github.com/miyabi/miyabi/app/internal/domain"
	"github.com/miyabi/miyabi/app/internal/store"
)

// Principal is the signed-in person behind a request, in their active organization.
// The role and permissions come from the database on every request, never the token.
type Principal struct {
	UserID    uuid.UUID
	SessionID uuid.UUID
	OrgID     uuid.UUID
	Login     string
	Role      string
	perms     []string
	teamPerms []string
}

// Can reports whether the caller holds perm across the organization.
func (p *Principal) Can(perm string) bool { return slices.Contains(p.perms, perm) }

// CanThroughTeam reports whether one of the caller's team roles grants perm (on the
// repositories of that team; the handler checks which).
func (p *Principal) CanThroughTeam(perm string) bool { return slices.Contains(p.teamPerms, perm) }

// Permissions is the caller's effective organization-wide permission list.
func (p *Principal) Permissions() []string { return p.perms }

// WorkerPrincipal is a worker calling /worker/*.
type WorkerPrincipal struct {
	WorkerID   uuid.UUID
	OrgID      uuid.UUID
	AgentTypes []string
}

const (
	principalKey       = "miyabi.principal"
	workerPrincipalKey = "miyabi.worker"
)

type principalCtxKey struct{}
type workerCtxKey struct{}

// principalFrom returns the caller of a person route (never nil behind authenticate).
func principalFrom(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalCtxKey{}).(*Principal)
	return p
}

// workerFrom returns the caller of a worker route.
func workerFrom(ctx context.Context) *WorkerPrincipal {
	w, _ := ctx.Value(workerCtxKey{}).(*WorkerPrincipal)
	return w
}

// teamScoped marks a permission that a team role can also grant: the middleware lets a
// holder of the team grant through, and the handler limits them to their teams'
// repositories with authorizeRepository.
func teamScoped(perm string) string { return "team:" + perm }

// pathOrgPrefix marks a permission checked in the organization named by the path
// ({id}), not the active one: the handler calls s.inOrganization.
const pathOrgPrefix = "path-org:"

func inPathOrg(perm string) string { return pathOrgPrefix + perm }

// inOrganization returns the caller as a member of orgID holding perm: 404 when they
// are not an active member (the organization is none of their business), 403 when their
// role there does not allow perm.
func (s *Server) inOrganization(ctx context.Context, orgID uuid.UUID, perm string) (*Principal, error) {
	p := principalFrom(ctx)
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
	if !p.Can(perm) {
		return nil, domain.Errorf(domain.CodeForbidden, "Your role (%s) does not allow %s.", p.Role, perm)
	}
	return p, nil
}

// authenticate is the one permission check, run before every operation.
func (s *Server) authenticate(perm string) func(huma.Context, func(huma.Context)) {
	return func(hctx huma.Context, next func(huma.Context)) {
		perm := perm // narrowed below for this request only
		if perm == permPublic {
			next(hctx)
			return
		}
		raw, ok := bearer(hctx.Header("Authorization"))
		if !ok {
			s.deny(hctx, http.StatusUnauthorized, "Sign in first: this route needs an Authorization: Bearer token.")
			return
		}
		if perm == permWorker || (perm == permPersonOrWorker && auth.IsWorkerToken(raw)) {
			if !auth.IsWorkerToken(raw) {
				s.deny(hctx, http.StatusUnauthorized, "Worker routes take a worker token (mw_...).")
				return
			}
			w, err := s.store.WorkerByTokenHash(hctx.Context(), auth.HashToken(raw))
			if err != nil {
				s.denyErr(hctx, err, "The worker token is unknown or revoked.")
				return
			}
			wp := &WorkerPrincipal{WorkerID: w.ID, OrgID: w.OrgID, AgentTypes: w.AgentTypes}
			humagin.Unwrap(hctx).Set(workerPrincipalKey, wp)
			next(huma.WithValue(hctx, workerCtxKey{}, wp))
			return
		}
		if auth.IsWorkerToken(raw) {
			s.deny(hctx, http.StatusUnauthorized, "A worker token is accepted on /worker/* only.")
			return
		}
		access, err := s.tokens.Parse(raw)
		if err != nil {
			s.deny(hctx, http.StatusUnauthorized, "The access token is invalid or expired.")
			return
		}
		caller, err := s.store.LoadCaller(hctx.Context(), access.SessionID, access.UserID, access.OrgID)
		if err != nil {
			s.denyErr(hctx, err, "Your session has ended; sign in again.")
			return
		}
		// A person removed from their active organization keeps the person routes (me,
		// switch, invitations, logout) but nothing inside that organization.
		if perm == permPersonOrWorker {
			perm = permPerson // the handler asks for an active membership
		}
		if caller.Role == nil && perm != permPerson && !strings.HasPrefix(perm, pathOrgPrefix) {
			s.deny(hctx, http.StatusForbidden, "You are not an active member of this organization; switch organization or sign in again.")
			return
		}
		p := &Principal{UserID: access.UserID, SessionID: access.SessionID, OrgID: access.OrgID,
			Login: caller.Login, perms: caller.Permissions, teamPerms: caller.TeamPermissions}
		if caller.Role != nil {
			p.Role = *caller.Role
		}
		if need, isTeam := strings.CutPrefix(perm, "team:"); perm != permPerson && !strings.HasPrefix(perm, pathOrgPrefix) {
			if !isTeam {
				need = perm
			}
			if !p.Can(need) && !(isTeam && p.CanThroughTeam(need)) {
				s.deny(hctx, http.StatusForbidden, fmt.Sprintf("Your role (%s) does not allow %s.", p.Role, need))
				return
			}
		}
		if need, ok := strings.CutPrefix(perm, pathOrgPrefix); ok {
			// checked here, before the body is read, like every other permission
			orgID, err := uuid.Parse(hctx.Param("id"))
			if err != nil {
				s.deny(hctx, http.StatusNotFound, "organization not found")
				return
			}
			scoped, err := s.inOrganization(huma.WithValue(hctx, principalCtxKey{}, p).Context(), orgID, need)
			if err != nil {
				pr := problemFor(hctx.Context(), s.log, err)
				_ = huma.WriteErr(s.api, hctx, pr.Status, pr.Detail)
				return
			}
			p = scoped
		}
		humagin.Unwrap(hctx).Set(principalKey, p)
		next(huma.WithValue(hctx, principalCtxKey{}, p))
	}
}

func (s *Server) denyErr(hctx huma.Context, err error, msg string) {
	if errors.Is(err, store.ErrSessionEnded) || domain.ErrorCode(err) == domain.CodeNotFound {
		s.deny(hctx, http.StatusUnauthorized, msg)
		return
	}
	p := problemFor(hctx.Context(), s.log, err)
	_ = huma.WriteErr(s.api, hctx, p.Status, p.Detail)
}

func (s *Server) deny(hctx huma.Context, status int, msg string) {
	if status == http.StatusUnauthorized {
		hctx.SetHeader("WWW-Authenticate", `Bearer realm="miyabi"`)
	}
	_ = huma.WriteErr(s.api, hctx, status, msg)
}

func bearer(h string) (string, bool) {
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", false
	}
	return strings.TrimSpace(token), true
}

// authorizeRepository lets a caller act on a repository through an organization-wide
// permission or a team role on the repository's team.
func (s *Server) authorizeRepository(ctx context.Context, perm string, teamID *uuid.UUID) error {
	p := principalFrom(ctx)
	if p.Can(perm) {
		return nil
	}
	if teamID != nil && p.CanThroughTeam(perm) {
		ok, err := s.store.TeamGrants(ctx, p.OrgID, *teamID, p.UserID, perm)
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
	}
	return domain.Errorf(domain.CodeForbidden, "Your role (%s) does not allow %s on this repository.", p.Role, perm)
}
