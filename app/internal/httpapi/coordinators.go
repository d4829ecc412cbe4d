package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"github.com/miyabi/miyabi/app/internal/domain"
	"github.com/miyabi/miyabi/app/internal/store"
)

var (
	docListCoordinators = huma.Operation{OperationID: "list-coordinators", Tags: []string{"coordinators"},
		Summary:     "List the organization's coordinators (hosts)",
		Description: "Capacity is the sum of its workers' concurrency. Offline when none of its workers heartbeats, busy when those that do are all at capacity, online otherwise."}
	docGetCoordinator = huma.Operation{OperationID: "get-coordinator", Tags: []string{"coordinators"},
		Summary: "Get a coordinator with its workers"}
	docCreateCoordinator = huma.Operation{OperationID: "create-coordinator", Tags: []string{"coordinators"},
		Summary: "Register a coordinator (a host)", DefaultStatus: http.StatusCreated}
	docUpdateCoordinator = huma.Operation{OperationID: "update-coordinator", Tags: []string{"coordinators"},
		Summary: "Rename or re-host a coordinator"}
	docDeleteCoordinator = huma.Operation{OperationID: "delete-coordinator", Tags: []string{"coordinators"},
		Summary:       "Delete a coordinator",
		Description:   "Its workers keep running, without a coordinator.",
		DefaultStatus: http.StatusNoContent}
)

// CoordinatorOut is a host and what runs on it.
type CoordinatorOut struct {
	ID            uuid.UUID   `json:"id"`
	Name          string      `json:"name"`
	Host          string      `json:"host"`
	Status        string      `json:"status" enum:"online,busy,offline"`
	WorkerCount   int         `json:"worker_count"`
	OnlineWorkers int         `json:"online_workers" doc:"Workers that heartbeat (online or busy)"`
	Capacity      int         `json:"capacity" doc:"Sum of its workers' max_concurrency"`
	RunningTasks  int         `json:"running_tasks"`
	Workers       []WorkerOut `json:"workers,omitempty" doc:"Its workers (on GET /coordinators/{id} only)"`
	CreatedAt     time.Time   `json:"created_at"`
	UpdatedAt     time.Time   `json:"updated_at"`
}

func coordinatorOut(c store.Coordinator) CoordinatorOut {
	return CoordinatorOut{ID: c.ID, Name: c.Name, Host: c.Host, Status: c.Status, WorkerCount: c.WorkerCount,
		OnlineWorkers: c.OnlineWorkers, Capacity: c.Capacity, RunningTasks: c.RunningTasks,
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
}

type listCoordinatorsInput struct{ PageParams }

type coordinatorPageOutput struct{ Body Page[CoordinatorOut] }

func (s *Server) listCoordinators(ctx context.Context, in *listCoordinatorsInput) (*coordinatorPageOutput, error) {
	items, total, err := s.store.ListCoordinators(ctx, principalFrom(ctx).OrgID, in.Limit, in.Offset())
	if err != nil {
		return nil, err
	}
	return &coordinatorPageOutput{Body: pageOf(mapSlice(items, coordinatorOut), total, in.PageParams)}, nil
}

type coordinatorIDInput struct {
	ID uuid.UUID `path:"id"`
}

type coordinatorOutput struct{ Body CoordinatorOut }

// maxCoordinatorWorkers bounds the workers listed inside one coordinator.
const maxCoordinatorWorkers = 100

func (s *Server) getCoordinator(ctx context.Context, in *coordinatorIDInput) (*coordinatorOutput, error) {
	orgID := principalFrom(ctx).OrgID
	c, err := s.store.Coordinator(ctx, orgID, in.ID)
	if err != nil {
		return nil, err
	}
	workers, _, err := s.store.ListWorkers(ctx, orgID, store.WorkerFilter{CoordinatorID: &c.ID}, maxCoordinatorWorkers, 0)
	if err != nil {
		return nil, err
	}
	out := coordinatorOut(c)
	out.Workers = mapSlice(workers, workerOut)
	return &coordinatorOutput{Body: out}, nil
}

type createCoordinatorInput struct {
	Body struct {
		Name string `json:"name" minLength:"1" maxLength:"100"`
		Host string `json:"host" minLength:"1" maxLength:"255" doc:"The machine's host name"`
	}
}

func (s *Server) createCoordinator(ctx context.Context, in *createCoordinatorInput) (*coordinatorOutput, error) {
	c, err := s.store.CreateCoordinator(ctx, principalFrom(ctx).OrgID, in.Body.Name, in.Body.Host)
	if err != nil {
		return nil, err
	}
	return &coordinatorOutput{Body: coordinatorOut(c)}, nil
}

type updateCoordinatorInput struct {
	ID   uuid.UUID `path:"id"`
	Body struct {
		Name *string `json:"name,omitempty" minLength:"1" maxLength:"100"`
		Host *string `json:"host,omitempty" minLength:"1" maxLength:"255"`
	}
}

func (s *Server) updateCoordinator(ctx context.Context, in *updateCoordinatorInput) (*coordinatorOutput, error) {
	if in.Body.Name == nil && in.Body.Host == nil {
		return nil, domain.Invalid("body", "give name or host")
	}
	c, err := s.store.UpdateCoordinator(ctx, principalFrom(ctx).OrgID, in.ID, store.CoordinatorPatch{Name: in.Body.Name, Host: in.Body.Host})
	if err != nil {
		return nil, err
	}
	return &coordinatorOutput{Body: coordinatorOut(c)}, nil
}

func (s *Server) deleteCoordinator(ctx context.Context, in *coordinatorIDInput) (*struct{}, error) {
	return nil, s.store.DeleteCoordinator(ctx, principalFrom(ctx).OrgID, in.ID)
}
