package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/miyabi/miyabi/app/internal/domain"
	"github.com/miyabi/miyabi/app/internal/store"
	"github.com/miyabi/miyabi/app/internal/testdb"
)

// The rare deadlock between a sweep batch and a completion (issue 14, finding 11): the
// sweep held a batch of expired tasks and the run of the first while it cancelled the
// dependents of the next; a completion holding one of those dependents waited for the
// run. Both run here at once, many times, over runs whose tasks share dependents.
func TestSweepAndCompletionNeverDeadlock(t *testing.T) {
	pool := testdb.Pool(t)
	st := store.New(pool)
	ctx := context.Background()
	var org, workflow, worker uuid.UUID
	if err := pool.QueryRow(ctx, `INSERT INTO organizations (name, slug) VALUES ('o', 'o') RETURNING id`).Scan(&org); err != nil {
		t.Fatal(err)
	}
	if err := pool.QueryRow(ctx, `INSERT INTO workflows (organization_id, name, definition) VALUES ($1, 'w', '{}') RETURNING id`, org).Scan(&workflow); err != nil {
		t.Fatal(err)
	}
	if err := pool.QueryRow(ctx, `INSERT INTO workers (organization_id, name, token_hash) VALUES ($1, 'w', sha256('w')) RETURNING id`, org).Scan(&worker); err != nil {
		t.Fatal(err)
	}
	const pairs = 12
	for round := range 15 {
		var run uuid.UUID
		if err := pool.QueryRow(ctx, `INSERT INTO workflow_runs (organization_id, workflow_id, definition, status) VALUES ($1, $2, '{}', 'running') RETURNING id`,
			org, workflow).Scan(&run); err != nil {
			t.Fatal(err)
		}
		live := make([]uuid.UUID, pairs)
		for i := range pairs {
			var expired, dependent uuid.UUID
			// a: its lease expired and its retries are spent (the sweep fails it and cancels
			// its dependents); x: running under a live lease (its worker completes it and
			// releases its dependents); d depends on both
			err := pool.QueryRow(ctx, `
				WITH a AS (INSERT INTO tasks (organization_id, name, status, workflow_run_id, lease_owner, lease_expires_at, max_retries, started_at)
					VALUES ($1, 'a', 'running', $2, $3, now() - interval '1 minute', 0, now()) RETURNING id),
				x AS (INSERT INTO tasks (organization_id, name, status, workflow_run_id, lease_owner, lease_expires_at, started_at)
					VALUES ($1, 'x', 'running', $2, $3, now() + interval '1 hour', now()) RETURNING id),
				d AS (INSERT INTO tasks (organization_id, name, workflow_run_id, deps_pending) VALUES ($1, 'd', $2, 2) RETURNING id)
				SELECT a.id, x.id, d.id FROM a, x, d`, org, run, worker).Scan(&expired, &live[i], &dependent)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := pool.Exec(ctx, `INSERT INTO task_dependencies (task_id, depends_on_task_id) VALUES ($1, $2), ($1, $3)`,
				dependent, expired, live[i]); err != nil {
				t.Fatal(err)
			}
		}
		var wg sync.WaitGroup
		errs := make(chan error, pairs+1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := st.SweepExpiredLeases(ctx); err != nil {
				errs <- fmt.Errorf("sweep: %w", err)
			}
		}()
		for _, id := range live {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := st.MoveTask(ctx, org, id, store.Move{Action: domain.ActComplete, LeaseOwner: &worker}); err != nil {
					errs <- fmt.Errorf("complete: %w", err)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			var pgErr *pgconn.PgError
			if errors.As(err, &pgErr) && pgErr.Code == "40P01" {
				t.Fatalf("round %d: deadlock: %v", round, err)
			}
			t.Fatalf("round %d: %v", round, err)
		}
		var left int
		_ = pool.QueryRow(ctx, `SELECT count(*) FROM tasks WHERE workflow_run_id = $1 AND status = 'running'`, run).Scan(&left)
		if left != 0 {
			t.Fatalf("round %d: %d tasks still running", round, left)
		}
	}
}
