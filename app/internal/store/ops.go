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

// SweepJob is what one job of a sweep did: the items it handled (leases requeued, rows
// purged, comments or notifications delivered...), the items that failed and will be
// retried, and the error the job stopped on (nil when it ran through).
type SweepJob struct {
	Job    string
	Items  int
	Failed int
	Error  *string
}

// maxSweepError bounds a job's recorded error.
const maxSweepError = 2000

// RecordSweep stamps a sweep's outcome (sweepErr nil when its own work, requeueing and
// purging, succeeded) and, in the same transaction, each job's run: its figures replace
// the job's last run and add to its totals.
func (s *Store) RecordSweep(ctx context.Context, requeued int, sweepErr error, jobs []SweepJob) error {
	var msg *string
	if sweepErr != nil {
		m := truncate(sweepErr.Error(), maxSweepError)
		msg = &m
	}
	names, items, failed, errs := make([]string, len(jobs)), make([]int32, len(jobs)), make([]int32, len(jobs)), make([]*string, len(jobs))
	for i, j := range jobs {
		names[i], items[i], failed[i] = j.Job, int32(max(j.Items, 0)), int32(max(j.Failed, 0))
		if j.Error != nil {
			e := truncate(*j.Error, maxSweepError)
			errs[i] = &e
		}
	}
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `
			INSERT INTO sweeper_runs (id, last_run_at, requeued, last_error) VALUES (true, now(), $1, $2)
			ON CONFLICT (id) DO UPDATE SET last_run_at = excluded.last_run_at, requeued = excluded.requeued, last_error = excluded.last_error`,
			requeued, msg); err != nil {
			return err
		}
		if len(jobs) == 0 {
			return nil
		}
		// rows in the order given (the sweep's own order), so two sweeps lock them alike
		_, err := tx.Exec(ctx, `
			INSERT INTO sweeper_jobs AS j (job, last_run_at, items, failed, error, runs, items_total, failed_total, errors_total, last_error, last_error_at)
			SELECT r.job, now(), r.items, r.failed, r.error, 1, r.items, r.failed, (r.error IS NOT NULL)::int, r.error,
				CASE WHEN r.error IS NOT NULL THEN now() END
			FROM unnest($1::text[], $2::int[], $3::int[], $4::text[]) WITH ORDINALITY AS r(job, items, failed, error, n)
			ORDER BY r.n
			ON CONFLICT (job) DO UPDATE SET last_run_at = excluded.last_run_at, items = excluded.items, failed = excluded.failed,
				error = excluded.error, runs = j.runs + 1, items_total = j.items_total + excluded.items,
				failed_total = j.failed_total + excluded.failed, errors_total = j.errors_total + excluded.errors_total,
				last_error = coalesce(excluded.error, j.last_error), last_error_at = coalesce(excluded.last_error_at, j.last_error_at)`,
			names, items, failed, errs)
		return err
	})
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

// SweepJobRecord is one job of the sweep as recorded: its last run, and its totals
// since Since.
type SweepJobRecord struct {
	Job         string     `db:"job"`
	LastRunAt   time.Time  `db:"last_run_at"`
	Items       int        `db:"items"`
	Failed      int        `db:"failed"`
	Error       *string    `db:"error"`
	Runs        int64      `db:"runs"`
	ItemsTotal  int64      `db:"items_total"`
	FailedTotal int64      `db:"failed_total"`
	ErrorsTotal int64      `db:"errors_total"`
	LastError   *string    `db:"last_error"`
	LastErrorAt *time.Time `db:"last_error_at"`
	Since       time.Time  `db:"since"`
}

// SweepJobs returns every recorded job of the sweep, by name.
func (s *Store) SweepJobs(ctx context.Context) ([]SweepJobRecord, error) {
	rows, _ := s.pool.Query(ctx, `SELECT job, last_run_at, items, failed, error, runs, items_total, failed_total, errors_total,
		last_error, last_error_at, since FROM sweeper_jobs ORDER BY job`)
	jobs, err := pgx.CollectRows(rows, pgx.RowToStructByName[SweepJobRecord])
	if err != nil {
		return nil, fmt.Errorf("sweep jobs: %w", err)
	}
	return jobs, nil
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
