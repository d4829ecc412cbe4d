package httpapi

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humagin"

	"github.com/miyabi/miyabi/app/internal/events"
	"github.com/miyabi/miyabi/app/internal/store"
	"github.com/miyabi/miyabi/app/internal/workerapi"
)

// Live updates: a ticket (a person's token or a worker token), then the WebSocket, which
// takes the ticket, never a token, in its URL (routes.go: memberOrWorker, ticketHolder).
var (
	docEventsTicket = huma.Operation{OperationID: "events-ticket", Tags: []string{"events"},
		Summary: "Get a ticket for the live-events WebSocket",
		Description: "Single-use, valid 60 s, bound to the caller and their active organization. Open " +
			"`GET /api/v1/events?ticket=...` with it (no token ever travels in a URL). Any role, or a worker token.",
		DefaultStatus: http.StatusCreated}
	docEvents = huma.Operation{OperationID: "events", Tags: []string{"events"},
		Summary: "Live events over a WebSocket",
		Description: "Upgrades to a WebSocket (101). The server sends JSON messages " +
			"`{type, organization_id, id, at, data}`: connected, execution.updated, execution.log (followed executions " +
			"only), task.updated, workflow_run.updated, worker.updated, summary.changed, work.available (workers). The " +
			"client may send `{\"action\": \"follow\"|\"unfollow\", \"execution_id\": \"...\"}`. An unknown, expired or reused " +
			"ticket is 401 before any upgrade.",
		DefaultStatus: http.StatusSwitchingProtocols}
)

type ticketOutput struct{ Body workerapi.EventsTicket }

func (s *Server) eventsTicket(ctx context.Context, _ *struct{}) (*ticketOutput, error) {
	var c store.EventCaller
	if w := workerFrom(ctx); w != nil {
		c = store.EventCaller{OrgID: w.OrgID, WorkerID: &w.WorkerID}
	} else {
		p := principalFrom(ctx)
		c = store.EventCaller{OrgID: p.OrgID, UserID: &p.UserID, SessionID: &p.SessionID}
	}
	ticket, expires, err := s.store.CreateEventTicket(ctx, c)
	if err != nil {
		return nil, err
	}
	return &ticketOutput{Body: workerapi.EventsTicket{Ticket: ticket, ExpiresAt: expires.UTC()}}, nil
}

// upgradeOutput is the WebSocket: huma hands the connection over to the hub.
type upgradeOutput struct {
	Body func(huma.Context)
}

// serveEvents registers the connection of the ticket's caller (401 when they are signed
// out, removed or revoked since), then upgrades.
func (s *Server) serveEvents(ctx context.Context, _ *struct{}) (*upgradeOutput, error) {
	conn, err := s.hub.Open(ctx, ticketCallerFrom(ctx))
	if err != nil {
		return nil, err
	}
	return &upgradeOutput{Body: func(hctx huma.Context) {
		c := humagin.Unwrap(hctx)
		s.hub.Serve(c.Writer, c.Request, conn)
	}}, nil
}

// Hub is the live-events hub of this server (benchmarks and tests count its clients).
func (s *Server) Hub() *events.Hub { return s.hub }
