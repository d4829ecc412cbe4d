package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/miyabi/miyabi/app/internal/apitest"
	"github.com/miyabi/miyabi/app/internal/config"
	"github.com/miyabi/miyabi/app/internal/poll"
	"github.com/miyabi/miyabi/app/internal/store"
	"github.com/miyabi/miyabi/app/internal/testdb"
)

// The database restarts under a write load: while it is down the API answers 503 (never
// 500), it recovers by itself, and every write it acknowledged is there afterwards.
func TestDatabaseRestartUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("starts its own PostgreSQL")
	}
	cluster := testdb.StartCluster(t)
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, cluster.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if err := store.Migrate(ctx, pool, discardLog()); err != nil {
		t.Fatal(err)
	}
	env := apitest.NewOn(t, pool, func(c *config.Config) { c.RequestTimeout = 3 * time.Second })
	alice := env.Login("alice")
	org := newTeamOrg(t, alice, "Durable")

	var (
		mu       sync.Mutex
		acked    []string
		statuses = map[int]int{}
		seq      atomic.Int64
		stop     = make(chan struct{})
		wg       sync.WaitGroup
	)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				name := fmt.Sprintf("team-%d", seq.Add(1))
				r := alice.Do("POST", "/organizations/"+org.ID.String()+"/teams", map[string]any{"name": name})
				mu.Lock()
				statuses[r.Status]++
				if r.Status == http.StatusCreated {
					acked = append(acked, name)
				}
				mu.Unlock()
			}
		}()
	}
	count := func(status int) func() bool {
		return func() bool { mu.Lock(); defer mu.Unlock(); return statuses[status] > 0 }
	}
	ackedNow := func() int { mu.Lock(); defer mu.Unlock(); return len(acked) }
	poll.Until(t, 15*time.Second, "writes to be acknowledged before the outage", func() bool { return ackedNow() >= 5 })
	cluster.Stop()
	// while it is down, health says so, and writers get 503s
	env.Anonymous().Do("GET", "/health", nil).Expect(503)
	poll.Until(t, 15*time.Second, "a writer to get a 503 during the outage", count(http.StatusServiceUnavailable))
	cluster.Start()
	poll.Until(t, 15*time.Second, "the API to recover after the database came back", func() bool {
		return env.Anonymous().Do("GET", "/health", nil).Status == 200
	})
	before := ackedNow()
	poll.Until(t, 15*time.Second, "writes to succeed again", func() bool { return ackedNow() > before })
	close(stop)
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	t.Logf("statuses: %v, acknowledged: %d", statuses, len(acked))
	for status, n := range statuses {
		if status != http.StatusCreated && status != http.StatusServiceUnavailable {
			t.Errorf("%d answers with status %d; want only 201 or 503", n, status)
		}
	}
	if statuses[http.StatusServiceUnavailable] == 0 {
		t.Error("no 503 while the database was down")
	}
	rows, err := pool.Query(ctx, `SELECT name FROM teams WHERE organization_id = $1`, org.ID)
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for rows.Next() {
		var n string
		_ = rows.Scan(&n)
		have[n] = true
	}
	for _, name := range acked {
		if !have[name] {
			t.Errorf("acknowledged write %s is missing", name)
		}
	}
}

// With every connection taken, a request answers a clear 503 at the request timeout
// instead of hanging.
func TestPoolExhaustedAnswers503(t *testing.T) {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, testdb.URL(t)+"&pool_max_conns=1")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	env := apitest.NewOn(t, pool, func(c *config.Config) { c.RequestTimeout = time.Second })
	alice := env.Login("alice")
	held, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	p := alice.Do("GET", "/organizations", nil).Problem(503)
	if waited := time.Since(start); waited > 5*time.Second {
		t.Fatalf("hung for %s", waited)
	}
	if p.RequestID == "" {
		t.Fatalf("503 without a request id: %+v", p)
	}
	held.Release()
	alice.Do("GET", "/organizations", nil).Expect(200)
}
