package httpapi_test

import (
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/miyabi/miyabi/app/internal/apitest"
)

// runWorkflow creates a workflow from nodes and edges, runs it and returns the run id.
func runWorkflow(t *testing.T, c *apitest.Client, nodes []map[string]any, edges []map[string]any) uuid.UUID {
	t.Helper()
	var wf, run struct {
		ID uuid.UUID `json:"id"`
	}
	c.Do("POST", "/workflows", map[string]any{"name": "wf", "definition": map[string]any{"nodes": nodes, "edges": edges}}).Expect(201).JSON(&wf)
	c.Do("POST", "/workflows/"+wf.ID.String()+"/run", nil).Expect(201).JSON(&run)
	return run.ID
}

func runStatus(t *testing.T, c *apitest.Client, run uuid.UUID) string {
	t.Helper()
	var r struct {
		Status string `json:"status"`
	}
	c.Do("GET", "/workflow-runs/"+run.String(), nil).Expect(200).JSON(&r)
	return r.Status
}

// Two nodes of one run finishing at the same moment leave the run completed, not
// running with every node done.
func TestConcurrentNodeCompletionsCompleteTheRun(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	w := registerWorker(t, alice, map[string]any{"name": "w", "max_concurrency": 8})
	wc := asWorker(env, w.Token)
	for round := range 10 {
		run := runWorkflow(t, alice, []map[string]any{
			{"id": "a", "agent_type": "codegen", "name": "A"}, {"id": "b", "agent_type": "review", "name": "B"},
		}, []map[string]any{})
		tasks := claim(t, wc, map[string]any{"max": 2})
		if len(tasks) != 2 {
			t.Fatalf("round %d: claimed %d tasks", round, len(tasks))
		}
		var wg sync.WaitGroup
		for _, task := range tasks {
			wg.Add(1)
			go func() {
				defer wg.Done()
				wc.For(t).Do("POST", "/worker/tasks/"+task.ID.String()+"/complete", map[string]any{"summary": "done"}).Expect(200)
			}()
		}
		wg.Wait()
		if st := runStatus(t, alice, run); st != "completed" {
			t.Fatalf("round %d: run %s with both nodes completed", round, st)
		}
	}
}

// A failed node cancels its dependents; retrying it brings them back, and the run can
// still complete.
func TestRetryingAFailedNodeRevivesItsDependents(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	wc := asWorker(env, registerWorker(t, alice, map[string]any{"name": "w", "max_concurrency": 4}).Token)
	run := runWorkflow(t, alice, []map[string]any{
		{"id": "a", "agent_type": "codegen", "name": "A"}, {"id": "b", "agent_type": "review", "name": "B"},
	}, []map[string]any{{"from": "a", "to": "b"}})
	a := claim(t, wc, map[string]any{"max": 4})
	if len(a) != 1 {
		t.Fatalf("claimed %d, want only the root", len(a))
	}
	wc.Do("POST", "/worker/tasks/"+a[0].ID.String()+"/fail", map[string]any{"error": "tests failed", "retryable": false}).Expect(200)
	if st := runStatus(t, alice, run); st != "failed" {
		t.Fatalf("run %s after its root failed", st)
	}
	alice.Do("POST", "/tasks/"+a[0].ID.String()+"/retry", nil).Expect(200)
	if st := runStatus(t, alice, run); st == "failed" || st == "cancelled" {
		t.Fatalf("run still %s after the retry", st)
	}
	for _, want := range []string{"codegen", "review"} {
		got := claim(t, wc, map[string]any{"max": 4})
		if len(got) != 1 || got[0].AgentType != want {
			t.Fatalf("claimed %+v, want the %s node", got, want)
		}
		wc.Do("POST", "/worker/tasks/"+got[0].ID.String()+"/complete", map[string]any{}).Expect(200)
	}
	if st := runStatus(t, alice, run); st != "completed" {
		t.Fatalf("run %s after both nodes completed", st)
	}
	// a task a person cancelled is not revived by a retry elsewhere
	if n := countRows(t, env, `SELECT count(*) FROM tasks WHERE cancelled_by_task_id IS NOT NULL`); n != 0 {
		t.Fatalf("%d tasks still marked as cascade-cancelled", n)
	}
}

// A lease that expired is stale even before the sweeper runs: complete, logs and
// heartbeat renewals are refused.
func TestAnExpiredLeaseIsStale(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	wc := asWorker(env, registerWorker(t, alice, map[string]any{"name": "w"}).Token)
	ids := seedTasks(t, env, alice.OrgID, 1, "codegen")
	claim(t, wc, map[string]any{"max": 1})
	exec(t, env, `UPDATE tasks SET lease_expires_at = now() - interval '1 second' WHERE id = $1`, ids[0])
	wc.Do("POST", "/worker/tasks/"+ids[0].String()+"/logs", map[string]any{"lines": []map[string]any{{"stream": "stdout", "message": "late"}}}).Problem(409)
	wc.Do("POST", "/worker/tasks/"+ids[0].String()+"/complete", map[string]any{"pr_number": 1}).Problem(409)
	var hb struct {
		Cancel []uuid.UUID `json:"cancel"`
	}
	wc.Do("POST", "/worker/heartbeat", map[string]any{"task_ids": ids}).Expect(200).JSON(&hb)
	if len(hb.Cancel) != 1 || hb.Cancel[0] != ids[0] {
		t.Fatalf("heartbeat did not tell the worker to stop its expired task: %+v", hb)
	}
	if st := taskState(t, env, ids[0]); st.Status != "running" || st.PRNumber != nil {
		t.Fatalf("the stale complete changed the task: %+v", st)
	}
	// a PR number past 32 bits is a client mistake, not a 500
	wc2 := asWorker(env, registerWorker(t, alice, map[string]any{"name": "w2"}).Token)
	more := seedTasks(t, env, alice.OrgID, 1, "codegen")
	claim(t, wc2, map[string]any{"max": 1})
	wc2.Do("POST", "/worker/tasks/"+more[0].String()+"/complete", map[string]any{"pr_number": 3000000000}).Problem(422)
}

// Workflow deletion waits for its runs; a team member who may not stop agents cannot
// stop one through the task either.
func TestNoBackDoorsAroundAgentPermissions(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	repo := connectRepo(t, alice, "miyabi-demo/webapp")
	viewer := memberOf(t, env, alice.OrgID, "vic", "viewer")
	team := teamWith(t, env, alice.OrgID, viewer.UserID, "member")
	alice.Do("PATCH", "/repositories/"+repo.ID.String(), map[string]any{"team_id": team}).Expect(200)
	launched := launchAgent(t, alice, repo.ID, "codegen")
	viewer.Do("POST", "/agents/executions/"+launched.Execution.ID.String()+"/cancel", nil).Problem(403)
	viewer.Do("POST", "/tasks/"+launched.Task.ID.String()+"/cancel", nil).Problem(403)
	if st := taskState(t, env, launched.Task.ID); st.Status != "pending" {
		t.Fatalf("task %s", st.Status)
	}
}

// A suspended member coming back takes a seat like anyone else.
func TestReactivationRespectsMaxMembers(t *testing.T) {
	env := apitest.New(t)
	alice, bob, carol := env.Login("alice"), env.Login("bob"), env.Login("carol")
	org := newTeamOrg(t, alice, "Two seats")
	exec(t, env, `UPDATE organizations SET max_members = 2 WHERE id = $1`, org.ID)
	invite(t, alice, bob, org.ID, "member")
	o := "/organizations/" + org.ID.String()
	alice.Do("PATCH", o+"/members/"+bob.UserID.String(), map[string]any{"status": "suspended"}).Expect(200)
	invite(t, alice, carol, org.ID, "member")
	alice.Do("PATCH", o+"/members/"+bob.UserID.String(), map[string]any{"status": "active"}).Problem(409)
	if n := countRows(t, env, `SELECT count(*) FROM organization_members WHERE organization_id = $1 AND status = 'active'`, org.ID); n != 2 {
		t.Fatalf("%d active members, max 2", n)
	}
	// and nobody demotes or suspends the owner of a personal organization
	invite(t, bob, alice, bob.OrgID, "owner")
	alice.Do("PATCH", "/organizations/"+bob.OrgID.String()+"/members/"+bob.UserID.String(), map[string]any{"role": "admin"}).Problem(409)
	alice.Do("PATCH", "/organizations/"+bob.OrgID.String()+"/members/"+bob.UserID.String(), map[string]any{"status": "suspended"}).Problem(409)
}

// The summary counts agent tasks through their executions' counters and manual tasks
// live; after launches, a workflow, manual tasks, claims, completions, failures,
// cancels and a retry, it agrees with counting every task.
func TestSummaryTaskCountsAgreeWithTheTasks(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	repo := connectRepo(t, alice, "miyabi-demo/agent-playground")
	wc := asWorker(env, registerWorker(t, alice, map[string]any{"name": "w", "max_concurrency": 8}).Token)
	for range 4 {
		launchAgent(t, alice, repo.ID, "codegen")
	}
	runWorkflow(t, alice, []map[string]any{
		{"id": "a", "agent_type": "codegen", "name": "A"}, {"id": "b", "agent_type": "review", "name": "B"},
	}, []map[string]any{{"from": "a", "to": "b"}})
	var manual struct {
		ID uuid.UUID `json:"id"`
	}
	alice.Do("POST", "/tasks", map[string]any{"name": "write the changelog"}).Expect(201).JSON(&manual)
	alice.Do("POST", "/tasks", map[string]any{"name": "tell the team"}).Expect(201)
	alice.Do("POST", "/tasks/"+manual.ID.String()+"/start", nil).Expect(200)
	claimed := claim(t, wc, map[string]any{"max": 8})
	wc.Do("POST", "/worker/tasks/"+claimed[0].ID.String()+"/complete", map[string]any{"pr_number": 9}).Expect(200)
	wc.Do("POST", "/worker/tasks/"+claimed[1].ID.String()+"/fail", map[string]any{"error": "x", "retryable": false}).Expect(200)
	alice.Do("POST", "/tasks/"+claimed[1].ID.String()+"/retry", nil).Expect(200)
	alice.Do("POST", "/tasks/"+claimed[2].ID.String()+"/cancel", nil).Expect(200)

	var summary struct {
		Tasks struct {
			ByStatus map[string]int `json:"by_status"`
		} `json:"tasks"`
	}
	alice.Do("GET", "/dashboard/summary", nil).Expect(200).JSON(&summary)
	for _, st := range []string{"pending", "running", "completed", "failed", "cancelled"} {
		live := countRows(t, env, `SELECT count(*) FROM tasks WHERE organization_id = $1 AND status = $2`, alice.OrgID, st)
		if summary.Tasks.ByStatus[st] != live {
			t.Errorf("%s: summary says %d, the tasks say %d", st, summary.Tasks.ByStatus[st], live)
		}
	}
}
