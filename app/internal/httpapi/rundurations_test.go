package httpapi_test

import (
	"testing"
	"time"

	"github.com/miyabi/miyabi/app/internal/apitest"
)

// A retried execution's run time is its last run's: the overview's mean duration is run
// time, and a figure people quote must not include the hour the first attempt took.
func TestRetriedExecutionRunTimeIsItsLastRun(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	wc := asWorker(env, registerWorker(t, alice, map[string]any{"name": "w", "agent_types": []string{"review"}}).Token)
	ids := seedTasks(t, env, alice.OrgID, 1, "review")
	path := "/worker/tasks/" + ids[0].String()

	claim(t, wc, map[string]any{})
	wc.Do("POST", path+"/fail", map[string]any{"error": "the host went away", "retryable": true}).Expect(200)
	// The first attempt started an hour ago.
	exec(t, env, `UPDATE agent_executions SET started_at = now() - interval '1 hour'
		WHERE id = (SELECT execution_id FROM tasks WHERE id = $1)`, ids[0])
	before := time.Now()
	if got := claim(t, wc, map[string]any{}); len(got) != 1 {
		t.Fatalf("the retry was not claimed: %v", got)
	}
	if st := taskState(t, env, ids[0]); st.ExecStartedAt == nil || st.ExecStartedAt.Before(before.Add(-5*time.Second)) {
		t.Fatalf("execution started_at %v after the second claim, want the second claim's time (about %v)", st.ExecStartedAt, before)
	}
	wc.Do("POST", path+"/complete", map[string]any{}).Expect(200)
	var s summaryJSON
	alice.Do("GET", "/dashboard/summary", nil).Expect(200).JSON(&s)
	if s.MeanDurationMS == nil || *s.MeanDurationMS > 60_000 {
		t.Fatalf("mean run time %v ms, want the last run's (well under a minute)", s.MeanDurationMS)
	}
}
