package httpapi

import (
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"github.com/miyabi/miyabi/app/internal/domain"
	"github.com/miyabi/miyabi/app/internal/store"
)

// Lease lengths a worker may ask for. A worker heartbeats at least three times per
// lease; short leases exist so tests (and impatient operators) see expiry quickly.
const (
	DefaultLeaseSeconds = 60
	MinLeaseSeconds     = 1
	MaxLeaseSeconds     = 600
	// MaxClaim bounds one claim, whatever the worker's concurrency.
	MaxClaim = 16
)

func (s *Server) registerWorkerAPI() {
	tags := []string{"worker"}
	op(s, huma.Operation{OperationID: "worker-heartbeat", Method: http.MethodPost, Path: "/worker/heartbeat", Tags: tags,
		Summary: "Say the worker is alive and renew its leases",
		Description: "Renews the leases of the running tasks it names (all it holds when task_ids is omitted) and answers " +
			"the tasks it must stop: cancelled, or no longer its own."},
		permWorker, s.workerHeartbeat)
	op(s, huma.Operation{OperationID: "worker-claim", Method: http.MethodPost, Path: "/worker/claim", Tags: tags,
		Summary: "Claim pending tasks under a lease",
		Description: "Hands out up to max tasks whose dependencies completed, of the worker's agent types, P0 first then " +
			"oldest, never more than its free concurrency; each moves to running with its execution. Never hands one task to two workers."},
		permWorker, s.workerClaim)
	op(s, huma.Operation{OperationID: "worker-task-logs", Method: http.MethodPost, Path: "/worker/tasks/{id}/logs", Tags: tags,
		Summary: "Append a batch of log lines to a running task", Errors: []int{404, 409, 413, 422}},
		permWorker, s.workerTaskLogs)
	op(s, huma.Operation{OperationID: "worker-task-complete", Method: http.MethodPost, Path: "/worker/tasks/{id}/complete", Tags: tags,
		Summary: "Report a task done, with its result", Errors: []int{404, 409, 422}},
		permWorker, s.workerTaskComplete)
	op(s, huma.Operation{OperationID: "worker-task-fail", Method: http.MethodPost, Path: "/worker/tasks/{id}/fail", Tags: tags,
		Summary:     "Report a task failed",
		Description: "A retryable failure goes back to the queue while retries remain; otherwise the task fails and its dependents are cancelled.",
		Errors:      []int{404, 409, 422}},
		permWorker, s.workerTaskFail)
}

func leaseOf(secs int) time.Duration {
	if secs == 0 {
		secs = DefaultLeaseSeconds
	}
	return time.Duration(secs) * time.Second
}

type heartbeatInput struct {
	Body struct {
		TaskIDs      []uuid.UUID `json:"task_ids,omitempty" maxItems:"64" doc:"The tasks it is running; every task it holds when omitted"`
		Version      *string     `json:"version,omitempty" maxLength:"64"`
		LeaseSeconds int         `json:"lease_seconds,omitempty" minimum:"1" maximum:"600" doc:"Renew leases for this long (default 60)"`
	}
}

// HeartbeatOut tells a worker what to stop.
type HeartbeatOut struct {
	Cancel       []uuid.UUID `json:"cancel" doc:"Tasks to stop now: cancelled, or no longer this worker's"`
	LeaseSeconds int         `json:"lease_seconds" doc:"How long the renewed leases last"`
}

type heartbeatOutput struct{ Body HeartbeatOut }

func (s *Server) workerHeartbeat(ctx context.Context, in *heartbeatInput) (*heartbeatOutput, error) {
	w := workerFrom(ctx)
	lease := leaseOf(in.Body.LeaseSeconds)
	stop, err := s.store.Heartbeat(ctx, w.OrgID, w.WorkerID, in.Body.Version, in.Body.TaskIDs, lease)
	if err != nil {
		return nil, err
	}
	return &heartbeatOutput{Body: HeartbeatOut{Cancel: stop, LeaseSeconds: int(lease.Seconds())}}, nil
}

type claimInput struct {
	Body struct {
		AgentTypes   []AgentTypeName `json:"agent_types,omitempty" maxItems:"20" doc:"Only these of the worker's agent types"`
		Max          int             `json:"max,omitempty" minimum:"1" maximum:"16" default:"1" doc:"At most this many tasks"`
		LeaseSeconds int             `json:"lease_seconds,omitempty" minimum:"1" maximum:"600" doc:"Lease length (default 60); heartbeat at least three times per lease"`
	}
}

// WorkerTask is a claimed task with all a worker needs to run it.
type WorkerTask struct {
	ID             uuid.UUID      `json:"id"`
	ExecutionID    *uuid.UUID     `json:"execution_id" nullable:"true"`
	WorkflowRunID  *uuid.UUID     `json:"workflow_run_id" nullable:"true"`
	Name           string         `json:"name"`
	Priority       string         `json:"priority" enum:"P0,P1,P2"`
	AgentType      string         `json:"agent_type"`
	Repository     *string        `json:"repository" doc:"owner/name"`
	IssueNumber    *int           `json:"issue_number"`
	Metadata       map[string]any `json:"metadata"`
	Options        map[string]any `json:"options" doc:"The execution's options"`
	TimeoutSeconds int            `json:"timeout_seconds"`
	RetryCount     int            `json:"retry_count"`
	LeaseExpiresAt time.Time      `json:"lease_expires_at"`
}

func workerTask(t store.ClaimedTask) WorkerTask {
	return WorkerTask{ID: t.ID, ExecutionID: t.ExecutionID, WorkflowRunID: t.WorkflowRunID, Name: t.Name, Priority: t.Priority,
		AgentType: t.AgentType, Repository: t.Repository, IssueNumber: t.IssueNumber, Metadata: t.Metadata, Options: t.Options,
		TimeoutSeconds: t.TimeoutSeconds, RetryCount: t.RetryCount, LeaseExpiresAt: t.LeaseExpiresAt}
}

// ClaimOut is what a claim handed out (possibly nothing).
type ClaimOut struct {
	Tasks        []WorkerTask `json:"tasks"`
	LeaseSeconds int          `json:"lease_seconds"`
}

type claimOutput struct{ Body ClaimOut }

func (s *Server) workerClaim(ctx context.Context, in *claimInput) (*claimOutput, error) {
	w := workerFrom(ctx)
	types := w.AgentTypes
	if len(in.Body.AgentTypes) > 0 {
		asked := agentTypeNames(in.Body.AgentTypes)
		types = slices.DeleteFunc(slices.Clone(w.AgentTypes), func(t string) bool { return !slices.Contains(asked, t) })
	}
	max := in.Body.Max
	if max == 0 {
		max = 1
	}
	lease := leaseOf(in.Body.LeaseSeconds)
	out := &claimOutput{Body: ClaimOut{Tasks: []WorkerTask{}, LeaseSeconds: int(lease.Seconds())}}
	if len(types) == 0 {
		s.metrics.ObserveClaim(0)
		return out, nil
	}
	tasks, err := s.store.ClaimTasks(ctx, w.OrgID, w.WorkerID, types, min(max, MaxClaim), lease)
	if err != nil {
		return nil, err
	}
	s.metrics.ObserveClaim(len(tasks))
	out.Body.Tasks = mapSlice(tasks, workerTask)
	return out, nil
}

type logLineIn struct {
	Stream  string `json:"stream,omitempty" enum:"stdout,stderr,system" default:"stdout"`
	Message string `json:"message" maxLength:"8192"`
}

type taskLogsInput struct {
	ID   uuid.UUID `path:"id"`
	Body struct {
		Lines []logLineIn `json:"lines" minItems:"1" maxItems:"500" doc:"In the order they were written"`
	}
}

// LogsOut says how many lines were kept.
type LogsOut struct {
	Stored int `json:"stored" doc:"Lines stored (0 for a task without an execution, which keeps no log)"`
}

type logsOutput struct{ Body LogsOut }

func (s *Server) workerTaskLogs(ctx context.Context, in *taskLogsInput) (*logsOutput, error) {
	w := workerFrom(ctx)
	lines := make([]store.LogLine, len(in.Body.Lines))
	for i, l := range in.Body.Lines {
		stream := l.Stream
		if stream == "" {
			stream = "stdout"
		}
		lines[i] = store.LogLine{Stream: stream, Message: l.Message}
	}
	n, err := s.store.AppendTaskLogs(ctx, w.OrgID, w.WorkerID, in.ID, lines)
	if err != nil {
		return nil, err
	}
	return &logsOutput{Body: LogsOut{Stored: n}}, nil
}

// TaskMovedOut is where a task went after a worker's report.
type TaskMovedOut struct {
	ID     uuid.UUID `json:"id"`
	Status string    `json:"status" enum:"pending,running,completed,failed,cancelled" doc:"pending when a retryable failure was requeued"`
}

type taskMovedOutput struct{ Body TaskMovedOut }

type completeInput struct {
	ID   uuid.UUID `path:"id"`
	Body struct {
		PRNumber     *int     `json:"pr_number,omitempty" minimum:"1" maximum:"2147483647"`
		QualityScore *float64 `json:"quality_score,omitempty" minimum:"0" maximum:"100"`
		Summary      *string  `json:"summary,omitempty" maxLength:"10000"`
	}
}

func (s *Server) workerTaskComplete(ctx context.Context, in *completeInput) (*taskMovedOutput, error) {
	w := workerFrom(ctx)
	res := &store.TaskResult{PRNumber: in.Body.PRNumber, QualityScore: in.Body.QualityScore, Summary: in.Body.Summary}
	moved, err := s.store.MoveTask(ctx, w.OrgID, in.ID, store.Move{Action: domain.ActComplete, LeaseOwner: &w.WorkerID, Result: res})
	if err != nil {
		return nil, err
	}
	return &taskMovedOutput{Body: TaskMovedOut{ID: moved.ID, Status: string(moved.To)}}, nil
}

type failInput struct {
	ID   uuid.UUID `path:"id"`
	Body struct {
		Error     string `json:"error" minLength:"1" maxLength:"10000"`
		Retryable bool   `json:"retryable,omitempty" doc:"Worth another attempt (a timeout, a shutdown); the task is requeued while retries remain"`
	}
}

func (s *Server) workerTaskFail(ctx context.Context, in *failInput) (*taskMovedOutput, error) {
	w := workerFrom(ctx)
	moved, err := s.store.MoveTask(ctx, w.OrgID, in.ID, store.Move{Action: domain.ActFail, LeaseOwner: &w.WorkerID,
		Error: in.Body.Error, Retryable: in.Body.Retryable})
	if err != nil {
		return nil, err
	}
	return &taskMovedOutput{Body: TaskMovedOut{ID: moved.ID, Status: string(moved.To)}}, nil
}
