package httpapi_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/uuid"

	"github.com/miyabi/miyabi/app/internal/apitest"
)

type runJSON struct {
	ID           uuid.UUID   `json:"id"`
	WorkflowID   uuid.UUID   `json:"workflow_id"`
	RepositoryID *uuid.UUID  `json:"repository_id"`
	Status       string      `json:"status"`
	StartedAt    *string     `json:"started_at"`
	CompletedAt  *string     `json:"completed_at"`
	LaunchedBy   *personJSON `json:"launched_by"`
	CancelledBy  *personJSON `json:"cancelled_by"`
	CancelledAt  *string     `json:"cancelled_at"`
	Nodes        []struct {
		NodeID      string     `json:"node_id"`
		DependsOn   []string   `json:"depends_on"`
		TaskID      uuid.UUID  `json:"task_id"`
		ExecutionID *uuid.UUID `json:"execution_id"`
		Status      string     `json:"status"`
		DepsPending int        `json:"deps_pending"`
	} `json:"nodes"`
}

func (r runJSON) node(t *testing.T, id string) (uuid.UUID, string, int) {
	t.Helper()
	for _, n := range r.Nodes {
		if n.NodeID == id {
			return n.TaskID, n.Status, n.DepsPending
		}
	}
	t.Fatalf("run has no node %s", id)
	return uuid.Nil, "", 0
}

func node(id, agent string) map[string]any {
	return map[string]any{"id": id, "agent_type": agent, "name": "step " + id}
}
func edge(from, to string) map[string]any { return map[string]any{"from": from, "to": to} }

// diamond: plan -> (code, test) -> pr
func diamond() map[string]any {
	return map[string]any{
		"nodes": []any{node("plan", "coordinator"), node("code", "codegen"), node("test", "test"), node("pr", "pr")},
		"edges": []any{edge("plan", "code"), edge("plan", "test"), edge("code", "pr"), edge("test", "pr")},
	}
}

func createWorkflow(t *testing.T, c *apitest.Client, def map[string]any) uuid.UUID {
	t.Helper()
	var w struct {
		ID uuid.UUID `json:"id"`
	}
	c.Do("POST", "/workflows", map[string]any{"name": "Diamond", "definition": def}).Expect(201).JSON(&w)
	return w.ID
}

func TestWorkflowValidationThroughTheAPI(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	many := []any{}
	for i := range 51 {
		many = append(many, node(fmt.Sprintf("n%d", i), "codegen"))
	}
	three := []any{node("a", "codegen"), node("b", "review"), node("c", "pr")}
	cases := []struct {
		name  string
		def   map[string]any
		field string
	}{
		{"no nodes", map[string]any{"nodes": []any{}, "edges": []any{}}, "body.definition.nodes"},
		{"more than 50 nodes", map[string]any{"nodes": many, "edges": []any{}}, "body.definition.nodes"},
		{"duplicate node id", map[string]any{"nodes": []any{node("a", "codegen"), node("a", "review")}, "edges": []any{}}, "body.definition.nodes[1].id"},
		{"unknown agent type", map[string]any{"nodes": []any{node("a", "codegen"), node("b", "wizard")}, "edges": []any{}}, "body.definition.nodes[1].agent_type"},
		{"node without a name", map[string]any{"nodes": []any{map[string]any{"id": "a", "agent_type": "codegen"}}, "edges": []any{}}, "name"},
		{"edge from an unknown node", map[string]any{"nodes": three, "edges": []any{edge("a", "b"), edge("x", "c")}}, "body.definition.edges[1].from"},
		{"edge to an unknown node", map[string]any{"nodes": three, "edges": []any{edge("a", "b"), edge("b", "c"), edge("a", "c"), edge("c", "zz")}}, "body.definition.edges[3].to"},
		{"self loop", map[string]any{"nodes": three, "edges": []any{edge("b", "b")}}, "body.definition.edges[0]"},
		{"cycle", map[string]any{"nodes": three, "edges": []any{edge("a", "b"), edge("b", "c"), edge("c", "a")}}, "body.definition.edges[2]"},
		{"repeated edge", map[string]any{"nodes": three, "edges": []any{edge("a", "b"), edge("a", "b")}}, "body.definition.edges[1]"},
		{"unknown field in a node", map[string]any{"nodes": []any{map[string]any{"id": "a", "agent_type": "codegen", "name": "x", "retries": 3}}, "edges": []any{}}, "retries"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := alice.Do("POST", "/workflows", map[string]any{"name": "bad", "definition": tc.def}).Problem(422)
			if !p.Mentions(tc.field) {
				t.Fatalf("problem does not name %q: %+v", tc.field, p)
			}
		})
	}
	alice.Do("POST", "/workflows", map[string]any{"definition": diamond()}).Problem(422)
	if n := countRows(t, env, `SELECT count(*) FROM workflows`); n != 0 {
		t.Fatalf("%d workflows saved from invalid definitions", n)
	}
	// PATCH validates the same way
	id := createWorkflow(t, alice, diamond())
	p := alice.Do("PATCH", "/workflows/"+id.String(), map[string]any{"definition": map[string]any{"nodes": three,
		"edges": []any{edge("a", "b"), edge("b", "a")}}}).Problem(422)
	if !p.Mentions("body.definition.edges[1]") {
		t.Fatalf("PATCH cycle: %+v", p)
	}
}

func TestWorkflowCRUD(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	id := createWorkflow(t, alice, diamond())
	var w struct {
		Name       string `json:"name"`
		Definition struct {
			Nodes []map[string]any `json:"nodes"`
			Edges []map[string]any `json:"edges"`
		} `json:"definition"`
	}
	alice.Do("GET", "/workflows/"+id.String(), nil).Expect(200).JSON(&w)
	if w.Name != "Diamond" || len(w.Definition.Nodes) != 4 || len(w.Definition.Edges) != 4 {
		t.Fatalf("get: %+v", w)
	}
	alice.Do("PATCH", "/workflows/"+id.String(), map[string]any{"name": "Renamed",
		"definition": map[string]any{"nodes": []any{node("only", "issue")}, "edges": []any{}}}).Expect(200).JSON(&w)
	if w.Name != "Renamed" || len(w.Definition.Nodes) != 1 {
		t.Fatalf("patched: %+v", w)
	}
	var page pageJSON[map[string]any]
	alice.Do("GET", "/workflows", nil).Expect(200).JSON(&page)
	if page.Total != 1 {
		t.Fatalf("list: %+v", page)
	}
	alice.Do("POST", "/workflows/"+id.String()+"/run", nil).Expect(201)
	// not while a run is pending: its tasks would vanish under their workers
	alice.Do("DELETE", "/workflows/"+id.String(), nil).Problem(409)
	var taskID uuid.UUID
	if err := env.DB.QueryRow(context.Background(), `SELECT id FROM tasks WHERE workflow_run_id IS NOT NULL`).Scan(&taskID); err != nil {
		t.Fatal(err)
	}
	alice.Do("POST", "/tasks/"+taskID.String()+"/cancel", nil).Expect(200)
	alice.Do("DELETE", "/workflows/"+id.String(), nil).Expect(204)
	alice.Do("GET", "/workflows/"+id.String(), nil).Problem(404)
	if n := countRows(t, env, `SELECT count(*) FROM tasks`); n != 0 {
		t.Fatalf("%d tasks left after the workflow was deleted", n)
	}
}

// A run creates a task per node with the edges as dependencies: only roots are claimable,
// completion releases dependents, and the run's status follows its tasks.
func TestWorkflowRunCompletes(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	repo := connectRepo(t, alice, "miyabi-demo/webapp")
	id := createWorkflow(t, alice, diamond())
	var run runJSON
	alice.Do("POST", "/workflows/"+id.String()+"/run", map[string]any{"repository_id": repo.ID, "issue_number": 3}).Expect(201).JSON(&run)
	if run.Status != "pending" || len(run.Nodes) != 4 || *run.RepositoryID != repo.ID {
		t.Fatalf("run: %+v", run)
	}
	want := map[string]int{"plan": 0, "code": 1, "test": 1, "pr": 2}
	for _, n := range run.Nodes {
		if n.DepsPending != want[n.NodeID] || n.Status != "pending" || n.ExecutionID == nil || len(n.DependsOn) != want[n.NodeID] {
			t.Fatalf("node %s: %+v", n.NodeID, n)
		}
	}
	if n := countRows(t, env, `SELECT count(*) FROM task_dependencies`); n != 4 {
		t.Fatalf("%d dependency rows, want 4", n)
	}
	// what a worker could claim now: the root only
	claimable := func() int {
		return countRows(t, env, `SELECT count(*) FROM tasks WHERE workflow_run_id = $1 AND status = 'pending' AND deps_pending = 0`, run.ID)
	}
	if n := claimable(); n != 1 {
		t.Fatalf("%d claimable tasks at the start, want 1 (plan)", n)
	}
	get := func() runJSON {
		var r runJSON
		alice.Do("GET", "/workflow-runs/"+run.ID.String(), nil).Expect(200).JSON(&r)
		return r
	}
	plan, _, _ := run.node(t, "plan")
	moveTask(t, env, alice.OrgID, plan, mvStart())
	if r := get(); r.Status != "running" || r.StartedAt == nil {
		t.Fatalf("run after plan started: %s", r.Status)
	}
	moveTask(t, env, alice.OrgID, plan, mvComplete())
	if n := claimable(); n != 2 {
		t.Fatalf("%d claimable after plan, want 2 (code, test)", n)
	}
	for _, id := range []string{"code", "test"} {
		task, _, _ := run.node(t, id)
		moveTask(t, env, alice.OrgID, task, mvStart())
		moveTask(t, env, alice.OrgID, task, mvComplete())
	}
	r := get()
	if _, _, deps := r.node(t, "pr"); deps != 0 {
		t.Fatalf("pr still waits for %d", deps)
	}
	pr, _, _ := run.node(t, "pr")
	moveTask(t, env, alice.OrgID, pr, mvStart())
	moveTask(t, env, alice.OrgID, pr, mvComplete())
	if r := get(); r.Status != "completed" || r.CompletedAt == nil {
		t.Fatalf("run after every node completed: %+v", r)
	}
	var runs pageJSON[runJSON]
	alice.Do("GET", "/workflows/"+id.String()+"/runs", nil).Expect(200).JSON(&runs)
	if runs.Total != 1 || runs.Items[0].ID != run.ID || runs.Items[0].Status != "completed" {
		t.Fatalf("runs: %+v", runs)
	}
}

// A failed node cancels everything downstream of it, and the run ends failed.
func TestWorkflowFailurePropagates(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	id := createWorkflow(t, alice, diamond())
	var run runJSON
	alice.Do("POST", "/workflows/"+id.String()+"/run", nil).Expect(201).JSON(&run)
	plan, _, _ := run.node(t, "plan")
	moveTask(t, env, alice.OrgID, plan, mvStart())
	moveTask(t, env, alice.OrgID, plan, mvComplete())
	code, _, _ := run.node(t, "code")
	moveTask(t, env, alice.OrgID, code, mvStart())
	moveTask(t, env, alice.OrgID, code, mvFail())

	var r runJSON
	alice.Do("GET", "/workflow-runs/"+run.ID.String(), nil).Expect(200).JSON(&r)
	for node, want := range map[string]string{"plan": "completed", "code": "failed", "test": "pending", "pr": "cancelled"} {
		if _, got, _ := r.node(t, node); got != want {
			t.Errorf("%s is %s, want %s", node, got, want)
		}
	}
	if r.Status != "running" {
		t.Fatalf("run is %s while test is still pending, want running", r.Status)
	}
	// the cancelled node's execution shows it too
	prExec := r.Nodes[3].ExecutionID
	var e execJSON
	alice.Do("GET", "/agents/executions/"+prExec.String(), nil).Expect(200).JSON(&e)
	if e.Status != "cancelled" {
		t.Fatalf("pr's execution is %s", e.Status)
	}
	test, _, _ := r.node(t, "test")
	alice.Do("POST", "/tasks/"+test.String()+"/cancel", nil).Expect(200)
	alice.Do("GET", "/workflow-runs/"+run.ID.String(), nil).Expect(200).JSON(&r)
	if r.Status != "failed" || r.CompletedAt == nil {
		t.Fatalf("run after every node ended with a failure: %s", r.Status)
	}
}

func TestWorkflowRunValidationAndTenancy(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	bob := env.Login("bob")
	bobRepo := connectRepo(t, bob, "bob/hello-world")
	id := createWorkflow(t, alice, diamond())
	for _, tc := range []struct {
		name  string
		body  any
		field string
	}{
		{"repository of another organization", map[string]any{"repository_id": bobRepo.ID}, "body.repository_id"},
		{"repository not a uuid", map[string]any{"repository_id": "x"}, "repository_id"},
		{"issue number zero", map[string]any{"issue_number": 0}, "issue_number"},
		{"unknown field", map[string]any{"definition": diamond()}, "definition"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if p := alice.Do("POST", "/workflows/"+id.String()+"/run", tc.body).Problem(422); !p.Mentions(tc.field) {
				t.Fatalf("problem does not name %q: %+v", tc.field, p)
			}
		})
	}
	var run runJSON
	alice.Do("POST", "/workflows/"+id.String()+"/run", nil).Expect(201).JSON(&run)
	path := "/workflows/" + id.String()
	bob.Do("GET", path, nil).Problem(404)
	bob.Do("PATCH", path, map[string]any{"name": "mine"}).Problem(404)
	bob.Do("POST", path+"/run", nil).Problem(404)
	bob.Do("GET", path+"/runs", nil).Problem(404)
	bob.Do("GET", "/workflow-runs/"+run.ID.String(), nil).Problem(404)
	bob.Do("POST", "/workflow-runs/"+run.ID.String()+"/cancel", nil).Problem(404)
	bob.Do("DELETE", path, nil).Problem(404)
	if n := countRows(t, env, `SELECT count(*) FROM workflow_runs`); n != 1 {
		t.Fatalf("%d runs, want 1", n)
	}
	alice.Do("GET", path, nil).Expect(200)
}

func TestWorkflowPermissions(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	org := alice.OrgID
	id := createWorkflow(t, alice, diamond())
	viewer := memberOf(t, env, org, "victor", "viewer")
	member := memberOf(t, env, org, "mia", "member")
	body := map[string]any{"name": "x", "definition": diamond()}
	cases := []struct {
		name   string
		c      *apitest.Client
		method string
		path   string
		body   any
		status int
	}{
		{"viewer lists", viewer, "GET", "/workflows", nil, 200},
		{"viewer reads", viewer, "GET", "/workflows/" + id.String(), nil, 200},
		{"viewer reads runs", viewer, "GET", "/workflows/" + id.String() + "/runs", nil, 200},
		{"viewer cannot create", viewer, "POST", "/workflows", body, 403},
		{"viewer cannot update", viewer, "PATCH", "/workflows/" + id.String(), map[string]any{"name": "y"}, 403},
		{"viewer cannot run", viewer, "POST", "/workflows/" + id.String() + "/run", nil, 403},
		{"viewer cannot delete", viewer, "DELETE", "/workflows/" + id.String(), nil, 403},
		{"member creates", member, "POST", "/workflows", body, 201},
		{"member updates", member, "PATCH", "/workflows/" + id.String(), map[string]any{"name": "y"}, 200},
		{"member runs", member, "POST", "/workflows/" + id.String() + "/run", nil, 201},
		{"member cannot delete", member, "DELETE", "/workflows/" + id.String(), nil, 403},
		{"owner may delete, but not while a run is pending", alice, "DELETE", "/workflows/" + id.String(), nil, 409},
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
