package httpapi

import (
	"context"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"github.com/miyabi/miyabi/app/internal/store"
)

// The audit trail: who did what in an organization, for its owners and admins.
// Entries are written by the store in the transaction of each change; this is the
// read side only (the trail is append-only).

var docListAuditEvents = huma.Operation{OperationID: "list-audit-events", Tags: []string{"organizations"},
	Summary:     "The organization's audit trail, newest first",
	Description: "Member invited, joined, role changed, suspended, removed; team changes; repositories connected or removed, or deactivated because GitHub took the App away (repository.deactivated_by_github, one entry per organization, no actor); workers registered or revoked; settings and slug changes; members' sign-ins with their client address. Filter by actor, action (exact, or a prefix ending in a dot such as member.) and time."}

// AuditEventOut is one entry of the trail.
type AuditEventOut struct {
	ID            int64          `json:"id"`
	Action        string         `json:"action" doc:"What happened, such as member.role_changed"`
	ActorUserID   *uuid.UUID     `json:"actor_user_id" nullable:"true" doc:"Who did it (null: the system)"`
	ActorLogin    string         `json:"actor_login"`
	TargetType    string         `json:"target_type" doc:"user, team, repository, worker, invitation or organization"`
	TargetID      string         `json:"target_id"`
	Details       map[string]any `json:"details"`
	ClientAddress string         `json:"client_address" doc:"The address the change came from"`
	CreatedAt     time.Time      `json:"created_at"`
}

func auditEventOut(e store.AuditEvent) AuditEventOut {
	if e.Details == nil {
		e.Details = map[string]any{}
	}
	return AuditEventOut{ID: e.ID, Action: e.Action, ActorUserID: e.ActorUserID, ActorLogin: e.ActorLogin, TargetType: e.TargetType,
		TargetID: e.TargetID, Details: e.Details, ClientAddress: e.ClientAddress, CreatedAt: e.CreatedAt}
}

type listAuditEventsInput struct {
	ID     uuid.UUID `path:"id" doc:"Organization id"`
	Actor  uuid.UUID `query:"actor" doc:"Only what this user did"`
	Action string    `query:"action" maxLength:"64" pattern:"^[a-z_]+\\.([a-z_]+)?$" doc:"An action (member.removed) or a prefix ending in a dot (member.)"`
	Since  time.Time `query:"since" doc:"From this time (RFC 3339), inclusive"`
	Until  time.Time `query:"until" doc:"Until this time (RFC 3339), exclusive"`
	PageParams
}

type auditPageOutput struct{ Body Page[AuditEventOut] }

func (s *Server) listAuditEvents(ctx context.Context, in *listAuditEventsInput) (*auditPageOutput, error) {
	f := store.AuditFilter{Action: in.Action}
	if in.Actor != uuid.Nil {
		f.ActorUserID = &in.Actor
	}
	if !in.Since.IsZero() {
		f.Since = &in.Since
	}
	if !in.Until.IsZero() {
		f.Until = &in.Until
	}
	items, total, err := s.store.ListAuditEvents(ctx, in.ID, f, in.Limit, in.Offset())
	if err != nil {
		return nil, err
	}
	return &auditPageOutput{Body: pageOf(mapSlice(items, auditEventOut), total, in.PageParams)}, nil
}
