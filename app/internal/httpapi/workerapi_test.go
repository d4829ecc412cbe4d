package httpapi_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/miyabi/miyabi/app/internal/apitest"
	"github.com/miyabi/miyabi/app/internal/domain"
	"github.com/miyabi/miyabi/app/internal/poll"
	"github.com/miyabi/miyabi/app/internal/store"
)

// storeCancel is a person's cancel, as the execution and task cancel routes make it.
func storeCancel() store.Move { return store.Move{Action: domain.ActCancel} }

// seedTasks queues n agent tasks of one type, each with its pending execution, as
// POST /agents/execute would, oldest first; it returns their ids in that order.
func seedTasks(t *testing.T, env *apitest.Env, org uuid.UUID, n int, agentType string) []uuid.UUID {
	t.Helper()
	rows, err := env.DB.Query(context.Background(), `
		WITH e AS (
			INSERT INTO agent_executions (organization_id, agent_type, issue_number, options)
			SELECT $1, $2, g, '{"depth":"quick"}' FROM generate_series(1, $3) g RETURNING id, issue_number
		)
		INSERT INTO tasks (organization_id, name, agent_type, issue_number, execution_id, metadata, created_at)
		SELECT $1, 'issue #' || issue_number, $2, issue_number, id, '{"k":"v"}', now() - make_interval(secs => $3 - issue_number)
		FROM e ORDER BY issue_number RETURNING id`, org, agentType, n)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ids []uuid.UUID
	for rows.Next() {
		var id uuid.UUID
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return ids
}

// exec runs SQL the test needs to set the scene.
func exec(t *testing.T, env *apitest.Env, sql string, args ...any) {
	t.Helper()
	if _, err := env.DB.Exec(context.Background(), sql, args...); err != nil {
		t.Fatal(err)
	}
}

type claimedJSON struct {
	ID             uuid.UUID      `json:"id"`
	ExecutionID    *uuid.UUID     `json:"execution_id"`
	Name           string         `json:"name"`
	Priority       string         `json:"priority"`
	AgentType      string         `json:"agent_type"`
	Repository     *string        `json:"repository"`
	IssueNumber    *int           `json:"issue_number"`
	Metadata       map[string]any `json:"metadata"`
	Options        map[string]any `json:"options"`
	TimeoutSeconds int            `json:"timeout_seconds"`
	LeaseExpiresAt time.Time      `json:"lease_expires_at"`
}

func claim(t *testing.T, wc *apitest.Client, body map[string]any) []claimedJSON {
	t.Helper()
	var out struct {
		Tasks []claimedJSON `json:"tasks"`
	}
	wc.Do("POST", "/worker/claim", body).Expect(200).JSON(&out)
	return out.Tasks
}

type taskRow struct {
	Status, ExecStatus string
	LeaseOwner         *uuid.UUID
	LeaseExpiresAt     *time.Time
	RetryCount         int
	StartedAt          *time.Time
	ExecStartedAt      *time.Time
	PRNumber           *int
	Logs               int
}

func taskState(t *testing.T, env *apitest.Env, id uuid.UUID) taskRow {
	t.Helper()
	var r taskRow
	err := env.DB.QueryRow(context.Background(), `
		SELECT t.status, coalesce(e.status, ''), t.lease_owner, t.lease_expires_at, t.retry_count, t.started_at, e.started_at, e.pr_number,
			(SELECT count(*) FROM execution_logs l WHERE l.execution_id = t.execution_id)
		FROM tasks t LEFT JOIN agent_executions e ON e.id = t.execution_id WHERE t.id = $1`, id).
		Scan(&r.Status, &r.ExecStatus, &r.LeaseOwner, &r.LeaseExpiresAt, &r.RetryCount, &r.StartedAt, &r.ExecStartedAt, &r.PRNumber, &r.Logs)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestClaimOrderTypesAndBounds(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	w := registerWorker(t, alice, map[string]any{"name": "w", "agent_types": []string{"review", "codegen"}, "max_concurrency": 3})
	wc := asWorker(env, w.Token)
	old := seedTasks(t, env, alice.OrgID, 2, "review")     // P1, older
	urgent := seedTasks(t, env, alice.OrgID, 1, "codegen") // P0 below
	exec(t, env, `UPDATE tasks SET priority = 'P0' WHERE id = $1`, urgent[0])
	other := seedTasks(t, env, alice.OrgID, 1, "deployment") // not this worker's type
	manual := uuid.New()
	exec(t, env, `INSERT INTO tasks (id, organization_id, name) VALUES ($1, $2, 'manual work')`, manual, alice.OrgID)

	got := claim(t, wc, map[string]any{"max": 2})
	if len(got) != 2 || got[0].ID != urgent[0] || got[1].ID != old[0] {
		t.Fatalf("claimed %v, want the P0 task then the oldest P1", got)
	}
	c := got[1]
	if c.AgentType != "review" || c.ExecutionID == nil || *c.IssueNumber != 1 || c.Metadata["k"] != "v" || c.Options["depth"] != "quick" ||
		c.TimeoutSeconds != 1800 || time.Until(c.LeaseExpiresAt) < 50*time.Second {
		t.Fatalf("claimed task lacks what the daemon needs: %+v", c)
	}
	st := taskState(t, env, old[0])
	if st.Status != "running" || st.ExecStatus != "running" || st.LeaseOwner == nil || *st.LeaseOwner != w.ID ||
		st.StartedAt == nil || st.ExecStartedAt == nil {
		t.Fatalf("claimed task in the database: %+v", st)
	}

	// agent_types narrows to the intersection with the worker's own
	if got := claim(t, wc, map[string]any{"agent_types": []string{"deployment"}}); len(got) != 0 {
		t.Fatalf("claimed a type the worker does not run: %v", got)
	}
	// free concurrency bounds the claim: 3 - 2 running = 1
	if got := claim(t, wc, map[string]any{"max": 16}); len(got) != 1 || got[0].ID != old[1] {
		t.Fatalf("claimed %v, want only the one task its free concurrency allows", got)
	}
	if got := claim(t, wc, map[string]any{"max": 16}); len(got) != 0 {
		t.Fatalf("at capacity, claimed %v", got)
	}
	for _, id := range []uuid.UUID{other[0], manual} {
		if st := taskState(t, env, id); st.Status != "pending" {
			t.Fatalf("task %s is %s, want untouched", id, st.Status)
		}
	}

	for name, body := range map[string]map[string]any{
		"max too high":    {"max": 17},
		"max negative":    {"max": -1},
		"lease too long":  {"lease_seconds": 601},
		"lease negative":  {"lease_seconds": -5},
		"agent types big": {"agent_types": strings.Split(strings.Repeat("x,", 21), ",")[:21]},
		"unknown field":   {"max": 1, "steal": true},
	} {
		t.Run(name, func(t *testing.T) { wc.Do("POST", "/worker/claim", body).Problem(422) })
	}
}

func TestEightWorkersClaimFiveHundredTasksExactlyOnce(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	const tasks, workers = 500, 8
	ids := seedTasks(t, env, alice.OrgID, tasks, "codegen")
	var (
		mu        sync.Mutex
		claims    = map[uuid.UUID]int{}
		completed = map[uuid.UUID]int{}
		wg        sync.WaitGroup
		errs      = make(chan error, workers)
	)
	for i := range workers {
		w := registerWorker(t, alice, map[string]any{"name": fmt.Sprintf("w%d", i), "agent_types": []string{"codegen"}, "max_concurrency": 8})
		wc := asWorker(env, w.Token)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				r := wc.Do("POST", "/worker/claim", map[string]any{"max": 8})
				if r.Status != 200 {
					errs <- fmt.Errorf("claim: %d %s", r.Status, r.Body)
					return
				}
				var out struct{ Tasks []claimedJSON }
				r.JSON(&out)
				if len(out.Tasks) == 0 {
					return
				}
				for _, tk := range out.Tasks {
					mu.Lock()
					claims[tk.ID]++
					mu.Unlock()
					pr := 1 + *tk.IssueNumber
					c := wc.Do("POST", "/worker/tasks/"+tk.ID.String()+"/complete", map[string]any{"pr_number": pr})
					if c.Status != 200 {
						errs <- fmt.Errorf("complete %s: %d %s", tk.ID, c.Status, c.Body)
						return
					}
					mu.Lock()
					completed[tk.ID]++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for _, id := range ids {
		if claims[id] != 1 || completed[id] != 1 {
			t.Errorf("task %s claimed %d times, completed %d times; want once each", id, claims[id], completed[id])
		}
	}
	var done, execDone int
	if err := env.DB.QueryRow(context.Background(), `
		SELECT count(*) FILTER (WHERE t.status = 'completed'), count(*) FILTER (WHERE e.status = 'completed' AND e.pr_number IS NOT NULL)
		FROM tasks t JOIN agent_executions e ON e.id = t.execution_id WHERE t.organization_id = $1`, alice.OrgID).Scan(&done, &execDone); err != nil {
		t.Fatal(err)
	}
	if done != tasks || execDone != tasks {
		t.Fatalf("%d tasks and %d executions completed, want %d", done, execDone, tasks)
	}
	// the dashboard's counters followed every concurrent move
	var counted, bucketed, prs int
	if err := env.DB.QueryRow(context.Background(), `
		SELECT (SELECT coalesce(sum(n), 0) FROM execution_counters WHERE organization_id = $1 AND status = 'completed'),
			(SELECT coalesce(sum(n), 0) FROM execution_buckets WHERE organization_id = $1 AND status = 'completed'),
			(SELECT coalesce(sum(prs), 0) FROM execution_counters WHERE organization_id = $1)`, alice.OrgID).Scan(&counted, &bucketed, &prs); err != nil {
		t.Fatal(err)
	}
	if counted != tasks || bucketed != tasks || prs != tasks {
		t.Fatalf("counters say %d completed (%d in buckets, %d PRs), want %d", counted, bucketed, prs, tasks)
	}
}

func TestOnlyTheLeaseHolderMovesATask(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	a := asWorker(env, registerWorker(t, alice, map[string]any{"name": "a", "agent_types": []string{"review"}}).Token)
	b := asWorker(env, registerWorker(t, alice, map[string]any{"name": "b", "agent_types": []string{"review"}}).Token)
	ids := seedTasks(t, env, alice.OrgID, 2, "review")
	if got := claim(t, a, map[string]any{"lease_seconds": 1}); len(got) != 1 {
		t.Fatalf("a claimed %d", len(got))
	}
	task := ids[0].String()

	// another worker: 409 on everything, nothing changes
	b.Do("POST", "/worker/tasks/"+task+"/complete", map[string]any{"pr_number": 7}).Problem(409)
	b.Do("POST", "/worker/tasks/"+task+"/fail", map[string]any{"error": "nope"}).Problem(409)
	b.Do("POST", "/worker/tasks/"+task+"/logs", map[string]any{"lines": []map[string]any{{"message": "hi"}}}).Problem(409)
	// a pending task nobody holds
	a.Do("POST", "/worker/tasks/"+ids[1].String()+"/complete", map[string]any{}).Problem(409)
	if st := taskState(t, env, ids[0]); st.Status != "running" || st.PRNumber != nil || st.Logs != 0 {
		t.Fatalf("after b's attempts: %+v", st)
	}

	// a's lease expires, the sweeper requeues, b takes it: a is now stale
	poll.Until(t, 15*time.Second, "a's lease to expire", func() bool {
		n, err := env.Store.SweepExpiredLeases(context.Background())
		return err == nil && n == 1
	})
	if got := claim(t, b, map[string]any{}); len(got) != 1 || got[0].ID != ids[0] {
		t.Fatalf("b claimed %v", got)
	}
	before := taskState(t, env, ids[0])
	p := a.Do("POST", "/worker/tasks/"+task+"/complete", map[string]any{"pr_number": 99}).Problem(409)
	if !strings.Contains(p.Detail, "lease") {
		t.Fatalf("409 does not say why: %q", p.Detail)
	}
	a.Do("POST", "/worker/tasks/"+task+"/logs", map[string]any{"lines": []map[string]any{{"message": "late"}}}).Problem(409)
	after := taskState(t, env, ids[0])
	if after.Status != "running" || *after.LeaseOwner != *before.LeaseOwner || after.PRNumber != nil || after.Logs != 0 || after.RetryCount != 1 {
		t.Fatalf("the stale worker changed the task: %+v", after)
	}
	// a's heartbeat tells it to stop the task
	var hb struct{ Cancel []uuid.UUID }
	a.Do("POST", "/worker/heartbeat", map[string]any{"task_ids": []uuid.UUID{ids[0]}}).Expect(200).JSON(&hb)
	if len(hb.Cancel) != 1 || hb.Cancel[0] != ids[0] {
		t.Fatalf("stale worker's heartbeat answered %v, want the lost task", hb.Cancel)
	}
	b.Do("POST", "/worker/tasks/"+task+"/complete", map[string]any{"pr_number": 5, "quality_score": 91.5, "summary": "done"}).Expect(200)
	if st := taskState(t, env, ids[0]); st.Status != "completed" || st.ExecStatus != "completed" || *st.PRNumber != 5 {
		t.Fatalf("after b completed: %+v", st)
	}
	b.Do("POST", "/worker/tasks/"+task+"/complete", map[string]any{}).Problem(409)
}

func TestHeartbeatRenewsLeasesAndAnswersCancels(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	w := registerWorker(t, alice, map[string]any{"name": "w", "agent_types": []string{"review"}, "max_concurrency": 3})
	wc := asWorker(env, w.Token)
	ids := seedTasks(t, env, alice.OrgID, 3, "review")
	claim(t, wc, map[string]any{"max": 3, "lease_seconds": 5})
	exec(t, env, `UPDATE tasks SET lease_expires_at = now() + interval '1 second' WHERE id = ANY($1)`, ids)

	// a person cancels one (as POST /agents/executions/{id}/cancel does), another is flagged
	if _, err := env.Store.MoveTask(context.Background(), alice.OrgID, ids[0], storeCancel()); err != nil {
		t.Fatal(err)
	}
	exec(t, env, `UPDATE tasks SET cancel_requested = true WHERE id = $1`, ids[1])

	var hb struct {
		Cancel       []uuid.UUID `json:"cancel"`
		LeaseSeconds int         `json:"lease_seconds"`
	}
	wc.Do("POST", "/worker/heartbeat", map[string]any{"task_ids": ids, "lease_seconds": 120}).Expect(200).JSON(&hb)
	if hb.LeaseSeconds != 120 || len(hb.Cancel) != 2 || !containsAll(hb.Cancel, ids[0], ids[1]) {
		t.Fatalf("heartbeat answered %+v, want the cancelled and the flagged task", hb)
	}
	for _, id := range ids[1:] {
		if st := taskState(t, env, id); st.LeaseExpiresAt == nil || time.Until(*st.LeaseExpiresAt) < 100*time.Second {
			t.Fatalf("lease of %s not renewed: %+v", id, st)
		}
	}
	// without task_ids it renews all it holds
	exec(t, env, `UPDATE tasks SET lease_expires_at = now() + interval '2 seconds' WHERE id = ANY($1) AND status = 'running'`, ids)
	wc.Do("POST", "/worker/heartbeat", map[string]any{}).Expect(200).JSON(&hb)
	if st := taskState(t, env, ids[2]); time.Until(*st.LeaseExpiresAt) < 50*time.Second {
		t.Fatalf("default lease not renewed: %+v", st)
	}
	for name, body := range map[string]map[string]any{
		"lease too long": {"lease_seconds": 601},
		"long version":   {"version": strings.Repeat("v", 65)},
		"bad task id":    {"task_ids": []string{"nope"}},
	} {
		t.Run(name, func(t *testing.T) { wc.Do("POST", "/worker/heartbeat", body).Problem(422) })
	}
}

func containsAll(have []uuid.UUID, want ...uuid.UUID) bool {
	for _, w := range want {
		found := false
		for _, h := range have {
			found = found || h == w
		}
		if !found {
			return false
		}
	}
	return true
}

func TestWorkerLogs(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	wc := asWorker(env, registerWorker(t, alice, map[string]any{"name": "w", "agent_types": []string{"review"}}).Token)
	ids := seedTasks(t, env, alice.OrgID, 1, "review")
	claim(t, wc, map[string]any{})
	path := "/worker/tasks/" + ids[0].String() + "/logs"

	var lines []map[string]any
	for i := range 500 {
		stream := "stdout"
		if i%3 == 0 {
			stream = "stderr"
		}
		lines = append(lines, map[string]any{"stream": stream, "message": fmt.Sprintf("line %03d", i)})
	}
	var out struct{ Stored int }
	wc.Do("POST", path, map[string]any{"lines": lines[:250]}).Expect(200).JSON(&out)
	wc.Do("POST", path, map[string]any{"lines": lines[250:]}).Expect(200)
	wc.Do("POST", path, map[string]any{"lines": []map[string]any{{"message": "no stream given"}}}).Expect(200)
	if out.Stored != 250 {
		t.Fatalf("stored %d, want 250", out.Stored)
	}
	rows, err := env.DB.Query(context.Background(), `
		SELECT l.stream, l.message FROM execution_logs l JOIN tasks t ON t.execution_id = l.execution_id
		WHERE t.id = $1 ORDER BY l.id`, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var s, m string
		_ = rows.Scan(&s, &m)
		got = append(got, s+":"+m)
	}
	rows.Close()
	if len(got) != 501 || got[0] != "stderr:line 000" || got[1] != "stdout:line 001" || got[499] != "stdout:line 499" || got[500] != "stdout:no stream given" {
		t.Fatalf("logs out of order or missing: %d lines, first %v", len(got), got[:3])
	}

	cases := []struct {
		name   string
		body   any
		status int
		field  string
	}{
		{"too many lines", map[string]any{"lines": append(lines, map[string]any{"message": "501st"})}, 422, "lines"},
		{"no lines", map[string]any{"lines": []any{}}, 422, "lines"},
		{"line too long", map[string]any{"lines": []map[string]any{{"message": strings.Repeat("x", 8193)}}}, 422, "message"},
		{"unknown stream", map[string]any{"lines": []map[string]any{{"stream": "stdlog", "message": "x"}}}, 422, "stream"},
		{"body too large", map[string]any{"lines": func() []map[string]any {
			var big []map[string]any
			for range 200 {
				big = append(big, map[string]any{"message": strings.Repeat("y", 8000)})
			}
			return big
		}()}, 413, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := wc.Do("POST", path, tc.body).Problem(tc.status)
			if tc.field != "" && !p.Mentions(tc.field) {
				t.Fatalf("problem does not name %s: %+v", tc.field, p)
			}
		})
	}

	// after the task ended: 409
	wc.Do("POST", "/worker/tasks/"+ids[0].String()+"/complete", map[string]any{"summary": "ok"}).Expect(200)
	wc.Do("POST", path, map[string]any{"lines": []map[string]any{{"message": "too late"}}}).Problem(409)
	wc.Do("POST", "/worker/tasks/"+uuid.NewString()+"/logs", map[string]any{"lines": []map[string]any{{"message": "x"}}}).Problem(404)
}

func TestWorkerFailRequeuesOrFails(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	wc := asWorker(env, registerWorker(t, alice, map[string]any{"name": "w", "agent_types": []string{"review"}}).Token)
	ids := seedTasks(t, env, alice.OrgID, 1, "review")
	exec(t, env, `UPDATE tasks SET max_retries = 1 WHERE id = $1`, ids[0])
	path := "/worker/tasks/" + ids[0].String() + "/fail"

	claim(t, wc, map[string]any{})
	wc.Do("POST", path, map[string]any{}).Problem(422) // error is required
	var moved struct{ Status string }
	wc.Do("POST", path, map[string]any{"error": "timed out", "retryable": true}).Expect(200).JSON(&moved)
	if moved.Status != "pending" {
		t.Fatalf("retryable failure with a retry left went %s, want pending", moved.Status)
	}
	claim(t, wc, map[string]any{})
	wc.Do("POST", path, map[string]any{"error": "timed out again", "retryable": true}).Expect(200).JSON(&moved)
	if st := taskState(t, env, ids[0]); moved.Status != "failed" || st.ExecStatus != "failed" || st.RetryCount != 1 {
		t.Fatalf("out of retries: %s, %+v; want failed", moved.Status, st)
	}
}

func TestWorkflowTasksAreClaimedInDependencyOrder(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	wc := asWorker(env, registerWorker(t, alice, map[string]any{"name": "w", "max_concurrency": 8}).Token)
	// a -> b -> c, and d -> c: c waits for both
	ids := seedTasks(t, env, alice.OrgID, 4, "codegen")
	a, b, c, d := ids[0], ids[1], ids[2], ids[3]
	exec(t, env, `INSERT INTO task_dependencies (task_id, depends_on_task_id) VALUES ($1, $2), ($3, $1), ($3, $4)`, b, a, c, d)
	exec(t, env, `UPDATE tasks SET deps_pending = CASE WHEN id = $1 THEN 1 ELSE 2 END WHERE id IN ($1, $2)`, b, c)
	// c is the most urgent: urgency never jumps the dependency order
	exec(t, env, `UPDATE tasks SET priority = 'P0' WHERE id = $1`, c)

	complete := func(id uuid.UUID) {
		wc.Do("POST", "/worker/tasks/"+id.String()+"/complete", map[string]any{}).Expect(200)
	}
	ids2 := func(ts []claimedJSON) []uuid.UUID {
		var out []uuid.UUID
		for _, x := range ts {
			out = append(out, x.ID)
		}
		return out
	}
	if got := ids2(claim(t, wc, map[string]any{"max": 8})); len(got) != 2 || !containsAll(got, a, d) {
		t.Fatalf("first claim %v, want a and d", got)
	}
	if got := claim(t, wc, map[string]any{"max": 8}); len(got) != 0 {
		t.Fatalf("claimed %v before their dependencies completed", got)
	}
	complete(a)
	if got := ids2(claim(t, wc, map[string]any{"max": 8})); len(got) != 1 || got[0] != b {
		t.Fatalf("after a: claimed %v, want b", got)
	}
	complete(b)
	if got := claim(t, wc, map[string]any{"max": 8}); len(got) != 0 {
		t.Fatalf("c claimed while d still runs: %v", got)
	}
	complete(d)
	if got := ids2(claim(t, wc, map[string]any{"max": 8})); len(got) != 1 || got[0] != c {
		t.Fatalf("after a, b, d: claimed %v, want c", got)
	}
}

func TestWorkersStayInTheirOrganization(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	bob := env.Login("bob")
	aw := asWorker(env, registerWorker(t, alice, map[string]any{"name": "alice-w", "agent_types": []string{"review"}}).Token)
	bw := asWorker(env, registerWorker(t, bob, map[string]any{"name": "bob-w", "agent_types": []string{"review"}}).Token)
	aliceTasks := seedTasks(t, env, alice.OrgID, 3, "review")

	if got := claim(t, bw, map[string]any{"max": 16}); len(got) != 0 {
		t.Fatalf("bob's worker claimed alice's tasks: %v", got)
	}
	if got := claim(t, aw, map[string]any{}); len(got) != 1 {
		t.Fatalf("alice's worker claimed %d", len(got))
	}
	running := aliceTasks[0].String()
	bw.Do("POST", "/worker/tasks/"+running+"/complete", map[string]any{"pr_number": 1}).Problem(404)
	bw.Do("POST", "/worker/tasks/"+running+"/fail", map[string]any{"error": "x"}).Problem(404)
	bw.Do("POST", "/worker/tasks/"+running+"/logs", map[string]any{"lines": []map[string]any{{"message": "x"}}}).Problem(404)
	var hb struct{ Cancel []uuid.UUID }
	bw.Do("POST", "/worker/heartbeat", map[string]any{"task_ids": []uuid.UUID{aliceTasks[0]}, "lease_seconds": 600}).Expect(200).JSON(&hb)
	st := taskState(t, env, aliceTasks[0])
	if st.Status != "running" || st.Logs != 0 || time.Until(*st.LeaseExpiresAt) > 61*time.Second {
		t.Fatalf("bob's worker touched alice's task: %+v", st)
	}
	if len(hb.Cancel) != 1 {
		t.Fatalf("bob's worker heartbeat on a foreign task answered %v, want it told to stop", hb.Cancel)
	}
}

func TestTokensStayOnTheirSide(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	w := registerWorker(t, alice, map[string]any{"name": "w"})
	wc := asWorker(env, w.Token)
	for _, path := range []string{"/workers", "/auth/me", "/coordinators", "/workers/" + w.ID.String()} {
		wc.Do("GET", path, nil).Problem(401)
	}
	wc.Do("POST", "/workers", map[string]any{"name": "spawned"}).Problem(401)
	for _, path := range []string{"/worker/heartbeat", "/worker/claim", "/worker/tasks/" + uuid.NewString() + "/complete"} {
		alice.Do("POST", path, map[string]any{}).Problem(401)
		env.Anonymous().Do("POST", path, map[string]any{}).Problem(401)
		asWorker(env, "mw_"+strings.Repeat("A", 43)).Do("POST", path, map[string]any{}).Problem(401)
	}
}
