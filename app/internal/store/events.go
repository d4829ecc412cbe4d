package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/miyabi/miyabi/app/internal/domain"
)

// Live events: the tables and triggers are migration 00012. Events are built by the
// triggers of the tables they describe and travel by pg_notify (delivered on commit);
// this file holds the tickets that open a connection, what a connection may read, the
// LISTEN loop, and on AWS the connection registry and the outbox.

// EventChannel and AuthChannel are the pg_notify channels of migration 00012.
const (
	EventChannel = "miyabi_events"
	AuthChannel  = "miyabi_auth"
)

// TicketTTL is how long an events ticket can be redeemed.
const TicketTTL = 60 * time.Second

// EventCaller is who a ticket or a connection belongs to: a person's session in an
// organization, or a worker.
type EventCaller struct {
	OrgID     uuid.UUID
	UserID    *uuid.UUID
	SessionID *uuid.UUID
	WorkerID  *uuid.UUID
}

// CreateEventTicket stores a single-use ticket for the caller and returns it (only its
// SHA-256 is kept) with its expiry.
func (s *Store) CreateEventTicket(ctx context.Context, c EventCaller) (string, time.Time, error) {
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", time.Time{}, fmt.Errorf("ticket: %w", err)
	}
	ticket := "mt_" + base64.RawURLEncoding.EncodeToString(raw[:])
	hash := sha256.Sum256([]byte(ticket))
	var expires time.Time
	err := s.pool.QueryRow(ctx, `
		WITH gone AS (DELETE FROM event_tickets WHERE expires_at < now() - interval '1 minute')
		INSERT INTO event_tickets (ticket_hash, organization_id, user_id, session_id, worker_id, expires_at)
		VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6::float8))
		RETURNING expires_at`, hash[:], c.OrgID, c.UserID, c.SessionID, c.WorkerID, TicketTTL.Seconds()).Scan(&expires)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("create ticket: %w", err)
	}
	return ticket, expires, nil
}

// RedeemEventTicket consumes a ticket: it works once, within its minute, and only while
// the session or worker it was issued to is still live. Anything else is unauthorized.
func (s *Store) RedeemEventTicket(ctx context.Context, ticket string) (EventCaller, error) {
	hash := sha256.Sum256([]byte(ticket))
	var c EventCaller
	var live bool
	err := s.pool.QueryRow(ctx, `
		DELETE FROM event_tickets WHERE ticket_hash = $1
		RETURNING organization_id, user_id, session_id, worker_id, expires_at > now()`, hash[:]).
		Scan(&c.OrgID, &c.UserID, &c.SessionID, &c.WorkerID, &live)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && !live) {
		return EventCaller{}, domain.Errorf(domain.CodeUnauthorized, "The ticket is unknown, expired or already used; ask for a new one.")
	}
	if err != nil {
		return c, fmt.Errorf("redeem ticket: %w", err)
	}
	return c, nil
}

// EventGrants is what a connection may read, loaded from the same tables as every
// request's permissions: organization-wide permissions, and per team those of the
// caller's team role (they apply to the team's repositories and what hangs off them).
type EventGrants struct {
	Role        string
	Permissions []string
	Teams       map[uuid.UUID][]string
	// Workers:
	AgentTypes []string
}

// ErrCallerGone means the session ended, the membership is no longer active, or the
// worker was revoked: the connection must close.
var ErrCallerGone = errors.New("the caller is signed out, removed or revoked")

// LoadEventGrants re-reads what the caller may see; ErrCallerGone when nothing anymore.
func (s *Store) LoadEventGrants(ctx context.Context, c EventCaller) (EventGrants, error) {
	var g EventGrants
	if c.WorkerID != nil {
		err := s.pool.QueryRow(ctx, `SELECT agent_types FROM workers WHERE organization_id = $1 AND id = $2 AND revoked_at IS NULL`,
			c.OrgID, *c.WorkerID).Scan(&g.AgentTypes)
		if errors.Is(err, pgx.ErrNoRows) {
			return g, ErrCallerGone
		}
		return g, err
	}
	if c.SessionID == nil || c.UserID == nil {
		return g, ErrCallerGone
	}
	caller, err := s.LoadCaller(ctx, *c.SessionID, *c.UserID, c.OrgID)
	if errors.Is(err, ErrSessionEnded) {
		return g, ErrCallerGone
	}
	if err != nil {
		return g, err
	}
	if caller.Role == nil {
		return g, ErrCallerGone
	}
	g.Role, g.Permissions = *caller.Role, caller.Permissions
	rows, _ := s.pool.Query(ctx, `
		SELECT tm.team_id, array_agg(DISTINCT rp.permission_name ORDER BY rp.permission_name)
		FROM team_members tm
		JOIN teams t ON t.id = tm.team_id AND t.organization_id = $1
		JOIN role_permissions rp ON rp.role_name = 'team:' || tm.role
		WHERE tm.user_id = $2 GROUP BY tm.team_id`, c.OrgID, *c.UserID)
	g.Teams = map[uuid.UUID][]string{}
	var team uuid.UUID
	var perms []string
	_, err = pgx.ForEachRow(rows, []any{&team, &perms}, func() error {
		g.Teams[team] = perms
		return nil
	})
	if err != nil {
		return g, fmt.Errorf("team grants: %w", err)
	}
	return g, nil
}

// ExecutionTeam returns the team of an execution's repository (nil when none), or 404
// when the execution is not the organization's.
func (s *Store) ExecutionTeam(ctx context.Context, orgID, execID uuid.UUID) (*uuid.UUID, error) {
	var team *uuid.UUID
	err := s.pool.QueryRow(ctx, `
		SELECT r.team_id FROM agent_executions e
		LEFT JOIN repositories r ON r.organization_id = e.organization_id AND r.id = e.repository_id
		WHERE e.organization_id = $1 AND e.id = $2`, orgID, execID).Scan(&team)
	return team, notFound(err, "execution")
}

// ListenEvents holds one connection of its own (outside the pool) listening on the
// events and auth channels and calls fn for each notification until ctx ends or the
// connection fails. ready is called once the LISTENs are in place.
func (s *Store) ListenEvents(ctx context.Context, ready func(), fn func(channel, payload string)) error {
	pc, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	conn := pc.Hijack() // the pool forgets it: a listener never goes back to the pool
	defer conn.Close(context.Background())
	// a LISTEN connection idles by design
	if _, err := conn.Exec(ctx, `SET idle_in_transaction_session_timeout = 0`); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	if _, err := conn.Exec(ctx, `LISTEN `+EventChannel+`; LISTEN `+AuthChannel); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	if ready != nil {
		ready()
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return fmt.Errorf("wait for notification: %w", err)
		}
		fn(n.Channel, n.Payload)
	}
}

// WSConnection is an API Gateway WebSocket connection (AWS).
type WSConnection struct {
	ID        string
	Endpoint  string
	Caller    EventCaller
	Following []uuid.UUID
}

// AddWSConnection records a connection opened with a redeemed ticket.
func (s *Store) AddWSConnection(ctx context.Context, id, endpoint string, c EventCaller) error {
	_, err := s.pool.Exec(ctx, `
		INSERT INTO websocket_connections (connection_id, organization_id, user_id, session_id, worker_id, endpoint)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (connection_id) DO UPDATE SET organization_id = excluded.organization_id, user_id = excluded.user_id,
			session_id = excluded.session_id, worker_id = excluded.worker_id, endpoint = excluded.endpoint, following = '{}'`,
		id, c.OrgID, c.UserID, c.SessionID, c.WorkerID, endpoint)
	if err != nil {
		return fmt.Errorf("add connection: %w", err)
	}
	return nil
}

// RemoveWSConnections forgets connections (closed, gone or no longer allowed).
func (s *Store) RemoveWSConnections(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := s.pool.Exec(ctx, `DELETE FROM websocket_connections WHERE connection_id = ANY($1)`, ids)
	if err != nil {
		return fmt.Errorf("remove connections: %w", err)
	}
	return nil
}

// WSConnection returns one connection (domain 404 when unknown).
func (s *Store) WSConnection(ctx context.Context, id string) (WSConnection, error) {
	c := WSConnection{ID: id}
	err := s.pool.QueryRow(ctx, `
		SELECT endpoint, organization_id, user_id, session_id, worker_id, following
		FROM websocket_connections WHERE connection_id = $1`, id).
		Scan(&c.Endpoint, &c.Caller.OrgID, &c.Caller.UserID, &c.Caller.SessionID, &c.Caller.WorkerID, &c.Following)
	return c, notFound(err, "connection")
}

// SetWSFollow adds or removes an execution from what a connection follows (at most 20
// are kept; the oldest go first).
func (s *Store) SetWSFollow(ctx context.Context, id string, execID uuid.UUID, follow bool) error {
	_, err := s.pool.Exec(ctx, `
		UPDATE websocket_connections SET following = CASE WHEN $3
			THEN (array_remove(following, $2) || $2)[greatest(cardinality(array_remove(following, $2)) - 18, 1):]
			ELSE array_remove(following, $2) END
		WHERE connection_id = $1`, id, execID, follow)
	if err != nil {
		return fmt.Errorf("follow: %w", err)
	}
	return nil
}

// WSConnectionsFor returns the connections of the organizations given.
func (s *Store) WSConnectionsFor(ctx context.Context, orgIDs []uuid.UUID) ([]WSConnection, error) {
	rows, _ := s.pool.Query(ctx, `
		SELECT connection_id, endpoint, organization_id, user_id, session_id, worker_id, following
		FROM websocket_connections WHERE organization_id = ANY($1) ORDER BY connection_id`, orgIDs)
	var out []WSConnection
	var c WSConnection
	_, err := pgx.ForEachRow(rows, []any{&c.ID, &c.Endpoint, &c.Caller.OrgID, &c.Caller.UserID, &c.Caller.SessionID, &c.Caller.WorkerID, &c.Following}, func() error {
		out = append(out, c)
		c = WSConnection{}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("connections: %w", err)
	}
	return out, nil
}

// WSConnectionsOf returns the connections of a session, a user or a worker (what an
// auth change may close).
func (s *Store) WSConnectionsOf(ctx context.Context, sessionID, userID, workerID *uuid.UUID) ([]WSConnection, error) {
	rows, _ := s.pool.Query(ctx, `
		SELECT connection_id, endpoint, organization_id, user_id, session_id, worker_id, following
		FROM websocket_connections WHERE session_id = $1 OR user_id = $2 OR worker_id = $3 ORDER BY connection_id`,
		sessionID, userID, workerID)
	var out []WSConnection
	var c WSConnection
	_, err := pgx.ForEachRow(rows, []any{&c.ID, &c.Endpoint, &c.Caller.OrgID, &c.Caller.UserID, &c.Caller.SessionID, &c.Caller.WorkerID, &c.Following}, func() error {
		out = append(out, c)
		c = WSConnection{}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("connections: %w", err)
	}
	return out, nil
}

// TakeOutbox removes and returns up to limit outbox events, oldest first. Concurrent
// drains take disjoint events (SKIP LOCKED); a drain that fails after taking them loses
// them, which live updates tolerate: clients refetch on reconnect.
func (s *Store) TakeOutbox(ctx context.Context, limit int) ([]json.RawMessage, error) {
	rows, _ := s.pool.Query(ctx, `
		WITH taken AS (
			DELETE FROM event_outbox WHERE id IN (
				SELECT id FROM event_outbox ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
			RETURNING id, payload)
		SELECT payload FROM taken ORDER BY id`, limit)
	out, err := pgx.CollectRows(rows, pgx.RowTo[json.RawMessage])
	if err != nil {
		return nil, fmt.Errorf("take outbox: %w", err)
	}
	return out, nil
}
