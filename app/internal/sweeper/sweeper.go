// Package sweeper returns expired task leases to the queue and purges what has outlived
// its use (idempotency keys after 24 h, spent OAuth states, rate-limit windows, audit
// entries past retention): a goroutine in the local server, the {"action":"sweep"}
// entry point on Lambda.
package sweeper

import (
	"context"
	"log/slog"
	"time"

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
			if n, err := st.SweepExpiredLeases(ctx); err != nil {
				log.Warn("sweep failed", "error", err)
			} else if n > 0 {
				log.Info("sweep requeued expired leases", "tasks", n)
			}
			if p, err := st.PurgeExpired(ctx); err != nil {
				log.Warn("purge failed", "error", err)
			} else if p != (store.Purged{}) {
				log.Info("sweep purged expired rows", "idempotency_keys", p.IdempotencyKeys, "oauth_states", p.OAuthStates,
					"rate_limit_windows", p.RateLimitWindows, "audit_events", p.AuditEvents)
			}
		}
	}
}
