package store

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/miyabi/miyabi/app/internal/domain"
)

// Workflow is a saved DAG of agent steps.
type Workflow struct {
	ID          uuid.UUID                 `db:"id"`
	OrgID       uuid.UUID                 `db:"organization_id"`
	Name        string                    `db:"name"`
	Description string                    `db:"description"`
	Definition  domain.WorkflowDefinition `db:"definition"`
	CreatedBy   *uuid.UUID                `db:"created_by"`
	CreatedAt   time.Time                 `db:"created_at"`
	UpdatedAt   time.Time                 `db:"updated_at"`
}

const workflowColumns = `id, organization_id, name, description, definition, created_by, created_at, updated_at`

// CreateWorkflow saves a workflow; the definition must have been validated.
func (s *Store) CreateWorkflow(ctx context.Context, orgID, userID uuid.UUID, name, description string, def domain.WorkflowDefinition) (Workflow, error) {
	rows, _ := s.pool.Query(ctx, `INSERT INTO workflows (organization_id, name, description, definition, created_by)
		VALUES ($1, $2, $3, $4, $5) RETURNING `+workflowColumns, orgID, name, description, def, userID)
	w, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Workflow])
	if err != nil {
		return Workflow{}, fmt.Errorf("create workflow: %w", err)
	}
	return w, nil
}

// Workflow loads one of the organization's workflows.
func (s *Store) Workflow(ctx context.Context, orgID, id uuid.UUID) (Workflow, error) {
	rows, _ := s.pool.Query(ctx, `SELECT `+workflowColumns+` FROM workflows WHERE organization_id = $1 AND id = $2`, orgID, id)
	w, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Workflow])
	return w, notFound(err, "workflow")
}

// ListWorkflows pages through the organization's workflows, newest first.
func (s *Store) ListWorkflows(ctx context.Context, orgID uuid.UUID, limit, offset int) ([]Workflow, int, error) {
	rows, _ := s.pool.Query(ctx, `SELECT `+workflowColumns+` FROM workflows WHERE organization_id = $1
		ORDER BY created_at DESC, id LIMIT $2 OFFSET $3`, orgID, limit, offset)
	items, err := pgx.CollectRows(rows, pgx.RowToStructByName[Workflow])
	if err != nil {
		return nil, 0, fmt.Errorf("list workflows: %w", err)
	}
	var total int
	err = s.pool.QueryRow(ctx, `SELECT count(*) FROM workflows WHERE organization_id = $1`, orgID).Scan(&total)
	return items, total, err
}

// WorkflowPatch is what PATCH may change; a new definition applies to later runs only
// (each run keeps a copy of the definition it started with).
type WorkflowPatch struct {
	Name        *string
	Description *string
	Definition  *domain.WorkflowDefinition
}

// UpdateWorkflow changes a workflow.
func (s *Store) UpdateWorkflow(ctx context.Context, orgID, id uuid.UUID, p WorkflowPatch) (Workflow, error) {
	rows, _ := s.pool.Query(ctx, `UPDATE workflows SET name = coalesce($3, name), description = coalesce($4, description),
		definition = coalesce($5, definition) WHERE organization_id = $1 AND id = $2 RETURNING `+workflowColumns,
		orgID, id, p.Name, p.Description, p.Definition)
	w, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Workflow])
	return w, notFound(err, "workflow")
}

// DeleteWorkflow deletes a workflow with its runs and their tasks.
// A workflow with a run still pending or running cannot be deleted (409): its tasks
// would vanish under their workers and leave their executions running forever. Finished
// runs go with it; their executions stay, as history.
func (s *Store) DeleteWorkflow(ctx context.Context, orgID, id uuid.UUID) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		var active int
		err := tx.QueryRow(ctx, `
			SELECT (SELECT count(*) FROM workflow_runs r WHERE r.organization_id = w.organization_id AND r.workflow_id = w.id
				AND r.status IN ('pending', 'running'))::int
			FROM workflows w WHERE w.organization_id = $1 AND w.id = $2 FOR UPDATE`, orgID, id).Scan(&active)
		if err != nil {
			return notFound(err, "workflow")
		}
		if active > 0 {
			return domain.Errorf(domain.CodeConflict, "the workflow has %d run(s) still pending or running; cancel them first", active)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM workflows WHERE organization_id = $1 AND id = $2`, orgID, id); err != nil {
			return fmt.Errorf("delete workflow: %w", err)
		}
		return nil
	})
}

// WorkflowRun is one run of a workflow.
type WorkflowRun struct {
	ID               uuid.UUID                 `db:"id"`
	OrgID            uuid.UUID                 `db:"organization_id"`
	WorkflowID       uuid.UUID                 `db:"workflow_id"`
	WorkflowName     string                    `db:"workflow_name"`
	RepositoryID     *uuid.UUID                `db:"repository_id"`
	IssueNumber      *int                      `db:"issue_number"`
	Status           domain.TaskStatus         `db:"status"`
	Definition       domain.WorkflowDefinition `db:"definition"`
	CreatedBy        *uuid.UUID                `db:"created_by"`
	CreatedByLogin   *string                   `db:"created_by_login"`
	CancelledBy      *uuid.UUID                `db:"cancelled_by"`
	CancelledByLogin *string                   `db:"cancelled_by_login"`
	CancelledAt      *time.Time                `db:"cancelled_at"`
	CreatedAt        time.Time                 `db:"created_at"`
	UpdatedAt        time.Time                 `db:"updated_at"`
	StartedAt        *time.Time                `db:"started_at"`
	CompletedAt      *time.Time                `db:"completed_at"`
}

var runSelect = `SELECT r.id, r.organization_id, r.workflow_id, w.name AS workflow_name, r.repository_id, r.issue_number,
	r.status, r.definition, ` + personColumns("r", "created_by", "cancelled_by") + `,
	r.cancelled_at, r.created_at, r.updated_at, r.started_at, r.completed_at
	FROM workflow_runs r JOIN workflows w ON w.organization_id = r.organization_id AND w.id = r.workflow_id`

// NewRun says where a workflow runs.
type NewRun struct {
	RepositoryID *uuid.UUID
	IssueNumber  *int
	CreatedBy    uuid.UUID
}

// RunWorkflow starts a run in one transaction: the run, and per node an execution and
// its task, with the edges as task dependencies. deps_pending of each task is its number
// of incoming edges, so only the roots are claimable at first.
func (s *Store) RunWorkflow(ctx context.Context, orgID, workflowID uuid.UUID, in NewRun) (WorkflowRun, error) {
	var runID uuid.UUID
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		runID, err = runWorkflowTx(ctx, tx, orgID, workflowID, in)
		return err
	})
	if err != nil {
		return WorkflowRun{}, err
	}
	return s.WorkflowRun(ctx, orgID, runID)
}

// runWorkflowTx is RunWorkflow in the caller's transaction; it returns the run's id.
func runWorkflowTx(ctx context.Context, tx pgx.Tx, orgID, workflowID uuid.UUID, in NewRun) (uuid.UUID, error) {
	var runID uuid.UUID
	err := func() error {
		var name string
		var def domain.WorkflowDefinition
		err := tx.QueryRow(ctx, `SELECT name, definition FROM workflows WHERE organization_id = $1 AND id = $2 FOR SHARE`,
			orgID, workflowID).Scan(&name, &def)
		if err != nil {
			return notFound(err, "workflow")
		}
		if err := def.Validate("definition"); err != nil {
			return fmt.Errorf("stored workflow definition is invalid: %w", err)
		}
		err = tx.QueryRow(ctx, `INSERT INTO workflow_runs (organization_id, workflow_id, repository_id, issue_number, definition, created_by)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, orgID, workflowID, in.RepositoryID, in.IssueNumber, def, in.CreatedBy).Scan(&runID)
		if _, ok := constraintName(err, pgForeignKeyViolation); ok {
			return domain.Invalid("body.repository_id", "no repository with this id in the organization")
		}
		if err != nil {
			return fmt.Errorf("insert run: %w", err)
		}
		nodes := make(map[string]domain.WorkflowNode, len(def.Nodes))
		for _, n := range def.Nodes {
			nodes[n.ID] = n
		}
		incoming := def.Incoming()
		taskOf := make(map[string]uuid.UUID, len(def.Nodes))
		for _, id := range def.Order() {
			n := nodes[id]
			_, task, err := LaunchAgentTx(ctx, tx, orgID,
				NewExecution{RepositoryID: in.RepositoryID, WorkflowRunID: &runID, AgentType: n.AgentType, IssueNumber: in.IssueNumber,
					Options: map[string]any{"workflow_node_id": n.ID}, CreatedBy: in.CreatedBy},
				NewTask{Name: truncate(n.Name+" ("+name+")", 200), Priority: "P1", WorkflowNodeID: &n.ID,
					DepsPending: incoming[n.ID], CreatedBy: in.CreatedBy})
			if err != nil {
				return err
			}
			taskOf[id] = task.ID
		}
		for _, e := range def.Edges {
			if _, err := tx.Exec(ctx, `INSERT INTO task_dependencies (task_id, depends_on_task_id) VALUES ($1, $2)`,
				taskOf[e.To], taskOf[e.From]); err != nil {
				return fmt.Errorf("insert run dependency: %w", err)
			}
		}
		return nil
	}()
	return runID, err
}

// WorkflowIDByName finds the organization's workflow named name (any case; the newest
// when several share it).
func (s *Store) WorkflowIDByName(ctx context.Context, orgID uuid.UUID, name string) (uuid.UUID, error) {
	var id uuid.UUID
	err := s.pool.QueryRow(ctx, `SELECT id FROM workflows WHERE organization_id = $1 AND lower(name) = lower($2)
		ORDER BY created_at DESC LIMIT 1`, orgID, name).Scan(&id)
	return id, notFound(err, "workflow")
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}

// WorkflowRun loads one of the organization's runs.
func (s *Store) WorkflowRun(ctx context.Context, orgID, id uuid.UUID) (WorkflowRun, error) {
	rows, _ := s.pool.Query(ctx, runSelect+` WHERE r.organization_id = $1 AND r.id = $2`, orgID, id)
	r, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[WorkflowRun])
	return r, notFound(err, "workflow run")
}

// ListWorkflowRuns pages through a workflow's runs, newest first.
func (s *Store) ListWorkflowRuns(ctx context.Context, orgID, workflowID uuid.UUID, limit, offset int) ([]WorkflowRun, int, error) {
	if _, err := s.Workflow(ctx, orgID, workflowID); err != nil {
		return nil, 0, err
	}
	rows, _ := s.pool.Query(ctx, runSelect+` WHERE r.organization_id = $1 AND r.workflow_id = $2
		ORDER BY r.created_at DESC, r.id LIMIT $3 OFFSET $4`, orgID, workflowID, limit, offset)
	items, err := pgx.CollectRows(rows, pgx.RowToStructByName[WorkflowRun])
	if err != nil {
		return nil, 0, fmt.Errorf("list runs: %w", err)
	}
	var total int
	err = s.pool.QueryRow(ctx, `SELECT count(*) FROM workflow_runs WHERE organization_id = $1 AND workflow_id = $2`, orgID, workflowID).Scan(&total)
	return items, total, err
}

// RunTasks lists a run's tasks (one per node) in creation order, which is the
// definition's topological order.
func (s *Store) RunTasks(ctx context.Context, orgID, runID uuid.UUID) ([]Task, error) {
	rows, _ := s.pool.Query(ctx, taskSelect+` WHERE t.organization_id = $1 AND t.workflow_run_id = $2 ORDER BY t.created_at, t.id`, orgID, runID)
	items, err := pgx.CollectRows(rows, pgx.RowToStructByName[Task])
	if err != nil {
		return nil, fmt.Errorf("run tasks: %w", err)
	}
	return items, nil
}

// CancelWorkflowRun stops a run as a whole, in one transaction: every unfinished node's
// task goes to cancelled through MoveTaskTx (the one state-change path: its execution,
// the worker's next heartbeat, live events and notifications follow as for POST
// /agents/executions/{id}/cancel), and the run is marked cancelled by the person behind
// ctx. A run already cancelled is answered as it is (a retried request); one that
// completed or failed is 409.
//
// Locks are taken in the order a node's completion takes them (its task, then the tasks
// downstream of it, then the run): the running tasks first, then the pending ones, then
// the run, so a worker finishing a node while the run is cancelled waits instead of
// closing a cycle.
func (s *Store) CancelWorkflowRun(ctx context.Context, orgID, runID uuid.UUID) (WorkflowRun, error) {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var status domain.TaskStatus
		var def domain.WorkflowDefinition
		if err := tx.QueryRow(ctx, `SELECT status, definition FROM workflow_runs WHERE organization_id = $1 AND id = $2`,
			orgID, runID).Scan(&status, &def); err != nil {
			return notFound(err, "workflow run")
		}
		if status == domain.TaskCompleted || status == domain.TaskFailed {
			return domain.Errorf(domain.CodeConflict, "this workflow run already %s; there is nothing left to cancel", status)
		}
		rows, _ := tx.Query(ctx, `
			SELECT id, coalesce(workflow_node_id, '') FROM tasks
			WHERE organization_id = $1 AND workflow_run_id = $2 AND status IN ('running', 'pending')
			ORDER BY status = 'pending', id FOR UPDATE`, orgID, runID)
		type node struct {
			task uuid.UUID
			node string
		}
		open, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (node, error) {
			var n node
			return n, r.Scan(&n.task, &n.node)
		})
		if err != nil {
			return fmt.Errorf("lock run tasks: %w", err)
		}
		// reverse topological order: the nodes downstream first, so each is cancelled by
		// this person rather than by the cancel of a node it waits for (the tasks of a run
		// share their created_at: one transaction made them)
		rank := map[string]int{}
		for i, id := range def.Order() {
			rank[id] = i
		}
		slices.SortStableFunc(open, func(a, b node) int { return rank[b.node] - rank[a.node] })
		tag, err := tx.Exec(ctx, `UPDATE workflow_runs SET status = 'cancelled', cancelled_at = now(), cancelled_by = $3
			WHERE organization_id = $1 AND id = $2 AND status IN ('pending', 'running')`, orgID, runID, ActorFrom(ctx).UserID)
		if err != nil {
			return fmt.Errorf("cancel run: %w", err)
		}
		if tag.RowsAffected() == 0 {
			// cancelled before this request (a retry), or it ended while we waited
			if err := tx.QueryRow(ctx, `SELECT status FROM workflow_runs WHERE organization_id = $1 AND id = $2`,
				orgID, runID).Scan(&status); err != nil {
				return fmt.Errorf("read run: %w", err)
			}
			if status != domain.TaskCancelled {
				return domain.Errorf(domain.CodeConflict, "this workflow run already %s; there is nothing left to cancel", status)
			}
		}
		for _, n := range open {
			id := n.task
			var still domain.TaskStatus
			if err := tx.QueryRow(ctx, `SELECT status FROM tasks WHERE organization_id = $1 AND id = $2`, orgID, id).Scan(&still); err != nil {
				return fmt.Errorf("read run task: %w", err)
			}
			if still != domain.TaskPending && still != domain.TaskRunning {
				continue // a node cancelled above took it down with it
			}
			if _, err := MoveTaskTx(ctx, tx, orgID, id, Move{Action: domain.ActCancel}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return WorkflowRun{}, err
	}
	return s.WorkflowRun(ctx, orgID, runID)
}
