package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/miyabi/miyabi/app/internal/domain"
)

// The worker side of the task queue: claims under a lease, heartbeats that renew it, and
// logs from the lease holder. Moves out of running go through MoveTask with LeaseOwner.

// ClaimedTask is what a worker needs to run a task it claimed.
type ClaimedTask struct {
	ID             uuid.UUID      `db:"id"`
	ExecutionID    *uuid.UUID     `db:"execution_id"`
	WorkflowRunID  *uuid.UUID     `db:"workflow_run_id"`
	Name           string         `db:"name"`
	Priority       string         `db:"priority"`
	AgentType      string         `db:"agent_type"`
	Repository     *string        `db:"repository"`
	IssueNumber    *int           `db:"issue_number"`
	Metadata       map[string]any `db:"metadata"`
	Options        map[string]any `db:"options"`
	TimeoutSeconds int            `db:"timeout_seconds"`
	RetryCount     int            `db:"retry_count"`
	LeaseExpiresAt time.Time      `db:"lease_expires_at"`
}

// ClaimTasks hands the worker up to max claimable tasks of its organization (pending,
// every dependency completed, of one of agentTypes), most urgent first then oldest,
// never more than its free concurrency. Each is moved to running under a lease of the
// given length, exactly as MoveTaskTx's start by a worker would (times, execution
// mirror, workflow run status), but in one set-based statement: claims are the hot path.
// SKIP LOCKED lets concurrent claims pass each other without ever sharing a task.
func (s *Store) ClaimTasks(ctx context.Context, orgID, workerID uuid.UUID, agentTypes []string, max int, lease time.Duration) ([]ClaimedTask, error) {
	var out []ClaimedTask
	err := retryOnDeadlock(func() error {
		return s.inTx(ctx, func(tx pgx.Tx) error {
			rows, _ := tx.Query(ctx, `
			WITH w AS (
				SELECT greatest(w.max_concurrency - (SELECT count(*) FROM tasks t WHERE t.lease_owner = w.id AND t.status = 'running'), 0) AS free
				FROM workers w WHERE w.organization_id = $1 AND w.id = $2 AND w.revoked_at IS NULL
			), picked AS (
				SELECT t.id FROM tasks t
				WHERE t.organization_id = $1 AND t.status = 'pending' AND t.deps_pending = 0
					AND t.agent_type IS NOT NULL AND t.agent_type = ANY($3::text[])
				ORDER BY t.priority, t.created_at
				LIMIT least($4::int, coalesce((SELECT free FROM w), 0))
				FOR UPDATE SKIP LOCKED
			), moved AS (
				UPDATE tasks t SET status = 'running', started_at = now(), lease_owner = $2,
					lease_expires_at = now() + make_interval(secs => $5::float8), cancel_requested = false
				FROM picked p WHERE t.organization_id = $1 AND t.id = p.id AND t.status = 'pending'
				RETURNING t.id, t.execution_id, t.workflow_run_id, t.name, t.priority, t.agent_type, t.repository_id,
					t.issue_number, t.metadata, t.timeout_seconds, t.retry_count, t.lease_expires_at, t.created_at
			), mirrored AS (
				-- started_at is this run's start: a retried execution's run time is its last run's
				UPDATE agent_executions e SET status = 'running', started_at = now(), completed_at = NULL
				FROM moved m WHERE e.organization_id = $1 AND e.id = m.execution_id
				RETURNING e.id, e.options
			), commented AS (
				-- the executions' issue comments now say "running" (github.go)
				UPDATE github_issue_comments c SET version = c.version + 1, next_attempt_at = now(), attempts = 0
				FROM moved m WHERE c.organization_id = $1 AND c.execution_id = m.execution_id
			)
			SELECT m.id, m.execution_id, m.workflow_run_id, m.name, m.priority, m.agent_type, r.full_name AS repository,
				m.issue_number, m.metadata, coalesce(x.options, '{}'::jsonb) AS options, m.timeout_seconds, m.retry_count,
				m.lease_expires_at
			FROM moved m
			LEFT JOIN mirrored x ON x.id = m.execution_id
			LEFT JOIN repositories r ON r.organization_id = $1 AND r.id = m.repository_id
			ORDER BY m.priority, m.created_at, m.id`,
				orgID, workerID, agentTypes, max, lease.Seconds())
			var err error
			out, err = pgx.CollectRows(rows, pgx.RowToStructByName[ClaimedTask])
			if err != nil {
				return fmt.Errorf("claim tasks: %w", err)
			}
			// runs in a fixed order, so two claims lock them in the same order
			var runs []uuid.UUID
			for _, t := range out {
				if t.WorkflowRunID != nil && !slices.Contains(runs, *t.WorkflowRunID) {
					runs = append(runs, *t.WorkflowRunID)
				}
			}
			slices.SortFunc(runs, func(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) })
			for _, run := range runs {
				if err := deriveRunStatus(ctx, tx, orgID, run); err != nil {
					return err
				}
			}
			return nil
		})
	})
	return out, err
}

// retryOnDeadlock reruns fn when PostgreSQL chose its transaction as a deadlock victim
// (or a serialization failure): the transaction rolled back whole, so running it again
// is safe. Claims touch many rows at once and meet multi-statement transactions (the
// sweeper's) that lock in another order.
func retryOnDeadlock(fn func() error) error {
	for attempt := 1; ; attempt++ {
		err := fn()
		var pgErr *pgconn.PgError
		if err == nil || attempt == 5 || !errors.As(err, &pgErr) || (pgErr.Code != "40P01" && pgErr.Code != "40001") {
			return err
		}
	}
}

// Heartbeat records that the worker is alive and renews the leases of the running tasks
// it holds: those listed in taskIDs, or all of them when taskIDs is nil. It answers the
// tasks the worker must stop: cancelled (or asked to cancel), or listed but no longer
// its to run (ended, or requeued after its lease expired).
func (s *Store) Heartbeat(ctx context.Context, orgID, workerID uuid.UUID, version *string, taskIDs []uuid.UUID, lease time.Duration) ([]uuid.UUID, error) {
	rows, _ := s.pool.Query(ctx, `
		WITH hb AS (
			UPDATE workers SET last_heartbeat_at = now(), version = coalesce($3, version)
			WHERE organization_id = $1 AND id = $2 AND revoked_at IS NULL
			RETURNING id
		)
		UPDATE tasks t SET lease_expires_at = now() + make_interval(secs => $5::float8)
		FROM hb
		WHERE t.organization_id = $1 AND t.lease_owner = hb.id AND t.status = 'running' AND t.lease_expires_at > now()
			AND ($4::uuid[] IS NULL OR t.id = ANY($4::uuid[]))
		RETURNING t.id, t.cancel_requested`, orgID, workerID, version, taskIDs, lease.Seconds())
	type renewed struct {
		ID              uuid.UUID `db:"id"`
		CancelRequested bool      `db:"cancel_requested"`
	}
	held, err := pgx.CollectRows(rows, pgx.RowToStructByName[renewed])
	if err != nil {
		return nil, fmt.Errorf("heartbeat: %w", err)
	}
	stop := []uuid.UUID{}
	live := make(map[uuid.UUID]bool, len(held))
	for _, h := range held {
		live[h.ID] = true
		if h.CancelRequested {
			stop = append(stop, h.ID)
		}
	}
	for _, id := range taskIDs {
		if !live[id] {
			stop = append(stop, id)
		}
	}
	return stop, nil
}

// LogLine is one line of an agent's output.
type LogLine struct {
	Stream  string
	Message string
}

// AppendTaskLogs stores a batch of log lines, in order, in the log of the task's
// execution, only while the worker holds the task's lease (409 otherwise; 404 for a
// task not in the organization). A task without an execution keeps no log: the lines
// are accepted and dropped. An execution keeps at most max_log_lines_per_execution lines
// and max_log_bytes_per_execution bytes: past them one system line says the log was
// truncated and later lines are dropped, never failing the worker. It returns how many
// lines were stored.
func (s *Store) AppendTaskLogs(ctx context.Context, orgID, workerID, taskID uuid.UUID, lines []LogLine) (int, error) {
	stored := 0
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var (
			status    domain.TaskStatus
			owner     *uuid.UUID
			execution *uuid.UUID
		)
		err := tx.QueryRow(ctx, `SELECT status, CASE WHEN lease_expires_at > now() THEN lease_owner END, execution_id
			FROM tasks WHERE organization_id = $1 AND id = $2`, orgID, taskID).Scan(&status, &owner, &execution)
		if err != nil {
			return notFound(err, "task")
		}
		if status != domain.TaskRunning || owner == nil || *owner != workerID {
			return domain.Errorf(domain.CodeConflict, "this worker does not hold the lease on the task (the task is %s)", status)
		}
		if execution == nil || len(lines) == 0 {
			return nil
		}
		maxLines, err := setting(ctx, tx, SettingMaxLogLinesPerExecution)
		if err != nil {
			return err
		}
		maxBytes, err := setting(ctx, tx, SettingMaxLogBytesPerExecution)
		if err != nil {
			return err
		}
		var usedLines, usedBytes int64
		var truncated bool
		err = tx.QueryRow(ctx, `
			INSERT INTO execution_log_usage AS u (execution_id, organization_id) VALUES ($1, $2)
			ON CONFLICT (execution_id) DO UPDATE SET lines = u.lines
			RETURNING lines, bytes, truncated`, *execution, orgID).Scan(&usedLines, &usedBytes, &truncated)
		if err != nil {
			return fmt.Errorf("log usage: %w", err)
		}
		if truncated {
			return nil
		}
		var streams, messages []string
		var addBytes int64
		for _, l := range lines {
			if usedLines+int64(len(messages))+1 > maxLines || usedBytes+addBytes+int64(len(l.Message)) > maxBytes {
				truncated = true
				break
			}
			streams, messages = append(streams, l.Stream), append(messages, l.Message)
			addBytes += int64(len(l.Message))
		}
		if truncated {
			streams = append(streams, "system")
			messages = append(messages, fmt.Sprintf("[miyabi] log truncated: this execution reached its limit of %d lines or %d bytes (%s, %s); later lines are not kept",
				maxLines, maxBytes, SettingMaxLogLinesPerExecution, SettingMaxLogBytesPerExecution))
		}
		tag, err := tx.Exec(ctx, `
			INSERT INTO execution_logs (organization_id, execution_id, stream, message)
			SELECT $1, $2, l.stream, l.message
			FROM unnest($3::text[], $4::text[]) WITH ORDINALITY AS l(stream, message, ord) ORDER BY l.ord`,
			orgID, *execution, streams, messages)
		if err != nil {
			return fmt.Errorf("append logs: %w", err)
		}
		stored = int(tag.RowsAffected())
		_, err = tx.Exec(ctx, `UPDATE execution_log_usage SET lines = lines + $2, bytes = bytes + $3, truncated = $4 WHERE execution_id = $1`,
			*execution, len(messages), addBytes, truncated)
		return err
	})
	return stored, err
}
