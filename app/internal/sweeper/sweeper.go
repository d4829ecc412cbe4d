// Package sweeper returns expired task leases to the queue and purges what has outlived
// its use (idempotency keys after 24 h, spent OAuth states, rate-limit windows, audit
// entries past retention): a goroutine in the local server, the {"action":"sweep"}
// entry point on Lambda, where the sweep also delivers the GitHub issue comments and
// the notifications that are due (jobs the Lambda adds). Each sweep also reports the
// queue (its depth and the age of the oldest claimable task per agent type, and the
// workers online) and stamps its run, with each job's figures, for the operators.
//
// A sweep is a list of jobs run one after the other. One failing (an error, or a panic)
// never stops the next: its error is logged with the job's name ("sweep failed",
// job=...), counted in the metrics (SweepJobErrors) and recorded in sweeper_jobs, which
// GET /api/v1/ops/metrics answers.
package sweeper

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/miyabi/miyabi/app/internal/metrics"
	"github.com/miyabi/miyabi/app/internal/store"
)

// The jobs' names, in the order a sweep runs them (the Lambda's deliveries come
// between the purge and the queue figures).
const (
	JobRequeueLeases = "requeue_leases" // items: tasks put back in the queue (or failed, retries spent)
	JobPurge         = "purge"          // items: rows deleted
	JobIssueComments = "issue_comments" // items: comments delivered; failed: comments GitHub did not take
	JobNotifications = "notifications"  // items: notifications delivered; failed: attempts retrying or failed for good
	JobQueueFigures  = "queue_figures"  // items: agent types reported
	JobRecord        = "record"         // items: jobs recorded (its own failure is only in the log and the metrics)
)

// Counts is what a job handled and, among it, what failed and will be retried.
type Counts struct{ Items, Failed int }

// Job is one job of a sweep.
type Job struct {
	Name string
	Run  func(context.Context) (Counts, error)
}

// Result is one job's outcome in a sweep.
type Result struct {
	Job string
	Counts
	Err error
}

// Report is one sweep: each job's result, in the order they ran.
type Report struct {
	Jobs []Result
}

// Job returns the named job's result (ok false when the sweep did not run it).
func (r Report) Job(name string) (Result, bool) {
	for _, j := range r.Jobs {
		if j.Job == name {
			return j, true
		}
	}
	return Result{}, false
}

// Requeued is how many tasks the lease sweep moved.
func (r Report) Requeued() int {
	j, _ := r.Job(JobRequeueLeases)
	return j.Items
}

// Err joins the errors of the sweep's own work: requeueing, purging and recording. The
// deliveries and the queue figures are retried by the next sweep; their errors are
// counted and logged, and never fail the sweep.
func (r Report) Err() error {
	var errs []error
	for _, j := range r.Jobs {
		if j.Err != nil && (j.Job == JobRequeueLeases || j.Job == JobPurge || j.Job == JobRecord) {
			errs = append(errs, j.Err)
		}
	}
	return errors.Join(errs...)
}

// Run sweeps every interval until ctx ends.
func Run(ctx context.Context, st *store.Store, interval time.Duration, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			_, _ = Once(ctx, st, nil, log)
		}
	}
}

// Once runs one sweep: it requeues expired leases, purges, runs the extra jobs (the
// Lambda's deliveries) and, with m, reads the queue figures; then it records the run
// and each job's figures, and writes the metrics to m (nil: none). Every job runs
// whatever the others did. The error is Report.Err.
func Once(ctx context.Context, st *store.Store, m *metrics.Registry, log *slog.Logger, extra ...Job) (Report, error) {
	jobs := []Job{
		{JobRequeueLeases, func(ctx context.Context) (Counts, error) {
			n, err := st.SweepExpiredLeases(ctx)
			if n > 0 {
				log.InfoContext(ctx, "sweep requeued expired leases", "tasks", n)
			}
			return Counts{Items: n}, err
		}},
		{JobPurge, func(ctx context.Context) (Counts, error) {
			p, err := st.PurgeExpired(ctx)
			if p != (store.Purged{}) {
				log.InfoContext(ctx, "sweep purged expired rows", "idempotency_keys", p.IdempotencyKeys, "oauth_states", p.OAuthStates,
					"rate_limit_windows", p.RateLimitWindows, "audit_events", p.AuditEvents)
			}
			return Counts{Items: int(p.IdempotencyKeys + p.OAuthStates + p.RateLimitWindows + p.AuditEvents)}, err
		}},
	}
	jobs = append(jobs, extra...)
	var (
		queue  []store.QueueFigures
		online int
	)
	if m != nil {
		jobs = append(jobs, Job{JobQueueFigures, func(ctx context.Context) (Counts, error) {
			var err error
			queue, online, err = st.QueueFigures(ctx)
			return Counts{Items: len(queue)}, err
		}})
	}
	var rep Report
	for _, j := range jobs {
		rep.Jobs = append(rep.Jobs, runJob(ctx, j, log))
	}
	recorded := make([]store.SweepJob, len(rep.Jobs))
	for i, r := range rep.Jobs {
		recorded[i] = store.SweepJob{Job: r.Job, Items: r.Items, Failed: r.Failed}
		if r.Err != nil {
			msg := r.Err.Error()
			recorded[i].Error = &msg
		}
	}
	rep.Jobs = append(rep.Jobs, runJob(ctx, Job{JobRecord, func(ctx context.Context) (Counts, error) {
		return Counts{Items: len(recorded)}, st.RecordSweep(ctx, rep.Requeued(), rep.Err(), recorded)
	}}, log))
	if m != nil {
		qr, _ := rep.Job(JobQueueFigures)
		EmitFigures(m, rep, queue, online, qr.Err == nil)
	}
	return rep, rep.Err()
}

// runJob runs one job; a panic is the job's error, not the sweep's end.
func runJob(ctx context.Context, j Job, log *slog.Logger) (r Result) {
	r.Job = j.Name
	defer func() {
		if p := recover(); p != nil {
			r.Err = fmt.Errorf("%s: panic: %v", j.Name, p)
		}
		switch {
		case r.Err != nil:
			log.WarnContext(ctx, "sweep failed", "job", j.Name, "error", r.Err.Error(), "items", r.Items, "failed", r.Failed)
		case r.Failed > 0:
			log.WarnContext(ctx, "sweep job had failures", "job", j.Name, "items", r.Items, "failed", r.Failed)
		}
	}()
	var err error
	r.Counts, err = j.Run(ctx)
	if err != nil {
		r.Err = fmt.Errorf("%s: %w", j.Name, err)
	}
	return r
}

// EmitFigures writes one sweep's metrics: the run, what it requeued and each job's
// items, failed items and error always; the queue and workers when they were read.
func EmitFigures(m *metrics.Registry, rep Report, queue []store.QueueFigures, online int, haveQueue bool) {
	svc := map[string]string{metrics.DimService: metrics.ServiceName}
	values := map[string]any{metrics.MetricSweepRuns: 1, metrics.MetricTasksRequeued: rep.Requeued()}
	units := map[string]string{metrics.MetricOldestClaimable: metrics.UnitSeconds}
	if haveQueue {
		depth, oldest := 0, 0.0
		for _, q := range queue {
			depth += q.Depth
			oldest = max(oldest, q.OldestAge.Seconds())
		}
		values[metrics.MetricWorkersOnline] = online
		values[metrics.MetricQueueDepth] = depth
		values[metrics.MetricOldestClaimable] = round(oldest)
	}
	m.Emit(svc, units, values)
	for _, j := range rep.Jobs {
		errs := 0
		if j.Err != nil {
			errs = 1
		}
		m.Emit(map[string]string{metrics.DimJob: j.Job}, nil, map[string]any{
			metrics.MetricSweepJobItems: j.Items, metrics.MetricSweepJobItemsFailed: j.Failed, metrics.MetricSweepJobErrors: errs,
		})
		if j.Job == JobIssueComments { // the figures the dashboard showed before the per-job ones
			m.Emit(svc, nil, map[string]any{metrics.MetricIssueCommentsSent: j.Items, metrics.MetricIssueCommentRunsFailed: errs})
		}
	}
	if !haveQueue {
		return
	}
	for _, q := range queue {
		m.Emit(map[string]string{metrics.DimAgentType: q.AgentType}, units, map[string]any{
			metrics.MetricQueueDepth:      q.Depth,
			metrics.MetricOldestClaimable: round(q.OldestAge.Seconds()),
			metrics.MetricWorkersOnline:   q.WorkersOnline,
		})
	}
}

func round(s float64) float64 { return float64(int64(s*10)) / 10 }
