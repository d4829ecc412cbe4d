package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"github.com/miyabi/miyabi/app/internal/auth"
	"github.com/miyabi/miyabi/app/internal/domain"
	"github.com/miyabi/miyabi/app/internal/store"
)

var (
	docListWorkers = huma.Operation{OperationID: "list-workers", Tags: []string{"workers"},
		Summary:     "List the organization's workers",
		Description: "Status comes from heartbeats: offline after 60 s of silence, busy while running a task, online otherwise."}
	docGetWorker = huma.Operation{OperationID: "get-worker", Tags: []string{"workers"},
		Summary: "Get a worker"}
	docCreateWorker = huma.Operation{OperationID: "create-worker", Tags: []string{"workers"},
		Summary:       "Register a worker and get its token",
		Description:   "The token (mw_...) is shown in this answer only; the server keeps its SHA-256.",
		DefaultStatus: http.StatusCreated}
	docDeleteWorker = huma.Operation{OperationID: "delete-worker", Tags: []string{"workers"},
		Summary:       "Revoke a worker",
		Description:   "Its token stops working at once and the tasks it was running go back to the queue.",
		DefaultStatus: http.StatusNoContent}
)

// WorkerOut is a worker as people see it.
type WorkerOut struct {
	ID              uuid.UUID  `json:"id"`
	Name            string     `json:"name"`
	CoordinatorID   *uuid.UUID `json:"coordinator_id" nullable:"true"`
	AgentTypes      []string   `json:"agent_types"`
	MaxConcurrency  int        `json:"max_concurrency"`
	Version         string     `json:"version" doc:"As the worker last reported it"`
	Status          string     `json:"status" enum:"online,busy,offline,revoked" doc:"revoked: the token died with its creator's right to manage workers (see revoked_reason)"`
	RunningTasks    int        `json:"running_tasks"`
	LastHeartbeatAt *time.Time `json:"last_heartbeat_at"`
	CreatedBy       *uuid.UUID `json:"created_by" nullable:"true" doc:"Who registered it; the worker belongs to the organization"`
	RevokedAt       *time.Time `json:"revoked_at" nullable:"true"`
	RevokedReason   *string    `json:"revoked_reason" nullable:"true" doc:"creator_removed, creator_suspended or creator_demoted"`
	CreatedAt       time.Time  `json:"created_at"`
}

func workerOut(w store.Worker) WorkerOut {
	return WorkerOut{ID: w.ID, Name: w.Name, CoordinatorID: w.CoordinatorID, AgentTypes: w.AgentTypes,
		MaxConcurrency: w.MaxConcurrency, Version: w.Version, Status: w.Status, RunningTasks: w.RunningTasks,
		LastHeartbeatAt: w.LastHeartbeatAt, CreatedBy: w.CreatedBy, RevokedAt: w.RevokedAt, RevokedReason: w.RevokedReason,
		CreatedAt: w.CreatedAt}
}

type listWorkersInput struct {
	Status        string    `query:"status" enum:"online,busy,offline,revoked" doc:"Only workers in this status"`
	CoordinatorID uuid.UUID `query:"coordinator_id" doc:"Only the workers of this coordinator"`
	PageParams
}

type workerPageOutput struct{ Body Page[WorkerOut] }

func (s *Server) listWorkers(ctx context.Context, in *listWorkersInput) (*workerPageOutput, error) {
	f := store.WorkerFilter{Status: in.Status}
	if in.CoordinatorID != uuid.Nil {
		f.CoordinatorID = &in.CoordinatorID
	}
	items, total, err := s.store.ListWorkers(ctx, principalFrom(ctx).OrgID, f, in.Limit, in.Offset())
	if err != nil {
		return nil, err
	}
	return &workerPageOutput{Body: pageOf(mapSlice(items, workerOut), total, in.PageParams)}, nil
}

type workerIDInput struct {
	ID uuid.UUID `path:"id"`
}

type workerOutput struct{ Body WorkerOut }

func (s *Server) getWorker(ctx context.Context, in *workerIDInput) (*workerOutput, error) {
	w, err := s.store.Worker(ctx, principalFrom(ctx).OrgID, in.ID)
	if err != nil {
		return nil, err
	}
	return &workerOutput{Body: workerOut(w)}, nil
}

type createWorkerInput struct {
	Body struct {
		Name           string          `json:"name" minLength:"1" maxLength:"100"`
		CoordinatorID  *uuid.UUID      `json:"coordinator_id,omitempty" doc:"The host it runs on"`
		AgentTypes     []AgentTypeName `json:"agent_types,omitempty" maxItems:"20" doc:"The agent types it runs; every type of the catalogue when omitted"`
		MaxConcurrency int             `json:"max_concurrency,omitempty" minimum:"1" maximum:"64" default:"1" doc:"Tasks it runs at once"`
	}
}

// CreatedWorker is a new worker with its token, shown only here.
type CreatedWorker struct {
	WorkerOut
	Token string `json:"token" doc:"The worker's bearer token (mw_...): store it now, it is never shown again"`
}

type createdWorkerOutput struct{ Body CreatedWorker }

func (s *Server) createWorker(ctx context.Context, in *createWorkerInput) (*createdWorkerOutput, error) {
	p := principalFrom(ctx)
	types := agentTypeNames(in.Body.AgentTypes)
	if len(types) == 0 {
		types = domain.AgentTypes()
	}
	for i, t := range types {
		if err := domain.CheckAgentType(fmt.Sprintf("body.agent_types[%d]", i), t); err != nil {
			return nil, err
		}
	}
	slices.Sort(types)
	types = slices.Compact(types)
	concurrency := in.Body.MaxConcurrency
	if concurrency == 0 {
		concurrency = 1
	}
	token, hash := auth.NewOpaqueToken(auth.WorkerPrefix)
	w, err := s.store.CreateWorker(ctx, p.OrgID, store.NewWorker{Name: in.Body.Name, CoordinatorID: in.Body.CoordinatorID,
		AgentTypes: types, MaxConcurrency: concurrency, TokenHash: hash, CreatedBy: p.UserID})
	if err != nil {
		return nil, err
	}
	return &createdWorkerOutput{Body: CreatedWorker{WorkerOut: workerOut(w), Token: token}}, nil
}

func (s *Server) deleteWorker(ctx context.Context, in *workerIDInput) (*struct{}, error) {
	released, err := s.store.RevokeWorker(ctx, principalFrom(ctx).OrgID, in.ID)
	if err != nil {
		return nil, err
	}
	if released > 0 {
		s.log.InfoContext(ctx, "revoked worker's tasks requeued", "request_id", requestIDFrom(ctx), "worker_id", in.ID, "tasks", released)
	}
	return nil, nil
}
