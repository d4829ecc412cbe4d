package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/gin-gonic/gin"

	"github.com/miyabi/miyabi/app/internal/metrics"
	"github.com/miyabi/miyabi/app/internal/opscheck"
	"github.com/miyabi/miyabi/app/internal/store"
)

// observe records every request's route template, status and duration for the metrics.
// It runs outside the other middleware so refusals (413, 403 origin) count too.
func (s *Server) observe(c *gin.Context) {
	start := time.Now()
	c.Next()
	s.metrics.ObserveRequest(metrics.Route(c.Request.Method, c.FullPath(), c.Request.URL.Path, APIPrefix), c.Writer.Status(), time.Since(start))
}

// admitOperator lets in a person whose GitHub account is in OPERATOR_GITHUB_IDS (the
// operator guard); it answers 403 itself otherwise. Operators run the service rather
// than an organization, so no organization role makes one.
func (s *Server) admitOperator(hctx huma.Context, p *Principal) bool {
	u, err := s.store.UserByID(hctx.Context(), p.UserID)
	if err != nil {
		s.denyErr(hctx, err, "Your session has ended; sign in again.")
		return false
	}
	if !slices.Contains(s.cfg.OperatorGitHubIDs, u.GitHubID) {
		s.deny(hctx, http.StatusForbidden, fmt.Sprintf("Operators only: GitHub account %d is not in OPERATOR_GITHUB_IDS.", u.GitHubID))
		return false
	}
	return true
}

var (
	docOpsHealth = huma.Operation{
		OperationID: "ops-health", Tags: []string{"ops"},
		Summary:     "Deep health check (operators)",
		Description: "The database and pool, migrations at the version this build expects, secrets loaded, the sweeper's last run. 503 when any is not ok, with the same body saying which. Operators only (OPERATOR_GITHUB_IDS); others get 403.",
		Responses:   map[string]*huma.Response{"503": {Description: "A check is not ok; the body says which"}},
	}
	docOpsMetrics = huma.Operation{
		OperationID: "ops-metrics", Tags: []string{"ops"},
		Summary:     "Operational figures (operators)",
		Description: "This process's request and claim totals since it started (per route template: requests by status class, p50/p99), its database pool, and from the database the claimable queue per agent type and the workers online. Operators only (OPERATOR_GITHUB_IDS); others get 403.",
	}
)

type opsHealthOutput struct {
	Status int
	Body   opscheck.Report
}

func (s *Server) opsHealth(ctx context.Context, _ *struct{}) (*opsHealthOutput, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	r := s.DeepCheck(ctx)
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
	queue, online, err := s.store.QueueFigures(ctx)
	if err != nil {
		return nil, err
	}
	ps := s.store.Stats()
	out := &opsMetricsOutput{Body: OpsMetrics{
		Process: s.metrics.Snapshot(), WorkersOnline: online, Queue: make([]QueueOut, len(queue)),
		Pool: PoolOut{InUse: ps.Acquired, Total: ps.Total, Max: ps.Max, Acquires: ps.Acquires, Waits: ps.EmptyAcquires, Canceled: ps.CanceledAcquires},
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

// FlushMetrics writes what the registry gathered since the last flush, with the pool's
// counters as they are now.
func (s *Server) FlushMetrics() { s.metrics.Flush(poolFigures(s.store.Stats())) }

func poolFigures(ps store.PoolStats) *metrics.PoolStat {
	return &metrics.PoolStat{Acquires: ps.Acquires, EmptyAcquires: ps.EmptyAcquires, Canceled: ps.CanceledAcquires,
		AcquireTime: ps.AcquireTime, InUse: ps.Acquired, Total: ps.Total, Max: ps.Max}
}

// DeepCheck runs the operators' health check (the Lambda's {"action":"health"}).
func (s *Server) DeepCheck(ctx context.Context) opscheck.Report {
	return opscheck.Run(ctx, s.cfg, s.store, s.deps.Version)
}
