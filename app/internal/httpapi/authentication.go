package httpapi

import (
	"context"
	"net"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/miyabi/miyabi/app/internal/auth"
	"github.com/miyabi/miyabi/app/internal/domain"
	"github.com/miyabi/miyabi/app/internal/store"
)

// Principal is the signed-in person behind a request, in their active organization (or,
// behind an inPathOrg guard, in the organization of the path). The role and permissions
// come from the database on every request, never the token.
type Principal struct {
	UserID    uuid.UUID
	SessionID uuid.UUID
	OrgID     uuid.UUID
	Login     string
	Role      string // empty when they are no longer an active member of OrgID
	perms     []string
	teamPerms []string
}

// Permissions is the caller's effective organization-wide permission list.
func (p *Principal) Permissions() []string { return p.perms }

// WorkerPrincipal is a worker calling /worker/*.
type WorkerPrincipal struct {
	WorkerID   uuid.UUID
	OrgID      uuid.UUID
	AgentTypes []string
}

// gin context keys the access log reads.
const (
	principalKey       = "miyabi.principal"
	workerPrincipalKey = "miyabi.worker"
)

// authenticatePerson finds the person behind an access token, with their role and
// permissions in their active organization, in one query that also checks the session:
// logout, removal and demotion act at once. It answers 401 itself when it returns false.
func (s *Server) authenticatePerson(hctx huma.Context) (*Principal, bool) {
	raw, ok := bearer(hctx.Header("Authorization"))
	if !ok {
		s.deny(hctx, http.StatusUnauthorized, "Sign in first: this route needs an Authorization: Bearer token.")
		return nil, false
	}
	if auth.IsWorkerToken(raw) {
		s.deny(hctx, http.StatusUnauthorized, "A worker token is accepted on /worker/* only.")
		return nil, false
	}
	access, err := s.tokens.Parse(raw)
	if err != nil {
		s.deny(hctx, http.StatusUnauthorized, "The access token is invalid or expired.")
		return nil, false
	}
	caller, err := s.store.LoadCaller(hctx.Context(), access.SessionID, access.UserID, access.OrgID)
	if err != nil {
		s.denyErr(hctx, err, "Your session has ended; sign in again.")
		return nil, false
	}
	p := &Principal{UserID: access.UserID, SessionID: access.SessionID, OrgID: access.OrgID,
		Login: caller.Login, perms: caller.Permissions, teamPerms: caller.TeamPermissions}
	if caller.Role != nil {
		p.Role = *caller.Role
	}
	return p, true
}

// authenticateWorker finds the worker behind a worker token (mw_...); it answers 401
// itself when it returns false.
func (s *Server) authenticateWorker(hctx huma.Context) (*WorkerPrincipal, bool) {
	raw, ok := bearer(hctx.Header("Authorization"))
	if !ok {
		s.deny(hctx, http.StatusUnauthorized, "Sign in first: this route needs an Authorization: Bearer token.")
		return nil, false
	}
	if !auth.IsWorkerToken(raw) {
		s.deny(hctx, http.StatusUnauthorized, "Worker routes take a worker token (mw_...).")
		return nil, false
	}
	w, err := s.store.WorkerByTokenHash(hctx.Context(), auth.HashToken(raw))
	if err != nil {
		s.denyErr(hctx, err, "The worker token is unknown or revoked.")
		return nil, false
	}
	return &WorkerPrincipal{WorkerID: w.ID, OrgID: w.OrgID, AgentTypes: w.AgentTypes}, true
}

// redeemTicket consumes the events ticket of the query (?ticket=): single use, within its
// minute. It answers 401 itself when it returns false.
func (s *Server) redeemTicket(hctx huma.Context) (store.EventCaller, bool) {
	ticket := hctx.Query("ticket")
	if ticket == "" || len(ticket) > 200 {
		s.deny(hctx, http.StatusUnauthorized, "Open the events WebSocket with ?ticket= from POST /api/v1/events/ticket.")
		return store.EventCaller{}, false
	}
	caller, err := s.store.RedeemEventTicket(hctx.Context(), ticket)
	if err != nil {
		s.denyErr(hctx, err, "The ticket is unknown, expired or already used; ask for a new one.")
		return store.EventCaller{}, false
	}
	return caller, true
}

func (s *Server) denyErr(hctx huma.Context, err error, msg string) {
	if code := domain.ErrorCode(err); code == domain.CodeUnauthorized || code == domain.CodeNotFound {
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

// The client's address (rate limits, the audit trail) and who is behind a request, for
// the store's audit entries.

type clientAddrKey struct{}

// clientAddressFrom returns the address of the client behind the request.
func clientAddressFrom(ctx context.Context) string {
	a, _ := ctx.Value(clientAddrKey{}).(string)
	return a
}

// clientAddress finds the client's address: the connection's peer, or, behind
// CloudFront (the origin secret proves the request came through it), the last address
// of X-Forwarded-For, which CloudFront appends (earlier entries are the client's to
// forge).
func (s *Server) clientAddress(r *http.Request) string {
	if s.cfg.RequireOriginSecret {
		if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
			parts := strings.Split(xff, ",")
			if ip := net.ParseIP(strings.TrimSpace(parts[len(parts)-1])); ip != nil {
				return ip.String()
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if ip := net.ParseIP(host); ip != nil {
		return ip.String()
	}
	return host
}

func (s *Server) withClientAddress(c *gin.Context) {
	c.Request = c.Request.WithContext(context.WithValue(c.Request.Context(), clientAddrKey{}, s.clientAddress(c.Request)))
	c.Next()
}

// withActor carries who is behind the request into the store, for the audit trail.
func (s *Server) withActor(ctx context.Context) context.Context {
	a := store.Actor{ClientAddress: clientAddressFrom(ctx)}
	if p := principalFrom(ctx); p != nil {
		id := p.UserID
		a.UserID, a.Login = &id, p.Login
	}
	return store.WithActor(ctx, a)
}
