package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/miyabi/miyabi/app/internal/domain"
)

// OfflineAfter is how long a worker may stay silent before it counts as offline.
const OfflineAfter = 60 * time.Second

// Worker statuses, derived from heartbeats and leases, never stored:
// offline: no heartbeat for OfflineAfter; busy: heartbeating and running at least one
// task; online: heartbeating and idle.
const (
	WorkerOnline  = "online"
	WorkerBusy    = "busy"
	WorkerOffline = "offline"
)

// WorkerAuth is what the worker routes need to know of the calling worker.
type WorkerAuth struct {
	ID         uuid.UUID
	OrgID      uuid.UUID
	AgentTypes []string
}

// WorkerByTokenHash finds a live (unrevoked) worker by the SHA-256 of its token.
func (s *Store) WorkerByTokenHash(ctx context.Context, hash []byte) (WorkerAuth, error) {
	var w WorkerAuth
	err := s.pool.QueryRow(ctx, `
		SELECT id, organization_id, agent_types FROM workers
		WHERE token_hash = $1 AND revoked_at IS NULL`, hash).Scan(&w.ID, &w.OrgID, &w.AgentTypes)
	return w, notFound(err, "worker")
}

// Worker is a registered worker as people see it.
type Worker struct {
	ID              uuid.UUID  `db:"id"`
	OrgID           uuid.UUID  `db:"organization_id"`
	CoordinatorID   *uuid.UUID `db:"coordinator_id"`
	Name            string     `db:"name"`
	AgentTypes      []string   `db:"agent_types"`
	MaxConcurrency  int        `db:"max_concurrency"`
	Version         string     `db:"version"`
	LastHeartbeatAt *time.Time `db:"last_heartbeat_at"`
	RunningTasks    int        `db:"running_tasks"`
	Status          string     `db:"status"`
	CreatedAt       time.Time  `db:"created_at"`
}

// workerSelect derives running_tasks and status; $1 is always the organization and
// $2 the offline threshold in seconds.
var workerSelect = `
	SELECT w.id, w.organization_id, w.coordinator_id, w.name, w.agent_types, w.max_concurrency, w.version,
		w.last_heartbeat_at, r.n AS running_tasks,
		CASE WHEN NOT ` + workerOnline("w", "$2") + ` THEN 'offline'
			WHEN r.n > 0 THEN 'busy' ELSE 'online' END AS status,
		w.created_at
	FROM workers w
	CROSS JOIN LATERAL (SELECT count(*)::int AS n FROM tasks t WHERE t.lease_owner = w.id AND t.status = 'running') r
	WHERE w.organization_id = $1 AND w.revoked_at IS NULL`

func offlineSecs() float64 { return OfflineAfter.Seconds() }

// workerOnline is the one "worker online" rule, written once for every statement that
// needs it (worker list, coordinators, the dashboard summary, the agent catalogue): a
// heartbeat at most OfflineAfter ago (a worker silent for exactly 60 s is still online).
// alias is the workers row, secsParam the placeholder bound to offlineSecs().
func workerOnline(alias, secsParam string) string {
	return "coalesce(" + alias + ".last_heartbeat_at >= now() - make_interval(secs => " + secsParam + "), false)"
}

// NewWorker is what registering a worker takes.
type NewWorker struct {
	Name           string
	CoordinatorID  *uuid.UUID
	AgentTypes     []string
	MaxConcurrency int
	TokenHash      []byte
	CreatedBy      uuid.UUID
}

// CreateWorker registers a worker; only the hash of its token is kept.
func (s *Store) CreateWorker(ctx context.Context, orgID uuid.UUID, nw NewWorker) (Worker, error) {
	var id uuid.UUID
	err := s.pool.QueryRow(ctx, `
		INSERT INTO workers (organization_id, coordinator_id, name, agent_types, max_concurrency, token_hash, created_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		orgID, nw.CoordinatorID, nw.Name, nw.AgentTypes, nw.MaxConcurrency, nw.TokenHash, nw.CreatedBy).Scan(&id)
	if c, ok := constraintName(err, pgForeignKeyViolation); ok && c == "workers_organization_id_coordinator_id_fkey" {
		return Worker{}, domain.Invalid("body.coordinator_id", "no such coordinator in this organization")
	}
	if err != nil {
		return Worker{}, fmt.Errorf("create worker: %w", err)
	}
	return s.Worker(ctx, orgID, id)
}

// Worker loads one of the organization's live workers.
func (s *Store) Worker(ctx context.Context, orgID, id uuid.UUID) (Worker, error) {
	rows, _ := s.pool.Query(ctx, workerSelect+` AND w.id = $3`, orgID, offlineSecs(), id)
	w, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Worker])
	return w, notFound(err, "worker")
}

// WorkerFilter narrows a list of workers.
type WorkerFilter struct {
	Status        string     // "" for any
	CoordinatorID *uuid.UUID // nil for any
}

// ListWorkers pages through the organization's live workers, newest first.
func (s *Store) ListWorkers(ctx context.Context, orgID uuid.UUID, f WorkerFilter, limit, offset int) ([]Worker, int, error) {
	rows, _ := s.pool.Query(ctx, `
		SELECT *, count(*) OVER () AS total FROM (`+workerSelect+`
			AND ($3::uuid IS NULL OR w.coordinator_id = $3)) x
		WHERE $4 = '' OR x.status = $4
		ORDER BY x.created_at DESC, x.id LIMIT $5 OFFSET $6`, orgID, offlineSecs(), f.CoordinatorID, f.Status, limit, offset)
	type row struct {
		Worker
		Total int `db:"total"`
	}
	items, err := pgx.CollectRows(rows, pgx.RowToStructByName[row])
	if err != nil {
		return nil, 0, fmt.Errorf("list workers: %w", err)
	}
	out := make([]Worker, len(items))
	for i, r := range items {
		out[i] = r.Worker
	}
	if len(items) > 0 {
		return out, items[0].Total, nil
	}
	if offset == 0 {
		return out, 0, nil
	}
	var total int
	err = s.pool.QueryRow(ctx, `SELECT count(*) FROM (`+workerSelect+` AND ($3::uuid IS NULL OR w.coordinator_id = $3)) x
		WHERE $4 = '' OR x.status = $4`, orgID, offlineSecs(), f.CoordinatorID, f.Status).Scan(&total)
	return out, total, err
}

// RevokeWorker revokes a worker's token at once and hands the tasks it was running back
// to the queue (as an expired lease would, retry_count + 1), so nothing waits for the
// sweeper on a worker that can no longer report. It returns how many tasks it released.
func (s *Store) RevokeWorker(ctx context.Context, orgID, id uuid.UUID) (int, error) {
	released := 0
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE workers SET revoked_at = now() WHERE organization_id = $1 AND id = $2 AND revoked_at IS NULL`, orgID, id)
		if err != nil {
			return fmt.Errorf("revoke worker: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return domain.NotFound("worker")
		}
		rows, _ := tx.Query(ctx, `SELECT id FROM tasks WHERE organization_id = $1 AND lease_owner = $2 AND status = 'running'
			ORDER BY id FOR UPDATE`, orgID, id)
		held, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
		if err != nil {
			return fmt.Errorf("tasks of revoked worker: %w", err)
		}
		for _, taskID := range held {
			if _, err := MoveTaskTx(ctx, tx, orgID, taskID, Move{Action: domain.ActExpire, Error: "the worker running it was revoked"}); err != nil {
				return err
			}
		}
		released = len(held)
		return nil
	})
	return released, err
}
