package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/miyabi/miyabi/app/internal/domain"
)

// Execution is one run of an agent on an issue; it mirrors its task's status.
type Execution struct {
	ID                 uuid.UUID         `db:"id"`
	OrgID              uuid.UUID         `db:"organization_id"`
	RepositoryID       *uuid.UUID        `db:"repository_id"`
	RepositoryFullName *string           `db:"repository_full_name"`
	WorkflowRunID      *uuid.UUID        `db:"workflow_run_id"`
	TaskID             *uuid.UUID        `db:"task_id"`
	AgentType          string            `db:"agent_type"`
	IssueNumber        *int              `db:"issue_number"`
	Status             domain.TaskStatus `db:"status"`
	Options            map[string]any    `db:"options"`
	PRNumber           *int              `db:"pr_number"`
	QualityScore       *float64          `db:"quality_score"`
	Summary            *string           `db:"summary"`
	Error              *string           `db:"error"`
	CreatedBy          *uuid.UUID        `db:"created_by"`
	CreatedByLogin     *string           `db:"created_by_login"`
	CancelledBy        *uuid.UUID        `db:"cancelled_by"`
	CancelledByLogin   *string           `db:"cancelled_by_login"`
	CancelledAt        *time.Time        `db:"cancelled_at"`
	CreatedAt          time.Time         `db:"created_at"`
	UpdatedAt          time.Time         `db:"updated_at"`
	StartedAt          *time.Time        `db:"started_at"`
	CompletedAt        *time.Time        `db:"completed_at"`
}

// executionSelect reads executions with their repository's name, their task and the
// logins of who launched and who cancelled them; callers add WHERE e.organization_id = $1 ...
var executionSelect = `
	SELECT e.id, e.organization_id, e.repository_id, r.full_name AS repository_full_name, e.workflow_run_id,
		t.id AS task_id, e.agent_type, e.issue_number, e.status, e.options, e.pr_number, e.quality_score::float8 AS quality_score,
		e.summary, e.error, ` + personColumns("e", "created_by", "cancelled_by") + `,
		e.cancelled_at, e.created_at, e.updated_at, e.started_at, e.completed_at
	FROM agent_executions e
	LEFT JOIN repositories r ON r.organization_id = e.organization_id AND r.id = e.repository_id
	LEFT JOIN tasks t ON t.execution_id = e.id`

// NewExecution is an agent launch: the execution and the task a worker will claim.
type NewExecution struct {
	RepositoryID  *uuid.UUID
	WorkflowRunID *uuid.UUID
	AgentType     string
	IssueNumber   *int
	Options       map[string]any
	CreatedBy     uuid.UUID
}

// insertExecutionTx creates a pending execution and returns its id.
func insertExecutionTx(ctx context.Context, tx pgx.Tx, orgID uuid.UUID, e NewExecution) (uuid.UUID, error) {
	if e.Options == nil {
		e.Options = map[string]any{}
	}
	var id uuid.UUID
	err := tx.QueryRow(ctx, `
		INSERT INTO agent_executions (organization_id, repository_id, workflow_run_id, agent_type, issue_number, options, created_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		orgID, e.RepositoryID, e.WorkflowRunID, e.AgentType, e.IssueNumber, e.Options, e.CreatedBy).Scan(&id)
	if _, ok := constraintName(err, pgForeignKeyViolation); ok {
		return id, domain.Invalid("body.repository_id", "no repository with this id in the organization")
	}
	if err != nil {
		return id, fmt.Errorf("insert execution: %w", err)
	}
	return id, trackIssueCommentTx(ctx, tx, orgID, id)
}

// LaunchAgentTx creates an execution (pending) and its queued task in the caller's
// transaction, so a worker never sees one without the other.
func LaunchAgentTx(ctx context.Context, tx pgx.Tx, orgID uuid.UUID, e NewExecution, t NewTask) (Execution, Task, error) {
	execID, err := insertExecutionTx(ctx, tx, orgID, e)
	if err != nil {
		return Execution{}, Task{}, err
	}
	t.ExecutionID = &execID
	t.AgentType = &e.AgentType
	t.RepositoryID, t.IssueNumber, t.WorkflowRunID = e.RepositoryID, e.IssueNumber, e.WorkflowRunID
	taskID, err := insertTaskTx(ctx, tx, orgID, t)
	if err != nil {
		return Execution{}, Task{}, err
	}
	ex, err := executionTx(ctx, tx, orgID, execID)
	if err != nil {
		return Execution{}, Task{}, err
	}
	task, err := taskTx(ctx, tx, orgID, taskID)
	return ex, task, err
}

func executionTx(ctx context.Context, q pgx.Tx, orgID, id uuid.UUID) (Execution, error) {
	rows, _ := q.Query(ctx, executionSelect+` WHERE e.organization_id = $1 AND e.id = $2`, orgID, id)
	ex, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Execution])
	return ex, notFound(err, "execution")
}

// Execution loads one of the organization's executions.
func (s *Store) Execution(ctx context.Context, orgID, id uuid.UUID) (Execution, error) {
	rows, _ := s.pool.Query(ctx, executionSelect+` WHERE e.organization_id = $1 AND e.id = $2`, orgID, id)
	ex, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Execution])
	return ex, notFound(err, "execution")
}

// ExecutionFilter narrows an execution list; nil fields do not filter.
type ExecutionFilter struct {
	Status       *string
	AgentType    *string
	RepositoryID *uuid.UUID
}

// ListExecutions pages through the organization's executions, newest first.
func (s *Store) ListExecutions(ctx context.Context, orgID uuid.UUID, f ExecutionFilter, limit, offset int) ([]Execution, int, error) {
	const where = ` WHERE e.organization_id = $1 AND ($2::text IS NULL OR e.status = $2)
		AND ($3::text IS NULL OR e.agent_type = $3) AND ($4::uuid IS NULL OR e.repository_id = $4)`
	rows, _ := s.pool.Query(ctx, executionSelect+where+` ORDER BY e.created_at DESC, e.id DESC LIMIT $5 OFFSET $6`,
		orgID, f.Status, f.AgentType, f.RepositoryID, limit, offset)
	items, err := pgx.CollectRows(rows, pgx.RowToStructByName[Execution])
	if err != nil {
		return nil, 0, fmt.Errorf("list executions: %w", err)
	}
	var total int
	err = s.pool.QueryRow(ctx, `SELECT count(*) FROM agent_executions e`+where, orgID, f.Status, f.AgentType, f.RepositoryID).Scan(&total)
	if err != nil {
		return nil, 0, fmt.Errorf("count executions: %w", err)
	}
	return items, total, nil
}

// RecentExecutions is the organization's latest executions (for the dashboard).
func (s *Store) RecentExecutions(ctx context.Context, orgID uuid.UUID, limit int) ([]Execution, error) {
	rows, _ := s.pool.Query(ctx, executionSelect+` WHERE e.organization_id = $1 ORDER BY e.created_at DESC, e.id DESC LIMIT $2`, orgID, limit)
	items, err := pgx.CollectRows(rows, pgx.RowToStructByName[Execution])
	if err != nil {
		return nil, fmt.Errorf("recent executions: %w", err)
	}
	return items, nil
}

// ExecutionLog is one line an agent wrote.
type ExecutionLog struct {
	ID       int64     `db:"id"`
	Stream   string    `db:"stream"`
	Message  string    `db:"message"`
	LoggedAt time.Time `db:"logged_at"`
}

// ExecutionLogs returns up to limit lines of an execution after the cursor, in order.
func (s *Store) ExecutionLogs(ctx context.Context, orgID, execID uuid.UUID, after int64, limit int) ([]ExecutionLog, error) {
	var exists bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM agent_executions WHERE organization_id = $1 AND id = $2)`,
		orgID, execID).Scan(&exists); err != nil {
		return nil, err
	}
	if !exists {
		return nil, domain.NotFound("execution")
	}
	rows, _ := s.pool.Query(ctx, `SELECT id, stream, message, logged_at FROM execution_logs
		WHERE execution_id = $2 AND organization_id = $1 AND id > $3 ORDER BY id LIMIT $4`, orgID, execID, after, limit)
	items, err := pgx.CollectRows(rows, pgx.RowToStructByName[ExecutionLog])
	if err != nil {
		return nil, fmt.Errorf("execution logs: %w", err)
	}
	return items, nil
}

// ExecutionTaskID returns the task behind an execution, and the team of its repository
// (for team-role checks).
func (s *Store) ExecutionTaskID(ctx context.Context, orgID, execID uuid.UUID) (taskID *uuid.UUID, teamID *uuid.UUID, err error) {
	err = s.pool.QueryRow(ctx, `
		SELECT t.id, r.team_id FROM agent_executions e
		LEFT JOIN tasks t ON t.execution_id = e.id
		LEFT JOIN repositories r ON r.organization_id = e.organization_id AND r.id = e.repository_id
		WHERE e.organization_id = $1 AND e.id = $2`, orgID, execID).Scan(&taskID, &teamID)
	return taskID, teamID, notFound(err, "execution")
}
