package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// DashboardSummary is the organization at a glance. Execution figures come from the
// trigger-maintained counter rows (a few primary-key reads), never from scanning
// executions: that stays fast however many executions there are.
type DashboardSummary struct {
	ExecutionsByStatus map[string]int64
	ExecutionsTotal    int64
	TasksByStatus      map[string]int64
	Repositories       int64
	PRsCreated         int64 // distinct pull requests (pull_requests), each once
	PRsMerged          int64
	WorkersOnline      int64
	WorkersBusy        int64
	WorkersOffline     int64
	// SuccessRate is completed / (completed + failed); nil before anything ended.
	SuccessRate *float64
	// MeanDurationMS is the mean run time of completed executions; nil when none.
	MeanDurationMS *float64
}

var statuses = []string{"pending", "running", "completed", "failed", "cancelled"}

// DashboardSummary reads the summary in one round trip.
func (s *Store) DashboardSummary(ctx context.Context, orgID uuid.UUID) (DashboardSummary, error) {
	out := DashboardSummary{ExecutionsByStatus: map[string]int64{}, TasksByStatus: map[string]int64{}}
	for _, st := range statuses {
		out.ExecutionsByStatus[st], out.TasksByStatus[st] = 0, 0
	}
	// one snapshot for all reads, so the figures agree with each other
	var completedMS, completedN, failedN int64
	err := s.inTxWith(ctx, readSnapshot, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT status, sum(n)::bigint, sum(duration_ms)::bigint
			FROM execution_counters WHERE organization_id = $1 GROUP BY status`, orgID)
		if err != nil {
			return fmt.Errorf("execution counters: %w", err)
		}
		for rows.Next() {
			var status string
			var n, ms int64
			if err := rows.Scan(&status, &n, &ms); err != nil {
				rows.Close()
				return err
			}
			out.ExecutionsByStatus[status] = n
			// every agent task has exactly one execution in the same status (MoveTaskTx
			// mirrors them), so agent tasks are counted by the execution counters and only
			// manual tasks are counted live
			out.TasksByStatus[status] += n
			out.ExecutionsTotal += n
			switch status {
			case "completed":
				completedMS, completedN = ms, n
			case "failed":
				failedN = n
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("execution counters: %w", err)
		}
		// pull requests from pull_requests, each once (the counters' per-execution figure
		// counted one PR as often as executions reported it)
		if out.PRsCreated, out.PRsMerged, err = pullRequestCountsTx(ctx, tx, orgID); err != nil {
			return err
		}
		rows, err = tx.Query(ctx, `SELECT status, count(*) FROM tasks WHERE organization_id = $1 AND execution_id IS NULL GROUP BY status`, orgID)
		if err != nil {
			return fmt.Errorf("task counts: %w", err)
		}
		for rows.Next() {
			var status string
			var n int64
			if err := rows.Scan(&status, &n); err != nil {
				rows.Close()
				return err
			}
			out.TasksByStatus[status] += n
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("task counts: %w", err)
		}
		if err := tx.QueryRow(ctx, `
			SELECT (SELECT count(*) FROM repositories WHERE organization_id = $1),
				count(*) FILTER (WHERE `+workerOnline("w", "$2")+` AND w.busy),
				count(*) FILTER (WHERE `+workerOnline("w", "$2")+` AND NOT w.busy),
				count(*) FILTER (WHERE NOT `+workerOnline("w", "$2")+`)
			FROM (SELECT wk.last_heartbeat_at,
					EXISTS (SELECT 1 FROM tasks t WHERE t.lease_owner = wk.id AND t.status = 'running') AS busy
				FROM workers wk WHERE wk.organization_id = $1 AND wk.revoked_at IS NULL) w`,
			orgID, offlineSecs()).Scan(&out.Repositories, &out.WorkersBusy, &out.WorkersOnline, &out.WorkersOffline); err != nil {
			return fmt.Errorf("repositories and workers: %w", err)
		}
		return nil
	})
	if err != nil {
		return out, err
	}
	// "online" counts every live worker, busy or idle
	out.WorkersOnline += out.WorkersBusy
	if ended := completedN + failedN; ended > 0 {
		r := float64(completedN) / float64(ended)
		out.SuccessRate = &r
	}
	if completedN > 0 {
		m := float64(completedMS) / float64(completedN)
		out.MeanDurationMS = &m
	}
	return out, nil
}

// MetricsPoint is one time bucket of executions created, by their current status.
type MetricsPoint struct {
	At        time.Time `db:"at"`
	Pending   int64     `db:"pending"`
	Running   int64     `db:"running"`
	Completed int64     `db:"completed"`
	Failed    int64     `db:"failed"`
	Cancelled int64     `db:"cancelled"`
	Total     int64     `db:"total"`
}

// ExecutionMetrics returns count buckets of unit "hour" or "day" (UTC), the last n of
// them up to and including the current one, empty buckets as zeros. It reads the hourly
// execution_buckets rows (one per organization, hour and status), folding hours into
// days in SQL.
func (s *Store) ExecutionMetrics(ctx context.Context, orgID uuid.UUID, unit string, n int) ([]MetricsPoint, error) {
	if unit != "hour" && unit != "day" {
		return nil, fmt.Errorf("metrics unit %q", unit)
	}
	rows, err := s.pool.Query(ctx, `
		WITH span AS (
			SELECT date_trunc($2, now(), 'UTC') AS last, ('1 ' || $2)::interval AS step
		), g AS (
			SELECT generate_series(span.last - ($3 - 1) * span.step, span.last, span.step) AS at FROM span
		), b AS (
			SELECT date_trunc($2, eb.bucket, 'UTC') AS at, eb.status, sum(eb.n) AS n
			FROM execution_buckets eb, span
			WHERE eb.organization_id = $1 AND eb.bucket >= span.last - ($3 - 1) * span.step
			GROUP BY 1, 2
		)
		SELECT g.at,
			coalesce(sum(b.n) FILTER (WHERE b.status = 'pending'), 0)::bigint AS pending,
			coalesce(sum(b.n) FILTER (WHERE b.status = 'running'), 0)::bigint AS running,
			coalesce(sum(b.n) FILTER (WHERE b.status = 'completed'), 0)::bigint AS completed,
			coalesce(sum(b.n) FILTER (WHERE b.status = 'failed'), 0)::bigint AS failed,
			coalesce(sum(b.n) FILTER (WHERE b.status = 'cancelled'), 0)::bigint AS cancelled,
			coalesce(sum(b.n), 0)::bigint AS total
		FROM g LEFT JOIN b ON b.at = g.at
		GROUP BY g.at ORDER BY g.at`, orgID, unit, n)
	if err != nil {
		return nil, fmt.Errorf("execution metrics: %w", err)
	}
	points := []MetricsPoint{}
	for rows.Next() {
		var p MetricsPoint
		if err := rows.Scan(&p.At, &p.Pending, &p.Running, &p.Completed, &p.Failed, &p.Cancelled, &p.Total); err != nil {
			rows.Close()
			return nil, err
		}
		points = append(points, p)
	}
	return points, rows.Err()
}

// AgentWorkers counts, per agent type, the organization's online workers able to run it
// (a worker with no agent types runs every type).
func (s *Store) AgentWorkers(ctx context.Context, orgID uuid.UUID, types []string) (map[string]int, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT t.type, count(w.id)::int FROM unnest($2::text[]) AS t(type)
		LEFT JOIN workers w ON w.organization_id = $1 AND w.revoked_at IS NULL
			AND `+workerOnline("w", "$3")+`
			AND (cardinality(w.agent_types) = 0 OR t.type = ANY (w.agent_types))
		GROUP BY t.type`, orgID, types, offlineSecs())
	if err != nil {
		return nil, fmt.Errorf("agent workers: %w", err)
	}
	defer rows.Close()
	out := make(map[string]int, len(types))
	for rows.Next() {
		var t string
		var n int
		if err := rows.Scan(&t, &n); err != nil {
			return nil, err
		}
		out[t] = n
	}
	return out, rows.Err()
}
