package httpapi_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/miyabi/miyabi/app/internal/apitest"
)

func newTask(t *testing.T, c *apitest.Client, body map[string]any) taskJSON {
	t.Helper()
	var task taskJSON
	c.Do("POST", "/tasks", body).Expect(201).JSON(&task)
	return task
}

// Every move of the state machine through the API, on manual work: legal moves land
// where api.md says, illegal ones are 409 naming the current status and change nothing.
func TestTaskStateMachineThroughTheAPI(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	// how to bring a fresh manual task into each status
	reach := map[string][]string{
		"pending":   nil,
		"running":   {"start"},
		"completed": {"start", "complete"},
		"failed":    {"start", "fail"},
		"cancelled": {"cancel"},
	}
	legal := map[string]string{ // "from action" -> to
		"pending start":    "running",
		"pending cancel":   "cancelled",
		"running complete": "completed",
		"running fail":     "failed",
		"running cancel":   "cancelled",
		"failed retry":     "pending",
	}
	for _, from := range []string{"pending", "running", "completed", "failed", "cancelled"} {
		for _, act := range []string{"start", "complete", "fail", "cancel", "retry"} {
			t.Run(from+" "+act, func(t *testing.T) {
				task := newTask(t, alice, map[string]any{"name": "write the changelog"})
				path := "/tasks/" + task.ID.String()
				for _, step := range reach[from] {
					alice.Do("POST", path+"/"+step, nil).Expect(200)
				}
				r := alice.Do("POST", path+"/"+act, nil)
				var after taskJSON
				want, ok := legal[from+" "+act]
				if !ok {
					p := r.Problem(409)
					if !strings.Contains(p.Detail, from) {
						t.Fatalf("409 does not name the current status %q: %s", from, p.Detail)
					}
					alice.Do("GET", path, nil).Expect(200).JSON(&after)
					if after.Status != from {
						t.Fatalf("refused move changed the status to %s", after.Status)
					}
					return
				}
				r.Expect(200).JSON(&after)
				if after.Status != want {
					t.Fatalf("%s %s -> %s, want %s", act, from, after.Status, want)
				}
				stamps := map[string]bool{"running": after.StartedAt != nil, "completed": after.CompletedAt != nil,
					"failed": after.FailedAt != nil && after.Error != nil, "cancelled": after.CancelledAt != nil, "pending": true}
				if !stamps[want] {
					t.Fatalf("moved to %s without its timestamp: %+v", want, after)
				}
				if act == "retry" && after.RetryCount != 1 {
					t.Fatalf("retry_count %d after a retry, want 1", after.RetryCount)
				}
			})
		}
	}
}

func TestTaskRetriesRunOut(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	task := newTask(t, alice, map[string]any{"name": "flaky job"})
	exec(t, env, `UPDATE tasks SET max_retries = 1 WHERE id = $1`, task.ID)
	path := "/tasks/" + task.ID.String()
	for _, step := range []string{"start", "fail", "retry", "start", "fail"} {
		alice.Do("POST", path+"/"+step, nil).Expect(200)
	}
	if p := alice.Do("POST", path+"/retry", nil).Problem(409); !strings.Contains(p.Detail, "retries") {
		t.Fatalf("spent retries: %+v", p)
	}
}

// Agent tasks are moved by their worker: people may cancel and retry them, not start,
// complete or fail them.
func TestAgentTasksAreMovedByWorkers(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	repo := connectRepo(t, alice, "miyabi-demo/webapp")
	l := launchAgent(t, alice, repo.ID, "codegen")
	path := "/tasks/" + l.Task.ID.String()
	for _, act := range []string{"start", "complete", "fail"} {
		p := alice.Do("POST", path+"/"+act, nil).Problem(409)
		if !strings.Contains(p.Detail, "codegen agent") || !strings.Contains(p.Detail, "pending") {
			t.Fatalf("%s on an agent task: %+v", act, p)
		}
	}
	moveTask(t, env, alice.OrgID, l.Task.ID, mvStart())
	moveTask(t, env, alice.OrgID, l.Task.ID, mvFail())
	var task taskJSON
	alice.Do("POST", path+"/retry", nil).Expect(200).JSON(&task)
	var e execJSON
	alice.Do("GET", "/agents/executions/"+l.Execution.ID.String(), nil).Expect(200).JSON(&e)
	if task.Status != "pending" || e.Status != "pending" {
		t.Fatalf("after retry: task %s, execution %s", task.Status, e.Status)
	}
	alice.Do("POST", path+"/cancel", nil).Expect(200).JSON(&task)
	alice.Do("GET", "/agents/executions/"+l.Execution.ID.String(), nil).Expect(200).JSON(&e)
	if task.Status != "cancelled" || e.Status != "cancelled" {
		t.Fatalf("after cancel: task %s, execution %s", task.Status, e.Status)
	}
}

func TestTaskListOrderFiltersAndStats(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	repo := connectRepo(t, alice, "miyabi-demo/webapp")
	p2 := newTask(t, alice, map[string]any{"name": "p2 old", "priority": "P2"})
	p1old := newTask(t, alice, map[string]any{"name": "p1 old"})
	p0 := newTask(t, alice, map[string]any{"name": "p0", "priority": "P0", "repository_id": repo.ID})
	p1new := newTask(t, alice, map[string]any{"name": "p1 new", "priority": "P1", "repository_id": repo.ID, "agent_type": "review", "issue_number": 4})
	alice.Do("POST", "/tasks/"+p1old.ID.String()+"/start", nil).Expect(200)

	cases := []struct {
		query string
		want  []uuid.UUID
	}{
		{"", []uuid.UUID{p0.ID, p1new.ID, p1old.ID, p2.ID}},
		{"?status=running", []uuid.UUID{p1old.ID}},
		{"?priority=P1", []uuid.UUID{p1new.ID, p1old.ID}},
		{"?repository_id=" + repo.ID.String(), []uuid.UUID{p0.ID, p1new.ID}},
		{"?agent_type=review", []uuid.UUID{p1new.ID}},
		{"?status=pending&priority=P2", []uuid.UUID{p2.ID}},
		{"?limit=2&page=2", []uuid.UUID{p1old.ID, p2.ID}},
	}
	for _, tc := range cases {
		t.Run("list"+tc.query, func(t *testing.T) {
			var page pageJSON[taskJSON]
			alice.Do("GET", "/tasks"+tc.query, nil).Expect(200).JSON(&page)
			var got []uuid.UUID
			for _, it := range page.Items {
				got = append(got, it.ID)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
	for _, bad := range []string{"?status=done", "?priority=P3", "?repository_id=x", "?page=0"} {
		alice.Do("GET", "/tasks"+bad, nil).Problem(422)
	}
	var st struct {
		Total      int            `json:"total"`
		ByStatus   map[string]int `json:"by_status"`
		ByPriority map[string]int `json:"by_priority"`
	}
	alice.Do("GET", "/tasks/stats", nil).Expect(200).JSON(&st)
	if st.Total != 4 || st.ByStatus["pending"] != 3 || st.ByStatus["running"] != 1 || st.ByStatus["failed"] != 0 ||
		st.ByPriority["P0"] != 1 || st.ByPriority["P1"] != 2 || st.ByPriority["P2"] != 1 {
		t.Fatalf("stats: %+v", st)
	}
	// an agent task made here is a launch: it has its execution
	if p1new.ExecutionID == nil {
		t.Fatal("agent task without an execution")
	}
	var e execJSON
	alice.Do("GET", "/agents/executions/"+p1new.ExecutionID.String(), nil).Expect(200).JSON(&e)
	if e.AgentType != "review" || *e.TaskID != p1new.ID {
		t.Fatalf("execution of the agent task: %+v", e)
	}
}

func TestTaskCreateAndPatchValidation(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	bob := env.Login("bob")
	bobTask := newTask(t, bob, map[string]any{"name": "bob's"})
	mine := newTask(t, alice, map[string]any{"name": "mine"})
	cancelled := newTask(t, alice, map[string]any{"name": "gone"})
	alice.Do("POST", "/tasks/"+cancelled.ID.String()+"/cancel", nil).Expect(200)
	before := countRows(t, env, `SELECT count(*) FROM tasks`)

	cases := []struct {
		name   string
		method string
		path   string
		body   any
		field  string
	}{
		{"name missing", "POST", "/tasks", map[string]any{}, "name"},
		{"name empty", "POST", "/tasks", map[string]any{"name": ""}, "name"},
		{"name too long", "POST", "/tasks", map[string]any{"name": strings.Repeat("n", 201)}, "name"},
		{"bad priority", "POST", "/tasks", map[string]any{"name": "x", "priority": "urgent"}, "priority"},
		{"unknown agent type", "POST", "/tasks", map[string]any{"name": "x", "agent_type": "wizard"}, "body.agent_type"},
		{"repository of another organization", "POST", "/tasks", map[string]any{"name": "x", "repository_id": uuid.New()}, "body.repository_id"},
		{"unknown dependency", "POST", "/tasks", map[string]any{"name": "x", "depends_on": []any{mine.ID, uuid.New()}}, "body.depends_on[1]"},
		{"dependency of another organization", "POST", "/tasks", map[string]any{"name": "x", "depends_on": []any{bobTask.ID}}, "body.depends_on[0]"},
		{"cancelled dependency", "POST", "/tasks", map[string]any{"name": "x", "depends_on": []any{cancelled.ID}}, "body.depends_on[0]"},
		{"dependency twice", "POST", "/tasks", map[string]any{"name": "x", "depends_on": []any{mine.ID, mine.ID}}, "body.depends_on[1]"},
		{"dependency not a uuid", "POST", "/tasks", map[string]any{"name": "x", "depends_on": []any{"abc"}}, "depends_on"},
		{"status on create", "POST", "/tasks", map[string]any{"name": "x", "status": "completed"}, "status"},
		{"status on patch", "PATCH", "/tasks/" + mine.ID.String(), map[string]any{"status": "completed"}, "status"},
		{"organization on patch", "PATCH", "/tasks/" + mine.ID.String(), map[string]any{"organization_id": bob.OrgID}, "organization_id"},
		{"agent type on patch", "PATCH", "/tasks/" + mine.ID.String(), map[string]any{"agent_type": "codegen"}, "agent_type"},
		{"bad priority on patch", "PATCH", "/tasks/" + mine.ID.String(), map[string]any{"priority": "P5"}, "priority"},
		{"empty name on patch", "PATCH", "/tasks/" + mine.ID.String(), map[string]any{"name": ""}, "name"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := alice.Do(tc.method, tc.path, tc.body).Problem(422)
			if !p.Mentions(tc.field) {
				t.Fatalf("problem does not name %q: %+v", tc.field, p)
			}
		})
	}
	if n := countRows(t, env, `SELECT count(*) FROM tasks`); n != before {
		t.Fatalf("refused requests changed the task count %d -> %d", before, n)
	}
	var got taskJSON
	alice.Do("PATCH", "/tasks/"+mine.ID.String(), map[string]any{"name": "renamed", "priority": "P0", "description": "why",
		"metadata": map[string]any{"estimate": 3}}).Expect(200).JSON(&got)
	if got.Name != "renamed" || got.Priority != "P0" || got.Description != "why" || got.Metadata["estimate"] != float64(3) || got.Status != "pending" {
		t.Fatalf("patched: %+v", got)
	}
	// what a PATCH leaves out stays as it was
	alice.Do("PATCH", "/tasks/"+mine.ID.String(), map[string]any{"priority": "P2"}).Expect(200).JSON(&got)
	if got.Name != "renamed" || got.Description != "why" || got.Metadata["estimate"] != float64(3) || got.Priority != "P2" {
		t.Fatalf("partial patch: %+v", got)
	}
}

func TestTaskDependencies(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	a := newTask(t, alice, map[string]any{"name": "a"})
	b := newTask(t, alice, map[string]any{"name": "b"})
	alice.Do("POST", "/tasks/"+b.ID.String()+"/start", nil).Expect(200)
	alice.Do("POST", "/tasks/"+b.ID.String()+"/complete", nil).Expect(200)
	c := newTask(t, alice, map[string]any{"name": "c", "depends_on": []any{a.ID, b.ID}})
	if c.DepsPending != 1 || len(c.DependsOn) != 2 {
		t.Fatalf("c waits for %d (deps %v), want 1 of 2", c.DepsPending, c.DependsOn)
	}
	d := newTask(t, alice, map[string]any{"name": "d", "depends_on": []any{c.ID}})
	alice.Do("POST", "/tasks/"+a.ID.String()+"/start", nil).Expect(200)
	alice.Do("POST", "/tasks/"+a.ID.String()+"/complete", nil).Expect(200)
	var got taskJSON
	alice.Do("GET", "/tasks/"+c.ID.String(), nil).Expect(200).JSON(&got)
	if got.DepsPending != 0 {
		t.Fatalf("c still waits for %d after its dependencies completed", got.DepsPending)
	}
	// a failure cancels what (transitively) depends on it
	alice.Do("POST", "/tasks/"+c.ID.String()+"/start", nil).Expect(200)
	alice.Do("POST", "/tasks/"+c.ID.String()+"/fail", map[string]any{"error": "the build broke"}).Expect(200).JSON(&got)
	if got.Error == nil || *got.Error != "the build broke" {
		t.Fatalf("failure reason: %+v", got.Error)
	}
	alice.Do("GET", "/tasks/"+d.ID.String(), nil).Expect(200).JSON(&got)
	if got.Status != "cancelled" {
		t.Fatalf("d is %s after c failed, want cancelled", got.Status)
	}
}

func TestTaskIdempotency(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	body := map[string]any{"name": "once", "priority": "P0"}
	var a, b taskJSON
	alice.Do("POST", "/tasks", body, "Idempotency-Key", "k1").Expect(201).JSON(&a)
	r := alice.Do("POST", "/tasks", body, "Idempotency-Key", "k1").Expect(201).JSON(&b)
	if a.ID != b.ID || r.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay: %s vs %s", a.ID, b.ID)
	}
	body["name"] = "twice"
	if p := alice.Do("POST", "/tasks", body, "Idempotency-Key", "k1").Problem(422); !p.Mentions("Idempotency-Key") {
		t.Fatalf("problem: %+v", p)
	}
	if n := countRows(t, env, `SELECT count(*) FROM tasks`); n != 1 {
		t.Fatalf("%d tasks, want 1", n)
	}
}

func TestDeleteTask(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	repo := connectRepo(t, alice, "miyabi-demo/webapp")
	running := newTask(t, alice, map[string]any{"name": "running"})
	alice.Do("POST", "/tasks/"+running.ID.String()+"/start", nil).Expect(200)
	waited := newTask(t, alice, map[string]any{"name": "waited for"})
	newTask(t, alice, map[string]any{"name": "waiter", "depends_on": []any{waited.ID}})
	plain := newTask(t, alice, map[string]any{"name": "plain"})
	l := launchAgent(t, alice, repo.ID, "codegen")

	if p := alice.Do("DELETE", "/tasks/"+running.ID.String(), nil).Problem(409); !strings.Contains(p.Detail, "running") {
		t.Fatalf("deleting a running task: %+v", p)
	}
	if p := alice.Do("DELETE", "/tasks/"+waited.ID.String(), nil).Problem(409); !strings.Contains(p.Detail, "depend") {
		t.Fatalf("deleting a task others wait for: %+v", p)
	}
	alice.Do("DELETE", "/tasks/"+plain.ID.String(), nil).Expect(204)
	alice.Do("GET", "/tasks/"+plain.ID.String(), nil).Problem(404)
	alice.Do("DELETE", "/tasks/"+l.Task.ID.String(), nil).Expect(204)
	alice.Do("GET", "/agents/executions/"+l.Execution.ID.String(), nil).Problem(404)
	alice.Do("DELETE", "/tasks/"+uuid.NewString(), nil).Problem(404)
}

func TestTasksAcrossOrganizations(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	bob := env.Login("bob")
	task := newTask(t, alice, map[string]any{"name": "alice's"})
	path := "/tasks/" + task.ID.String()
	bob.Do("GET", path, nil).Problem(404)
	bob.Do("PATCH", path, map[string]any{"name": "bob was here"}).Problem(404)
	for _, act := range []string{"start", "complete", "fail", "cancel", "retry"} {
		bob.Do("POST", path+"/"+act, nil).Problem(404)
	}
	bob.Do("DELETE", path, nil).Problem(404)
	var st struct {
		Total int `json:"total"`
	}
	bob.Do("GET", "/tasks/stats", nil).Expect(200).JSON(&st)
	if st.Total != 0 {
		t.Fatalf("bob's stats count alice's tasks: %d", st.Total)
	}
	var got taskJSON
	alice.Do("GET", path, nil).Expect(200).JSON(&got)
	if got.Name != "alice's" || got.Status != "pending" {
		t.Fatalf("bob's refused requests changed alice's task: %+v", got)
	}
}

func TestTaskPermissions(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	org := alice.OrgID
	web := connectRepo(t, alice, "miyabi-demo/webapp")
	viewer := memberOf(t, env, org, "victor", "viewer")
	member := memberOf(t, env, org, "mia", "member")
	lead := memberOf(t, env, org, "lena", "viewer")
	team := teamWith(t, env, org, lead.UserID, "lead")
	alice.Do("PATCH", "/repositories/"+web.ID.String(), map[string]any{"team_id": team}).Expect(200)
	loose := newTask(t, alice, map[string]any{"name": "no repository"})
	teamTask := newTask(t, alice, map[string]any{"name": "on the team's repository", "repository_id": web.ID})
	other := newTask(t, alice, map[string]any{"name": "for deletion"})

	cases := []struct {
		name   string
		c      *apitest.Client
		method string
		path   string
		body   any
		status int
	}{
		{"viewer lists", viewer, "GET", "/tasks", nil, 200},
		{"viewer reads stats", viewer, "GET", "/tasks/stats", nil, 200},
		{"viewer reads", viewer, "GET", "/tasks/" + loose.ID.String(), nil, 200},
		{"viewer cannot create", viewer, "POST", "/tasks", map[string]any{"name": "x"}, 403},
		{"viewer cannot patch", viewer, "PATCH", "/tasks/" + loose.ID.String(), map[string]any{"name": "x"}, 403},
		{"viewer cannot start", viewer, "POST", "/tasks/" + loose.ID.String() + "/start", nil, 403},
		{"viewer cannot cancel", viewer, "POST", "/tasks/" + loose.ID.String() + "/cancel", nil, 403},
		{"viewer cannot delete", viewer, "DELETE", "/tasks/" + loose.ID.String(), nil, 403},
		{"member creates", member, "POST", "/tasks", map[string]any{"name": "x"}, 201},
		{"member patches", member, "PATCH", "/tasks/" + loose.ID.String(), map[string]any{"priority": "P2"}, 200},
		{"member starts", member, "POST", "/tasks/" + loose.ID.String() + "/start", nil, 200},
		{"member cannot delete", member, "DELETE", "/tasks/" + other.ID.String(), nil, 403},
		{"team lead creates on the team's repository", lead, "POST", "/tasks", map[string]any{"name": "x", "repository_id": web.ID}, 201},
		{"team lead cannot create without a repository", lead, "POST", "/tasks", map[string]any{"name": "x"}, 403},
		{"team lead moves the team's task", lead, "POST", "/tasks/" + teamTask.ID.String() + "/start", nil, 200},
		{"team lead cannot move other tasks", lead, "POST", "/tasks/" + loose.ID.String() + "/complete", nil, 403},
		{"owner deletes", alice, "DELETE", "/tasks/" + other.ID.String(), nil, 204},
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
}
