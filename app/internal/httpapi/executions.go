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

// ExecutionOut is one run of an agent; its status mirrors its task's.
type ExecutionOut struct {
	ID                 uuid.UUID       `json:"id"`
	RepositoryID       *uuid.UUID      `json:"repository_id" nullable:"true"`
	RepositoryFullName *string         `json:"repository_full_name" example:"miyabi-demo/webapp"`
	WorkflowRunID      *uuid.UUID      `json:"workflow_run_id" nullable:"true"`
	TaskID             *uuid.UUID      `json:"task_id" nullable:"true"`
	AgentType          string          `json:"agent_type"`
	IssueNumber        *int            `json:"issue_number"`
	Status             string          `json:"status" enum:"pending,running,completed,failed,cancelled"`
	Options            map[string]any  `json:"options"`
	PRNumber           *int            `json:"pr_number"`
	QualityScore       *float64        `json:"quality_score"`
	Summary            *string         `json:"summary"`
	Error              *string         `json:"error"`
	CreatedBy          *uuid.UUID      `json:"created_by" nullable:"true"`
	LaunchedBy         *PersonRef      `json:"launched_by" doc:"The person who launched it (for a GitHub label or command, the member it was matched to); null when nobody did"`
	CancelledBy        *PersonRef      `json:"cancelled_by" doc:"The person who cancelled it, alone or with its workflow run; null when it was not cancelled by a person (or a failed dependency took it down)"`
	CancelledAt        *time.Time      `json:"cancelled_at"`
	CreatedAt          time.Time       `json:"created_at"`
	UpdatedAt          time.Time       `json:"updated_at"`
	StartedAt          *time.Time      `json:"started_at"`
	CompletedAt        *time.Time      `json:"completed_at"`
	PullRequest        *PullRequestOut `json:"pull_request" doc:"The linked pull request (GET of one execution only; null in lists)"`
}

func executionOut(e store.Execution) ExecutionOut {
	if e.Options == nil {
		e.Options = map[string]any{}
	}
	return ExecutionOut{ID: e.ID, RepositoryID: e.RepositoryID, RepositoryFullName: e.RepositoryFullName,
		WorkflowRunID: e.WorkflowRunID, TaskID: e.TaskID, AgentType: e.AgentType, IssueNumber: e.IssueNumber,
		Status: string(e.Status), Options: e.Options, PRNumber: e.PRNumber, QualityScore: e.QualityScore, Summary: e.Summary,
		Error: e.Error, CreatedBy: e.CreatedBy, LaunchedBy: personRef(e.CreatedBy, e.CreatedByLogin),
		CancelledBy: personRef(e.CancelledBy, e.CancelledByLogin), CancelledAt: e.CancelledAt, CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt,
		StartedAt: e.StartedAt, CompletedAt: e.CompletedAt}
}

var (
	docExecuteAgent = huma.Operation{OperationID: "execute-agent", Tags: []string{"agents"},
		Summary: "Launch an agent on an issue",
		Description: "Creates the execution (pending) and its queued task in one transaction. With an Idempotency-Key header, " +
			"a retried request answers the first result instead of launching again; the same key with another body is 422. " +
			"options.priority (P0, P1, P2; default P1) sets the task's priority. A team role on the repository's team may launch.",
		DefaultStatus: http.StatusCreated, Errors: []int{403, 409, 422}}
	docListExecutions = huma.Operation{OperationID: "list-executions", Tags: []string{"agents"},
		Summary: "List executions, newest first"}
	docGetExecution = huma.Operation{OperationID: "get-execution", Tags: []string{"agents"},
		Summary: "Get an execution", Errors: []int{404}}
	docListExecutionLogs = huma.Operation{OperationID: "list-execution-logs", Tags: []string{"agents"},
		Summary:     "Read an execution's log lines after a cursor",
		Description: "Lines come in id order. Pass next_after back as after to read on; fewer than limit lines means you are caught up.",
		Errors:      []int{404}}
	docCancelExecution = huma.Operation{OperationID: "cancel-execution", Tags: []string{"agents"},
		Summary:     "Cancel an execution",
		Description: "A pending execution never starts; a running one is cancelled and its worker learns it on its next heartbeat. An ended one is 409. The answer names the caller in cancelled_by.",
		Errors:      []int{403, 404, 409}}
)

// ExecuteOut answers a launch: the execution and the task a worker will claim.
type ExecuteOut struct {
	Execution ExecutionOut `json:"execution"`
	Task      TaskOut      `json:"task"`
}

type executeInput struct {
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"255" doc:"Makes a retried request return the first result"`
	Body           struct {
		RepositoryID uuid.UUID      `json:"repository_id" format:"uuid"`
		IssueNumber  IssueNumber    `json:"issue_number"`
		AgentType    string         `json:"agent_type" minLength:"1" maxLength:"40" example:"codegen"`
		Options      map[string]any `json:"options,omitempty" doc:"Passed to the agent; priority (P0, P1, P2) sets the task priority"`
	}
}

type executeOutput struct {
	Status   int
	Replayed string `header:"Idempotent-Replayed" doc:"true when this is the stored answer of an earlier request with the same key"`
	Body     ExecuteOut
}

func (s *Server) executeAgent(ctx context.Context, in *executeInput) (*executeOutput, error) {
	p := principalFrom(ctx)
	b := in.Body
	priority, err := priorityOption(b.Options)
	if err != nil {
		return nil, err
	}
	repo, err := s.checkLaunch(ctx, launchTarget{RepositoryID: &b.RepositoryID, AgentType: &b.AgentType, Agents: true,
		Need: []perm.Permission{perm.AgentsExecute}})
	if err != nil {
		return nil, err
	}
	key, err := idempotencyKey(p, "POST /agents/execute", in.IdempotencyKey, b)
	if err != nil {
		return nil, err
	}
	issue := int(b.IssueNumber)
	out, replayed, err := store.LaunchAgentOnce(ctx, s.store, key, http.StatusCreated, p.OrgID,
		store.NewExecution{RepositoryID: &repo.ID, AgentType: b.AgentType, IssueNumber: &issue, Options: b.Options, CreatedBy: p.UserID},
		store.NewTask{Name: fmt.Sprintf("%s on %s#%d", b.AgentType, repo.FullName, issue), Priority: priority, CreatedBy: p.UserID},
		func(e store.Execution, t store.Task) ExecuteOut {
			return ExecuteOut{Execution: executionOut(e), Task: taskOut(t)}
		})
	if err != nil {
		return nil, err
	}
	return &executeOutput{Status: http.StatusCreated, Replayed: replayedHeader(replayed), Body: out}, nil
}

// priorityOption reads options.priority, the launch's task priority (P1 when absent).
func priorityOption(options map[string]any) (string, error) {
	v, ok := options["priority"]
	if !ok {
		return "P1", nil
	}
	if s, isString := v.(string); isString {
		for _, p := range domain.Priorities {
			if s == p {
				return s, nil
			}
		}
	}
	return "", domain.Invalid("body.options.priority", "must be one of %v", domain.Priorities)
}

type listExecutionsInput struct {
	PageParams
	Status       string `query:"status" enum:"pending,running,completed,failed,cancelled"`
	AgentType    string `query:"agent_type" maxLength:"40"`
	RepositoryID string `query:"repository_id" format:"uuid"`
}

type executionPageOutput struct{ Body Page[ExecutionOut] }

func (s *Server) listExecutions(ctx context.Context, in *listExecutionsInput) (*executionPageOutput, error) {
	f := store.ExecutionFilter{Status: optString(in.Status), AgentType: optString(in.AgentType), RepositoryID: optUUID(in.RepositoryID)}
	items, total, err := s.store.ListExecutions(ctx, principalFrom(ctx).OrgID, f, in.Limit, in.Offset())
	if err != nil {
		return nil, err
	}
	return &executionPageOutput{Body: pageOf(mapSlice(items, executionOut), total, in.PageParams)}, nil
}

type executionIDInput struct {
	ID uuid.UUID `path:"id"`
}

type executionOutput struct{ Body ExecutionOut }

func (s *Server) getExecution(ctx context.Context, in *executionIDInput) (*executionOutput, error) {
	e, err := s.store.Execution(ctx, principalFrom(ctx).OrgID, in.ID)
	if err != nil {
		return nil, err
	}
	out := executionOut(e)
	if out.PullRequest, err = s.executionPullRequest(ctx, e.OrgID, e.ID); err != nil {
		return nil, err
	}
	return &executionOutput{Body: out}, nil
}

// LogLineOut is one line an agent wrote.
type LogLineOut struct {
	ID       int64     `json:"id"`
	Stream   string    `json:"stream" enum:"stdout,stderr,system"`
	Message  string    `json:"message"`
	LoggedAt time.Time `json:"logged_at"`
}

type executionLogsInput struct {
	ID    uuid.UUID `path:"id"`
	After int64     `query:"after" minimum:"0" doc:"Return lines with an id above this (0: from the start)"`
	Limit int       `query:"limit" minimum:"1" maximum:"1000" default:"200"`
}

type executionLogsOutput struct {
	Body struct {
		Items     []LogLineOut `json:"items"`
		NextAfter int64        `json:"next_after" doc:"The cursor for the next call"`
	}
}

func (s *Server) executionLogs(ctx context.Context, in *executionLogsInput) (*executionLogsOutput, error) {
	lines, err := s.store.ExecutionLogs(ctx, principalFrom(ctx).OrgID, in.ID, in.After, in.Limit)
	if err != nil {
		return nil, err
	}
	out := &executionLogsOutput{}
	out.Body.Items = make([]LogLineOut, len(lines))
	out.Body.NextAfter = in.After
	for i, l := range lines {
		out.Body.Items[i] = LogLineOut{ID: l.ID, Stream: l.Stream, Message: l.Message, LoggedAt: l.LoggedAt}
		out.Body.NextAfter = l.ID
	}
	return out, nil
}

func (s *Server) cancelExecution(ctx context.Context, in *executionIDInput) (*executionOutput, error) {
	p := principalFrom(ctx)
	taskID := executionTaskFrom(ctx)
	if taskID == nil {
		return nil, domain.Errorf(domain.CodeConflict, "this execution has no task to cancel")
	}
	if _, err := s.store.MoveTask(ctx, p.OrgID, *taskID, store.Move{Action: domain.ActCancel}); err != nil {
		return nil, err
	}
	e, err := s.store.Execution(ctx, p.OrgID, in.ID)
	if err != nil {
		return nil, err
	}
	return &executionOutput{Body: executionOut(e)}, nil
}
