package lambdafn_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/miyabi/miyabi/app/internal/metrics/emfcheck"
	"github.com/miyabi/miyabi/app/internal/poll"
	"github.com/miyabi/miyabi/app/internal/testdb"
)

// The real bootstrap under the emulator writes EMF lines to its output for each
// invocation: requests by route template (never the raw path), the sweep's queue
// figures and its jobs' figures, the migration's outcome. Errors carry API Gateway's request id. As on AWS,
// the API runs as miyabi_app and the migrations on a function of their own as the
// owner; the API's role cannot migrate, and that failure is counted too.
func TestEmulatorWritesEMF(t *testing.T) {
	ownerURL := testdb.OwnerURL(t)
	withKeys := func(env map[string]string) map[string]string {
		env["JWT_SIGNING_KEY"] = jwtKey
		env["TOKEN_ENCRYPTION_KEY"] = encKey
		env["GITHUB_CLIENT_SECRET"] = githubSecret
		return env
	}
	e := startEmulator(t, withKeys(productionEnv(testdb.AsApp(ownerURL))))
	migrator := startEmulator(t, withKeys(productionEnv(ownerURL)))
	ctx := context.Background()

	id := uuid.NewString()
	ev := event{method: "GET", path: "/api/v1/tasks/" + id}
	payload := ev.payload()
	inv, err := e.Invoke(ctx, payload)
	if err != nil {
		t.Fatal(err)
	}
	var resp struct {
		StatusCode int    `json:"statusCode"`
		Body       string `json:"body"`
	}
	if err := json.Unmarshal(inv.Body, &resp); err != nil {
		t.Fatal(err)
	}
	var problem struct {
		RequestID string `json:"request_id"`
	}
	_ = json.Unmarshal([]byte(resp.Body), &problem)
	if resp.StatusCode != http.StatusUnauthorized || problem.RequestID != payload.RequestContext.RequestID {
		t.Fatalf("unsigned GET /tasks/{id}: %d %s; want 401 with request_id %s", resp.StatusCode, resp.Body, payload.RequestContext.RequestID)
	}
	// an event the API cannot read is answered by the function itself, still with the id
	bad := event{method: "POST", path: "/api/v1/tasks", body: []byte("%%%not base64"), base64: true}.payload()
	inv, err = e.Invoke(ctx, bad)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(inv.Body), bad.RequestContext.RequestID) {
		t.Fatalf("unreadable event: %s; want request_id %s", inv.Body, bad.RequestContext.RequestID)
	}
	call(t, e, event{method: "GET", path: "/api/v1/no-such/tok_SECRETSECRET"})
	call(t, e, event{method: "GET", path: "/api/v1/health"})
	if inv, err := e.Invoke(ctx, map[string]string{"action": "sweep"}); err != nil || inv.FunctionError != nil {
		t.Fatalf("sweep: %v %s", err, inv.Body)
	}
	if inv, err := migrator.Invoke(ctx, map[string]string{"action": "migrate"}); err != nil || inv.FunctionError != nil {
		t.Fatalf("migrate as the owner: %v %s", err, inv.Body)
	}
	if inv, err := e.Invoke(ctx, map[string]string{"action": "migrate"}); err != nil || inv.FunctionError == nil {
		t.Fatalf("migrate as miyabi_app succeeded: %v %s", err, inv.Body)
	}
	inv, err = e.Invoke(ctx, map[string]string{"action": "health"})
	if err != nil || inv.FunctionError != nil {
		t.Fatalf("health action: %v %s", err, inv.Body)
	}
	var report struct {
		Status  string `json:"status"`
		Sweeper struct {
			Status string `json:"status"`
		} `json:"sweeper"`
		Migrations struct {
			Status string `json:"status"`
		} `json:"migrations"`
	}
	if err := json.Unmarshal(inv.Body, &report); err != nil || report.Status != "ok" || report.Sweeper.Status != "ok" || report.Migrations.Status != "ok" {
		t.Fatalf("health action after a sweep: %v %s", err, inv.Body)
	}

	want := []struct {
		name string
		dims map[string]string
	}{
		{"Requests", map[string]string{"Route": "GET /tasks/{id}", "StatusClass": "4xx"}},
		{"Latency", map[string]string{"Route": "GET /tasks/{id}"}},
		{"Requests", map[string]string{"Route": "unmatched", "StatusClass": "4xx"}},
		{"Requests", map[string]string{"Route": "GET /health", "StatusClass": "2xx"}},
		{"Requests", map[string]string{"StatusClass": "2xx"}},
		{"PoolAcquires", map[string]string{"Service": "miyabi"}},
		{"SweepRuns", map[string]string{"Service": "miyabi"}},
		// the sweep's jobs, each with its own figures (the Lambda's add the notifications)
		{"SweepJobItems", map[string]string{"Job": "requeue_leases"}},
		{"SweepJobErrors", map[string]string{"Job": "purge"}},
		{"SweepJobItemsFailed", map[string]string{"Job": "notifications"}},
		{"SweepJobErrors", map[string]string{"Job": "record"}},
		{"OldestClaimableAge", map[string]string{"AgentType": "codegen"}},
		{"MigrationFailures", map[string]string{"Service": "miyabi"}},
	}
	var docs []emfcheck.Doc
	missing := ""
	poll.Until(t, 10*time.Second, "the EMF metrics in the function's output", func() bool {
		if docs, err = emfcheck.Lines([]byte(e.Output())); err != nil {
			t.Fatal(err)
		}
		missing = ""
		for _, w := range want {
			if len(emfcheck.Find(docs, w.name, w.dims)) == 0 {
				missing = w.name + " " + mustJSON(w.dims)
			}
		}
		return missing == ""
	})
	for _, d := range docs {
		b, _ := json.Marshal(d.Root)
		if strings.Contains(string(b), id) || strings.Contains(string(b), "SECRET") {
			t.Fatalf("a raw path in an EMF line: %s", b)
		}
		for _, m := range d.Metrics {
			if m.Namespace != "Miyabi/production" {
				t.Fatalf("namespace %q", m.Namespace)
			}
		}
	}
	if m := emfcheck.Find(docs, "Latency", map[string]string{"Route": "GET /tasks/{id}"}); m[0].Unit != "Milliseconds" || m[0].Values[0] <= 0 {
		t.Fatalf("latency %+v", m[0])
	}
	if m := emfcheck.Find(docs, "MigrationFailures", map[string]string{"Service": "miyabi"}); len(m) != 1 || m[0].Values[0] != 1 {
		t.Fatalf("the API function's refused migration: %+v", m)
	}
	// the migrate function's own output: one run, no failure
	var mdocs []emfcheck.Doc
	poll.Until(t, 10*time.Second, "MigrationRuns in the migrate function's output", func() bool {
		if mdocs, err = emfcheck.Lines([]byte(migrator.Output())); err != nil {
			t.Fatal(err)
		}
		return len(emfcheck.Find(mdocs, "MigrationRuns", map[string]string{"Service": "miyabi"})) > 0
	})
	if m := emfcheck.Find(mdocs, "MigrationFailures", map[string]string{"Service": "miyabi"}); len(m) != 1 || m[0].Values[0] != 0 {
		t.Fatalf("migration failures %+v", m)
	}
}
