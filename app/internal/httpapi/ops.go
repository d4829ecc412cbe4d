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
		Description: "This process's request and claim totals since it started (per route template: requests by status class, p50/p99), its database pool, and from the database the claimable queue per agent type, the workers online and the sweep's jobs (each job's last run and totals: items handled, items failed, errors). Operators only (OPERATOR_GITHUB_IDS); others get 403.",
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

// SweepJobOut is one job of the sweep as the database recorded it: its last run and its
// totals since it was first recorded.
type SweepJobOut struct {
	Job         string     `json:"job" doc:"requeue_leases, purge, issue_comments, notifications (the AWS sweep), queue_figures (the AWS sweep)"`
	LastRunAt   time.Time  `json:"last_run_at"`
	Items       int        `json:"items" doc:"What its last run handled: tasks requeued, rows purged, comments or notifications delivered, agent types reported"`
	Failed      int        `json:"failed" doc:"Items its last run could not handle, retried later: comments GitHub did not take, notification attempts retrying or failed"`
	Error       *string    `json:"error" nullable:"true" doc:"The error its last run stopped on; null when it ran through"`
	Runs        int64      `json:"runs"`
	ItemsTotal  int64      `json:"items_total"`
	FailedTotal int64      `json:"failed_total"`
	ErrorsTotal int64      `json:"errors_total" doc:"Runs that stopped on an error"`
	LastError   *string    `json:"last_error" nullable:"true" doc:"The last error it ever stopped on, kept after it recovers"`
	LastErrorAt *time.Time `json:"last_error_at" nullable:"true"`
	Since       time.Time  `json:"since" doc:"When the totals started"`
}

// SweepOut is the sweep as recorded: when it last ran and each of its jobs.
type SweepOut struct {
	LastRunAt *time.Time    `json:"last_run_at" nullable:"true" doc:"null before the first sweep"`
	Requeued  int           `json:"requeued" doc:"Tasks the last sweep put back in the queue"`
	Error     *string       `json:"error" nullable:"true" doc:"The last sweep's own error (requeue or purge); null when it succeeded"`
	Jobs      []SweepJobOut `json:"jobs"`
}

// OpsMetrics is what /ops/metrics answers.
type OpsMetrics struct {
	Process       metrics.Snapshot `json:"process"`
	Pool          PoolOut          `json:"pool"`
	Queue         []QueueOut       `json:"queue"`
	WorkersOnline int              `json:"workers_online"`
	Sweep         SweepOut         `json:"sweep" doc:"The sweep's jobs, from the database: exact on every instance"`
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
	if out.Body.Sweep, err = s.sweepFigures(ctx); err != nil {
		return nil, err
	}
	return out, nil
}

// sweepFigures reads the last sweep and its jobs.
func (s *Server) sweepFigures(ctx context.Context) (SweepOut, error) {
	out := SweepOut{Jobs: []SweepJobOut{}}
	run, ok, err := s.store.LastSweep(ctx)
	if err != nil {
		return out, err
	}
	if ok {
		at := run.LastRunAt.UTC()
		out.LastRunAt, out.Requeued, out.Error = &at, run.Requeued, run.LastError
	}
	jobs, err := s.store.SweepJobs(ctx)
	if err != nil {
		return out, err
	}
	for _, j := range jobs {
		o := SweepJobOut{Job: j.Job, LastRunAt: j.LastRunAt.UTC(), Items: j.Items, Failed: j.Failed, Error: j.Error, Runs: j.Runs,
			ItemsTotal: j.ItemsTotal, FailedTotal: j.FailedTotal, ErrorsTotal: j.ErrorsTotal, LastError: j.LastError, Since: j.Since.UTC()}
		if j.LastErrorAt != nil {
			at := j.LastErrorAt.UTC()
			o.LastErrorAt = &at
		}
		out.Jobs = append(out.Jobs, o)
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
