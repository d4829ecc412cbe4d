package store

import (
	"context"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pressly/goose/v3"

	"github.com/miyabi/miyabi/app/internal/domain"
	"github.com/miyabi/miyabi/migrations"
)

// Operators' figures. These statements deliberately span every organization: they
// return counts and ages per agent type, never an organization's objects, and only the
// sweeper and the operator routes call them.

// QueueFigures is the claimable queue of one agent type.
type QueueFigures struct {
	AgentType string `json:"agent_type"`
	// Depth is how many tasks a worker could claim now: pending, agent type set, every
	// dependency completed.
	Depth int `json:"depth"`
	// OldestAge is how long the longest-waiting of them has been claimable (since its
	// last change: creation, its last dependency completing, a retry or a requeue).
	OldestAge time.Duration `json:"-"`
	// WorkersOnline is how many live workers (heartbeat within OfflineAfter) take this
	// agent type.
	WorkersOnline int `json:"workers_online"`
}

// QueueFigures returns every catalogue agent type's claimable queue (zero when empty)
// and how many distinct workers are online, read in one snapshot.
func (s *Store) QueueFigures(ctx context.Context) ([]QueueFigures, int, error) {
	out := make([]QueueFigures, 0, len(domain.Agents))
	index := map[string]int{}
	for _, t := range domain.AgentTypes() {
		index[t] = len(out)
		out = append(out, QueueFigures{AgentType: t})
	}
	get := func(t string) *QueueFigures {
		i, ok := index[t]
		if !ok { // a type the catalogue no longer lists still counts
			i = len(out)
			index[t] = i
			out = append(out, QueueFigures{AgentType: t})
		}
		return &out[i]
	}
	var online int
	err := s.inTxWith(ctx, readSnapshot, func(tx pgx.Tx) error {
		// the predicate of tasks_claim_idx: exactly the claimable tasks
		rows, _ := tx.Query(ctx, `
			SELECT agent_type, count(*)::int, extract(epoch FROM now() - min(updated_at))::float8
			FROM tasks WHERE status = 'pending' AND deps_pending = 0 AND agent_type IS NOT NULL
			GROUP BY agent_type`)
		var typ string
		var n int
		var age float64
		if _, err := pgx.ForEachRow(rows, []any{&typ, &n, &age}, func() error {
			f := get(typ)
			f.Depth, f.OldestAge = n, time.Duration(max(age, 0)*float64(time.Second))
			return nil
		}); err != nil {
			return fmt.Errorf("queue figures: %w", err)
		}
		rows, _ = tx.Query(ctx, `
			SELECT t, count(*)::int FROM workers w, unnest(w.agent_types) AS t
			WHERE w.revoked_at IS NULL AND `+workerOnline("w", "$1")+`
			GROUP BY t`, offlineSecs())
		if _, err := pgx.ForEachRow(rows, []any{&typ, &n}, func() error {
			get(typ).WorkersOnline = n
			return nil
		}); err != nil {
			return fmt.Errorf("workers online: %w", err)
		}
		if err := tx.QueryRow(ctx, `
			SELECT count(*)::int FROM workers w
			WHERE w.revoked_at IS NULL AND `+workerOnline("w", "$1"), offlineSecs()).Scan(&online); err != nil {
			return fmt.Errorf("workers online: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	return out, online, nil
}

// SweepRun is the last sweep's record.
type SweepRun struct {
	LastRunAt time.Time
	Requeued  int
	LastError *string
}

// RecordSweep stamps a sweep's outcome (sweepErr nil when it succeeded).
func (s *Store) RecordSweep(ctx context.Context, requeued int, sweepErr error) error {
	var msg *string
	if sweepErr != nil {
		m := sweepErr.Error()
		msg = &m
	}
	_, err := s.pool.Exec(ctx, `
		INSERT INTO sweeper_runs (id, last_run_at, requeued, last_error) VALUES (true, now(), $1, $2)
		ON CONFLICT (id) DO UPDATE SET last_run_at = excluded.last_run_at, requeued = excluded.requeued, last_error = excluded.last_error`,
		requeued, msg)
	if err != nil {
		return fmt.Errorf("record sweep: %w", err)
	}
	return nil
}

// LastSweep returns the last sweep's record; ok is false when no sweep ever ran.
func (s *Store) LastSweep(ctx context.Context) (run SweepRun, ok bool, err error) {
	err = s.pool.QueryRow(ctx, `SELECT last_run_at, requeued, last_error FROM sweeper_runs WHERE id`).
		Scan(&run.LastRunAt, &run.Requeued, &run.LastError)
	if err == pgx.ErrNoRows {
		return run, false, nil
	}
	if err != nil {
		return run, false, fmt.Errorf("last sweep: %w", err)
	}
	return run, true, nil
}

// MigrationVersions returns the database's migration version and the newest one this
// binary embeds. The API's role cannot read goose's table; schema_version() (00019)
// answers for it. A database without that function is older than 00019: behind.
func (s *Store) MigrationVersions(ctx context.Context) (current, expected int64, err error) {
	expected, err = embeddedVersion()
	if err != nil {
		return 0, 0, err
	}
	err = s.pool.QueryRow(ctx, `SELECT schema_version()`).Scan(&current)
	if _, missing := constraintName(err, pgUndefinedFunction); missing {
		return 0, expected, nil
	}
	if err != nil {
		return 0, expected, fmt.Errorf("migration version: %w", err)
	}
	return current, expected, nil
}

// embeddedVersion is the newest migration the binary carries.
func embeddedVersion() (int64, error) {
	var newest int64
	err := fs.WalkDir(migrations.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".sql") {
			return err
		}
		v, perr := goose.NumericComponent(path)
		if perr != nil {
			return perr
		}
		newest = max(newest, v)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("embedded migrations: %w", err)
	}
	return newest, nil
}
