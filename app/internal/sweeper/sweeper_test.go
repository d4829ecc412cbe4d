package sweeper

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"testing"

	"github.com/miyabi/miyabi/app/internal/metrics"
	"github.com/miyabi/miyabi/app/internal/metrics/emfcheck"
)

// Each job of a sweep is an EMF document of its own with the Job dimension: items,
// failed items and errors (0 or 1), all Count; the issue comments keep their
// service-wide figures; the run and its requeued tasks are service-wide as before.
func TestEmitFiguresPerJob(t *testing.T) {
	var out bytes.Buffer
	m := metrics.New(metrics.Namespace("test"), &out)
	rep := Report{Jobs: []Result{
		{Job: JobRequeueLeases, Counts: Counts{Items: 3}},
		{Job: JobPurge, Err: errors.New("purge: no")},
		{Job: JobIssueComments, Counts: Counts{Items: 4, Failed: 2}},
		{Job: JobNotifications, Counts: Counts{Items: 1, Failed: 5}},
		{Job: JobRecord, Counts: Counts{Items: 4}},
	}}
	EmitFigures(m, rep, nil, 0, false)
	docs, err := emfcheck.Lines(out.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	one := func(name string, dims map[string]string) float64 {
		t.Helper()
		got := emfcheck.Find(docs, name, dims)
		if len(got) != 1 || len(got[0].Values) != 1 || got[0].Unit != metrics.UnitCount || got[0].Namespace != "Miyabi/test" {
			t.Fatalf("%s %v: %+v in\n%s", name, dims, got, out.String())
		}
		return got[0].Values[0]
	}
	for _, c := range []struct {
		job                 string
		items, failed, errs float64
	}{
		{JobRequeueLeases, 3, 0, 0}, {JobPurge, 0, 0, 1}, {JobIssueComments, 4, 2, 0}, {JobNotifications, 1, 5, 0}, {JobRecord, 4, 0, 0},
	} {
		job := map[string]string{metrics.DimJob: c.job}
		got := [3]float64{one(metrics.MetricSweepJobItems, job), one(metrics.MetricSweepJobItemsFailed, job), one(metrics.MetricSweepJobErrors, job)}
		if want := [3]float64{c.items, c.failed, c.errs}; got != want {
			t.Errorf("%s: items, failed, errors %v, want %v", c.job, got, want)
		}
	}
	svc := map[string]string{metrics.DimService: metrics.ServiceName}
	if one(metrics.MetricSweepRuns, svc) != 1 || one(metrics.MetricTasksRequeued, svc) != 3 || one(metrics.MetricIssueCommentsSent, svc) != 4 ||
		one(metrics.MetricIssueCommentRunsFailed, svc) != 0 {
		t.Errorf("service-wide figures:\n%s", out.String())
	}
	if got := emfcheck.Find(docs, metrics.MetricQueueDepth, svc); len(got) != 0 {
		t.Errorf("queue depth without queue figures: %+v", got)
	}
}

// A job that panics is that job's error; the report's error names only the sweep's own
// work (requeue, purge, record), never a delivery.
func TestRunJobAndReportErr(t *testing.T) {
	var logs bytes.Buffer
	log := slogTo(&logs)
	r := runJob(t.Context(), Job{JobNotifications, func(context.Context) (Counts, error) { panic("boom") }}, log)
	if r.Err == nil || r.Err.Error() != "notifications: panic: boom" {
		t.Fatalf("panicking job: %+v", r)
	}
	if !bytes.Contains(logs.Bytes(), []byte(`msg="sweep failed" job=notifications`)) {
		t.Errorf("log: %s", logs.String())
	}
	rep := Report{Jobs: []Result{r, {Job: JobIssueComments, Err: errors.New("issue_comments: down")}}}
	if err := rep.Err(); err != nil {
		t.Errorf("deliveries failed the sweep: %v", err)
	}
	rep.Jobs = append(rep.Jobs, Result{Job: JobPurge, Err: errors.New("purge: no")})
	if err := rep.Err(); err == nil || err.Error() != "purge: no" {
		t.Errorf("report error %v, want the purge's", err)
	}
}

func slogTo(w *bytes.Buffer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }
