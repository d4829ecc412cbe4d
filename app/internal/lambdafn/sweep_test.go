package lambdafn_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/miyabi/miyabi/app/internal/apitest"
	"github.com/miyabi/miyabi/app/internal/config"
	"github.com/miyabi/miyabi/app/internal/fakegithub"
	"github.com/miyabi/miyabi/app/internal/lambdafn"
)

// The Lambda's sweep runs the deliveries as jobs of their own and counts what failed:
// a notification whose receiver refuses the connection is one failed item of the
// notifications job, in the sweep's answer and in /ops/metrics, and the sweep itself
// succeeds (the delivery is retried by the next one).
func TestLambdaSweepCountsFailedDeliveries(t *testing.T) {
	env := apitest.New(t, func(c *config.Config) { c.OperatorGitHubIDs = []int64{fakegithub.UserID("olga")} })
	alice, olga := env.Login("alice"), env.Login("olga")
	ctx := context.Background()

	// a receiver that refuses: a port nobody listens on any more
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String() + "/hook"
	ln.Close()
	channels := "/organizations/" + alice.OrgID.String() + "/notification-channels"
	var ch struct {
		ID string `json:"id"`
	}
	alice.Do("POST", channels, map[string]any{"name": "down", "kind": "webhook", "url": closed,
		"event_types": []string{"execution.failed"}}).Expect(201).JSON(&ch)
	alice.Do("POST", channels+"/"+ch.ID+"/test", nil).Expect(200, 201) // first attempt inline: refused, retried later
	if _, err := env.DB.Exec(ctx, `UPDATE notification_deliveries SET next_attempt_at = now() WHERE status = 'pending'`); err != nil {
		t.Fatal(err)
	}

	f := lambdafn.New(env.Server, env.Store, slog.New(slog.DiscardHandler), 30*time.Second)
	got, err := f.Invoke(ctx, json.RawMessage(`{"action":"sweep"}`))
	if err != nil {
		t.Fatalf("sweep: %v", err)
	}
	res, ok := got.(lambdafn.ActionResult)
	if !ok || res.Status != "ok" {
		t.Fatalf("sweep answered %#v", got)
	}
	byJob := map[string]lambdafn.SweepJobResult{}
	var order []string
	for _, j := range res.Jobs {
		byJob[j.Job] = j
		order = append(order, j.Job)
	}
	if want := []string{"requeue_leases", "purge", "issue_comments", "notifications", "queue_figures", "record"}; !slices.Equal(order, want) {
		t.Fatalf("jobs %v, want %v", order, want)
	}
	if n := byJob["notifications"]; n.Items != 0 || n.Failed != 1 || n.Error != "" {
		t.Errorf("notifications job: %+v, want 1 failed item", n)
	}

	var figures struct {
		Sweep struct {
			Jobs []struct {
				Job         string `json:"job"`
				Failed      int    `json:"failed"`
				FailedTotal int64  `json:"failed_total"`
				ErrorsTotal int64  `json:"errors_total"`
			} `json:"jobs"`
		} `json:"sweep"`
	}
	olga.Do("GET", "/ops/metrics", nil).Expect(200).JSON(&figures)
	found := false
	for _, j := range figures.Sweep.Jobs {
		if j.Job == "notifications" {
			found = true
			if j.Failed != 1 || j.FailedTotal != 1 || j.ErrorsTotal != 0 {
				t.Errorf("/ops/metrics notifications: %+v", j)
			}
		}
	}
	if !found {
		t.Errorf("/ops/metrics has no notifications job: %+v", figures.Sweep.Jobs)
	}
}
