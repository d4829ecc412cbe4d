package lambdafn_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/miyabi/miyabi/app/internal/poll"
	"github.com/miyabi/miyabi/app/internal/testdb"
)

// The emulator (and the bootstrap under it) killed in the middle of an invoke: that
// invoke fails, and the next invoke works on a fresh process, as Lambda would start one.
func TestEmulatorKilledMidInvoke(t *testing.T) {
	dbURL := testdb.URL(t)
	env := productionEnv(dbURL)
	env["JWT_SIGNING_KEY"] = jwtKey
	env["TOKEN_ENCRYPTION_KEY"] = encKey
	env["GITHUB_CLIENT_SECRET"] = githubSecret
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)

	first := startEmulator(t, env)
	if resp := call(t, first, event{method: "GET", path: "/api/v1/health"}); resp.StatusCode != http.StatusOK {
		t.Fatalf("health before: %d", resp.StatusCode)
	}
	// hold the tasks table so a sweep blocks inside the function
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `LOCK TABLE tasks IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := first.Invoke(ctx, map[string]string{"action": "sweep"})
		done <- err
	}()
	// wait until the sweep is really waiting on the lock, then kill everything
	poll.Until(t, 10*time.Second, "the sweep to wait on the lock in the database", func() bool {
		var waiting int
		_ = pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query ILIKE '%tasks%'`).Scan(&waiting)
		return waiting > 0
	})
	first.Stop()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("the killed invoke reported success")
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the killed invoke never returned")
	}
	_ = tx.Rollback(ctx)

	second := startEmulator(t, env)
	if resp := call(t, second, event{method: "GET", path: "/api/v1/health"}); resp.StatusCode != http.StatusOK {
		t.Fatalf("health on the fresh process: %d", resp.StatusCode)
	}
	inv, err := second.Invoke(ctx, map[string]string{"action": "sweep"})
	if err != nil || inv.FunctionError != nil || !strings.Contains(string(inv.Body), "ok") {
		t.Fatalf("sweep on the fresh process: %v %s", err, inv.Body)
	}
}
