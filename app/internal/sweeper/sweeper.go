// Package sweeper returns expired task leases to the queue and purges what has outlived
// its use (idempotency keys after 24 h, spent OAuth states, rate-limit windows, audit
// entries past retention): a goroutine in the local server, the {"action":"sweep"}
// entry point on Lambda. Each sweep also stamps its run
// (the operators' health check reads it) and reports the queue: its depth and the age
// of the oldest claimable task per agent type, and the workers online.
package sweeper

import (
	"context"
	"log/slog"
	"time"

	"github.com/miyabi/miyabi/app/internal/metrics"
	"github.com/miyabi/miyabi/app/internal/store"
)

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

// Once sweeps, records the run and writes the queue figures to m (nil: none). It
// returns how many tasks it moved.
func Once(ctx context.Context, st *store.Store, m *metrics.Registry, log *slog.Logger) (int, error) {
	n, err := st.SweepExpiredLeases(ctx)
	if err != nil {
		log.WarnContext(ctx, "sweep failed", "error", err)
	} else if n > 0 {
		log.InfoContext(ctx, "sweep requeued expired leases", "tasks", n)
	}
	if err == nil {
		var p store.Purged
		if p, err = st.PurgeExpired(ctx); err != nil {
			log.WarnContext(ctx, "purge failed", "error", err)
		} else if p != (store.Purged{}) {
			log.InfoContext(ctx, "sweep purged expired rows", "idempotency_keys", p.IdempotencyKeys, "oauth_states", p.OAuthStates,
				"rate_limit_windows", p.RateLimitWindows, "audit_events", p.AuditEvents)
		}
	}
	if rerr := st.RecordSweep(ctx, n, err); rerr != nil {
		log.WarnContext(ctx, "sweep record failed", "error", rerr)
	}
	if err != nil {
		return n, err
	}
	if m == nil {
		return n, nil
	}
	queue, online, qerr := st.QueueFigures(ctx)
	if qerr != nil {
		// the sweep itself worked; the figures are missing for this minute
		log.WarnContext(ctx, "queue figures failed", "error", qerr)
	}
	EmitFigures(m, n, queue, online, qerr == nil)
	return n, nil
}

// EmitFigures writes one sweep's metrics: the run and what it requeued always; the
// queue and workers when they were read.
func EmitFigures(m *metrics.Registry, requeued int, queue []store.QueueFigures, online int, haveQueue bool) {
	svc := map[string]string{metrics.DimService: metrics.ServiceName}
	values := map[string]any{metrics.MetricSweepRuns: 1, metrics.MetricTasksRequeued: requeued}
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
