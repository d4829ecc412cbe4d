package httpapi_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/miyabi/miyabi/app/internal/apitest"
	"github.com/miyabi/miyabi/app/internal/store"
)

func TestExecuteValidation(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	bob := env.Login("bob")
	repo := connectRepo(t, alice, "miyabi-demo/webapp")
	bobRepo := connectRepo(t, bob, "bob/hello-world")
	body := func(mod func(map[string]any)) map[string]any {
		b := map[string]any{"repository_id": repo.ID, "issue_number": 3, "agent_type": "codegen"}
		mod(b)
		return b
	}
	cases := []struct {
		name   string
		body   any
		status int
		field  string
	}{
		{"unknown agent type", body(func(b map[string]any) { b["agent_type"] = "wizard" }), 422, "body.agent_type"},
		{"agent type missing", body(func(b map[string]any) { delete(b, "agent_type") }), 422, "agent_type"},
		{"issue number zero", body(func(b map[string]any) { b["issue_number"] = 0 }), 422, "issue_number"},
		{"issue number missing", body(func(b map[string]any) { delete(b, "issue_number") }), 422, "issue_number"},
		{"repository not a uuid", body(func(b map[string]any) { b["repository_id"] = "webapp" }), 422, "repository_id"},
		{"repository unknown", body(func(b map[string]any) { b["repository_id"] = uuid.New() }), 422, "body.repository_id"},
		{"repository of another organization", body(func(b map[string]any) { b["repository_id"] = bobRepo.ID }), 422, "body.repository_id"},
		{"bad priority option", body(func(b map[string]any) { b["options"] = map[string]any{"priority": "P9"} }), 422, "body.options.priority"},
		{"unknown field", body(func(b map[string]any) { b["status"] = "completed" }), 422, "status"},
		{"idempotency key too long", nil, 422, "Idempotency-Key"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var r *apitest.Response
			if tc.body == nil {
				r = alice.Do("POST", "/agents/execute", body(func(map[string]any) {}), "Idempotency-Key", strings.Repeat("k", 256))
			} else {
				r = alice.Do("POST", "/agents/execute", tc.body)
			}
			if p := r.Problem(tc.status); !p.Mentions(tc.field) {
				t.Fatalf("problem does not name %q: %+v", tc.field, p)
			}
		})
	}
	alice.Do("PATCH", "/repositories/"+repo.ID.String(), map[string]any{"is_active": false}).Expect(200)
	if p := alice.Do("POST", "/agents/execute", body(func(map[string]any) {})).Problem(409); !strings.Contains(p.Detail, "deactivated") {
		t.Fatalf("inactive repository: %+v", p)
	}
	if n := countRows(t, env, `SELECT count(*) FROM agent_executions`) + countRows(t, env, `SELECT count(*) FROM tasks`); n != 0 {
		t.Fatalf("refused launches left %d rows", n)
	}
}

func TestExecutePriorityAndOptions(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	repo := connectRepo(t, alice, "miyabi-demo/webapp")
	var l launchJSON
	alice.Do("POST", "/agents/execute", map[string]any{"repository_id": repo.ID, "issue_number": 12, "agent_type": "review",
		"options": map[string]any{"priority": "P0", "depth": "deep"}}).Expect(201).JSON(&l)
	if l.Task.Priority != "P0" || l.Execution.Options["depth"] != "deep" || *l.Execution.IssueNumber != 12 ||
		l.Task.Name != "review on miyabi-demo/webapp#12" || *l.Task.AgentType != "review" || *l.Task.RepositoryID != repo.ID {
		t.Fatalf("launch: %+v", l)
	}
}

func TestExecuteIdempotency(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	repo := connectRepo(t, alice, "miyabi-demo/webapp")
	body := map[string]any{"repository_id": repo.ID, "issue_number": 5, "agent_type": "codegen"}

	first := alice.Do("POST", "/agents/execute", body, "Idempotency-Key", "launch-5").Expect(201)
	// the same request again, fields in another order: the first answer, not a second launch
	again := alice.Do("POST", "/agents/execute", fmt.Sprintf(`{"agent_type":"codegen","issue_number":5,"repository_id":"%s"}`, repo.ID),
		"Idempotency-Key", "launch-5").Expect(201)
	var a, b launchJSON
	first.JSON(&a)
	again.JSON(&b)
	if a.Execution.ID != b.Execution.ID || a.Task.ID != b.Task.ID || again.Header.Get("Idempotent-Replayed") != "true" ||
		first.Header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("replay differs: %s vs %s (%v)", first.Body, again.Body, again.Header)
	}
	if n := countRows(t, env, `SELECT count(*) FROM agent_executions`); n != 1 {
		t.Fatalf("%d executions after a retried launch, want 1", n)
	}

	// the same key with another body is refused and launches nothing
	body["issue_number"] = 6
	p := alice.Do("POST", "/agents/execute", body, "Idempotency-Key", "launch-5").Problem(422)
	if !p.Mentions("Idempotency-Key") {
		t.Fatalf("problem does not name the key: %+v", p)
	}
	// another key, or another person with the same key, launches afresh
	alice.Do("POST", "/agents/execute", body, "Idempotency-Key", "launch-6").Expect(201)
	mia := memberOf(t, env, alice.OrgID, "mia", "member")
	r := mia.Do("POST", "/agents/execute", body, "Idempotency-Key", "launch-5").Expect(201)
	if r.Header.Get("Idempotent-Replayed") != "" {
		t.Fatal("another person's request replayed alice's answer")
	}
	if n := countRows(t, env, `SELECT count(*) FROM agent_executions`); n != 3 {
		t.Fatalf("%d executions, want 3", n)
	}
}

// Two copies of one request racing with the same key launch once; 50 launches with
// distinct keys racing all land, each with its task.
func TestExecuteConcurrency(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	repo := connectRepo(t, alice, "miyabi-demo/webapp")

	run := func(n int, key func(i int) string) []launchJSON {
		out := make([]launchJSON, n)
		var wg sync.WaitGroup
		errs := make(chan string, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := alice.Do("POST", "/agents/execute", map[string]any{"repository_id": repo.ID, "issue_number": 9, "agent_type": "codegen"},
					"Idempotency-Key", key(i))
				if r.Status != 201 {
					errs <- fmt.Sprintf("%d: %s", r.Status, r.Body)
					return
				}
				r.JSON(&out[i])
			}()
		}
		wg.Wait()
		close(errs)
		for e := range errs {
			t.Fatalf("concurrent launch failed: %s", e)
		}
		return out
	}

	same := run(10, func(int) string { return "one-launch" })
	for _, l := range same {
		if l.Execution.ID != same[0].Execution.ID {
			t.Fatalf("same key gave two executions: %s and %s", l.Execution.ID, same[0].Execution.ID)
		}
	}
	if n := countRows(t, env, `SELECT count(*) FROM agent_executions`); n != 1 {
		t.Fatalf("%d executions from one key, want 1", n)
	}

	distinct := run(50, func(i int) string { return fmt.Sprintf("launch-%d", i) })
	ids := map[uuid.UUID]bool{}
	for _, l := range distinct {
		ids[l.Execution.ID] = true
	}
	if len(ids) != 50 {
		t.Fatalf("%d distinct executions answered, want 50", len(ids))
	}
	if e, tk := countRows(t, env, `SELECT count(*) FROM agent_executions`), countRows(t, env, `SELECT count(*) FROM tasks`); e != 51 || tk != 51 {
		t.Fatalf("%d executions and %d tasks, want 51 each", e, tk)
	}
	var sum struct {
		Executions struct {
			Total int `json:"total"`
		} `json:"executions"`
	}
	alice.Do("GET", "/dashboard/summary", nil).Expect(200).JSON(&sum)
	if sum.Executions.Total != 51 {
		t.Fatalf("dashboard counts %d executions, want 51", sum.Executions.Total)
	}
}

func TestExecutionsListAndDetail(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	web := connectRepo(t, alice, "miyabi-demo/webapp")
	api := connectRepo(t, alice, "miyabi-demo/api-server")
	a := launchAgent(t, alice, web.ID, "codegen")
	b := launchAgent(t, alice, web.ID, "review")
	c := launchAgent(t, alice, api.ID, "codegen")
	moveTask(t, env, alice.OrgID, a.Task.ID, mvStart())
	pr, score, summary := 42, 91.5, "added the endpoint"
	moveTask(t, env, alice.OrgID, a.Task.ID, store.Move{Action: "complete", Result: &store.TaskResult{PRNumber: &pr, QualityScore: &score, Summary: &summary}})

	cases := []struct {
		name  string
		query string
		want  []uuid.UUID
	}{
		{"all, newest first", "", []uuid.UUID{c.Execution.ID, b.Execution.ID, a.Execution.ID}},
		{"by status", "?status=completed", []uuid.UUID{a.Execution.ID}},
		{"by agent type", "?agent_type=codegen", []uuid.UUID{c.Execution.ID, a.Execution.ID}},
		{"by repository", "?repository_id=" + web.ID.String(), []uuid.UUID{b.Execution.ID, a.Execution.ID}},
		{"combined", "?agent_type=codegen&status=pending", []uuid.UUID{c.Execution.ID}},
		{"paged", "?limit=1&page=2", []uuid.UUID{b.Execution.ID}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var page pageJSON[execJSON]
			alice.Do("GET", "/agents/executions"+tc.query, nil).Expect(200).JSON(&page)
			var got []uuid.UUID
			for _, e := range page.Items {
				got = append(got, e.ID)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
	for _, bad := range []string{"?status=done", "?repository_id=nope", "?limit=0", "?limit=101"} {
		alice.Do("GET", "/agents/executions"+bad, nil).Problem(422)
	}

	var e execJSON
	alice.Do("GET", "/agents/executions/"+a.Execution.ID.String(), nil).Expect(200).JSON(&e)
	if e.Status != "completed" || *e.PRNumber != 42 || *e.QualityScore != 91.5 || *e.Summary != summary ||
		*e.TaskID != a.Task.ID || *e.RepositoryFullName != "miyabi-demo/webapp" || e.CompletedAt == nil {
		t.Fatalf("detail: %+v", e)
	}
	alice.Do("GET", "/agents/executions/"+uuid.NewString(), nil).Problem(404)
}

func TestExecutionLogsByCursor(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	repo := connectRepo(t, alice, "miyabi-demo/webapp")
	l := launchAgent(t, alice, repo.ID, "codegen")
	other := launchAgent(t, alice, repo.ID, "review")
	for i := range 5 {
		exec(t, env, `INSERT INTO execution_logs (organization_id, execution_id, stream, message) VALUES ($1, $2, $3, $4), ($1, $5, 'stdout', 'other')`,
			alice.OrgID, l.Execution.ID, []string{"stdout", "stderr"}[i%2], fmt.Sprintf("line %d", i), other.Execution.ID)
	}
	type logs struct {
		Items []struct {
			ID      int64  `json:"id"`
			Stream  string `json:"stream"`
			Message string `json:"message"`
		} `json:"items"`
		NextAfter int64 `json:"next_after"`
	}
	var seen []string
	after := int64(0)
	for range 10 {
		var page logs
		alice.Do("GET", fmt.Sprintf("/agents/executions/%s/logs?after=%d&limit=2", l.Execution.ID, after), nil).Expect(200).JSON(&page)
		for _, it := range page.Items {
			if it.ID <= after {
				t.Fatalf("line %d not after the cursor %d", it.ID, after)
			}
			seen = append(seen, it.Message)
		}
		if len(page.Items) < 2 {
			if page.NextAfter != after && len(page.Items) == 0 {
				t.Fatalf("empty page moved the cursor to %d", page.NextAfter)
			}
			break
		}
		after = page.NextAfter
	}
	if strings.Join(seen, ",") != "line 0,line 1,line 2,line 3,line 4" {
		t.Fatalf("read %v", seen)
	}
	alice.Do("GET", "/agents/executions/"+l.Execution.ID.String()+"/logs?limit=1001", nil).Problem(422)
	alice.Do("GET", "/agents/executions/"+l.Execution.ID.String()+"/logs?after=-1", nil).Problem(422)
	alice.Do("GET", "/agents/executions/"+uuid.NewString()+"/logs", nil).Problem(404)
}

func TestCancelExecution(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	repo := connectRepo(t, alice, "miyabi-demo/webapp")
	pending := launchAgent(t, alice, repo.ID, "codegen")
	running := launchAgent(t, alice, repo.ID, "codegen")
	done := launchAgent(t, alice, repo.ID, "codegen")
	moveTask(t, env, alice.OrgID, running.Task.ID, mvStart())
	moveTask(t, env, alice.OrgID, done.Task.ID, mvStart())
	moveTask(t, env, alice.OrgID, done.Task.ID, mvComplete())

	for _, l := range []launchJSON{pending, running} {
		var e execJSON
		alice.Do("POST", "/agents/executions/"+l.Execution.ID.String()+"/cancel", nil).Expect(200).JSON(&e)
		if e.Status != "cancelled" {
			t.Fatalf("cancelled execution is %s", e.Status)
		}
		var task taskJSON
		alice.Do("GET", "/tasks/"+l.Task.ID.String(), nil).Expect(200).JSON(&task)
		// the worker of a running task sees this status on its next heartbeat
		if task.Status != "cancelled" || task.CancelledAt == nil {
			t.Fatalf("task after cancel: %+v", task)
		}
	}
	for _, l := range []launchJSON{done, pending} {
		p := alice.Do("POST", "/agents/executions/"+l.Execution.ID.String()+"/cancel", nil).Problem(409)
		if !strings.Contains(p.Detail, "completed") && !strings.Contains(p.Detail, "cancelled") {
			t.Fatalf("409 does not name the status: %+v", p)
		}
	}
	alice.Do("POST", "/agents/executions/"+uuid.NewString()+"/cancel", nil).Problem(404)
}

func TestExecutionsAcrossOrganizations(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	bob := env.Login("bob")
	repo := connectRepo(t, alice, "miyabi-demo/webapp")
	l := launchAgent(t, alice, repo.ID, "codegen")
	id := l.Execution.ID.String()
	bob.Do("GET", "/agents/executions/"+id, nil).Problem(404)
	bob.Do("GET", "/agents/executions/"+id+"/logs", nil).Problem(404)
	bob.Do("POST", "/agents/executions/"+id+"/cancel", nil).Problem(404)
	var page pageJSON[execJSON]
	bob.Do("GET", "/agents/executions", nil).Expect(200).JSON(&page)
	if page.Total != 0 {
		t.Fatalf("bob lists alice's executions: %+v", page)
	}
	var e execJSON
	alice.Do("GET", "/agents/executions/"+id, nil).Expect(200).JSON(&e)
	if e.Status != "pending" {
		t.Fatal("bob's refused cancel changed alice's execution")
	}
}

func TestExecutionPermissions(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	org := alice.OrgID
	web := connectRepo(t, alice, "miyabi-demo/webapp")
	api := connectRepo(t, alice, "miyabi-demo/api-server")
	viewer := memberOf(t, env, org, "victor", "viewer")
	member := memberOf(t, env, org, "mia", "member")
	lead := memberOf(t, env, org, "lena", "viewer")
	teamMember := memberOf(t, env, org, "tom", "viewer")
	team := teamWith(t, env, org, lead.UserID, "lead")
	exec(t, env, `INSERT INTO team_members (team_id, user_id, role) VALUES ($1, $2, 'member')`, team, teamMember.UserID)
	alice.Do("PATCH", "/repositories/"+web.ID.String(), map[string]any{"team_id": team}).Expect(200)
	onWeb := launchAgent(t, alice, web.ID, "codegen")
	onAPI := launchAgent(t, alice, api.ID, "codegen")
	launchBody := func(repo uuid.UUID) map[string]any {
		return map[string]any{"repository_id": repo, "issue_number": 1, "agent_type": "codegen"}
	}

	cases := []struct {
		name   string
		c      *apitest.Client
		method string
		path   string
		body   any
		status int
	}{
		{"viewer reads the catalogue", viewer, "GET", "/agents", nil, 200},
		{"viewer lists executions", viewer, "GET", "/agents/executions", nil, 200},
		{"viewer reads an execution", viewer, "GET", "/agents/executions/" + onAPI.Execution.ID.String(), nil, 200},
		{"viewer reads logs", viewer, "GET", "/agents/executions/" + onAPI.Execution.ID.String() + "/logs", nil, 200},
		{"viewer cannot launch", viewer, "POST", "/agents/execute", launchBody(api.ID), 403},
		{"viewer cannot cancel", viewer, "POST", "/agents/executions/" + onAPI.Execution.ID.String() + "/cancel", nil, 403},
		{"member launches", member, "POST", "/agents/execute", launchBody(api.ID), 201},
		{"viewer team lead launches on the team's repository", lead, "POST", "/agents/execute", launchBody(web.ID), 201},
		{"viewer team member launches on the team's repository", teamMember, "POST", "/agents/execute", launchBody(web.ID), 201},
		{"viewer team lead cannot launch elsewhere", lead, "POST", "/agents/execute", launchBody(api.ID), 403},
		{"viewer team member cannot cancel (no agents.stop)", teamMember, "POST", "/agents/executions/" + onWeb.Execution.ID.String() + "/cancel", nil, 403},
		{"viewer team lead cannot cancel elsewhere", lead, "POST", "/agents/executions/" + onAPI.Execution.ID.String() + "/cancel", nil, 403},
		{"viewer team lead cancels on the team's repository", lead, "POST", "/agents/executions/" + onWeb.Execution.ID.String() + "/cancel", nil, 200},
		{"member cancels", member, "POST", "/agents/executions/" + onAPI.Execution.ID.String() + "/cancel", nil, 200},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.c.Do(tc.method, tc.path, tc.body)
			if tc.status == 403 {
				r.Problem(403)
				return
			}
			r.Expect(tc.status)
		})
	}
	if n := countRows(t, env, `SELECT count(*) FROM agent_executions`); n != 5 {
		t.Fatalf("%d executions, want 5 (2 + 3 allowed launches)", n)
	}
}
