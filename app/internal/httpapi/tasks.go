package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"github.com/miyabi/miyabi/app/internal/domain"
	"github.com/miyabi/miyabi/app/internal/perm"
	"github.com/miyabi/miyabi/app/internal/store"
)

// TaskOut is a unit of work: an agent's, claimed by a worker, or a person's (manual).
type TaskOut struct {
	ID             uuid.UUID      `json:"id"`
	Name           string         `json:"name"`
	Description    string         `json:"description"`
	Status         string         `json:"status" enum:"pending,running,completed,failed,cancelled"`
	Priority       string         `json:"priority" enum:"P0,P1,P2"`
	AgentType      *string        `json:"agent_type" doc:"null for manual work, moved by people through start/complete/fail"`
	RepositoryID   *uuid.UUID     `json:"repository_id" nullable:"true"`
	IssueNumber    *int           `json:"issue_number"`
	ExecutionID    *uuid.UUID     `json:"execution_id" nullable:"true"`
	WorkflowRunID  *uuid.UUID     `json:"workflow_run_id" nullable:"true"`
	WorkflowNodeID *string        `json:"workflow_node_id"`
	Metadata       map[string]any `json:"metadata"`
	Result         map[string]any `json:"result" nullable:"true" doc:"What the agent reported; null until it completes"`
	Error          *string        `json:"error"`
	RetryCount     int            `json:"retry_count"`
	MaxRetries     int            `json:"max_retries"`
	DepsPending    int            `json:"deps_pending" doc:"Tasks it depends on that have not completed; it is claimable at 0"`
	DependsOn      []uuid.UUID    `json:"depends_on"`
	WorkerID       *uuid.UUID     `json:"worker_id" nullable:"true" doc:"The worker holding the lease while it runs"`
	LeaseExpiresAt *time.Time     `json:"lease_expires_at"`
	CreatedBy      *uuid.UUID     `json:"created_by" nullable:"true"`
	CreatedAt      time.Time      `json:"created_at"`
	UpdatedAt      time.Time      `json:"updated_at"`
	StartedAt      *time.Time     `json:"started_at"`
	CompletedAt    *time.Time     `json:"completed_at"`
	FailedAt       *time.Time     `json:"failed_at"`
	CancelledAt    *time.Time     `json:"cancelled_at"`
	CancelledBy    *PersonRef     `json:"cancelled_by" doc:"The person who cancelled it; null when it was not cancelled by a person (or a failed dependency took it down)"`
}

func taskOut(t store.Task) TaskOut {
	if t.Metadata == nil {
		t.Metadata = map[string]any{}
	}
	if t.DependsOn == nil {
		t.DependsOn = []uuid.UUID{}
	}
	return TaskOut{ID: t.ID, Name: t.Name, Description: t.Description, Status: string(t.Status), Priority: t.Priority,
		AgentType: t.AgentType, RepositoryID: t.RepositoryID, IssueNumber: t.IssueNumber, ExecutionID: t.ExecutionID,
		WorkflowRunID: t.WorkflowRunID, WorkflowNodeID: t.WorkflowNodeID, Metadata: t.Metadata, Result: t.Result,
		Error: t.Error, RetryCount: t.RetryCount, MaxRetries: t.MaxRetries, DepsPending: t.DepsPending, DependsOn: t.DependsOn,
		WorkerID: t.LeaseOwner, LeaseExpiresAt: t.LeaseExpiresAt, CreatedBy: t.CreatedBy, CreatedAt: t.CreatedAt,
		UpdatedAt: t.UpdatedAt, StartedAt: t.StartedAt, CompletedAt: t.CompletedAt, FailedAt: t.FailedAt, CancelledAt: t.CancelledAt,
		CancelledBy: personRef(t.CancelledBy, t.CancelledByLogin)}
}

var (
	docListTasks = huma.Operation{OperationID: "list-tasks", Tags: []string{"tasks"},
		Summary: "List tasks: P0, P1, P2, then newest first"}
	docTaskStats = huma.Operation{OperationID: "task-stats", Tags: []string{"tasks"},
		Summary: "Count tasks by status and by priority"}
	docGetTask = huma.Operation{OperationID: "get-task", Tags: []string{"tasks"},
		Summary: "Get a task", Errors: []int{404}}
	docCreateTask = huma.Operation{OperationID: "create-task", Tags: []string{"tasks"},
		Summary: "Create a task",
		Description: "Without agent_type the task is manual work that people move with start/complete/fail. With agent_type " +
			"it is an agent launch: it also gets an execution (like POST /agents/execute) and a worker claims it once every " +
			"task in depends_on has completed. depends_on must name the organization's tasks, not cancelled ones. " +
			"Honours Idempotency-Key.",
		DefaultStatus: http.StatusCreated, Errors: []int{403, 409, 422}}
	docUpdateTask = huma.Operation{OperationID: "update-task", Tags: []string{"tasks"},
		Summary: "Change a task's name, description, priority or metadata (status moves by the actions)",
		Errors:  []int{403, 404, 422}}
	docStartTask = huma.Operation{OperationID: "start-task", Tags: []string{"tasks"}, Summary: "Start manual work (pending -> running)", Description: "An illegal move is 409 naming the task's current status.",
		Errors: []int{403, 404, 409}}
	docCompleteTask = huma.Operation{OperationID: "complete-task", Tags: []string{"tasks"}, Summary: "Complete manual work (running -> completed)", Description: "An illegal move is 409 naming the task's current status.",
		Errors: []int{403, 404, 409}}
	docFailTask = huma.Operation{OperationID: "fail-task", Tags: []string{"tasks"}, Summary: "Fail manual work (running -> failed); its dependents are cancelled", Description: "An illegal move is 409 naming the task's current status.",
		Errors: []int{403, 404, 409}}
	docCancelTask = huma.Operation{OperationID: "cancel-task", Tags: []string{"tasks"}, Summary: "Cancel a task (pending or running); its dependents are cancelled", Description: "An illegal move is 409 naming the task's current status.",
		Errors: []int{403, 404, 409}}
	docRetryTask = huma.Operation{OperationID: "retry-task", Tags: []string{"tasks"}, Summary: "Retry a failed task while retries remain (failed -> pending)", Description: "An illegal move is 409 naming the task's current status.",
		Errors: []int{403, 404, 409}}
	docDeleteTask = huma.Operation{OperationID: "delete-task", Tags: []string{"tasks"},
		Summary:       "Delete a task (an agent task with its execution)",
		Description:   "A running task, a node of a workflow run, or a task that unfinished tasks depend on is 409.",
		DefaultStatus: http.StatusNoContent, Errors: []int{404, 409}}
)

type listTasksInput struct {
	PageParams
	Status       string `query:"status" enum:"pending,running,completed,failed,cancelled"`
	Priority     string `query:"priority" enum:"P0,P1,P2"`
	RepositoryID string `query:"repository_id" format:"uuid"`
	AgentType    string `query:"agent_type" maxLength:"40"`
	WorkflowRun  string `query:"workflow_run_id" format:"uuid"`
}

type taskPageOutput struct{ Body Page[TaskOut] }

func (s *Server) listTasks(ctx context.Context, in *listTasksInput) (*taskPageOutput, error) {
	f := store.TaskFilter{Status: optString(in.Status), Priority: optString(in.Priority), RepositoryID: optUUID(in.RepositoryID),
		AgentType: optString(in.AgentType), WorkflowRunID: optUUID(in.WorkflowRun)}
	items, total, err := s.store.ListTasks(ctx, principalFrom(ctx).OrgID, f, in.Limit, in.Offset())
	if err != nil {
		return nil, err
	}
	return &taskPageOutput{Body: pageOf(mapSlice(items, taskOut), total, in.PageParams)}, nil
}

// TaskStatsOut counts the organization's tasks.
type TaskStatsOut struct {
	Total      int            `json:"total"`
	ByStatus   map[string]int `json:"by_status" doc:"Every status, zeros included"`
	ByPriority map[string]int `json:"by_priority" doc:"P0, P1, P2"`
}

type taskStatsOutput struct{ Body TaskStatsOut }

func (s *Server) taskStats(ctx context.Context, _ *struct{}) (*taskStatsOutput, error) {
	st, err := s.store.TaskStats(ctx, principalFrom(ctx).OrgID)
	if err != nil {
		return nil, err
	}
	return &taskStatsOutput{Body: TaskStatsOut{Total: st.Total, ByStatus: st.ByStatus, ByPriority: st.ByPriority}}, nil
}

type taskIDInput struct {
	ID uuid.UUID `path:"id"`
}

type taskOutput struct{ Body TaskOut }

func (s *Server) getTask(ctx context.Context, in *taskIDInput) (*taskOutput, error) {
	t, err := s.store.Task(ctx, principalFrom(ctx).OrgID, in.ID)
	if err != nil {
		return nil, err
	}
	return &taskOutput{Body: taskOut(t)}, nil
}

type createTaskInput struct {
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"255" doc:"Makes a retried request return the first result"`
	Body           struct {
		Name         string         `json:"name" minLength:"1" maxLength:"200"`
		Description  string         `json:"description,omitempty" maxLength:"10000"`
		Priority     string         `json:"priority,omitempty" enum:"P0,P1,P2" doc:"Default P1"`
		RepositoryID *uuid.UUID     `json:"repository_id,omitempty" format:"uuid"`
		AgentType    *string        `json:"agent_type,omitempty" minLength:"1" maxLength:"40"`
		IssueNumber  *IssueNumber   `json:"issue_number,omitempty"`
		Metadata     map[string]any `json:"metadata,omitempty"`
		DependsOn    []uuid.UUID    `json:"depends_on,omitempty" format:"uuid" maxItems:"50" doc:"Tasks that must complete before this one starts"`
	}
}

type createTaskOutput struct {
	Status   int
	Replayed string `header:"Idempotent-Replayed"`
	Body     TaskOut
}

func (s *Server) createTask(ctx context.Context, in *createTaskInput) (*createTaskOutput, error) {
	p := principalFrom(ctx)
	b := in.Body
	seen := map[uuid.UUID]bool{}
	for i, d := range b.DependsOn {
		if seen[d] {
			return nil, domain.Invalid(fmt.Sprintf("body.depends_on[%d]", i), "is listed twice")
		}
		seen[d] = true
	}
	target := launchTarget{RepositoryID: b.RepositoryID, AgentType: b.AgentType, Need: []perm.Permission{perm.TasksCreate}}
	if b.AgentType != nil {
		// an agent task launches an agent
		target.Agents, target.Need = true, append(target.Need, perm.AgentsExecute)
	}
	if _, err := s.checkLaunch(ctx, target); err != nil {
		return nil, err
	}
	key, err := idempotencyKey(p, "POST /tasks", in.IdempotencyKey, b)
	if err != nil {
		return nil, err
	}
	out, replayed, err := store.CreateTaskOnce(ctx, s.store, key, http.StatusCreated, p.OrgID, store.NewTask{Name: b.Name,
		Description: b.Description, Priority: b.Priority, AgentType: b.AgentType, RepositoryID: b.RepositoryID,
		IssueNumber: b.IssueNumber.int(), Metadata: b.Metadata, DependsOn: b.DependsOn, CreatedBy: p.UserID}, taskOut)
	if err != nil {
		return nil, err
	}
	return &createTaskOutput{Status: http.StatusCreated, Replayed: replayedHeader(replayed), Body: out}, nil
}

type updateTaskInput struct {
	ID   uuid.UUID `path:"id"`
	Body struct {
		Name        *string        `json:"name,omitempty" minLength:"1" maxLength:"200"`
		Description *string        `json:"description,omitempty" maxLength:"10000"`
		Priority    *string        `json:"priority,omitempty" enum:"P0,P1,P2"`
		Metadata    map[string]any `json:"metadata,omitempty" doc:"Replaces the metadata"`
	}
}

func (s *Server) updateTask(ctx context.Context, in *updateTaskInput) (*taskOutput, error) {
	t, err := s.store.UpdateTask(ctx, principalFrom(ctx).OrgID, taskFrom(ctx).ID, store.TaskPatch{Name: in.Body.Name, Description: in.Body.Description,
		Priority: in.Body.Priority, Metadata: in.Body.Metadata})
	if err != nil {
		return nil, err
	}
	return &taskOutput{Body: taskOut(t)}, nil
}

type moveTaskInput struct {
	ID   uuid.UUID `path:"id"`
	Body *struct {
		Error string `json:"error,omitempty" maxLength:"10000" doc:"Why it failed (fail only)"`
	}
}

// moveTaskHandler moves a task through the one state machine (store.MoveTask). start,
// complete and fail are for manual work only: an agent task is moved by its worker.
func (s *Server) moveTaskHandler(act domain.TaskAction) func(context.Context, *moveTaskInput) (*taskOutput, error) {
	manual := act == domain.ActStart || act == domain.ActComplete || act == domain.ActFail
	return func(ctx context.Context, in *moveTaskInput) (*taskOutput, error) {
		p := principalFrom(ctx)
		m := store.Move{Action: act, ManualOnly: manual}
		if in.Body != nil && act == domain.ActFail {
			m.Error = in.Body.Error
		}
		if act == domain.ActFail && m.Error == "" {
			m.Error = "failed by " + p.Login
		}
		id := taskFrom(ctx).ID
		if _, err := s.store.MoveTask(ctx, p.OrgID, id, m); err != nil {
			return nil, err
		}
		t, err := s.store.Task(ctx, p.OrgID, id)
		if err != nil {
			return nil, err
		}
		return &taskOutput{Body: taskOut(t)}, nil
	}
}

func (s *Server) deleteTask(ctx context.Context, in *taskIDInput) (*struct{}, error) {
	return nil, s.store.DeleteTask(ctx, principalFrom(ctx).OrgID, in.ID)
}
