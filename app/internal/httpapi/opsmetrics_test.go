package httpapi_test

import (
	"bytes"
	"context"
	"log/slog"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/miyabi/miyabi/app/internal/apitest"
	"github.com/miyabi/miyabi/app/internal/config"
	"github.com/miyabi/miyabi/app/internal/domain"
	"github.com/miyabi/miyabi/app/internal/fakegithub"
	"github.com/miyabi/miyabi/app/internal/metrics"
	"github.com/miyabi/miyabi/app/internal/metrics/emfcheck"
	"github.com/miyabi/miyabi/app/internal/sweeper"
	"github.com/miyabi/miyabi/app/internal/testdb"
)

// operator names login as an operator (OPERATOR_GITHUB_IDS).
func operator(login string) apitest.Option {
	return func(c *config.Config) { c.OperatorGitHubIDs = []int64{fakegithub.UserID(login)} }
}

// withOwner starts the API (as miyabi_app, like every test) over a database whose
// owner the test also holds, for what the API's role may not do (disable a trigger).
func withOwner(t *testing.T, opts ...apitest.Option) (*apitest.Env, *pgxpool.Pool) {
	t.Helper()
	url := testdb.OwnerURL(t)
	return apitest.NewOn(t, testdb.PoolAt(t, testdb.AsApp(url)), opts...), testdb.PoolAt(t, url)
}

// backdate makes a task look claimable (or changed) since ago: updated_at is what the
// queue age reads, and its trigger would reset it, so the update skips triggers (as
// the owner: the API's role cannot).
func backdate(t *testing.T, owner *pgxpool.Pool, task uuid.UUID, ago time.Duration) {
	t.Helper()
	ctx := context.Background()
	err := pgx.BeginFunc(ctx, owner, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `ALTER TABLE tasks DISABLE TRIGGER tasks_updated_at`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE tasks SET updated_at = now() - make_interval(secs => $2) WHERE id = $1`, task, ago.Seconds()); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `ALTER TABLE tasks ENABLE TRIGGER tasks_updated_at`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// taskID creates a task through the API and returns its id.
func taskID(t *testing.T, c *apitest.Client, body map[string]any) uuid.UUID {
	t.Helper()
	return newTask(t, c, body).ID
}

func near(got, want, tol float64) bool { return math.Abs(got-want) <= tol }

// The queue figures, with tasks claimable for known durations: only claimable tasks
// count (pending, agent type set, dependencies done), across every organization; the
// oldest age is the longest wait; workers online are counted per agent type. The sweep
// writes them as EMF and /ops/metrics answers the same.
func TestQueueFiguresWithKnownAges(t *testing.T) {
	env, owner := withOwner(t, operator("olga"))
	alice, bob := env.Login("alice"), env.Login("bob")

	a := taskID(t, alice, map[string]any{"name": "a", "agent_type": "codegen"})
	backdate(t, owner, a, 10*time.Minute)
	backdate(t, owner, taskID(t, alice, map[string]any{"name": "b", "agent_type": "codegen"}), 2*time.Minute)
	backdate(t, owner, taskID(t, bob, map[string]any{"name": "other org", "agent_type": "codegen"}), 5*time.Minute)
	backdate(t, owner, taskID(t, alice, map[string]any{"name": "r", "agent_type": "review"}), 30*time.Second)
	// not claimable: waits on a, manual work, cancelled
	backdate(t, owner, taskID(t, alice, map[string]any{"name": "after a", "agent_type": "codegen", "depends_on": []uuid.UUID{a}}), time.Hour)
	backdate(t, owner, taskID(t, alice, map[string]any{"name": "manual"}), time.Hour)
	gone := taskID(t, alice, map[string]any{"name": "gone", "agent_type": "codegen"})
	alice.Do("POST", "/tasks/"+gone.String()+"/cancel", nil).Expect(200)
	backdate(t, owner, gone, time.Hour)

	w := registerWorker(t, alice, map[string]any{"name": "box", "agent_types": []string{"codegen"}})
	asWorker(env, w.Token).Do("POST", "/worker/heartbeat", map[string]any{}).Expect(200)
	registerWorker(t, alice, map[string]any{"name": "never-seen", "agent_types": []string{"review"}}) // no heartbeat: offline

	var out bytes.Buffer
	m := metrics.New(metrics.Namespace("test"), &out)
	if _, err := sweeper.Once(context.Background(), env.Store, m, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	docs, err := emfcheck.Lines(out.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	one := func(name string, dims map[string]string) emfcheck.Metric {
		t.Helper()
		got := emfcheck.Find(docs, name, dims)
		if len(got) != 1 || len(got[0].Values) != 1 {
			t.Fatalf("%s %v: %d metrics in\n%s", name, dims, len(got), out.String())
		}
		if got[0].Namespace != "Miyabi/test" {
			t.Errorf("%s: namespace %q", name, got[0].Namespace)
		}
		return got[0]
	}
	codegen := map[string]string{"AgentType": "codegen"}
	if m := one("OldestClaimableAge", codegen); !near(m.Values[0], 600, 5) || m.Unit != "Seconds" {
		t.Errorf("codegen oldest claimable age: %v %s, want ~600 Seconds", m.Values, m.Unit)
	}
	if m := one("QueueDepth", codegen); m.Values[0] != 3 {
		t.Errorf("codegen queue depth %v, want 3 (a, b and the other organization's)", m.Values)
	}
	if m := one("WorkersOnline", codegen); m.Values[0] != 1 {
		t.Errorf("codegen workers online %v, want 1", m.Values)
	}
	review := map[string]string{"AgentType": "review"}
	if m := one("OldestClaimableAge", review); !near(m.Values[0], 30, 5) {
		t.Errorf("review oldest claimable age %v, want ~30", m.Values)
	}
	if m := one("WorkersOnline", review); m.Values[0] != 0 {
		t.Errorf("review workers online %v, want 0 (never heartbeated)", m.Values)
	}
	if m := one("QueueDepth", map[string]string{"AgentType": "pr"}); m.Values[0] != 0 {
		t.Errorf("pr queue depth %v, want 0", m.Values)
	}
	svc := map[string]string{"Service": "miyabi"}
	if m := one("OldestClaimableAge", svc); !near(m.Values[0], 600, 5) {
		t.Errorf("service oldest claimable age %v, want ~600", m.Values)
	}
	if m := one("QueueDepth", svc); m.Values[0] != 4 {
		t.Errorf("service queue depth %v, want 4", m.Values)
	}
	if m := one("SweepRuns", svc); m.Values[0] != 1 {
		t.Errorf("sweep runs %v", m.Values)
	}
	if m := one("WorkersOnline", svc); m.Values[0] != 1 {
		t.Errorf("workers online %v", m.Values)
	}

	olga := env.Login("olga")
	var figures struct {
		Queue []struct {
			AgentType     string  `json:"agent_type"`
			Depth         int     `json:"depth"`
			Age           float64 `json:"oldest_claimable_age_seconds"`
			WorkersOnline int     `json:"workers_online"`
		} `json:"queue"`
		WorkersOnline int `json:"workers_online"`
	}
	olga.Do("GET", "/ops/metrics", nil).Expect(200).JSON(&figures)
	found := false
	for _, q := range figures.Queue {
		if q.AgentType == "codegen" {
			found = true
			if q.Depth != 3 || !near(q.Age, 600, 5) || q.WorkersOnline != 1 {
				t.Errorf("/ops/metrics codegen: %+v", q)
			}
		}
	}
	if !found || figures.WorkersOnline != 1 {
		t.Errorf("/ops/metrics: %+v", figures)
	}
}

// The operator routes: operators only; a member of every organization, owner included,
// is refused; nobody signed in is 401.
func TestOpsRoutesOperatorsOnly(t *testing.T) {
	env := apitest.New(t, operator("olga"))
	alice := env.Login("alice")
	for _, path := range []string{"/ops/health", "/ops/metrics"} {
		p := alice.Do("GET", path, nil).Problem(403)
		if !strings.Contains(p.Detail, "OPERATOR_GITHUB_IDS") || p.RequestID == "" {
			t.Errorf("%s as an owner: %+v", path, p)
		}
		env.Anonymous().Do("GET", path, nil).Expect(401)
	}
	env.Login("olga").Do("GET", "/ops/metrics", nil).Expect(200)
}

// The deep health check says what is wrong: a sweeper that never ran or stopped is 503
// with the sweeper named; after a sweep, everything is ok and migrations are at the
// version this build embeds.
func TestOpsHealth(t *testing.T) {
	// the local server's default interval: stale after 3 minutes (3 sweeps, at least 3 minutes)
	env := apitest.New(t, operator("olga"), func(c *config.Config) { c.SweepInterval = 15 * time.Second })
	olga := env.Login("olga")
	type report struct {
		Status     string `json:"status"`
		Database   struct{ Status string }
		Migrations struct {
			Status            string
			Current, Expected int64
		}
		Secrets struct{ Status string }
		Sweeper struct {
			Status     string
			AgeSeconds float64 `json:"age_seconds"`
		}
	}
	var r report
	olga.Do("GET", "/ops/health", nil).Expect(503).JSON(&r)
	if r.Status != "degraded" || r.Sweeper.Status != "never" || r.Database.Status != "ok" || r.Secrets.Status != "ok" {
		t.Fatalf("before any sweep: %+v", r)
	}
	if _, err := sweeper.Once(context.Background(), env.Store, nil, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	olga.Do("GET", "/ops/health", nil).Expect(200).JSON(&r)
	if r.Status != "ok" || r.Sweeper.Status != "ok" || r.Migrations.Status != "ok" || r.Migrations.Current != r.Migrations.Expected || r.Migrations.Expected < 19 {
		t.Fatalf("after a sweep: %+v", r)
	}
	if _, err := env.DB.Exec(context.Background(), `UPDATE sweeper_runs SET last_run_at = now() - interval '10 minutes'`); err != nil {
		t.Fatal(err)
	}
	olga.Do("GET", "/ops/health", nil).Expect(503).JSON(&r)
	if r.Sweeper.Status != "stale" || !near(r.Sweeper.AgeSeconds, 600, 5) {
		t.Fatalf("stale sweeper: %+v", r)
	}
}

// Request figures carry the route template: a path with an id or a token never
// becomes a route name.
func TestRequestFiguresUseRouteTemplates(t *testing.T) {
	env := apitest.New(t, operator("olga"))
	alice := env.Login("alice")
	id := uuid.NewString()
	alice.Do("GET", "/tasks/"+id, nil).Expect(404)
	alice.Do("GET", "/tasks/"+id, nil).Expect(404)
	alice.Do("GET", "/tasks", nil).Expect(200)
	env.Anonymous().Do("GET", "/no-such-route/tok_SECRETSECRET", nil).Expect(404)
	env.Anonymous().Do("GET", "/auth/me", nil).Expect(401)

	var figures struct {
		Process struct {
			Routes []struct {
				Route    string           `json:"route"`
				Requests int64            `json:"requests"`
				ByClass  map[string]int64 `json:"by_status_class"`
				P99      float64          `json:"p99_ms"`
			} `json:"routes"`
		} `json:"process"`
	}
	resp := env.Login("olga").Do("GET", "/ops/metrics", nil).Expect(200)
	resp.JSON(&figures)
	if bytes.Contains(resp.Body, []byte(id)) || bytes.Contains(resp.Body, []byte("SECRET")) {
		t.Fatalf("a raw path leaked into the figures: %s", resp.Body)
	}
	got := map[string]map[string]int64{}
	for _, r := range figures.Process.Routes {
		got[r.Route] = r.ByClass
		if r.Requests > 0 && r.P99 <= 0 {
			t.Errorf("%s: p99 %v", r.Route, r.P99)
		}
	}
	for route, want := range map[string]map[string]int64{
		"GET /tasks/{id}": {"4xx": 2}, "GET /tasks": {"2xx": 1}, "unmatched": {"4xx": 1}, "GET /auth/me": {"4xx": 1},
	} {
		for class, n := range want {
			if got[route][class] != n {
				t.Errorf("%s %s: %d, want %d (all: %v)", route, class, got[route][class], n, got)
			}
		}
	}
}

// sweepJobJSON is one job of /ops/metrics' sweep.
type sweepJobJSON struct {
	Job         string     `json:"job"`
	Items       int        `json:"items"`
	Failed      int        `json:"failed"`
	Error       *string    `json:"error"`
	Runs        int64      `json:"runs"`
	ItemsTotal  int64      `json:"items_total"`
	FailedTotal int64      `json:"failed_total"`
	ErrorsTotal int64      `json:"errors_total"`
	LastError   *string    `json:"last_error"`
	LastErrorAt *time.Time `json:"last_error_at"`
}

func sweepJobs(t *testing.T, c *apitest.Client) (map[string]sweepJobJSON, *time.Time) {
	t.Helper()
	var figures struct {
		Sweep struct {
			LastRunAt *time.Time     `json:"last_run_at"`
			Jobs      []sweepJobJSON `json:"jobs"`
		} `json:"sweep"`
	}
	c.Do("GET", "/ops/metrics", nil).Expect(200).JSON(&figures)
	out := map[string]sweepJobJSON{}
	for _, j := range figures.Sweep.Jobs {
		out[j.Job] = j
	}
	return out, figures.Sweep.LastRunAt
}

// A sweep whose first job fails still runs every other job: the lease sweep is refused
// by the database, a delivery job panics, and still the purge deletes, the other
// delivery and the queue figures run, and the run is recorded. Each job's items, failed
// items and error are in /ops/metrics (last run and totals), in the EMF lines (per Job)
// and in the log with the job's name; the next sweep, healthy again, keeps the totals
// and the last error.
func TestSweepJobFailureDoesNotStopTheOthers(t *testing.T) {
	env, owner := withOwner(t, operator("olga"))
	ctx := context.Background()
	alice, olga := env.Login("alice"), env.Login("olga")

	if jobs, last := sweepJobs(t, olga); len(jobs) != 0 || last != nil {
		t.Fatalf("before any sweep: %v %v", jobs, last)
	}
	// an expired lease to requeue, an idempotency key to purge
	w := registerWorker(t, alice, map[string]any{"name": "w", "agent_types": []string{"codegen"}})
	task := taskID(t, alice, map[string]any{"name": "leased", "agent_type": "codegen"})
	if got := claim(t, asWorker(env, w.Token), map[string]any{}); len(got) != 1 {
		t.Fatalf("claimed %d tasks", len(got))
	}
	if _, err := owner.Exec(ctx, `UPDATE tasks SET lease_expires_at = now() - interval '1 minute' WHERE id = $1`, task); err != nil {
		t.Fatal(err)
	}
	alice.Do("POST", "/tasks", map[string]any{"name": "idem"}, "Idempotency-Key", "old").Expect(201)
	if _, err := env.DB.Exec(ctx, `UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = 'old'`); err != nil {
		t.Fatal(err)
	}
	// the lease sweep's UPDATE is refused
	if _, err := owner.Exec(ctx, `REVOKE UPDATE ON tasks FROM miyabi_app`); err != nil {
		t.Fatal(err)
	}

	var logs, out bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	m := metrics.New(metrics.Namespace("test"), &out)
	delivered := false
	comments := sweeper.Job{Name: sweeper.JobIssueComments, Run: func(context.Context) (sweeper.Counts, error) {
		delivered = true
		return sweeper.Counts{Items: 2, Failed: 1}, nil
	}}
	broken := sweeper.Job{Name: sweeper.JobNotifications, Run: func(context.Context) (sweeper.Counts, error) {
		panic("the notifier broke")
	}}
	rep, err := sweeper.Once(ctx, env.Store, m, log, broken, comments)
	if err == nil || !strings.Contains(err.Error(), "requeue_leases") || !strings.Contains(err.Error(), "permission denied") {
		t.Fatalf("sweep error %v, want the lease sweep's", err)
	}
	var names []string
	for _, j := range rep.Jobs {
		names = append(names, j.Job)
	}
	if want := "requeue_leases purge notifications issue_comments queue_figures record"; strings.Join(names, " ") != want {
		t.Fatalf("jobs ran %v, want %s", names, want)
	}
	if !delivered {
		t.Fatal("the job after the panicking one did not run")
	}
	if n := countRows(t, env, `SELECT count(*) FROM idempotency_keys WHERE key = 'old'`); n != 0 {
		t.Fatal("the purge did not run after the lease sweep failed")
	}
	for _, want := range []string{`msg="sweep failed" job=requeue_leases`, `msg="sweep failed" job=notifications error="notifications: panic: the notifier broke"`,
		`msg="sweep job had failures" job=issue_comments items=2 failed=1`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the log lacks %s:\n%s", want, logs.String())
		}
	}

	// EMF: per job, its items, failed items and error
	docs, err := emfcheck.Lines(out.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	metric := func(name, job string) float64 {
		t.Helper()
		got := emfcheck.Find(docs, name, map[string]string{"Job": job})
		if len(got) != 1 || len(got[0].Values) != 1 || got[0].Unit != "Count" {
			t.Fatalf("%s Job=%s: %+v in\n%s", name, job, got, out.String())
		}
		return got[0].Values[0]
	}
	for _, c := range []struct {
		job                 string
		items, failed, errs float64
	}{
		{"requeue_leases", 0, 0, 1}, {"purge", 1, 0, 0}, {"notifications", 0, 0, 1},
		{"issue_comments", 2, 1, 0}, {"queue_figures", float64(len(domain.AgentTypes())), 0, 0}, {"record", 5, 0, 0},
	} {
		if got := [3]float64{metric("SweepJobItems", c.job), metric("SweepJobItemsFailed", c.job), metric("SweepJobErrors", c.job)}; got != [3]float64{c.items, c.failed, c.errs} {
			t.Errorf("EMF %s: items, failed, errors %v, want %v", c.job, got, [3]float64{c.items, c.failed, c.errs})
		}
	}
	if got := emfcheck.Find(docs, "IssueCommentsSent", map[string]string{"Service": "miyabi"}); len(got) != 1 || got[0].Values[0] != 2 {
		t.Errorf("IssueCommentsSent %+v", got)
	}

	// /ops/metrics: the recorded run
	jobs, last := sweepJobs(t, olga)
	if last == nil {
		t.Fatal("no sweep recorded")
	}
	rq := jobs["requeue_leases"]
	if rq.Error == nil || !strings.Contains(*rq.Error, "permission denied") || rq.ErrorsTotal != 1 || rq.Runs != 1 || rq.LastErrorAt == nil {
		t.Errorf("/ops/metrics requeue_leases: %+v", rq)
	}
	if n := jobs["notifications"]; n.Error == nil || !strings.Contains(*n.Error, "panic") || n.ErrorsTotal != 1 {
		t.Errorf("/ops/metrics notifications: %+v", n)
	}
	if c := jobs["issue_comments"]; c.Items != 2 || c.Failed != 1 || c.FailedTotal != 1 || c.Error != nil || c.ErrorsTotal != 0 {
		t.Errorf("/ops/metrics issue_comments: %+v", c)
	}
	if p := jobs["purge"]; p.Items != 1 || p.Error != nil {
		t.Errorf("/ops/metrics purge: %+v", p)
	}
	if _, ok := jobs["record"]; ok || len(jobs) != 5 {
		t.Errorf("/ops/metrics jobs: %+v (the record is the row itself)", jobs)
	}

	// healthy again: the lease is requeued, the totals add up, the last error stays
	if _, err := owner.Exec(ctx, `GRANT UPDATE ON tasks TO miyabi_app`); err != nil {
		t.Fatal(err)
	}
	if _, err := sweeper.Once(ctx, env.Store, nil, slog.New(slog.DiscardHandler), comments); err != nil {
		t.Fatal(err)
	}
	jobs, _ = sweepJobs(t, olga)
	rq = jobs["requeue_leases"]
	if rq.Items != 1 || rq.Error != nil || rq.Runs != 2 || rq.ItemsTotal != 1 || rq.ErrorsTotal != 1 || rq.LastError == nil {
		t.Errorf("/ops/metrics requeue_leases after a good sweep: %+v", rq)
	}
	if c := jobs["issue_comments"]; c.Runs != 2 || c.ItemsTotal != 4 || c.FailedTotal != 2 {
		t.Errorf("/ops/metrics issue_comments totals: %+v", c)
	}
	if n := jobs["notifications"]; n.Runs != 1 || n.Error == nil {
		t.Errorf("notifications did not run in the second sweep, and keeps its last run: %+v", n)
	}
}
