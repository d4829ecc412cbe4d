package metrics_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/miyabi/miyabi/app/internal/metrics"
	"github.com/miyabi/miyabi/app/internal/metrics/emfcheck"
)

func TestRouteIsTheTemplate(t *testing.T) {
	for _, c := range []struct{ method, pattern, path, want string }{
		{"GET", "/api/v1/tasks/:id", "/api/v1/tasks/5b0e...", "GET /tasks/{id}"},
		{"DELETE", "/api/v1/organizations/:id/members/:user_id", "/api/v1/organizations/x/members/y", "DELETE /organizations/{id}/members/{user_id}"},
		{"POST", "/api/v1/invitations/:token/accept", "/api/v1/invitations/inv_SECRET/accept", "POST /invitations/{token}/accept"},
		{"GET", "", "/api/v1/nope/tok_SECRET", metrics.RouteUnmatched},
		{"GET", "", "/assets/index-abc.js", metrics.RouteStatic},
	} {
		if got := metrics.Route(c.method, c.pattern, c.path, "/api/v1"); got != c.want {
			t.Errorf("Route(%s %s) = %q, want %q", c.method, c.pattern, got, c.want)
		}
	}
}

// More than EMF's 100 values per metric in one flush: split into documents that each
// parse, whose Requests add up and whose latencies are all there, in milliseconds.
func TestFlushSplitsAndParses(t *testing.T) {
	var out bytes.Buffer
	r := metrics.New("Miyabi/test", &out)
	for i := range 250 {
		r.ObserveRequest("GET /tasks/{id}", 200+(i%2)*204, time.Duration(i+1)*time.Millisecond)
	}
	r.ObserveClaim(0)
	r.ObserveClaim(3)
	r.ObserveNotification(metrics.NotificationDelivered)
	r.ObserveNotification(metrics.NotificationDelivered)
	r.ObserveNotification(metrics.NotificationFailed)
	r.Flush(&metrics.PoolStat{Acquires: 10, EmptyAcquires: 2, AcquireTime: 30 * time.Millisecond, InUse: 1})
	docs, err := emfcheck.Lines(out.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	var requests, latencies float64
	for _, m := range emfcheck.Find(docs, "Requests", map[string]string{"Route": "GET /tasks/{id}", "StatusClass": "2xx"}) {
		requests += m.Values[0]
	}
	for _, m := range emfcheck.Find(docs, "Latency", map[string]string{"Route": "GET /tasks/{id}"}) {
		if m.Unit != "Milliseconds" || len(m.Values) > 100 {
			t.Errorf("latency metric %s with %d values", m.Unit, len(m.Values))
		}
		latencies += float64(len(m.Values))
	}
	if requests != 125 || latencies != 250 {
		t.Errorf("2xx requests %v, latency values %v; want 125 and 250", requests, latencies)
	}
	if m := emfcheck.Find(docs, "Requests", map[string]string{"StatusClass": "4xx"}); len(m) == 0 {
		t.Error("no 4xx total")
	}
	if m := emfcheck.Find(docs, "Claims", map[string]string{"Result": "empty"}); len(m) != 1 || m[0].Values[0] != 1 {
		t.Errorf("empty claims %+v", m)
	}
	if m := emfcheck.Find(docs, "TasksClaimed", map[string]string{"Result": "work"}); len(m) != 1 || m[0].Values[0] != 3 {
		t.Errorf("tasks claimed %+v", m)
	}
	if m := emfcheck.Find(docs, "Notifications", map[string]string{"Result": "delivered"}); len(m) != 1 || m[0].Values[0] != 2 {
		t.Errorf("notifications delivered %+v", m)
	}
	if m := emfcheck.Find(docs, "Notifications", map[string]string{"Result": "failed"}); len(m) != 1 || m[0].Values[0] != 1 {
		t.Errorf("notifications failed %+v", m)
	}
	if m := emfcheck.Find(docs, "Notifications", map[string]string{"Result": "retrying"}); len(m) != 0 {
		t.Errorf("no retry happened, yet %+v", m)
	}
	if m := emfcheck.Find(docs, "PoolWaits", map[string]string{"Service": "miyabi"}); len(m) != 1 || m[0].Values[0] != 2 {
		t.Errorf("pool waits %+v", m)
	}
	// the next flush reports deltas: nothing happened, nothing is written
	out.Reset()
	r.Flush(&metrics.PoolStat{Acquires: 10, EmptyAcquires: 2, AcquireTime: 30 * time.Millisecond, InUse: 1})
	if out.Len() != 0 {
		t.Errorf("an idle flush wrote %s", out.String())
	}
	if s := r.Snapshot(); len(s.Routes) != 1 || s.Routes[0].Requests != 250 || s.Routes[0].P99MS < 200 || s.Routes[0].P99MS > 300 {
		t.Errorf("snapshot %+v", s.Routes)
	}
	if n := r.Snapshot().Notifications; n.Delivered != 2 || n.Failed != 1 || n.Retrying != 0 {
		t.Errorf("snapshot notifications %+v", n)
	}
}

// The spec checker itself refuses what CloudWatch refuses.
func TestEMFCheckRefuses(t *testing.T) {
	for _, line := range []string{
		`{"Requests":1}`,
		`{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[["Route"]],"Metrics":[{"Name":"Requests","Unit":"Count"}]}]},"Requests":1}`,
		`{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[["Route"]],"Metrics":[{"Name":"Requests","Unit":"Calls"}]}]},"Route":"r","Requests":1}`,
		`{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[["Route"]],"Metrics":[{"Name":"Requests","Unit":"Count"}]}]},"Route":"r","Requests":"1"}`,
	} {
		if _, err := emfcheck.Parse([]byte(line)); err == nil {
			t.Errorf("accepted %s", line)
		}
	}
	if _, err := emfcheck.Parse([]byte(strings.ReplaceAll(`{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[["Route"]],"Metrics":[{"Name":"Requests","Unit":"Count"}]}]},"Route":"r","Requests":1}`, "\n", ""))); err != nil {
		t.Errorf("refused a valid document: %v", err)
	}
}
