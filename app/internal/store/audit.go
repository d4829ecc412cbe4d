package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Actor is who is behind a change, carried in the context from the request to the
// statement that records it in the audit trail.
type Actor struct {
	UserID        *uuid.UUID
	Login         string
	ClientAddress string
}

type actorKey struct{}

// WithActor returns ctx carrying the actor of the changes made under it.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor carried by ctx (zero when none: a system change).
func ActorFrom(ctx context.Context) Actor {
	a, _ := ctx.Value(actorKey{}).(Actor)
	return a
}

// Audit actions, one per kind of change the trail records.
const (
	AuditMemberInvited       = "member.invited"
	AuditInvitationRevoked   = "member.invitation_revoked"
	AuditMemberJoined        = "member.joined"
	AuditMemberRoleChanged   = "member.role_changed"
	AuditMemberSuspended     = "member.suspended"
	AuditMemberReactivated   = "member.reactivated"
	AuditMemberRemoved       = "member.removed"
	AuditMemberSignedIn      = "member.signed_in"
	AuditTeamCreated         = "team.created"
	AuditTeamUpdated         = "team.updated"
	AuditTeamDeleted         = "team.deleted"
	AuditTeamMemberAdded     = "team.member_added"
	AuditTeamMemberRemoved   = "team.member_removed"
	AuditRepositoryConnected = "repository.connected"
	AuditRepositoryUpdated   = "repository.updated"
	AuditRepositoryRemoved   = "repository.removed"
	// the GitHub App lost access (uninstalled, suspended, repositories removed from it)
	AuditRepositoryDeactivatedByGitHub = "repository.deactivated_by_github"
	AuditWorkerRegistered              = "worker.registered"
	AuditWorkerRevoked                 = "worker.token_revoked"
	AuditOrgCreated                    = "organization.created"
	AuditOrgSettingsChanged            = "organization.settings_changed"
	AuditOrgSlugChanged                = "organization.slug_changed"
	AuditChannelCreated                = "notification_channel.created"
	AuditChannelUpdated                = "notification_channel.updated"
	AuditChannelDeleted                = "notification_channel.deleted"
)

// AuditActions lists every action, for filters and documentation.
var AuditActions = []string{
	AuditMemberInvited, AuditInvitationRevoked, AuditMemberJoined, AuditMemberRoleChanged, AuditMemberSuspended,
	AuditMemberReactivated, AuditMemberRemoved, AuditMemberSignedIn, AuditTeamCreated, AuditTeamUpdated, AuditTeamDeleted,
	AuditTeamMemberAdded, AuditTeamMemberRemoved, AuditRepositoryConnected, AuditRepositoryUpdated, AuditRepositoryRemoved,
	AuditRepositoryDeactivatedByGitHub, AuditWorkerRegistered, AuditWorkerRevoked, AuditOrgCreated, AuditOrgSettingsChanged, AuditOrgSlugChanged,
	AuditChannelCreated, AuditChannelUpdated, AuditChannelDeleted,
}

// audit records one change in the organization's trail, in the transaction that makes
// the change: if the change commits, so does its entry, and the other way round.
func audit(ctx context.Context, tx pgx.Tx, orgID uuid.UUID, action, targetType, targetID string, details map[string]any) error {
	a := ActorFrom(ctx)
	if details == nil {
		details = map[string]any{}
	}
	_, err := tx.Exec(ctx, `
		INSERT INTO audit_events (organization_id, actor_user_id, actor_login, action, target_type, target_id, details, client_address)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		orgID, a.UserID, a.Login, action, targetType, targetID, details, a.ClientAddress)
	if err != nil {
		return fmt.Errorf("record %s in the audit trail: %w", action, err)
	}
	return nil
}

// AuditEvent is one entry of an organization's trail.
type AuditEvent struct {
	ID            int64          `db:"id"`
	ActorUserID   *uuid.UUID     `db:"actor_user_id"`
	ActorLogin    string         `db:"actor_login"`
	Action        string         `db:"action"`
	TargetType    string         `db:"target_type"`
	TargetID      string         `db:"target_id"`
	Details       map[string]any `db:"details"`
	ClientAddress string         `db:"client_address"`
	CreatedAt     time.Time      `db:"created_at"`
}

// AuditFilter narrows the trail.
type AuditFilter struct {
	ActorUserID *uuid.UUID
	Action      string // "" any; "member." a prefix
	Since       *time.Time
	Until       *time.Time
}

// ListAuditEvents pages through the organization's trail, newest first.
func (s *Store) ListAuditEvents(ctx context.Context, orgID uuid.UUID, f AuditFilter, limit, offset int) ([]AuditEvent, int, error) {
	const where = `WHERE organization_id = $1
		AND ($2::uuid IS NULL OR actor_user_id = $2)
		AND ($3 = '' OR action = $3 OR (right($3, 1) = '.' AND starts_with(action, $3)))
		AND ($4::timestamptz IS NULL OR created_at >= $4)
		AND ($5::timestamptz IS NULL OR created_at < $5)`
	rows, _ := s.pool.Query(ctx, `SELECT id, actor_user_id, actor_login, action, target_type, target_id, details, client_address, created_at
		FROM audit_events `+where+` ORDER BY created_at DESC, id DESC LIMIT $6 OFFSET $7`,
		orgID, f.ActorUserID, f.Action, f.Since, f.Until, limit, offset)
	items, err := pgx.CollectRows(rows, pgx.RowToStructByName[AuditEvent])
	if err != nil {
		return nil, 0, fmt.Errorf("list audit events: %w", err)
	}
	var total int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM audit_events `+where,
		orgID, f.ActorUserID, f.Action, f.Since, f.Until).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count audit events: %w", err)
	}
	return items, total, nil
}

// Purged counts what PurgeExpired removed.
type Purged struct {
	IdempotencyKeys, OAuthStates, RateLimitWindows, AuditEvents int64
}

// PurgeExpired deletes what has outlived its use: idempotency keys past their TTL
// (24 h by default), spent OAuth states past the state's own life, finished rate-limit
// windows, and audit entries past their retention. The sweeper runs it.
func (s *Store) PurgeExpired(ctx context.Context) (Purged, error) {
	var p Purged
	ttl, err := setting(ctx, s.pool, SettingIdempotencyKeyTTLHours)
	if err != nil {
		return p, err
	}
	tag, err := s.pool.Exec(ctx, `DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(hours => $1::int)`, ttl)
	if err != nil {
		return p, fmt.Errorf("purge idempotency keys: %w", err)
	}
	p.IdempotencyKeys = tag.RowsAffected()
	if tag, err = s.pool.Exec(ctx, `DELETE FROM oauth_states_used WHERE used_at < now() - interval '1 hour'`); err != nil {
		return p, fmt.Errorf("purge oauth states: %w", err)
	}
	p.OAuthStates = tag.RowsAffected()
	if tag, err = s.pool.Exec(ctx, `DELETE FROM rate_limit_windows WHERE window_start < now() - interval '1 hour'`); err != nil {
		return p, fmt.Errorf("purge rate-limit windows: %w", err)
	}
	p.RateLimitWindows = tag.RowsAffected()
	if err := s.pool.QueryRow(ctx, `SELECT purge_audit_events()`).Scan(&p.AuditEvents); err != nil {
		return p, fmt.Errorf("purge audit events: %w", err)
	}
	return p, nil
}
