package httpapi

import (
	"context"
	"slices"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"github.com/miyabi/miyabi/app/internal/domain"
	"github.com/miyabi/miyabi/app/internal/store"
	"github.com/miyabi/miyabi/app/internal/workerapi"
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

var (
	docWorkerHeartbeat = huma.Operation{OperationID: "worker-heartbeat", Tags: []string{"worker"},
		Summary: "Say the worker is alive and renew its leases",
		Description: "Renews the leases of the running tasks it names (all it holds when task_ids is omitted) and answers " +
			"the tasks it must stop: cancelled, or no longer its own."}
	docWorkerClaim = huma.Operation{OperationID: "worker-claim", Tags: []string{"worker"},
		Summary: "Claim pending tasks under a lease",
		Description: "Hands out up to max tasks whose dependencies completed, of the worker's agent types, P0 first then " +
			"oldest, never more than its free concurrency; each moves to running with its execution. Never hands one task to two workers."}
	docWorkerTaskLogs = huma.Operation{OperationID: "worker-task-logs", Tags: []string{"worker"},
		Summary: "Append a batch of log lines to a running task", Errors: []int{404, 409, 413, 422}}
	docWorkerTaskComplete = huma.Operation{OperationID: "worker-task-complete", Tags: []string{"worker"},
		Summary: "Report a task done, with its result", Errors: []int{404, 409, 422}}
	docWorkerTaskFail = huma.Operation{OperationID: "worker-task-fail", Tags: []string{"worker"},
		Summary:     "Report a task failed",
		Description: "A retryable failure goes back to the queue while retries remain; otherwise the task fails and its dependents are cancelled.",
		Errors:      []int{404, 409, 422}}
)

func leaseOf(secs int) time.Duration {
	if secs == 0 {
		secs = DefaultLeaseSeconds
	}
	return time.Duration(secs) * time.Second
}

type heartbeatInput struct{ Body workerapi.HeartbeatInputBody }

type heartbeatOutput struct{ Body workerapi.HeartbeatOut }

func (s *Server) workerHeartbeat(ctx context.Context, in *heartbeatInput) (*heartbeatOutput, error) {
	w := workerFrom(ctx)
	lease := leaseOf(in.Body.LeaseSeconds)
	stop, err := s.store.Heartbeat(ctx, w.OrgID, w.WorkerID, in.Body.Version, in.Body.TaskIDs, lease)
	if err != nil {
		return nil, err
	}
	return &heartbeatOutput{Body: workerapi.HeartbeatOut{Cancel: stop, LeaseSeconds: int(lease.Seconds())}}, nil
}

type claimInput struct{ Body workerapi.ClaimInputBody }

func workerTask(t store.ClaimedTask) workerapi.WorkerTask {
	return workerapi.WorkerTask{ID: t.ID, ExecutionID: t.ExecutionID, WorkflowRunID: t.WorkflowRunID, Name: t.Name, Priority: t.Priority,
		AgentType: t.AgentType, Repository: t.Repository, IssueNumber: t.IssueNumber, Metadata: t.Metadata, Options: t.Options,
		TimeoutSeconds: t.TimeoutSeconds, RetryCount: t.RetryCount, LeaseExpiresAt: t.LeaseExpiresAt}
}

type claimOutput struct{ Body workerapi.ClaimOut }

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
	out := &claimOutput{Body: workerapi.ClaimOut{Tasks: []workerapi.WorkerTask{}, LeaseSeconds: int(lease.Seconds())}}
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

type taskLogsInput struct {
	ID   uuid.UUID `path:"id"`
	Body workerapi.TaskLogsInputBody
}

type logsOutput struct{ Body workerapi.LogsOut }

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
	return &logsOutput{Body: workerapi.LogsOut{Stored: n}}, nil
}

type taskMovedOutput struct{ Body workerapi.TaskMovedOut }

type completeInput struct {
	ID   uuid.UUID `path:"id"`
	Body workerapi.CompleteInputBody
}

func (s *Server) workerTaskComplete(ctx context.Context, in *completeInput) (*taskMovedOutput, error) {
	w := workerFrom(ctx)
	res := &store.TaskResult{PRNumber: in.Body.PRNumber, QualityScore: in.Body.QualityScore, Summary: in.Body.Summary}
	moved, err := s.store.MoveTask(ctx, w.OrgID, in.ID, store.Move{Action: domain.ActComplete, LeaseOwner: &w.WorkerID, Result: res})
	if err != nil {
		return nil, err
	}
	return &taskMovedOutput{Body: workerapi.TaskMovedOut{ID: moved.ID, Status: string(moved.To)}}, nil
}

type failInput struct {
	ID   uuid.UUID `path:"id"`
	Body workerapi.FailInputBody
}

func (s *Server) workerTaskFail(ctx context.Context, in *failInput) (*taskMovedOutput, error) {
	w := workerFrom(ctx)
	moved, err := s.store.MoveTask(ctx, w.OrgID, in.ID, store.Move{Action: domain.ActFail, LeaseOwner: &w.WorkerID,
		Error: in.Body.Error, Retryable: in.Body.Retryable})
	if err != nil {
		return nil, err
	}
	return &taskMovedOutput{Body: workerapi.TaskMovedOut{ID: moved.ID, Status: string(moved.To)}}, nil
}
