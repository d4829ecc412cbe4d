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
	CreatedBy       *uuid.UUID `db:"created_by"`
	RevokedAt       *time.Time `db:"revoked_at"`
	RevokedReason   *string    `db:"revoked_reason"`
	CreatedAt       time.Time  `db:"created_at"`
}

// WorkerRevoked is the status of a worker whose token died with its creator's right to
// manage workers: it stays in the list, so the organization sees why it stopped.
const WorkerRevoked = "revoked"

// workerSelect derives running_tasks and status; $1 is always the organization and
// $2 the offline threshold in seconds.
var workerSelect = `
	SELECT w.id, w.organization_id, w.coordinator_id, w.name, w.agent_types, w.max_concurrency, w.version,
		w.last_heartbeat_at, r.n AS running_tasks,
		CASE WHEN w.revoked_at IS NOT NULL THEN 'revoked'
			WHEN NOT ` + workerOnline("w", "$2") + ` THEN 'offline'
			WHEN r.n > 0 THEN 'busy' ELSE 'online' END AS status,
		w.created_by, w.revoked_at, w.revoked_reason, w.created_at
	FROM workers w
	CROSS JOIN LATERAL (SELECT count(*)::int AS n FROM tasks t WHERE t.lease_owner = w.id AND t.status = 'running') r
	WHERE w.organization_id = $1 AND (w.revoked_at IS NULL OR w.revoked_reason <> 'deleted')`

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
// Workers belong to the organization; the person who registered one is recorded
// (created_by), and the token dies when that person loses the right to manage workers.
func (s *Store) CreateWorker(ctx context.Context, orgID uuid.UUID, nw NewWorker) (Worker, error) {
	var id uuid.UUID
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		// lock the organization, then count: concurrent registrations cannot pass the cap
		if _, err := tx.Exec(ctx, `SELECT 1 FROM organizations WHERE id = $1 FOR NO KEY UPDATE`, orgID); err != nil {
			return fmt.Errorf("lock organization: %w", err)
		}
		max, err := setting(ctx, tx, SettingMaxWorkersPerOrg)
		if err != nil {
			return err
		}
		var live int64
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM workers WHERE organization_id = $1 AND revoked_at IS NULL`, orgID).Scan(&live); err != nil {
			return fmt.Errorf("count workers: %w", err)
		}
		if live >= max {
			return domain.Errorf(domain.CodeConflict, "the organization has %d workers, the most it may have (limit %s); delete one first", live, SettingMaxWorkersPerOrg)
		}
		err = tx.QueryRow(ctx, `
			INSERT INTO workers (organization_id, coordinator_id, name, agent_types, max_concurrency, token_hash, created_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
			orgID, nw.CoordinatorID, nw.Name, nw.AgentTypes, nw.MaxConcurrency, nw.TokenHash, nw.CreatedBy).Scan(&id)
		if c, ok := constraintName(err, pgForeignKeyViolation); ok && c == "workers_organization_id_coordinator_id_fkey" {
			return domain.Invalid("body.coordinator_id", "no such coordinator in this organization")
		}
		if err != nil {
			return fmt.Errorf("create worker: %w", err)
		}
		return audit(ctx, tx, orgID, AuditWorkerRegistered, "worker", id.String(), map[string]any{"name": nw.Name, "agent_types": nw.AgentTypes})
	})
	if err != nil {
		return Worker{}, err
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
		// a worker already revoked with its creator is hidden now, as a deleted one is
		var wasLive bool
		err := tx.QueryRow(ctx, `UPDATE workers w SET revoked_at = coalesce(w.revoked_at, now()), revoked_reason = 'deleted'
			FROM workers old WHERE old.id = w.id AND w.organization_id = $1 AND w.id = $2
			AND (w.revoked_at IS NULL OR w.revoked_reason <> 'deleted') RETURNING old.revoked_at IS NULL`, orgID, id).Scan(&wasLive)
		if err != nil {
			return notFound(err, "worker")
		}
		if !wasLive {
			return nil
		}
		if err := audit(ctx, tx, orgID, AuditWorkerRevoked, "worker", id.String(), map[string]any{"reason": "deleted"}); err != nil {
			return err
		}
		released, err = releaseWorkerTasksTx(ctx, tx, orgID, id)
		return err
	})
	return released, err
}

// releaseWorkerTasksTx hands the tasks a revoked worker was running back to the queue.
func releaseWorkerTasksTx(ctx context.Context, tx pgx.Tx, orgID, workerID uuid.UUID) (int, error) {
	rows, _ := tx.Query(ctx, `SELECT id FROM tasks WHERE organization_id = $1 AND lease_owner = $2 AND status = 'running'
		ORDER BY id FOR UPDATE`, orgID, workerID)
	held, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return 0, fmt.Errorf("tasks of revoked worker: %w", err)
	}
	for _, taskID := range held {
		if _, err := MoveTaskTx(ctx, tx, orgID, taskID, Move{Action: domain.ActExpire, Error: "the worker running it was revoked"}); err != nil {
			return 0, err
		}
	}
	return len(held), nil
}

// revokeWorkersOfTx revokes the tokens of the workers userID registered in the
// organization when userID, after a change to their membership, no longer holds
// agents.manage there (removed, suspended, or demoted below it), with the reason shown
// in the workers list, an audit entry each, and their running tasks back in the queue.
func revokeWorkersOfTx(ctx context.Context, tx pgx.Tx, orgID, userID uuid.UUID, reason string) error {
	rows, _ := tx.Query(ctx, `
		UPDATE workers SET revoked_at = now(), revoked_reason = $3
		WHERE organization_id = $1 AND created_by = $2 AND revoked_at IS NULL
		AND NOT EXISTS (
			SELECT 1 FROM organization_members m
			WHERE m.organization_id = $1 AND m.user_id = $2 AND m.status = 'active' AND (
				EXISTS (SELECT 1 FROM role_permissions rp WHERE rp.role_name = 'org:' || m.role::text AND rp.permission_name = 'agents.manage')
				OR EXISTS (SELECT 1 FROM user_permissions up WHERE up.organization_id = $1 AND up.user_id = $2
					AND up.permission_name = 'agents.manage' AND (up.expires_at IS NULL OR up.expires_at > now()))))
		RETURNING id`, orgID, userID, reason)
	revoked, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return fmt.Errorf("revoke the workers of %s: %w", userID, err)
	}
	for _, id := range revoked {
		if err := audit(ctx, tx, orgID, AuditWorkerRevoked, "worker", id.String(), map[string]any{"reason": reason, "creator": userID.String()}); err != nil {
			return err
		}
		if _, err := releaseWorkerTasksTx(ctx, tx, orgID, id); err != nil {
			return err
		}
	}
	return nil
}
