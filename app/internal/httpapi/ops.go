package httpapi

import (
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/gin-gonic/gin"

	"github.com/miyabi/miyabi/app/internal/domain"
	"github.com/miyabi/miyabi/app/internal/metrics"
	"github.com/miyabi/miyabi/app/internal/opscheck"
)

// observe records every request's route template, status and duration for the metrics.
// It runs outside the other middleware so refusals (413, 403 origin) count too.
func (s *Server) observe(c *gin.Context) {
	start := time.Now()
	c.Next()
	s.metrics.ObserveRequest(metrics.Route(c.Request.Method, c.FullPath(), c.Request.URL.Path, APIPrefix), c.Writer.Status(), time.Since(start))
}

// Operators run the service rather than an organization: they are named by GitHub id in
// OPERATOR_GITHUB_IDS. The routes are person routes whose handlers check that list.
func (s *Server) registerOps() {
	tags := []string{"ops"}
	op(s, huma.Operation{
		OperationID: "ops-health", Method: http.MethodGet, Path: "/ops/health", Tags: tags,
		Summary:     "Deep health check (operators)",
		Description: "The database and pool, migrations at the version this build expects, secrets loaded, the sweeper's last run. 503 when any is not ok. Operators only (OPERATOR_GITHUB_IDS); others get 403.",
		Responses:   map[string]*huma.Response{"503": {Description: "A check is not ok; the body says which"}},
	}, permPerson, s.opsHealth)
	op(s, huma.Operation{
		OperationID: "ops-metrics", Method: http.MethodGet, Path: "/ops/metrics", Tags: tags,
		Summary:     "Operational figures (operators)",
		Description: "This process's request and claim totals since it started (per route template: requests by status class, p50/p99), the pool, and from the database the claimable queue per agent type and the workers online. Operators only.",
	}, permPerson, s.opsMetrics)
}

func (s *Server) requireOperator(ctx context.Context) error {
	p := principalFrom(ctx)
	u, err := s.store.UserByID(ctx, p.UserID)
	if err != nil {
		return err
	}
	if !slices.Contains(s.cfg.OperatorGitHubIDs, u.GitHubID) {
		return domain.Errorf(domain.CodeForbidden, "Operators only: GitHub account %d is not in OPERATOR_GITHUB_IDS.", u.GitHubID)
	}
	return nil
}

type opsHealthOutput struct {
	Status int
	Body   opscheck.Report
}

func (s *Server) opsHealth(ctx context.Context, _ *struct{}) (*opsHealthOutput, error) {
	if err := s.requireOperator(ctx); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	r := opscheck.Run(ctx, s.cfg, s.store, s.deps.Version)
	out := &opsHealthOutput{Status: http.StatusOK, Body: r}
	if r.Status != opscheck.OK {
		out.Status = http.StatusServiceUnavailable
	}
	return out, nil
}

// QueueOut is one agent type's claimable queue.
type QueueOut struct {
	AgentType            string  `json:"agent_type"`
	Depth                int     `json:"depth" doc:"Tasks a worker could claim now"`
	OldestClaimableAgeS  float64 `json:"oldest_claimable_age_seconds" doc:"How long the longest-waiting claimable task has waited"`
	WorkersOnlineForType int     `json:"workers_online" doc:"Live workers that take this agent type"`
}

// PoolOut is the database pool of this process.
type PoolOut struct {
	InUse         int32   `json:"in_use"`
	Total         int32   `json:"total"`
	Max           int32   `json:"max"`
	Acquires      int64   `json:"acquires"`
	Waits         int64   `json:"waits" doc:"Acquisitions that found no free connection"`
	Canceled      int64   `json:"canceled" doc:"Acquisitions given up at the request deadline (503s)"`
	MeanAcquireMS float64 `json:"mean_acquire_ms"`
}

// OpsMetrics is what /ops/metrics answers.
type OpsMetrics struct {
	Process       metrics.Snapshot `json:"process"`
	Pool          PoolOut          `json:"pool"`
	Queue         []QueueOut       `json:"queue"`
	WorkersOnline int              `json:"workers_online"`
}

type opsMetricsOutput struct{ Body OpsMetrics }

func (s *Server) opsMetrics(ctx context.Context, _ *struct{}) (*opsMetricsOutput, error) {
	if err := s.requireOperator(ctx); err != nil {
		return nil, err
	}
	queue, online, err := s.store.QueueFigures(ctx)
	if err != nil {
		return nil, err
	}
	ps := metrics.FromPgx(s.store.PoolStat())
	out := &opsMetricsOutput{Body: OpsMetrics{
		Process: s.metrics.Snapshot(), WorkersOnline: online, Queue: make([]QueueOut, len(queue)),
		Pool: PoolOut{InUse: ps.InUse, Total: ps.Total, Max: ps.Max, Acquires: ps.Acquires, Waits: ps.EmptyAcquires, Canceled: ps.Canceled},
	}}
	if ps.Acquires > 0 {
		out.Body.Pool.MeanAcquireMS = float64(ps.AcquireTime.Microseconds()/ps.Acquires) / 1000
	}
	for i, q := range queue {
		out.Body.Queue[i] = QueueOut{AgentType: q.AgentType, Depth: q.Depth,
			OldestClaimableAgeS: float64(int64(q.OldestAge.Seconds()*10)) / 10, WorkersOnlineForType: q.WorkersOnline}
	}
	return out, nil
}

// Metrics is the registry the API records into (the Lambda flushes it per invocation).
func (s *Server) Metrics() *metrics.Registry { return s.metrics }

// DeepCheck runs the operators' health check (the Lambda's {"action":"health"}).
func (s *Server) DeepCheck(ctx context.Context) opscheck.Report {
	return opscheck.Run(ctx, s.cfg, s.store, s.deps.Version)
}
