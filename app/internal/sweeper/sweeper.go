// Package sweeper returns expired task leases to the queue: a goroutine in the local
// server, the {"action":"sweep"} entry point on Lambda.
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
		}
	}
}
