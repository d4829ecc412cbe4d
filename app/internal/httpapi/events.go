package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/gin-gonic/gin"

	"github.com/miyabi/miyabi/app/internal/domain"
	"github.com/miyabi/miyabi/app/internal/events"
	"github.com/miyabi/miyabi/app/internal/store"
)

// permTicket marks the WebSocket route: its single-use ticket is its credential.
const permTicket = "ticket"

// registerEvents adds live updates: a ticket (a person's token or a worker token), then
// the WebSocket, which takes the ticket, never a token, in its URL.
func (s *Server) registerEvents() {
	op(s, huma.Operation{OperationID: "events-ticket", Method: http.MethodPost, Path: "/events/ticket", Tags: []string{"events"},
		Summary: "Get a ticket for the live-events WebSocket",
		Description: "Single-use, valid 60 s, bound to the caller and their active organization. Open " +
			"`GET /api/v1/events?ticket=...` with it (no token ever travels in a URL).",
		DefaultStatus: http.StatusCreated, Errors: []int{401, 403}},
		permPersonOrWorker, s.eventsTicket)

	// The upgrade is served by gin directly (huma has no WebSocket operations); it is
	// documented in the OpenAPI document like every other route.
	s.engine.GET(APIPrefix+"/events", s.serveEvents)
	s.api.OpenAPI().AddOperation(&huma.Operation{OperationID: "events", Method: http.MethodGet, Path: "/events",
		Tags: []string{"events"}, Summary: "Live events over a WebSocket",
		Description: "Upgrades to a WebSocket. The server sends JSON messages " +
			"`{type, organization_id, id, at, data}`: connected, execution.updated, execution.log (followed executions " +
			"only), task.updated, workflow_run.updated, worker.updated, summary.changed, work.available (workers). The " +
			"client may send `{\"action\": \"follow\"|\"unfollow\", \"execution_id\": \"...\"}`. An unknown, expired or reused " +
			"ticket is 401 before any upgrade.",
		Parameters: []*huma.Param{{Name: "ticket", In: "query", Required: true, Schema: &huma.Schema{Type: "string"},
			Description: "From POST /events/ticket"}},
		Responses: map[string]*huma.Response{
			"101": {Description: "Switching to the WebSocket protocol"},
			"401": {Description: "Unknown, expired or reused ticket", Content: map[string]*huma.MediaType{
				"application/problem+json": {Schema: &huma.Schema{Ref: "#/components/schemas/Problem"}}}},
		},
		Extensions: map[string]any{permissionExt: permTicket}})
}

type ticketOutput struct {
	Body struct {
		Ticket    string    `json:"ticket" doc:"Single-use; pass it as ?ticket= to GET /events"`
		ExpiresAt time.Time `json:"expires_at"`
	}
}

func (s *Server) eventsTicket(ctx context.Context, _ *struct{}) (*ticketOutput, error) {
	var c store.EventCaller
	if w := workerFrom(ctx); w != nil {
		c = store.EventCaller{OrgID: w.OrgID, WorkerID: &w.WorkerID}
	} else {
		p := principalFrom(ctx)
		if p.Role == "" {
			return nil, domain.Errorf(domain.CodeForbidden, "You are not an active member of this organization; switch organization or sign in again.")
		}
		c = store.EventCaller{OrgID: p.OrgID, UserID: &p.UserID, SessionID: &p.SessionID}
	}
	ticket, expires, err := s.store.CreateEventTicket(ctx, c)
	if err != nil {
		return nil, err
	}
	out := &ticketOutput{}
	out.Body.Ticket, out.Body.ExpiresAt = ticket, expires.UTC()
	return out, nil
}

// serveEvents redeems the ticket and, only then, upgrades.
func (s *Server) serveEvents(c *gin.Context) {
	ticket := c.Query("ticket")
	if ticket == "" || len(ticket) > 200 {
		c.Header("WWW-Authenticate", `Bearer realm="miyabi"`)
		s.writeProblem(c, http.StatusUnauthorized, "Open the events WebSocket with ?ticket= from POST /api/v1/events/ticket.")
		return
	}
	ctx := c.Request.Context()
	caller, err := s.store.RedeemEventTicket(ctx, ticket)
	var conn *events.Conn
	if err == nil {
		conn, err = s.hub.Open(ctx, caller)
	}
	if err != nil {
		p := problemFor(ctx, s.log, err)
		if p.Status == http.StatusUnauthorized {
			c.Header("WWW-Authenticate", `Bearer realm="miyabi"`)
		}
		s.writeProblem(c, p.Status, p.Detail)
		return
	}
	s.hub.Serve(c.Writer, c.Request, conn)
}

// Hub is the live-events hub of this server (benchmarks and tests count its clients).
func (s *Server) Hub() *events.Hub { return s.hub }
