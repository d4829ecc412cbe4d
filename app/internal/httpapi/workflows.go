package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"github.com/miyabi/miyabi/app/internal/domain"
	"github.com/miyabi/miyabi/app/internal/perm"
	"github.com/miyabi/miyabi/app/internal/store"
)

// WorkflowOut is a saved DAG of agent steps.
type WorkflowOut struct {
	ID          uuid.UUID                 `json:"id"`
	Name        string                    `json:"name"`
	Description string                    `json:"description"`
	Definition  domain.WorkflowDefinition `json:"definition"`
	CreatedBy   *uuid.UUID                `json:"created_by" nullable:"true"`
	CreatedAt   time.Time                 `json:"created_at"`
	UpdatedAt   time.Time                 `json:"updated_at"`
}

func workflowOut(w store.Workflow) WorkflowOut {
	if w.Definition.Edges == nil {
		w.Definition.Edges = []domain.WorkflowEdge{}
	}
	return WorkflowOut{ID: w.ID, Name: w.Name, Description: w.Description, Definition: w.Definition,
		CreatedBy: w.CreatedBy, CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt}
}

// WorkflowRunOut is one run of a workflow; its status is derived from its tasks.
type WorkflowRunOut struct {
	ID           uuid.UUID     `json:"id"`
	WorkflowID   uuid.UUID     `json:"workflow_id"`
	WorkflowName string        `json:"workflow_name"`
	RepositoryID *uuid.UUID    `json:"repository_id" nullable:"true"`
	IssueNumber  *int          `json:"issue_number"`
	Status       string        `json:"status" enum:"pending,running,completed,failed,cancelled"`
	CreatedBy    *uuid.UUID    `json:"created_by" nullable:"true"`
	LaunchedBy   *PersonRef    `json:"launched_by" doc:"The person who started the run; null when nobody did (a GitHub command without a matched member, or a deleted user)"`
	CancelledBy  *PersonRef    `json:"cancelled_by" doc:"The person who cancelled the run as a whole (POST /workflow-runs/{id}/cancel); null otherwise"`
	CancelledAt  *time.Time    `json:"cancelled_at"`
	CreatedAt    time.Time     `json:"created_at"`
	UpdatedAt    time.Time     `json:"updated_at"`
	StartedAt    *time.Time    `json:"started_at"`
	CompletedAt  *time.Time    `json:"completed_at"`
	Nodes        []RunNodeOut  `json:"nodes,omitempty" doc:"Per node: its task and where it is (on GET /workflow-runs/{id})"`
	Definition   *WorkflowSpec `json:"definition,omitempty" doc:"The definition the run started with"`
}

// WorkflowSpec is the definition a run copied when it started.
type WorkflowSpec = domain.WorkflowDefinition

// RunNodeOut is one node of a run with its task.
type RunNodeOut struct {
	NodeID      string     `json:"node_id"`
	Name        string     `json:"name"`
	AgentType   string     `json:"agent_type"`
	DependsOn   []string   `json:"depends_on" doc:"Node ids it waits for"`
	TaskID      uuid.UUID  `json:"task_id"`
	ExecutionID *uuid.UUID `json:"execution_id" nullable:"true"`
	Status      string     `json:"status" enum:"pending,running,completed,failed,cancelled"`
	DepsPending int        `json:"deps_pending"`
	Error       *string    `json:"error"`
	StartedAt   *time.Time `json:"started_at"`
	EndedAt     *time.Time `json:"ended_at"`
}

func runOut(r store.WorkflowRun) WorkflowRunOut {
	return WorkflowRunOut{ID: r.ID, WorkflowID: r.WorkflowID, WorkflowName: r.WorkflowName, RepositoryID: r.RepositoryID,
		IssueNumber: r.IssueNumber, Status: string(r.Status), CreatedBy: r.CreatedBy,
		LaunchedBy: personRef(r.CreatedBy, r.CreatedByLogin), CancelledBy: personRef(r.CancelledBy, r.CancelledByLogin),
		CancelledAt: r.CancelledAt, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
		StartedAt: r.StartedAt, CompletedAt: r.CompletedAt}
}

// workflowDefinitionDoc describes a definition's rules on create and update.
const workflowDefinitionDoc = "definition: nodes [{id, agent_type, name}] and edges [{from, to}] (to starts after from completed); " +
	"acyclic, known agent types, unique node ids, edges between existing nodes, at most 50 nodes: else 422 naming the fault."

var (
	docListWorkflows = huma.Operation{OperationID: "list-workflows", Tags: []string{"workflows"},
		Summary: "List workflows, newest first"}
	docCreateWorkflow = huma.Operation{OperationID: "create-workflow", Tags: []string{"workflows"},
		Summary: "Create a workflow", Description: workflowDefinitionDoc, DefaultStatus: http.StatusCreated, Errors: []int{422}}
	docGetWorkflow = huma.Operation{OperationID: "get-workflow", Tags: []string{"workflows"},
		Summary: "Get a workflow", Errors: []int{404}}
	docUpdateWorkflow = huma.Operation{OperationID: "update-workflow", Tags: []string{"workflows"},
		Summary: "Change a workflow (runs already started keep their definition)", Description: workflowDefinitionDoc,
		Errors: []int{404, 422}}
	docDeleteWorkflow = huma.Operation{OperationID: "delete-workflow", Tags: []string{"workflows"},
		Summary: "Delete a workflow with its runs and their tasks", DefaultStatus: http.StatusNoContent,
		Errors: []int{404}}
	docRunWorkflow = huma.Operation{OperationID: "run-workflow", Tags: []string{"workflows"},
		Summary: "Run a workflow",
		Description: "Creates the run and, per node, an execution and its task in one transaction; the edges become task " +
			"dependencies, so a node's task is claimable only once every node it depends on completed. A failed or " +
			"cancelled node cancels everything downstream of it.",
		DefaultStatus: http.StatusCreated, Errors: []int{404, 409, 422}}
	docListWorkflowRuns = huma.Operation{OperationID: "list-workflow-runs", Tags: []string{"workflows"},
		Summary: "List a workflow's runs, newest first", Errors: []int{404}}
	docGetWorkflowRun = huma.Operation{OperationID: "get-workflow-run", Tags: []string{"workflows"},
		Summary: "Get a run with the status of each node's task", Errors: []int{404}}
	docCancelWorkflowRun = huma.Operation{OperationID: "cancel-workflow-run", Tags: []string{"workflows"},
		Summary: "Cancel a workflow run with every node still pending or running",
		Description: "In one transaction, each unfinished node's task and execution are cancelled as POST " +
			"/agents/executions/{id}/cancel does (a running agent's worker learns it on its next heartbeat), and the run " +
			"becomes cancelled with cancelled_by (the caller) and cancelled_at. A run already cancelled is answered as it " +
			"is, so a retry is harmless; a run that completed or failed is 409. A cancelled run's failed nodes cannot be retried.",
		Errors: []int{404, 409}}
)

type listWorkflowsInput struct{ PageParams }

type workflowPageOutput struct{ Body Page[WorkflowOut] }

func (s *Server) listWorkflows(ctx context.Context, in *listWorkflowsInput) (*workflowPageOutput, error) {
	items, total, err := s.store.ListWorkflows(ctx, principalFrom(ctx).OrgID, in.Limit, in.Offset())
	if err != nil {
		return nil, err
	}
	return &workflowPageOutput{Body: pageOf(mapSlice(items, workflowOut), total, in.PageParams)}, nil
}

type createWorkflowInput struct {
	Body struct {
		Name        string                    `json:"name" minLength:"1" maxLength:"200"`
		Description string                    `json:"description,omitempty" maxLength:"10000"`
		Definition  domain.WorkflowDefinition `json:"definition"`
	}
}

type workflowOutput struct{ Body WorkflowOut }

func (s *Server) createWorkflow(ctx context.Context, in *createWorkflowInput) (*workflowOutput, error) {
	p := principalFrom(ctx)
	if err := in.Body.Definition.Validate("body.definition"); err != nil {
		return nil, err
	}
	w, err := s.store.CreateWorkflow(ctx, p.OrgID, p.UserID, in.Body.Name, in.Body.Description, in.Body.Definition)
	if err != nil {
		return nil, err
	}
	return &workflowOutput{Body: workflowOut(w)}, nil
}

type workflowIDInput struct {
	ID uuid.UUID `path:"id"`
}

func (s *Server) getWorkflow(ctx context.Context, in *workflowIDInput) (*workflowOutput, error) {
	w, err := s.store.Workflow(ctx, principalFrom(ctx).OrgID, in.ID)
	if err != nil {
		return nil, err
	}
	return &workflowOutput{Body: workflowOut(w)}, nil
}

type updateWorkflowInput struct {
	ID   uuid.UUID `path:"id"`
	Body struct {
		Name        *string                    `json:"name,omitempty" minLength:"1" maxLength:"200"`
		Description *string                    `json:"description,omitempty" maxLength:"10000"`
		Definition  *domain.WorkflowDefinition `json:"definition,omitempty"`
	}
}

func (s *Server) updateWorkflow(ctx context.Context, in *updateWorkflowInput) (*workflowOutput, error) {
	if in.Body.Definition != nil {
		if err := in.Body.Definition.Validate("body.definition"); err != nil {
			return nil, err
		}
	}
	w, err := s.store.UpdateWorkflow(ctx, principalFrom(ctx).OrgID, in.ID,
		store.WorkflowPatch{Name: in.Body.Name, Description: in.Body.Description, Definition: in.Body.Definition})
	if err != nil {
		return nil, err
	}
	return &workflowOutput{Body: workflowOut(w)}, nil
}

func (s *Server) deleteWorkflow(ctx context.Context, in *workflowIDInput) (*struct{}, error) {
	return nil, s.store.DeleteWorkflow(ctx, principalFrom(ctx).OrgID, in.ID)
}

type runWorkflowInput struct {
	ID   uuid.UUID `path:"id"`
	Body *struct {
		RepositoryID *uuid.UUID   `json:"repository_id,omitempty" format:"uuid" doc:"The repository its agents work on"`
		IssueNumber  *IssueNumber `json:"issue_number,omitempty"`
	}
}

type runOutput struct{ Body WorkflowRunOut }

func (s *Server) runWorkflow(ctx context.Context, in *runWorkflowInput) (*runOutput, error) {
	p := principalFrom(ctx)
	run := store.NewRun{CreatedBy: p.UserID}
	if in.Body != nil {
		run.RepositoryID, run.IssueNumber = in.Body.RepositoryID, in.Body.IssueNumber.int()
	}
	if _, err := s.checkLaunch(ctx, launchTarget{RepositoryID: run.RepositoryID, Agents: true,
		Need: []perm.Permission{perm.WorkflowsExecute}}); err != nil {
		return nil, err
	}
	r, err := s.store.RunWorkflow(ctx, p.OrgID, in.ID, run)
	if err != nil {
		return nil, err
	}
	return s.runWithNodes(ctx, r)
}

type listRunsInput struct {
	ID uuid.UUID `path:"id"`
	PageParams
}

type runPageOutput struct{ Body Page[WorkflowRunOut] }

func (s *Server) listWorkflowRuns(ctx context.Context, in *listRunsInput) (*runPageOutput, error) {
	items, total, err := s.store.ListWorkflowRuns(ctx, principalFrom(ctx).OrgID, in.ID, in.Limit, in.Offset())
	if err != nil {
		return nil, err
	}
	return &runPageOutput{Body: pageOf(mapSlice(items, runOut), total, in.PageParams)}, nil
}

type runIDInput struct {
	ID uuid.UUID `path:"id"`
}

func (s *Server) getWorkflowRun(ctx context.Context, in *runIDInput) (*runOutput, error) {
	r, err := s.store.WorkflowRun(ctx, principalFrom(ctx).OrgID, in.ID)
	if err != nil {
		return nil, err
	}
	return s.runWithNodes(ctx, r)
}

func (s *Server) cancelWorkflowRun(ctx context.Context, in *runIDInput) (*runOutput, error) {
	r, err := s.store.CancelWorkflowRun(ctx, principalFrom(ctx).OrgID, in.ID)
	if err != nil {
		return nil, err
	}
	return s.runWithNodes(ctx, r)
}

// runWithNodes answers a run with its nodes in definition order, each with its task.
func (s *Server) runWithNodes(ctx context.Context, r store.WorkflowRun) (*runOutput, error) {
	tasks, err := s.store.RunTasks(ctx, r.OrgID, r.ID)
	if err != nil {
		return nil, err
	}
	byNode := make(map[string]store.Task, len(tasks))
	for _, t := range tasks {
		if t.WorkflowNodeID != nil {
			byNode[*t.WorkflowNodeID] = t
		}
	}
	deps := map[string][]string{}
	for _, e := range r.Definition.Edges {
		deps[e.To] = append(deps[e.To], e.From)
	}
	out := runOut(r)
	def := r.Definition
	if def.Edges == nil {
		def.Edges = []domain.WorkflowEdge{}
	}
	out.Definition = &def
	out.Nodes = make([]RunNodeOut, 0, len(r.Definition.Nodes))
	for _, n := range r.Definition.Nodes {
		t, ok := byNode[n.ID]
		if !ok {
			continue // cannot happen: a run's tasks are created with it and cannot be deleted alone
		}
		ended := t.CompletedAt
		if ended == nil {
			ended = t.FailedAt
		}
		if ended == nil {
			ended = t.CancelledAt
		}
		d := deps[n.ID]
		if d == nil {
			d = []string{}
		}
		out.Nodes = append(out.Nodes, RunNodeOut{NodeID: n.ID, Name: n.Name, AgentType: n.AgentType, DependsOn: d,
			TaskID: t.ID, ExecutionID: t.ExecutionID, Status: string(t.Status), DepsPending: t.DepsPending, Error: t.Error,
			StartedAt: t.StartedAt, EndedAt: ended})
	}
	return &runOutput{Body: out}, nil
}
