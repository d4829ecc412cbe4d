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

// Task is a unit of work: an agent's (claimed by a worker) or a person's (manual).
type Task struct {
	ID               uuid.UUID         `db:"id"`
	OrgID            uuid.UUID         `db:"organization_id"`
	Name             string            `db:"name"`
	Description      string            `db:"description"`
	Status           domain.TaskStatus `db:"status"`
	Priority         string            `db:"priority"`
	AgentType        *string           `db:"agent_type"`
	RepositoryID     *uuid.UUID        `db:"repository_id"`
	IssueNumber      *int              `db:"issue_number"`
	ExecutionID      *uuid.UUID        `db:"execution_id"`
	WorkflowRunID    *uuid.UUID        `db:"workflow_run_id"`
	WorkflowNodeID   *string           `db:"workflow_node_id"`
	Metadata         map[string]any    `db:"metadata"`
	Result           map[string]any    `db:"result"`
	Error            *string           `db:"error"`
	RetryCount       int               `db:"retry_count"`
	MaxRetries       int               `db:"max_retries"`
	DepsPending      int               `db:"deps_pending"`
	DependsOn        []uuid.UUID       `db:"depends_on"`
	LeaseOwner       *uuid.UUID        `db:"lease_owner"`
	LeaseExpiresAt   *time.Time        `db:"lease_expires_at"`
	CreatedBy        *uuid.UUID        `db:"created_by"`
	CreatedAt        time.Time         `db:"created_at"`
	UpdatedAt        time.Time         `db:"updated_at"`
	StartedAt        *time.Time        `db:"started_at"`
	CompletedAt      *time.Time        `db:"completed_at"`
	FailedAt         *time.Time        `db:"failed_at"`
	CancelledAt      *time.Time        `db:"cancelled_at"`
	CancelledBy      *uuid.UUID        `db:"cancelled_by"`
	CancelledByLogin *string           `db:"cancelled_by_login"`
}

var taskSelect = `
	SELECT t.id, t.organization_id, t.name, t.description, t.status, t.priority, t.agent_type, t.repository_id,
		t.issue_number, t.execution_id, t.workflow_run_id, t.workflow_node_id, t.metadata, t.result, t.error,
		t.retry_count, t.max_retries, t.deps_pending,
		ARRAY(SELECT d.depends_on_task_id FROM task_dependencies d WHERE d.task_id = t.id ORDER BY d.depends_on_task_id) AS depends_on,
		t.lease_owner, t.lease_expires_at, t.created_by, t.created_at, t.updated_at,
		t.started_at, t.completed_at, t.failed_at, t.cancelled_at, ` + personColumns("t", "cancelled_by") + `
	FROM tasks t`

// NewTask is a task to create. DependsOn must be tasks of the same organization.
type NewTask struct {
	Name           string
	Description    string
	Priority       string
	AgentType      *string
	RepositoryID   *uuid.UUID
	IssueNumber    *int
	ExecutionID    *uuid.UUID
	WorkflowRunID  *uuid.UUID
	WorkflowNodeID *string
	Metadata       map[string]any
	DependsOn      []uuid.UUID
	// DepsPending is set by workflow runs, whose prerequisites are created in the same
	// transaction; CreateTaskTx computes it from DependsOn otherwise.
	DepsPending int
	CreatedBy   uuid.UUID
}

func insertTaskTx(ctx context.Context, tx pgx.Tx, orgID uuid.UUID, t NewTask) (uuid.UUID, error) {
	if t.Metadata == nil {
		t.Metadata = map[string]any{}
	}
	if t.Priority == "" {
		t.Priority = "P1"
	}
	var id uuid.UUID
	err := tx.QueryRow(ctx, `
		INSERT INTO tasks (organization_id, name, description, priority, agent_type, repository_id, issue_number,
			execution_id, workflow_run_id, workflow_node_id, metadata, deps_pending, created_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id`,
		orgID, t.Name, t.Description, t.Priority, t.AgentType, t.RepositoryID, t.IssueNumber,
		t.ExecutionID, t.WorkflowRunID, t.WorkflowNodeID, t.Metadata, t.DepsPending, t.CreatedBy).Scan(&id)
	if _, ok := constraintName(err, pgForeignKeyViolation); ok {
		return id, domain.Invalid("body.repository_id", "no repository with this id in the organization")
	}
	if err != nil {
		return id, fmt.Errorf("insert task: %w", err)
	}
	return id, nil
}

// CreateTaskTx creates a task with its dependencies. An agent task also gets its
// execution, so workers and the dashboard see it like any launch. Dependencies must be
// the organization's tasks and not cancelled; deps_pending counts those not completed.
func CreateTaskTx(ctx context.Context, tx pgx.Tx, orgID uuid.UUID, t NewTask) (Task, error) {
	if err := checkDependencyLimitsTx(ctx, tx, orgID, len(t.DependsOn)); err != nil {
		return Task{}, err
	}
	pending := 0
	for i, dep := range t.DependsOn {
		var status string
		err := tx.QueryRow(ctx, `SELECT status FROM tasks WHERE organization_id = $1 AND id = $2 FOR SHARE`, orgID, dep).Scan(&status)
		field := fmt.Sprintf("body.depends_on[%d]", i)
		if errors.Is(err, pgx.ErrNoRows) {
			return Task{}, domain.Invalid(field, "no task with this id in the organization")
		}
		if err != nil {
			return Task{}, fmt.Errorf("load dependency: %w", err)
		}
		if status == string(domain.TaskCancelled) || status == string(domain.TaskFailed) {
			return Task{}, domain.Invalid(field, "the task is %s and will not complete unless retried", status)
		}
		if status != string(domain.TaskCompleted) {
			pending++
		}
	}
	t.DepsPending = pending
	var id uuid.UUID
	var err error
	if t.AgentType != nil {
		var task Task
		_, task, err = LaunchAgentTx(ctx, tx, orgID, NewExecution{RepositoryID: t.RepositoryID, AgentType: *t.AgentType,
			IssueNumber: t.IssueNumber, CreatedBy: t.CreatedBy}, t)
		id = task.ID
	} else {
		id, err = insertTaskTx(ctx, tx, orgID, t)
	}
	if err != nil {
		return Task{}, err
	}
	if err := insertDependenciesTx(ctx, tx, id, t.DependsOn); err != nil {
		return Task{}, err
	}
	return taskTx(ctx, tx, orgID, id)
}

func insertDependenciesTx(ctx context.Context, tx pgx.Tx, taskID uuid.UUID, deps []uuid.UUID) error {
	for _, dep := range deps {
		_, err := tx.Exec(ctx, `INSERT INTO task_dependencies (task_id, depends_on_task_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, taskID, dep)
		if c, ok := constraintName(err, pgCheckViolation); ok && (c == "task_dependencies_acyclic" || c == "task_dependencies_check") {
			return domain.Invalid("body.depends_on", "the dependencies would form a cycle")
		}
		if c, ok := constraintName(err, pgCheckViolation); ok && c == "task_dependencies_depth" {
			max, _ := setting(ctx, tx, SettingMaxDependencyDepth)
			return domain.Invalid("body.depends_on", "the chain of dependencies would be deeper than %d tasks (limit %s)", max, SettingMaxDependencyDepth)
		}
		if err != nil {
			return fmt.Errorf("insert dependency: %w", err)
		}
	}
	return nil
}

func taskTx(ctx context.Context, tx pgx.Tx, orgID, id uuid.UUID) (Task, error) {
	rows, _ := tx.Query(ctx, taskSelect+` WHERE t.organization_id = $1 AND t.id = $2`, orgID, id)
	t, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Task])
	return t, notFound(err, "task")
}

// Task loads one of the organization's tasks.
func (s *Store) Task(ctx context.Context, orgID, id uuid.UUID) (Task, error) {
	rows, _ := s.pool.Query(ctx, taskSelect+` WHERE t.organization_id = $1 AND t.id = $2`, orgID, id)
	t, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Task])
	return t, notFound(err, "task")
}

// TaskTeam returns the team of the repository a task works on (nil when none), for
// team-role checks.
func (s *Store) TaskTeam(ctx context.Context, orgID, id uuid.UUID) (*uuid.UUID, error) {
	var team *uuid.UUID
	err := s.pool.QueryRow(ctx, `SELECT r.team_id FROM tasks t
		LEFT JOIN repositories r ON r.organization_id = t.organization_id AND r.id = t.repository_id
		WHERE t.organization_id = $1 AND t.id = $2`, orgID, id).Scan(&team)
	return team, notFound(err, "task")
}

// TaskFilter narrows a task list; nil fields do not filter.
type TaskFilter struct {
	Status        *string
	Priority      *string
	RepositoryID  *uuid.UUID
	AgentType     *string
	WorkflowRunID *uuid.UUID
}

// ListTasks pages through the organization's tasks: most urgent first, then newest.
func (s *Store) ListTasks(ctx context.Context, orgID uuid.UUID, f TaskFilter, limit, offset int) ([]Task, int, error) {
	const where = ` WHERE t.organization_id = $1 AND ($2::text IS NULL OR t.status = $2) AND ($3::text IS NULL OR t.priority = $3)
		AND ($4::uuid IS NULL OR t.repository_id = $4) AND ($5::text IS NULL OR t.agent_type = $5)
		AND ($6::uuid IS NULL OR t.workflow_run_id = $6)`
	args := []any{orgID, f.Status, f.Priority, f.RepositoryID, f.AgentType, f.WorkflowRunID}
	rows, _ := s.pool.Query(ctx, taskSelect+where+` ORDER BY t.priority, t.created_at DESC, t.id DESC LIMIT $7 OFFSET $8`,
		append(args, limit, offset)...)
	items, err := pgx.CollectRows(rows, pgx.RowToStructByName[Task])
	if err != nil {
		return nil, 0, fmt.Errorf("list tasks: %w", err)
	}
	var total int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM tasks t`+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count tasks: %w", err)
	}
	return items, total, nil
}

// TaskStats counts the organization's tasks by status and by priority.
type TaskStats struct {
	Total      int
	ByStatus   map[string]int
	ByPriority map[string]int
}

// TaskStats counts the organization's tasks; every status and priority is present.
func (s *Store) TaskStats(ctx context.Context, orgID uuid.UUID) (TaskStats, error) {
	st := TaskStats{ByStatus: map[string]int{}, ByPriority: map[string]int{}}
	for _, s := range []domain.TaskStatus{domain.TaskPending, domain.TaskRunning, domain.TaskCompleted, domain.TaskFailed, domain.TaskCancelled} {
		st.ByStatus[string(s)] = 0
	}
	for _, p := range domain.Priorities {
		st.ByPriority[p] = 0
	}
	rows, err := s.pool.Query(ctx, `SELECT status, priority, count(*) FROM tasks WHERE organization_id = $1 GROUP BY status, priority`, orgID)
	if err != nil {
		return st, fmt.Errorf("task stats: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var status, priority string
		var n int
		if err := rows.Scan(&status, &priority, &n); err != nil {
			return st, err
		}
		st.ByStatus[status] += n
		st.ByPriority[priority] += n
		st.Total += n
	}
	return st, rows.Err()
}

// TaskPatch is what PATCH may change; status moves only through MoveTask.
type TaskPatch struct {
	Name        *string
	Description *string
	Priority    *string
	Metadata    map[string]any
}

// UpdateTask changes a task's descriptive fields.
func (s *Store) UpdateTask(ctx context.Context, orgID, id uuid.UUID, p TaskPatch) (Task, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE tasks SET name = coalesce($3, name), description = coalesce($4, description),
		priority = coalesce($5, priority), metadata = coalesce($6, metadata)
		WHERE organization_id = $1 AND id = $2`, orgID, id, p.Name, p.Description, p.Priority, p.Metadata)
	if err != nil {
		return Task{}, fmt.Errorf("update task: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return Task{}, domain.NotFound("task")
	}
	return s.Task(ctx, orgID, id)
}

// DeleteTask deletes a task (and an agent task's execution). A running task, a node of a
// workflow run, or a task that unfinished tasks still wait for cannot be deleted: that
// would strand a worker, break the run, or leave the waiters blocked forever.
func (s *Store) DeleteTask(ctx context.Context, orgID, id uuid.UUID) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		var status string
		var execID, runID *uuid.UUID
		err := tx.QueryRow(ctx, `SELECT status, execution_id, workflow_run_id FROM tasks WHERE organization_id = $1 AND id = $2 FOR UPDATE`,
			orgID, id).Scan(&status, &execID, &runID)
		if err != nil {
			return notFound(err, "task")
		}
		if status == string(domain.TaskRunning) {
			return domain.Errorf(domain.CodeConflict, "cannot delete a task that is running; cancel it first")
		}
		if runID != nil {
			return domain.Errorf(domain.CodeConflict, "the task is a node of workflow run %s (it is %s); delete the workflow instead", runID, status)
		}
		var waiters int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM task_dependencies d JOIN tasks t ON t.id = d.task_id
			WHERE t.organization_id = $1 AND d.depends_on_task_id = $2 AND t.status IN ('pending', 'running')`, orgID, id).Scan(&waiters); err != nil {
			return err
		}
		if waiters > 0 && status != string(domain.TaskCompleted) {
			return domain.Errorf(domain.CodeConflict, "%d unfinished tasks depend on this task (it is %s); cancel it first", waiters, status)
		}
		if execID != nil {
			// the task goes with its execution (ON DELETE CASCADE)
			_, err = tx.Exec(ctx, `DELETE FROM agent_executions WHERE organization_id = $1 AND id = $2`, orgID, *execID)
		} else {
			_, err = tx.Exec(ctx, `DELETE FROM tasks WHERE organization_id = $1 AND id = $2`, orgID, id)
		}
		if err != nil {
			return fmt.Errorf("delete task: %w", err)
		}
		return nil
	})
}

// checkDependencyLimitsTx refuses a task with more dependencies than one task or its
// organization may hold (422 naming the limit). It takes the organization's dependency
// lock (the one the cycle trigger takes), so the count cannot be raced past the cap,
// and so one organization's chains never wait on another's.
func checkDependencyLimitsTx(ctx context.Context, tx pgx.Tx, orgID uuid.UUID, n int) error {
	if n == 0 {
		return nil
	}
	perTask, err := setting(ctx, tx, SettingMaxDependenciesPerTask)
	if err != nil {
		return err
	}
	if int64(n) > perTask {
		return domain.Invalid("body.depends_on", "a task may depend on at most %d tasks (limit %s), not %d", perTask, SettingMaxDependenciesPerTask, n)
	}
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('task_dependencies'), hashtext($1::text))`, orgID); err != nil {
		return fmt.Errorf("lock the organization's dependencies: %w", err)
	}
	perOrg, err := setting(ctx, tx, SettingMaxDependenciesPerOrg)
	if err != nil {
		return err
	}
	var open int64
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM task_dependencies d JOIN tasks t ON t.id = d.task_id
		WHERE t.organization_id = $1 AND t.status IN ('pending', 'running')`, orgID).Scan(&open); err != nil {
		return fmt.Errorf("count dependencies: %w", err)
	}
	if open+int64(n) > perOrg {
		return domain.Invalid("body.depends_on", "the organization's unfinished tasks already hold %d of the %d dependencies it may have (limit %s)", open, perOrg, SettingMaxDependenciesPerOrg)
	}
	return nil
}
