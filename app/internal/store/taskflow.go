package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/miyabi/miyabi/app/internal/domain"
)

// TaskResult is what a finished agent reports.
type TaskResult struct {
	PRNumber     *int     `json:"pr_number,omitempty"`
	QualityScore *float64 `json:"quality_score,omitempty"`
	Summary      *string  `json:"summary,omitempty"`
}

// Move is one step of the task state machine.
type Move struct {
	Action domain.TaskAction
	// LeaseOwner, when set, allows the move only to the worker holding a live lease
	// (else 409): a stale worker can never overwrite another's work.
	LeaseOwner *uuid.UUID
	// ManualOnly refuses the move for agent tasks (their worker moves them).
	ManualOnly bool
	Result     *TaskResult
	Error      string
	Retryable  bool
	// LeaseFor is the lease length set by a start made by a worker.
	LeaseFor time.Duration
}

// Moved is the task after a move.
type Moved struct {
	ID          uuid.UUID
	From, To    domain.TaskStatus
	ExecutionID *uuid.UUID
	RunID       *uuid.UUID
}

// MoveTask applies one move to the organization's task in its own transaction.
func (s *Store) MoveTask(ctx context.Context, orgID, taskID uuid.UUID, m Move) (Moved, error) {
	var out Moved
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		out, err = MoveTaskTx(ctx, tx, orgID, taskID, m)
		return err
	})
	return out, err
}

// MoveTaskTx is the one place a task changes status: it checks the state machine and the
// lease, stamps the times, mirrors the execution, releases or cancels dependents and
// derives the workflow run's status, all in the caller's transaction.
func MoveTaskTx(ctx context.Context, tx pgx.Tx, orgID, taskID uuid.UUID, m Move) (Moved, error) {
	var (
		now               time.Time
		status            domain.TaskStatus
		agentType         *string
		leaseOwner        *uuid.UUID
		leaseExpires      *time.Time
		retries, maxRetry int
		out               = Moved{ID: taskID}
	)
	err := tx.QueryRow(ctx, `
		SELECT status, agent_type, lease_owner, lease_expires_at, retry_count, max_retries, execution_id, workflow_run_id, now()
		FROM tasks WHERE organization_id = $1 AND id = $2 FOR UPDATE`, orgID, taskID).
		Scan(&status, &agentType, &leaseOwner, &leaseExpires, &retries, &maxRetry, &out.ExecutionID, &out.RunID, &now)
	if errors.Is(err, pgx.ErrNoRows) {
		return out, domain.NotFound("task")
	}
	if err != nil {
		return out, fmt.Errorf("lock task: %w", err)
	}
	out.From = status
	if m.ManualOnly && agentType != nil {
		return out, domain.Errorf(domain.CodeConflict, "this task is run by a %s agent; its worker moves it (the task is %s)", *agentType, status)
	}
	if m.LeaseOwner != nil && m.Action != domain.ActStart {
		if status != domain.TaskRunning || leaseOwner == nil || *leaseOwner != *m.LeaseOwner {
			return out, domain.Errorf(domain.CodeConflict, "this worker does not hold the lease on the task (the task is %s)", status)
		}
		if leaseExpires == nil || !leaseExpires.After(now) {
			return out, domain.Errorf(domain.CodeConflict, "the lease on the task expired; it goes back to the queue")
		}
	}
	to, err := domain.NextTaskStatus(status, m.Action, m.Retryable, retries < maxRetry)
	if err != nil {
		return out, err
	}
	out.To = to
	if m.Action == domain.ActRetry && out.RunID != nil {
		// a run a person cancelled stays cancelled: none of its nodes comes back
		var stopped bool
		if err := tx.QueryRow(ctx, `SELECT status = 'cancelled' FROM workflow_runs WHERE organization_id = $1 AND id = $2`, orgID, *out.RunID).Scan(&stopped); err != nil {
			return out, fmt.Errorf("read run: %w", err)
		}
		if stopped {
			return out, domain.Errorf(domain.CodeConflict, "the workflow run of this task was cancelled; run the workflow again instead")
		}
	}
	// who moved it: the person behind the request (nil for a worker, the sweeper or a
	// webhook), recorded on a cancel
	by := ActorFrom(ctx).UserID

	retryBump := 0
	if to == domain.TaskPending && (m.Action == domain.ActRetry || m.Action == domain.ActExpire || m.Action == domain.ActFail) {
		retryBump = 1
	}
	var resultJSON any
	if m.Result != nil {
		resultJSON = m.Result
	}
	var leaseSecs *float64
	if to == domain.TaskRunning && m.LeaseOwner != nil {
		v := m.LeaseFor.Seconds()
		leaseSecs = &v
	}
	_, err = tx.Exec(ctx, `
		UPDATE tasks SET status = $3,
			retry_count = retry_count + $4,
			started_at = CASE WHEN $3 = 'running' THEN now() ELSE started_at END,
			completed_at = CASE WHEN $3 = 'completed' THEN now() ELSE completed_at END,
			failed_at = CASE WHEN $3 = 'failed' THEN now() ELSE failed_at END,
			cancelled_at = CASE WHEN $3 = 'cancelled' THEN now() ELSE cancelled_at END,
			cancelled_by = CASE WHEN $3 = 'cancelled' THEN $9::uuid ELSE cancelled_by END,
			lease_owner = CASE WHEN $3 = 'running' THEN $5::uuid ELSE NULL END,
			lease_expires_at = CASE WHEN $3 = 'running' AND $6::float8 IS NOT NULL THEN now() + make_interval(secs => $6::float8) ELSE NULL END,
			cancel_requested = false,
			result = coalesce($7::jsonb, result),
			error = CASE WHEN $3 IN ('failed', 'pending') AND $8 <> '' THEN $8 WHEN $3 = 'completed' THEN NULL ELSE error END
		WHERE organization_id = $1 AND id = $2`,
		orgID, taskID, to, retryBump, m.LeaseOwner, leaseSecs, resultJSON, m.Error, by)
	if err != nil {
		return out, fmt.Errorf("move task: %w", err)
	}
	if err := mirrorExecution(ctx, tx, orgID, out.ExecutionID, to, m, by); err != nil {
		return out, err
	}
	if err := githubOnMoveTx(ctx, tx, orgID, out.ExecutionID, m); err != nil {
		return out, err
	}
	if m.Action == domain.ActRetry {
		if err := reviveDependents(ctx, tx, orgID, taskID); err != nil {
			return out, err
		}
	}
	switch to {
	case domain.TaskCompleted:
		if _, err := tx.Exec(ctx, `
			UPDATE tasks SET deps_pending = deps_pending - 1
			WHERE organization_id = $1 AND deps_pending > 0
				AND id IN (SELECT task_id FROM task_dependencies WHERE depends_on_task_id = $2)`, orgID, taskID); err != nil {
			return out, fmt.Errorf("release dependents: %w", err)
		}
	case domain.TaskFailed, domain.TaskCancelled:
		if err := cancelDependents(ctx, tx, orgID, taskID, to); err != nil {
			return out, err
		}
	}
	if out.RunID != nil {
		if err := deriveRunStatus(ctx, tx, orgID, *out.RunID); err != nil {
			return out, err
		}
	}
	if err := queueTaskNotifications(ctx, tx, orgID, out); err != nil {
		return out, err
	}
	return out, nil
}

func mirrorExecution(ctx context.Context, tx pgx.Tx, orgID uuid.UUID, execID *uuid.UUID, to domain.TaskStatus, m Move, by *uuid.UUID) error {
	if execID == nil {
		return nil
	}
	var pr *int
	var score *float64
	var summary *string
	if m.Result != nil {
		pr, score, summary = m.Result.PRNumber, m.Result.QualityScore, m.Result.Summary
	}
	_, err := tx.Exec(ctx, `
		UPDATE agent_executions SET status = $3,
			started_at = CASE WHEN $3 = 'running' THEN now() ELSE started_at END, -- this run's start, also on a retry
			completed_at = CASE WHEN $3 IN ('completed', 'failed', 'cancelled') THEN now() ELSE NULL END,
			cancelled_at = CASE WHEN $3 = 'cancelled' THEN now() ELSE NULL END,
			cancelled_by = CASE WHEN $3 = 'cancelled' THEN $8::uuid ELSE NULL END,
			pr_number = coalesce($4, pr_number), quality_score = coalesce($5, quality_score),
			summary = coalesce($6, summary),
			error = CASE WHEN $7 <> '' THEN $7 WHEN $3 = 'completed' THEN NULL ELSE error END
		WHERE organization_id = $1 AND id = $2`, orgID, *execID, to, pr, score, summary, m.Error, by)
	if err != nil {
		return fmt.Errorf("mirror execution: %w", err)
	}
	return nil
}

// cancelDependents cancels every pending task that (transitively) depends on taskID.
func cancelDependents(ctx context.Context, tx pgx.Tx, orgID, taskID uuid.UUID, cause domain.TaskStatus) error {
	reason := fmt.Sprintf("cancelled because a task it depends on %s", cause)
	_, err := tx.Exec(ctx, `
		WITH RECURSIVE dependents(id) AS (
			SELECT task_id FROM task_dependencies WHERE depends_on_task_id = $2
			UNION
			SELECT d.task_id FROM task_dependencies d JOIN dependents x ON d.depends_on_task_id = x.id
		), cancelled AS (
			UPDATE tasks t SET status = 'cancelled', cancelled_at = now(), error = $3, lease_owner = NULL, lease_expires_at = NULL,
				cancelled_by_task_id = $2
			FROM dependents x WHERE t.id = x.id AND t.organization_id = $1 AND t.status = 'pending'
			RETURNING t.execution_id
		), commented AS (
			UPDATE github_issue_comments g SET version = g.version + 1, next_attempt_at = now(), attempts = 0
			FROM cancelled c WHERE g.organization_id = $1 AND g.execution_id = c.execution_id
		)
		UPDATE agent_executions e SET status = 'cancelled', completed_at = now(), cancelled_at = now(), cancelled_by = NULL, error = $3
		FROM cancelled c WHERE e.organization_id = $1 AND e.id = c.execution_id`, orgID, taskID, reason)
	if err != nil {
		return fmt.Errorf("cancel dependents: %w", err)
	}
	return nil
}

// reviveDependents puts back to pending the tasks (and executions) that were cancelled
// only because taskID failed, now that it is retried; a task cancelled by a person stays
// cancelled. Their deps_pending was never decremented, so they wait for it again.
func reviveDependents(ctx context.Context, tx pgx.Tx, orgID, taskID uuid.UUID) error {
	_, err := tx.Exec(ctx, `
		WITH revived AS (
			UPDATE tasks SET status = 'pending', cancelled_at = NULL, error = NULL, cancelled_by_task_id = NULL
			WHERE organization_id = $1 AND cancelled_by_task_id = $2 AND status = 'cancelled'
			RETURNING execution_id
		), commented AS (
			UPDATE github_issue_comments g SET version = g.version + 1, next_attempt_at = now(), attempts = 0
			FROM revived r WHERE g.organization_id = $1 AND g.execution_id = r.execution_id
		)
		UPDATE agent_executions e SET status = 'pending', completed_at = NULL, cancelled_at = NULL, error = NULL
		FROM revived r WHERE e.organization_id = $1 AND e.id = r.execution_id`, orgID, taskID)
	if err != nil {
		return fmt.Errorf("revive dependents: %w", err)
	}
	return nil
}

// deriveRunStatus sets a workflow run's status from its tasks: completed when all
// completed; failed or cancelled when all ended otherwise; running once any started. A
// run cancelled as a whole (CancelWorkflowRun) stays cancelled.
func deriveRunStatus(ctx context.Context, tx pgx.Tx, orgID, runID uuid.UUID) error {
	// Lock the run before counting: two nodes finishing at once would otherwise both
	// count from their own snapshot and the later write would keep a stale status.
	if _, err := tx.Exec(ctx, `SELECT 1 FROM workflow_runs WHERE organization_id = $1 AND id = $2 FOR UPDATE`, orgID, runID); err != nil {
		return fmt.Errorf("lock run: %w", err)
	}
	_, err := tx.Exec(ctx, `
		WITH c AS (
			SELECT count(*) AS total,
				count(*) FILTER (WHERE status = 'completed') AS completed,
				count(*) FILTER (WHERE status = 'failed') AS failed,
				count(*) FILTER (WHERE status IN ('completed', 'failed', 'cancelled')) AS ended,
				count(*) FILTER (WHERE status <> 'pending') AS started
			FROM tasks WHERE organization_id = $1 AND workflow_run_id = $2
		)
		UPDATE workflow_runs r SET status = CASE
				WHEN r.status = 'cancelled' AND r.cancelled_at IS NOT NULL THEN 'cancelled'
				WHEN c.total > 0 AND c.completed = c.total THEN 'completed'
				WHEN c.total > 0 AND c.ended = c.total AND c.failed > 0 THEN 'failed'
				WHEN c.total > 0 AND c.ended = c.total THEN 'cancelled'
				WHEN c.started > 0 THEN 'running'
				ELSE 'pending' END,
			started_at = CASE WHEN c.started > 0 THEN coalesce(r.started_at, now()) ELSE r.started_at END,
			completed_at = CASE WHEN c.total > 0 AND c.ended = c.total THEN coalesce(r.completed_at, now()) ELSE NULL END,
			cancelled_at = CASE WHEN r.status = 'cancelled' AND r.cancelled_at IS NOT NULL THEN r.cancelled_at
				WHEN c.total > 0 AND c.ended = c.total AND c.failed = 0 AND c.completed < c.total THEN coalesce(r.cancelled_at, now())
				ELSE NULL END
		FROM c WHERE r.organization_id = $1 AND r.id = $2`, orgID, runID)
	if err != nil {
		return fmt.Errorf("derive run status: %w", err)
	}
	return nil
}

// SweepExpiredLeases moves tasks whose lease expired back to pending (retry_count + 1) or
// to failed when their retries are spent, with all a move's consequences, and returns
// how many it moved. Safe to run from several places at once (SKIP LOCKED).
//
// Each task moves in its own transaction, taking its locks in the order a completion
// takes them (the task, its execution, its dependents, its run). A batch in one
// transaction held every task of the batch and the runs of the first ones while it
// cancelled the dependents of the next: a completion holding one of those dependents
// and waiting for the run closed a cycle, and PostgreSQL killed one side (40P01).
func (s *Store) SweepExpiredLeases(ctx context.Context) (int, error) {
	moved := 0
	for {
		rows, _ := s.pool.Query(ctx, `
			SELECT organization_id, id FROM tasks
			WHERE status = 'running' AND lease_expires_at < now()
			ORDER BY lease_expires_at LIMIT 200`)
		type key struct{ org, id uuid.UUID }
		expired, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (key, error) {
			var k key
			return k, r.Scan(&k.org, &k.id)
		})
		if err != nil {
			return moved, fmt.Errorf("sweep: %w", err)
		}
		n := 0
		for _, k := range expired {
			err := s.inTx(ctx, func(tx pgx.Tx) error {
				var still bool
				err := tx.QueryRow(ctx, `SELECT true FROM tasks WHERE organization_id = $1 AND id = $2
					AND status = 'running' AND lease_expires_at < now() FOR UPDATE SKIP LOCKED`, k.org, k.id).Scan(&still)
				if errors.Is(err, pgx.ErrNoRows) {
					return nil // renewed, finished, or being moved by someone else
				}
				if err != nil {
					return err
				}
				if _, err := MoveTaskTx(ctx, tx, k.org, k.id, Move{Action: domain.ActExpire, Error: "lease expired: the worker stopped renewing it"}); err != nil {
					return err
				}
				n++
				return nil
			})
			if err != nil {
				return moved, fmt.Errorf("sweep: %w", err)
			}
		}
		moved += n
		if len(expired) < 200 || n == 0 {
			return moved, nil
		}
	}
}
