package httpapi_test

import (
	"crypto/rand"
	"math"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/miyabi/miyabi/app/internal/apitest"
	"github.com/miyabi/miyabi/app/internal/store"
)

type summaryJSON struct {
	Executions struct {
		Total    int            `json:"total"`
		ByStatus map[string]int `json:"by_status"`
	} `json:"executions"`
	Tasks struct {
		ByStatus map[string]int `json:"by_status"`
	} `json:"tasks"`
	Repositories int `json:"repositories"`
	PRsCreated   int `json:"prs_created"`
	Workers      struct {
		Online  int `json:"online"`
		Busy    int `json:"busy"`
		Offline int `json:"offline"`
	} `json:"workers"`
	SuccessRate    *float64 `json:"success_rate"`
	MeanDurationMS *float64 `json:"mean_duration_ms"`
}

// addWorker registers a worker straight in the database with a given last heartbeat.
func addWorker(t *testing.T, env *apitest.Env, org uuid.UUID, heartbeat *time.Time, types []string) uuid.UUID {
	t.Helper()
	if types == nil {
		types = []string{}
	}
	hash := make([]byte, 32)
	_, _ = rand.Read(hash)
	var id uuid.UUID
	if err := env.DB.QueryRow(t.Context(), `INSERT INTO workers (organization_id, name, token_hash, agent_types, last_heartbeat_at)
		VALUES ($1, 'w-'||substr(md5(random()::text),1,8), $2, $3, $4) RETURNING id`, org, hash, types, heartbeat).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

func TestDashboardSummary(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	org := alice.OrgID
	var empty summaryJSON
	alice.Do("GET", "/dashboard/summary", nil).Expect(200).JSON(&empty)
	if empty.Executions.Total != 0 || empty.SuccessRate != nil || empty.MeanDurationMS != nil || len(empty.Executions.ByStatus) != 5 {
		t.Fatalf("empty summary: %+v", empty)
	}

	repo := connectRepo(t, alice, "miyabi-demo/webapp")
	connectRepo(t, alice, "miyabi-demo/api-server")
	ls := make([]launchJSON, 5)
	for i := range ls {
		ls[i] = launchAgent(t, alice, repo.ID, "codegen")
	}
	now := time.Now()
	stale := now.Add(-5 * time.Minute)
	busy := addWorker(t, env, org, &now, nil)
	addWorker(t, env, org, &now, []string{"review"})
	addWorker(t, env, org, &stale, nil)
	addWorker(t, env, org, nil, nil)
	revoked := addWorker(t, env, org, &now, nil)
	exec(t, env, `UPDATE workers SET revoked_at = now() WHERE id = $1`, revoked)

	pr := 17
	// two completed (one with a PR, run times set to 2 s and 4 s: the counters follow completed_at), one failed, one running on a worker, one pending
	for i, l := range ls[:3] {
		moveTask(t, env, org, l.Task.ID, mvStart())
		if i == 2 {
			moveTask(t, env, org, l.Task.ID, mvFail())
			continue
		}
		m := mvComplete()
		if i == 0 {
			m.Result = &store.TaskResult{PRNumber: &pr}
		}
		moveTask(t, env, org, l.Task.ID, m)
		exec(t, env, `UPDATE agent_executions SET completed_at = started_at + make_interval(secs => $2) WHERE id = $1`, l.Execution.ID, 2*(i+1))
	}
	owner := busy
	moveTask(t, env, org, ls[3].Task.ID, store.Move{Action: "start", LeaseOwner: &owner, LeaseFor: time.Minute})

	var s summaryJSON
	alice.Do("GET", "/dashboard/summary", nil).Expect(200).JSON(&s)
	if s.Executions.Total != 5 || s.Executions.ByStatus["completed"] != 2 || s.Executions.ByStatus["failed"] != 1 ||
		s.Executions.ByStatus["running"] != 1 || s.Executions.ByStatus["pending"] != 1 || s.Executions.ByStatus["cancelled"] != 0 {
		t.Fatalf("executions: %+v", s.Executions)
	}
	if s.Tasks.ByStatus["completed"] != 2 || s.Tasks.ByStatus["running"] != 1 {
		t.Fatalf("tasks: %+v", s.Tasks)
	}
	if s.Repositories != 2 || s.PRsCreated != 1 {
		t.Fatalf("repositories %d, PRs %d", s.Repositories, s.PRsCreated)
	}
	if s.Workers.Online != 2 || s.Workers.Busy != 1 || s.Workers.Offline != 2 {
		t.Fatalf("workers: %+v", s.Workers)
	}
	if s.SuccessRate == nil || math.Abs(*s.SuccessRate-2.0/3) > 1e-9 {
		t.Fatalf("success rate %v, want 2/3", s.SuccessRate)
	}
	if s.MeanDurationMS == nil || math.Abs(*s.MeanDurationMS-3000) > 1 {
		t.Fatalf("mean duration %v ms, want 3000", s.MeanDurationMS)
	}

	// another organization sees none of it
	bob := env.Login("bob")
	var other summaryJSON
	bob.Do("GET", "/dashboard/summary", nil).Expect(200).JSON(&other)
	if other.Executions.Total != 0 || other.Repositories != 0 || other.Workers.Online != 0 {
		t.Fatalf("bob's summary shows alice's organization: %+v", other)
	}
}

func TestDashboardRecent(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	repo := connectRepo(t, alice, "miyabi-demo/webapp")
	var ids []uuid.UUID
	for range 3 {
		ids = append(ids, launchAgent(t, alice, repo.ID, "codegen").Execution.ID)
	}
	var r struct {
		Items []execJSON `json:"items"`
	}
	alice.Do("GET", "/dashboard/recent?limit=2", nil).Expect(200).JSON(&r)
	if len(r.Items) != 2 || r.Items[0].ID != ids[2] || r.Items[1].ID != ids[1] || *r.Items[0].RepositoryFullName != "miyabi-demo/webapp" {
		t.Fatalf("recent: %+v", r.Items)
	}
	alice.Do("GET", "/dashboard/recent?limit=101", nil).Problem(422)
	alice.Do("GET", "/dashboard/recent?limit=0", nil).Problem(422)
	bob := env.Login("bob")
	bob.Do("GET", "/dashboard/recent", nil).Expect(200).JSON(&r)
	if len(r.Items) != 0 {
		t.Fatalf("bob sees alice's executions: %+v", r.Items)
	}
}

func TestDashboardMetrics(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	repo := connectRepo(t, alice, "miyabi-demo/webapp")
	l := launchAgent(t, alice, repo.ID, "codegen")
	launchAgent(t, alice, repo.ID, "codegen")
	moveTask(t, env, alice.OrgID, l.Task.ID, mvStart())
	moveTask(t, env, alice.OrgID, l.Task.ID, mvFail())
	// an execution from three days ago lands in an older daily bucket, not the last 24 hours
	exec(t, env, `INSERT INTO agent_executions (organization_id, agent_type, status, created_at) VALUES ($1, 'review', 'completed', now() - interval '3 days')`, alice.OrgID)

	type metrics struct {
		Range  string `json:"range"`
		Bucket string `json:"bucket"`
		Points []struct {
			At        time.Time `json:"at"`
			Pending   int       `json:"pending"`
			Failed    int       `json:"failed"`
			Completed int       `json:"completed"`
			Total     int       `json:"total"`
		} `json:"points"`
	}
	cases := []struct {
		rng    string
		bucket string
		n      int
		total  int
	}{
		{"24h", "hour", 24, 2},
		{"7d", "day", 7, 3},
		{"30d", "day", 30, 3},
	}
	for _, tc := range cases {
		t.Run(tc.rng, func(t *testing.T) {
			var m metrics
			alice.Do("GET", "/dashboard/metrics?range="+tc.rng, nil).Expect(200).JSON(&m)
			if m.Bucket != tc.bucket || len(m.Points) != tc.n {
				t.Fatalf("%s: bucket %s with %d points", tc.rng, m.Bucket, len(m.Points))
			}
			sum := 0
			for i, p := range m.Points {
				sum += p.Total
				if i > 0 && !p.At.After(m.Points[i-1].At) {
					t.Fatalf("points out of order at %d", i)
				}
			}
			last := m.Points[len(m.Points)-1]
			if sum != tc.total || last.Pending != 1 || last.Failed != 1 {
				t.Fatalf("%s: total %d (want %d), last bucket %+v", tc.rng, sum, tc.total, last)
			}
			if time.Since(last.At) < 0 || time.Since(last.At) > 24*time.Hour {
				t.Fatalf("last bucket starts at %s", last.At)
			}
		})
	}
	var m metrics
	alice.Do("GET", "/dashboard/metrics", nil).Expect(200).JSON(&m)
	if m.Range != "24h" {
		t.Fatalf("default range %q", m.Range)
	}
	alice.Do("GET", "/dashboard/metrics?range=1y", nil).Problem(422)
}

func TestDashboardAndCataloguePermissions(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	viewer := memberOf(t, env, alice.OrgID, "victor", "viewer")
	for _, path := range []string{"/dashboard/summary", "/dashboard/recent", "/dashboard/metrics?range=7d", "/agents"} {
		viewer.Do("GET", path, nil).Expect(200)
		env.Anonymous().Do("GET", path, nil).Problem(401)
	}
	// a member without organization.read (a direct grant cannot remove one; a suspended member has none)
	exec(t, env, `UPDATE organization_members SET status = 'suspended' WHERE user_id = $1`, viewer.UserID)
	viewer.Do("GET", "/dashboard/summary", nil).Problem(403)
}

func TestAgentCatalogue(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	now := time.Now()
	stale := now.Add(-2 * time.Minute)
	addWorker(t, env, alice.OrgID, &now, nil)                           // runs everything
	addWorker(t, env, alice.OrgID, &now, []string{"codegen", "review"}) // two types
	addWorker(t, env, alice.OrgID, &stale, []string{"codegen"})         // offline
	bob := env.Login("bob")
	addWorker(t, env, bob.OrgID, &now, []string{"codegen"}) // another organization

	var cat struct {
		Items []struct {
			Type          string `json:"type"`
			Name          string `json:"name"`
			Description   string `json:"description"`
			Layer         string `json:"layer"`
			OnlineWorkers int    `json:"online_workers"`
		} `json:"items"`
	}
	alice.Do("GET", "/agents", nil).Expect(200).JSON(&cat)
	got := map[string]int{}
	for _, a := range cat.Items {
		if a.Description == "" || a.Layer == "" || a.Name == "" {
			t.Fatalf("agent without description or layer: %+v", a)
		}
		got[a.Type] = a.OnlineWorkers
	}
	for _, want := range []string{"coordinator", "codegen", "review", "issue", "pr", "deployment", "refresher"} {
		if _, ok := got[want]; !ok {
			t.Fatalf("catalogue lacks %s: %v", want, got)
		}
	}
	if got["codegen"] != 2 || got["review"] != 2 || got["pr"] != 1 || got["deployment"] != 1 {
		t.Fatalf("online workers per type: %v", got)
	}
}
