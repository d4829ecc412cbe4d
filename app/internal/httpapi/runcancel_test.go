package httpapi_test

import (
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/miyabi/miyabi/app/internal/apitest"
)

// Cancelling a running workflow run stops every node not yet finished, through the same
// path as cancelling one execution, and says who did it; live clients see the run end.
func TestCancelWorkflowRun(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	repo := connectRepo(t, alice, "miyabi-demo/webapp")
	id := createWorkflow(t, alice, diamond())
	var run runJSON
	alice.Do("POST", "/workflows/"+id.String()+"/run", map[string]any{"repository_id": repo.ID, "issue_number": 3}).Expect(201).JSON(&run)
	if run.LaunchedBy == nil || run.LaunchedBy.Login != "alice" || run.LaunchedBy.ID != alice.UserID || run.CancelledBy != nil {
		t.Fatalf("a new run: launched_by %+v, cancelled_by %+v", run.LaunchedBy, run.CancelledBy)
	}
	plan, _, _ := run.node(t, "plan")
	moveTask(t, env, alice.OrgID, plan, mvStart())
	moveTask(t, env, alice.OrgID, plan, mvComplete())
	code, _, _ := run.node(t, "code")
	moveTask(t, env, alice.OrgID, code, mvStart()) // running on a worker; test and pr still pending
	live := dialLive(t, env.URL, alice, true)

	var got runJSON
	alice.Do("POST", "/workflow-runs/"+run.ID.String()+"/cancel", nil).Expect(200).JSON(&got)
	if got.Status != "cancelled" || got.CancelledBy == nil || got.CancelledBy.ID != alice.UserID ||
		got.CancelledBy.Login != "alice" || got.CancelledAt == nil || got.CompletedAt == nil {
		t.Fatalf("cancelled run: status %s, cancelled_by %+v, cancelled_at %v", got.Status, got.CancelledBy, got.CancelledAt)
	}
	for node, want := range map[string]string{"plan": "completed", "code": "cancelled", "test": "cancelled", "pr": "cancelled"} {
		if _, status, _ := got.node(t, node); status != want {
			t.Errorf("%s is %s, want %s", node, status, want)
		}
	}
	ev := live.expect("workflow_run.updated", func(e liveEvent) bool { return e.ID == run.ID && e.field("status") == "cancelled" })
	if ev.OrganizationID != alice.OrgID {
		t.Errorf("event of another organization: %+v", ev)
	}

	// each unfinished node's execution and task say who cancelled them
	for _, n := range got.Nodes {
		var e execJSON
		alice.Do("GET", "/agents/executions/"+n.ExecutionID.String(), nil).Expect(200).JSON(&e)
		if e.LaunchedBy == nil || e.LaunchedBy.Login != "alice" {
			t.Errorf("%s: launched_by %+v", n.NodeID, e.LaunchedBy)
		}
		var task taskJSON
		alice.Do("GET", "/tasks/"+n.TaskID.String(), nil).Expect(200).JSON(&task)
		if n.NodeID == "plan" {
			if e.Status != "completed" || e.CancelledBy != nil || e.CancelledAt != nil || task.CancelledBy != nil {
				t.Errorf("the completed node was touched: %+v / %+v", e, task)
			}
			continue
		}
		if e.Status != "cancelled" || e.CancelledBy == nil || e.CancelledBy.ID != alice.UserID || e.CancelledAt == nil {
			t.Errorf("%s execution: status %s, cancelled_by %+v, cancelled_at %v", n.NodeID, e.Status, e.CancelledBy, e.CancelledAt)
		}
		if task.Status != "cancelled" || task.CancelledBy == nil || task.CancelledBy.Login != "alice" {
			t.Errorf("%s task: status %s, cancelled_by %+v", n.NodeID, task.Status, task.CancelledBy)
		}
	}
	// the lists say it too
	var execs pageJSON[execJSON]
	alice.Do("GET", "/agents/executions?status=cancelled", nil).Expect(200).JSON(&execs)
	if execs.Total != 3 || execs.Items[0].CancelledBy == nil || execs.Items[0].CancelledBy.Login != "alice" {
		t.Fatalf("cancelled executions listed: %+v", execs)
	}
	var runs pageJSON[runJSON]
	alice.Do("GET", "/workflows/"+id.String()+"/runs", nil).Expect(200).JSON(&runs)
	if runs.Items[0].CancelledBy == nil || runs.Items[0].CancelledBy.Login != "alice" {
		t.Fatalf("runs list: %+v", runs.Items[0])
	}

	// a retry answers the same run and changes nothing
	var again runJSON
	alice.Do("POST", "/workflow-runs/"+run.ID.String()+"/cancel", nil).Expect(200).JSON(&again)
	if again.Status != "cancelled" || again.CancelledBy == nil || *again.CancelledAt != *got.CancelledAt {
		t.Fatalf("retried cancel: %+v", again)
	}
	// a worker still holding the running node learns it: the node is no longer running
	if n := countRows(t, env, `SELECT count(*) FROM tasks WHERE workflow_run_id = $1 AND status IN ('pending', 'running')`, run.ID); n != 0 {
		t.Fatalf("%d tasks of the cancelled run still pending or running", n)
	}
}

// A run that ended is 409, saying how it ended; retrying a failed node of a cancelled
// run is 409 too (the run stays cancelled).
func TestCancelFinishedWorkflowRun(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	single := map[string]any{"nodes": []any{node("only", "codegen")}, "edges": []any{}}
	id := createWorkflow(t, alice, single)

	var done runJSON
	alice.Do("POST", "/workflows/"+id.String()+"/run", nil).Expect(201).JSON(&done)
	only, _, _ := done.node(t, "only")
	moveTask(t, env, alice.OrgID, only, mvStart())
	moveTask(t, env, alice.OrgID, only, mvComplete())
	p := alice.Do("POST", "/workflow-runs/"+done.ID.String()+"/cancel", nil).Problem(409)
	if !strings.Contains(p.Detail, "completed") {
		t.Fatalf("409 does not say the run completed: %+v", p)
	}
	var failed runJSON
	alice.Do("POST", "/workflows/"+id.String()+"/run", nil).Expect(201).JSON(&failed)
	only, _, _ = failed.node(t, "only")
	moveTask(t, env, alice.OrgID, only, mvStart())
	moveTask(t, env, alice.OrgID, only, mvFail())
	p = alice.Do("POST", "/workflow-runs/"+failed.ID.String()+"/cancel", nil).Problem(409)
	if !strings.Contains(p.Detail, "failed") {
		t.Fatalf("409 does not say the run failed: %+v", p)
	}
	var r runJSON
	alice.Do("GET", "/workflow-runs/"+failed.ID.String(), nil).Expect(200).JSON(&r)
	if r.Status != "failed" || r.CancelledBy != nil {
		t.Fatalf("a refused cancel changed the run: %+v", r)
	}

	// diamond: code fails while test still runs; the person cancels the run; code's retry is refused
	wid := createWorkflow(t, alice, diamond())
	var run runJSON
	alice.Do("POST", "/workflows/"+wid.String()+"/run", nil).Expect(201).JSON(&run)
	plan, _, _ := run.node(t, "plan")
	moveTask(t, env, alice.OrgID, plan, mvStart())
	moveTask(t, env, alice.OrgID, plan, mvComplete())
	code, _, _ := run.node(t, "code")
	test, _, _ := run.node(t, "test")
	moveTask(t, env, alice.OrgID, code, mvStart())
	moveTask(t, env, alice.OrgID, test, mvStart())
	moveTask(t, env, alice.OrgID, code, mvFail())
	alice.Do("POST", "/workflow-runs/"+run.ID.String()+"/cancel", nil).Expect(200).JSON(&r)
	if r.Status != "cancelled" {
		t.Fatalf("run with a failed node, cancelled: %s", r.Status)
	}
	alice.Do("POST", "/tasks/"+code.String()+"/retry", nil).Problem(409)
	alice.Do("GET", "/workflow-runs/"+run.ID.String(), nil).Expect(200).JSON(&r)
	if r.Status != "cancelled" {
		t.Fatalf("run after a refused retry: %s", r.Status)
	}

	alice.Do("POST", "/workflow-runs/"+uuid.NewString()+"/cancel", nil).Problem(404)
}

// Another organization's run is 404 and stays as it was; a viewer is 403; a member may.
func TestCancelWorkflowRunAcrossOrganizationsAndRoles(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	bob := env.Login("bob")
	id := createWorkflow(t, alice, diamond())
	var run runJSON
	alice.Do("POST", "/workflows/"+id.String()+"/run", nil).Expect(201).JSON(&run)
	path := "/workflow-runs/" + run.ID.String() + "/cancel"

	bob.Do("POST", path, nil).Problem(404)
	bob.Do("GET", "/workflow-runs/"+run.ID.String(), nil).Problem(404)
	viewer := memberOf(t, env, alice.OrgID, "victor", "viewer")
	viewer.Do("POST", path, nil).Problem(403)
	var r runJSON
	alice.Do("GET", "/workflow-runs/"+run.ID.String(), nil).Expect(200).JSON(&r)
	if r.Status != "pending" || r.CancelledBy != nil {
		t.Fatalf("a refused cancel changed the run: %+v", r)
	}
	member := memberOf(t, env, alice.OrgID, "mia", "member")
	member.Do("POST", path, nil).Expect(200).JSON(&r)
	if r.Status != "cancelled" || r.CancelledBy == nil || r.CancelledBy.Login != "mia" || r.LaunchedBy.Login != "alice" {
		t.Fatalf("member's cancel: status %s, cancelled_by %+v, launched_by %+v", r.Status, r.CancelledBy, r.LaunchedBy)
	}
}

// Cancelling one execution, or its task, names the person on both; a launch names who
// launched it.
func TestCancelRecordsWhoCancelled(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	repo := connectRepo(t, alice, "miyabi-demo/webapp")
	mia := memberOf(t, env, alice.OrgID, "mia", "member")
	one, two := launchAgent(t, alice, repo.ID, "codegen"), launchAgent(t, alice, repo.ID, "review")
	if one.Execution.LaunchedBy == nil || one.Execution.LaunchedBy.ID != alice.UserID || one.Execution.CancelledBy != nil {
		t.Fatalf("launch: launched_by %+v, cancelled_by %+v", one.Execution.LaunchedBy, one.Execution.CancelledBy)
	}
	var e execJSON
	mia.Do("POST", "/agents/executions/"+one.Execution.ID.String()+"/cancel", nil).Expect(200).JSON(&e)
	if e.CancelledBy == nil || e.CancelledBy.Login != "mia" || e.CancelledAt == nil || e.LaunchedBy.Login != "alice" {
		t.Fatalf("cancelled execution: cancelled_by %+v, at %v, launched_by %+v", e.CancelledBy, e.CancelledAt, e.LaunchedBy)
	}
	var task taskJSON
	alice.Do("GET", "/tasks/"+one.Task.ID.String(), nil).Expect(200).JSON(&task)
	if task.CancelledBy == nil || task.CancelledBy.ID != mia.UserID {
		t.Fatalf("its task: cancelled_by %+v", task.CancelledBy)
	}
	alice.Do("POST", "/tasks/"+two.Task.ID.String()+"/cancel", nil).Expect(200).JSON(&task)
	if task.CancelledBy == nil || task.CancelledBy.Login != "alice" {
		t.Fatalf("task cancelled: cancelled_by %+v", task.CancelledBy)
	}
	alice.Do("GET", "/agents/executions/"+two.Execution.ID.String(), nil).Expect(200).JSON(&e)
	if e.Status != "cancelled" || e.CancelledBy == nil || e.CancelledBy.Login != "alice" {
		t.Fatalf("its execution: %s, cancelled_by %+v", e.Status, e.CancelledBy)
	}
}
