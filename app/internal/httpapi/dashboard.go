package httpapi

import (
	"context"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/miyabi/miyabi/app/internal/store"
)

var (
	docDashboardSummary = huma.Operation{OperationID: "dashboard-summary", Tags: []string{"dashboard"},
		Summary: "The active organization at a glance"}
	docDashboardRecent = huma.Operation{OperationID: "dashboard-recent", Tags: []string{"dashboard"},
		Summary: "The latest executions with their repository"}
	docDashboardMetrics = huma.Operation{OperationID: "dashboard-metrics", Tags: []string{"dashboard"},
		Summary:     "Executions per time bucket by status, for charts",
		Description: "24h: 24 hourly buckets; 7d and 30d: daily buckets (UTC). Each bucket counts the executions created in it, by their current status; empty buckets are zeros."}
)

// WorkersSummary counts the organization's registered (not revoked) workers.
type WorkersSummary struct {
	Online  int64 `json:"online" doc:"A heartbeat in the last 60 s (busy ones included)"`
	Busy    int64 `json:"busy" doc:"Online and running at least one task"`
	Offline int64 `json:"offline"`
}

// SummaryOut is the dashboard's headline figures.
type SummaryOut struct {
	Executions struct {
		Total    int64            `json:"total"`
		ByStatus map[string]int64 `json:"by_status"`
	} `json:"executions"`
	Tasks struct {
		ByStatus map[string]int64 `json:"by_status"`
	} `json:"tasks"`
	Repositories   int64          `json:"repositories"`
	PRsCreated     int64          `json:"prs_created" doc:"Distinct pull requests (by repository and number) reported by agents or seen in webhooks"`
	PRsMerged      int64          `json:"prs_merged" doc:"Of those, how many were merged (from pull_request webhooks)"`
	Workers        WorkersSummary `json:"workers"`
	SuccessRate    *float64       `json:"success_rate" doc:"completed / (completed + failed), 0..1; null before any ended"`
	MeanDurationMS *float64       `json:"mean_duration_ms" doc:"Mean run time of completed executions; null when none"`
}

type summaryOutput struct{ Body SummaryOut }

func (s *Server) dashboardSummary(ctx context.Context, _ *struct{}) (*summaryOutput, error) {
	sum, err := s.store.DashboardSummary(ctx, principalFrom(ctx).OrgID)
	if err != nil {
		return nil, err
	}
	out := &summaryOutput{}
	b := &out.Body
	b.Executions.Total, b.Executions.ByStatus = sum.ExecutionsTotal, sum.ExecutionsByStatus
	b.Tasks.ByStatus = sum.TasksByStatus
	b.Repositories, b.PRsCreated, b.PRsMerged = sum.Repositories, sum.PRsCreated, sum.PRsMerged
	b.Workers = WorkersSummary{Online: sum.WorkersOnline, Busy: sum.WorkersBusy, Offline: sum.WorkersOffline}
	b.SuccessRate, b.MeanDurationMS = sum.SuccessRate, sum.MeanDurationMS
	return out, nil
}

type recentInput struct {
	Limit int `query:"limit" minimum:"1" maximum:"100" default:"10"`
}

type recentOutput struct {
	Body struct {
		Items []ExecutionOut `json:"items"`
	}
}

func (s *Server) dashboardRecent(ctx context.Context, in *recentInput) (*recentOutput, error) {
	items, err := s.store.RecentExecutions(ctx, principalFrom(ctx).OrgID, in.Limit)
	if err != nil {
		return nil, err
	}
	out := &recentOutput{}
	out.Body.Items = mapSlice(items, executionOut)
	return out, nil
}

type metricsInput struct {
	Range string `query:"range" enum:"24h,7d,30d" default:"24h"`
}

// MetricsPointOut is one bucket: executions created in [at, at + bucket) by status.
type MetricsPointOut struct {
	At        time.Time `json:"at"`
	Pending   int64     `json:"pending"`
	Running   int64     `json:"running"`
	Completed int64     `json:"completed"`
	Failed    int64     `json:"failed"`
	Cancelled int64     `json:"cancelled"`
	Total     int64     `json:"total"`
}

type metricsOutput struct {
	Body struct {
		Range  string            `json:"range" enum:"24h,7d,30d"`
		Bucket string            `json:"bucket" enum:"hour,day"`
		Points []MetricsPointOut `json:"points"`
	}
}

func (s *Server) dashboardMetrics(ctx context.Context, in *metricsInput) (*metricsOutput, error) {
	unit, n := "hour", 24
	switch in.Range {
	case "7d":
		unit, n = "day", 7
	case "30d":
		unit, n = "day", 30
	}
	points, err := s.store.ExecutionMetrics(ctx, principalFrom(ctx).OrgID, unit, n)
	if err != nil {
		return nil, err
	}
	out := &metricsOutput{}
	out.Body.Range, out.Body.Bucket = in.Range, unit
	out.Body.Points = mapSlice(points, func(p store.MetricsPoint) MetricsPointOut {
		return MetricsPointOut{At: p.At.UTC(), Pending: p.Pending, Running: p.Running, Completed: p.Completed,
			Failed: p.Failed, Cancelled: p.Cancelled, Total: p.Total}
	})
	return out, nil
}
