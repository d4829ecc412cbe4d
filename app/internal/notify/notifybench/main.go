// Command notifybench measures notification delivery: it queues 10,000 signed-webhook
// deliveries in a migrated database and drains them with one and with two deliverers
// (the API process and a sweeper) into a local sink, then prints a table. bench/notify
// runs it on a fresh database of the throwaway cluster.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/miyabi/miyabi/app/internal/auth"
	"github.com/miyabi/miyabi/app/internal/notify"
	"github.com/miyabi/miyabi/app/internal/store"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "notifybench:", err)
		os.Exit(1)
	}
}

func run() error {
	dbURL := flag.String("db", "", "a migrated database")
	n := flag.Int("n", 10000, "deliveries queued per round")
	flag.Parse()
	ctx := context.Background()
	pool, err := store.OpenPool(ctx, *dbURL, 8)
	if err != nil {
		return err
	}
	defer pool.Close()
	st := store.New(pool)
	sealer, err := auth.NewSealer([]byte("notifybench-key-0123456789abcdef"))
	if err != nil {
		return err
	}
	var got atomic.Int64
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		got.Add(1)
	}))
	defer sink.Close()

	var orgID uuid.UUID
	if err := pool.QueryRow(ctx, `INSERT INTO organizations (name, slug) VALUES ('bench', 'notify-bench-' || substr(md5(random()::text), 1, 8)) RETURNING id`).Scan(&orgID); err != nil {
		return err
	}
	chID := uuid.New()
	if _, err := pool.Exec(ctx, `INSERT INTO notification_channels (id, organization_id, name, kind, target, secret_sealed, event_types)
		VALUES ($1, $2, 'sink', 'webhook', $3, $4, '{execution.completed}')`, chID, orgID, sink.URL+"/hook", sealer.Seal([]byte("mwhsec_bench"), chID[:])); err != nil {
		return err
	}
	fmt.Printf("notification delivery, %d signed webhooks a round to a local sink (pool 8, %d in flight per deliverer, %s)\n\n", *n, 32, time.Now().UTC().Format("2006-01-02"))
	fmt.Println("| deliverers | delivered | seconds | deliveries/s |")
	fmt.Println("|---|---|---|---|")
	for round, deliverers := range []int{1, 2} {
		if _, err := pool.Exec(ctx, `INSERT INTO notification_deliveries (organization_id, channel_id, event_type, event_key, payload)
			SELECT $1, $2, 'execution.completed', 'bench:' || $3::int || ':' || g,
				jsonb_build_object('execution_id', gen_random_uuid(), 'agent_type', 'codegen', 'status', 'completed',
					'repository', 'miyabi-demo/agent-playground', 'issue_number', g, 'pr_number', g, 'duration_seconds', 134)
			FROM generate_series(1, $4) g`, orgID, chID, round, *n); err != nil {
			return err
		}
		got.Store(0)
		start := time.Now()
		var wg sync.WaitGroup
		var delivered atomic.Int64
		for range deliverers {
			d := notify.New(notify.Options{Store: st, Sealer: sealer, Log: slog.New(slog.DiscardHandler),
				PublicURL: "http://127.0.0.1:8080", AllowPrivate: true})
			wg.Add(1)
			go func() {
				defer wg.Done()
				s, err := d.DeliverDue(ctx)
				if err != nil {
					fmt.Fprintln(os.Stderr, "deliver:", err)
				}
				delivered.Add(int64(s.Delivered))
			}()
		}
		wg.Wait()
		secs := time.Since(start).Seconds()
		if got.Load() != int64(*n) || delivered.Load() != int64(*n) {
			return fmt.Errorf("round %d: the sink got %d requests, %d recorded delivered, want %d", round, got.Load(), delivered.Load(), *n)
		}
		fmt.Printf("| %d | %d | %.2f | %.0f |\n", deliverers, delivered.Load(), secs, float64(*n)/secs)
	}
	return nil
}
