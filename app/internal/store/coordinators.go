package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/miyabi/miyabi/app/internal/domain"
)

// Coordinator is a host and the workers under it. Capacity is the sum of its live
// workers' concurrency; its status is derived: offline when none of its workers
// heartbeats, busy when the heartbeating ones run as many tasks as they can take,
// online otherwise.
type Coordinator struct {
	ID            uuid.UUID `db:"id"`
	Name          string    `db:"name"`
	Host          string    `db:"host"`
	WorkerCount   int       `db:"worker_count"`
	OnlineWorkers int       `db:"online_workers"`
	Capacity      int       `db:"capacity"`
	RunningTasks  int       `db:"running_tasks"`
	Status        string    `db:"status"`
	CreatedAt     time.Time `db:"created_at"`
	UpdatedAt     time.Time `db:"updated_at"`
}

// coordinatorSelect: $1 is the organization, $2 the offline threshold in seconds.
var coordinatorSelect = `
	SELECT c.id, c.name, c.host, s.worker_count, s.online_workers, s.capacity, s.running_tasks,
		CASE WHEN s.online_workers = 0 THEN 'offline'
			WHEN s.live_running >= s.live_capacity THEN 'busy' ELSE 'online' END AS status,
		c.created_at, c.updated_at
	FROM coordinators c
	CROSS JOIN LATERAL (
		SELECT count(*)::int AS worker_count,
			count(*) FILTER (WHERE w.live)::int AS online_workers,
			coalesce(sum(w.max_concurrency), 0)::int AS capacity,
			coalesce(sum(w.running), 0)::int AS running_tasks,
			coalesce(sum(w.max_concurrency) FILTER (WHERE w.live), 0)::int AS live_capacity,
			coalesce(sum(w.running) FILTER (WHERE w.live), 0)::int AS live_running
		FROM (
			SELECT ww.max_concurrency,
				` + workerOnline("ww", "$2") + ` AS live,
				(SELECT count(*) FROM tasks t WHERE t.lease_owner = ww.id AND t.status = 'running') AS running
			FROM workers ww
			WHERE ww.organization_id = c.organization_id AND ww.coordinator_id = c.id AND ww.revoked_at IS NULL
		) w
	) s
	WHERE c.organization_id = $1`

func coordinatorNameTaken(err error, name string) error {
	if c, ok := constraintName(err, pgUniqueViolation); ok && c == "coordinators_organization_id_name_key" {
		return domain.Errorf(domain.CodeConflict, "a coordinator named %q already exists", name)
	}
	return err
}

// CreateCoordinator registers a host.
func (s *Store) CreateCoordinator(ctx context.Context, orgID uuid.UUID, name, host string) (Coordinator, error) {
	var id uuid.UUID
	err := s.pool.QueryRow(ctx, `INSERT INTO coordinators (organization_id, name, host) VALUES ($1, $2, $3) RETURNING id`,
		orgID, name, host).Scan(&id)
	if err != nil {
		return Coordinator{}, coordinatorNameTaken(err, name)
	}
	return s.Coordinator(ctx, orgID, id)
}

// Coordinator loads one of the organization's coordinators.
func (s *Store) Coordinator(ctx context.Context, orgID, id uuid.UUID) (Coordinator, error) {
	rows, _ := s.pool.Query(ctx, coordinatorSelect+` AND c.id = $3`, orgID, offlineSecs(), id)
	c, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Coordinator])
	return c, notFound(err, "coordinator")
}

// ListCoordinators pages through the organization's coordinators by name.
func (s *Store) ListCoordinators(ctx context.Context, orgID uuid.UUID, limit, offset int) ([]Coordinator, int, error) {
	rows, _ := s.pool.Query(ctx, coordinatorSelect+` ORDER BY lower(c.name), c.id LIMIT $3 OFFSET $4`,
		orgID, offlineSecs(), limit, offset)
	items, err := pgx.CollectRows(rows, pgx.RowToStructByName[Coordinator])
	if err != nil {
		return nil, 0, fmt.Errorf("list coordinators: %w", err)
	}
	var total int
	err = s.pool.QueryRow(ctx, `SELECT count(*) FROM coordinators WHERE organization_id = $1`, orgID).Scan(&total)
	return items, total, err
}

// CoordinatorPatch holds what PATCH may change.
type CoordinatorPatch struct{ Name, Host *string }

// UpdateCoordinator renames or re-hosts a coordinator.
func (s *Store) UpdateCoordinator(ctx context.Context, orgID, id uuid.UUID, p CoordinatorPatch) (Coordinator, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE coordinators SET name = coalesce($3, name), host = coalesce($4, host)
		WHERE organization_id = $1 AND id = $2`, orgID, id, p.Name, p.Host)
	if err != nil {
		name := ""
		if p.Name != nil {
			name = *p.Name
		}
		return Coordinator{}, coordinatorNameTaken(err, name)
	}
	if tag.RowsAffected() == 0 {
		return Coordinator{}, domain.NotFound("coordinator")
	}
	return s.Coordinator(ctx, orgID, id)
}

// DeleteCoordinator removes a coordinator; its workers stay, without a coordinator.
func (s *Store) DeleteCoordinator(ctx context.Context, orgID, id uuid.UUID) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM coordinators WHERE organization_id = $1 AND id = $2`, orgID, id)
	if err != nil {
		return fmt.Errorf("delete coordinator: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return domain.NotFound("coordinator")
	}
	return nil
}
