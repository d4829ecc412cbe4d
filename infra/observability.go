package main

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// What operators look at: one CloudWatch dashboard per stack (AWS's metrics of the API,
// the Lambda and the database beside the app's own EMF metrics) and, in production, the
// alarms (alarms.go). The app writes its metrics to the namespace Miyabi/<environment>
// (app/internal/metrics).

// defaultRunbook is where alarm descriptions link; miyabi:runbookUrl overrides it (a
// fork, a private mirror).
const defaultRunbook = "https://github.com/miyabi/miyabi/blob/main/docs/ops.md"

// observed is what the dashboard and alarms watch.
type observed struct {
	FunctionName pulumi.StringOutput
	APIID        pulumi.StringOutput
	DBIdentifier string
	// Log groups, for the Logs Insights widgets.
	FunctionLogGroup string
	APILogGroup      string
}

// Observability is what newObservability made.
type Observability struct {
	Dashboard    *cloudwatch.Dashboard
	DashboardURL pulumi.StringOutput
}

func appNamespace(cfg Config) string { return "Miyabi/" + cfg.Environment }

// runbookURL is the alarms' runbook: miyabi:runbookUrl or the repository's docs/ops.md.
func runbookURL(ctx *pulumi.Context) (string, error) {
	u, _ := ctx.GetConfig("miyabi:runbookUrl")
	if u == "" {
		return defaultRunbook, nil
	}
	if !strings.HasPrefix(u, "https://") || strings.Contains(u, "#") {
		return "", fmt.Errorf("miyabi:runbookUrl: must be an https:// URL of docs/ops.md without a #fragment, not %q", u)
	}
	return u, nil
}

var operatorIDsPattern = regexp.MustCompile(`^[0-9]+(,[0-9]+)*$`)

// operatorGitHubIDs is miyabi:operatorGithubIds, the GitHub accounts (numeric ids) allowed
// on the API's /ops routes; the function gets it as OPERATOR_GITHUB_IDS.
func operatorGitHubIDs(ctx *pulumi.Context) (string, error) {
	raw, _ := ctx.GetConfig("miyabi:operatorGithubIds")
	v := strings.ReplaceAll(raw, " ", "")
	if v != "" && !operatorIDsPattern.MatchString(v) {
		return "", fmt.Errorf("miyabi:operatorGithubIds: must be numeric GitHub user ids separated by commas, not %q (curl https://api.github.com/users/<login> shows the id)", v)
	}
	return v, nil
}

// newObservability creates the stack's dashboard, and the alarms in production.
func newObservability(ctx *pulumi.Context, cfg Config, in observed) (*Observability, error) {
	runbook, err := runbookURL(ctx)
	if err != nil {
		return nil, err
	}
	name := cfg.name("ops")
	body := pulumi.All(in.FunctionName, in.APIID).ApplyT(func(v []any) (string, error) {
		return dashboardBody(cfg, v[0].(string), v[1].(string), in)
	}).(pulumi.StringOutput)
	dash, err := cloudwatch.NewDashboard(ctx, "ops", &cloudwatch.DashboardArgs{
		DashboardName: pulumi.String(name),
		DashboardBody: body,
	})
	if err != nil {
		return nil, err
	}
	if cfg.Production {
		if err := newAlarms(ctx, cfg, in, runbook); err != nil {
			return nil, fmt.Errorf("alarms: %w", err)
		}
	}
	url := dash.DashboardName.ApplyT(func(n string) string {
		return fmt.Sprintf("https://%s.console.aws.amazon.com/cloudwatch/home?region=%s#dashboards/dashboard/%s", cfg.Region, cfg.Region, n)
	}).(pulumi.StringOutput)
	return &Observability{Dashboard: dash, DashboardURL: url}, nil
}

// A dashboard widget (CloudWatch dashboard body structure).
type widget struct {
	Type       string         `json:"type"`
	X          int            `json:"x"`
	Y          int            `json:"y"`
	Width      int            `json:"width"`
	Height     int            `json:"height"`
	Properties map[string]any `json:"properties"`
}

// dashboardBody lays the widgets out in rows of up to four, top to bottom: the API,
// the Lambda, the database, then the app's own figures and the logs.
func dashboardBody(cfg Config, functionName, apiID string, in observed) (string, error) {
	app := appNamespace(cfg)
	api := []any{"ApiId", apiID, "Stage", "$default"}
	fn := []any{"FunctionName", functionName}
	db := []any{"DBInstanceIdentifier", in.DBIdentifier}
	svc := []any{"Service", "miyabi"}
	m := func(ns, name string, dims []any, opts map[string]any) []any {
		out := append([]any{ns, name}, dims...)
		if opts != nil {
			out = append(out, opts)
		}
		return out
	}
	stat := func(s string) map[string]any { return map[string]any{"stat": s} }
	label := func(s, l string) map[string]any { return map[string]any{"stat": s, "label": l} }
	search := func(id, query, statName, l string) []any {
		return []any{map[string]any{"id": id, "label": l,
			"expression": fmt.Sprintf("SEARCH('%s', '%s', 300)", query, statName)}}
	}
	graph := func(title string, metrics [][]any, extra map[string]any) widget {
		p := map[string]any{"title": title, "region": cfg.Region, "view": "timeSeries", "stacked": false, "period": 300, "metrics": metrics}
		for k, v := range extra {
			p[k] = v
		}
		return widget{Type: "metric", Properties: p}
	}
	hline := func(label string, v float64) map[string]any {
		return map[string]any{"annotations": map[string]any{"horizontal": []any{map[string]any{"label": label, "value": v}}}}
	}
	logs := func(title, group, query string) widget {
		return widget{Type: "log", Properties: map[string]any{"title": title, "region": cfg.Region, "view": "table",
			"query": fmt.Sprintf("SOURCE '%s' | %s", group, query)}}
	}

	rows := [][]widget{
		{
			{Type: "text", Properties: map[string]any{"markdown": fmt.Sprintf(
				"## Miyabi %s\nAlarms link to their runbook section. App metrics: namespace `%s`. Deep health: `GET /api/v1/ops/health` (operators) or `aws lambda invoke --function-name %s --payload '{\"action\":\"health\"}' out.json`.",
				cfg.Stack, app, functionName)}},
		},
		{
			graph("API requests, 4xx, 5xx", [][]any{m("AWS/ApiGateway", "Count", api, stat("Sum")), m("AWS/ApiGateway", "4xx", api, stat("Sum")), m("AWS/ApiGateway", "5xx", api, stat("Sum"))}, nil),
			graph("API latency (ms)", [][]any{m("AWS/ApiGateway", "Latency", api, label("p50", "p50")), m("AWS/ApiGateway", "Latency", api, label("p99", "p99")), m("AWS/ApiGateway", "IntegrationLatency", api, label("p99", "integration p99"))}, nil),
			graph("App requests by status class", [][]any{m(app, "Requests", []any{"StatusClass", "2xx"}, stat("Sum")), m(app, "Requests", []any{"StatusClass", "4xx"}, stat("Sum")), m(app, "Requests", []any{"StatusClass", "5xx"}, stat("Sum"))}, nil),
			graph("App 5xx by route", [][]any{search("e1", fmt.Sprintf(`{%s,Route,StatusClass} MetricName="Requests" StatusClass="5xx"`, app), "Sum", "")}, nil),
		},
		{
			graph("Lambda invocations, errors, throttles", [][]any{m("AWS/Lambda", "Invocations", fn, stat("Sum")), m("AWS/Lambda", "Errors", fn, stat("Sum")), m("AWS/Lambda", "Throttles", fn, stat("Sum"))}, nil),
			graph("Lambda concurrency", [][]any{m("AWS/Lambda", "ConcurrentExecutions", fn, stat("Maximum"))}, hline("reserved", float64(cfg.LambdaReservedConcurrency))),
			graph("Lambda duration (ms)", [][]any{m("AWS/Lambda", "Duration", fn, label("p50", "p50")), m("AWS/Lambda", "Duration", fn, label("p99", "p99")), m("AWS/Lambda", "Duration", fn, label("Maximum", "max"))}, nil),
			logs("Lambda cold starts (init duration)", in.FunctionLogGroup,
				`filter @type = "REPORT" and ispresent(@initDuration) | stats count(*) as cold_starts, avg(@initDuration) as avg_init_ms, max(@initDuration) as max_init_ms by bin(5m)`),
		},
		{
			graph("Database CPU (%)", [][]any{m("AWS/RDS", "CPUUtilization", db, stat("Average"))}, nil),
			graph("Database connections", [][]any{m("AWS/RDS", "DatabaseConnections", db, stat("Maximum"))},
				map[string]any{"annotations": map[string]any{"horizontal": []any{
					map[string]any{"label": "max_connections", "value": cfg.DBMaxConnections},
					map[string]any{"label": "alarm (80%)", "value": float64(cfg.DBMaxConnections) * 0.8},
				}}}),
			graph("Database free storage (bytes)", [][]any{m("AWS/RDS", "FreeStorageSpace", db, stat("Minimum"))}, nil),
			graph("Database read/write latency (s)", [][]any{m("AWS/RDS", "ReadLatency", db, stat("Average")), m("AWS/RDS", "WriteLatency", db, stat("Average"))}, nil),
		},
		{
			graph("Route latency p99 (ms)", [][]any{search("e1", fmt.Sprintf(`{%s,Route} MetricName="Latency"`, app), "p99", "")}, nil),
			graph("Pool: waits and 503s", [][]any{m(app, "PoolWaits", svc, stat("Sum")), m(app, "PoolCanceledAcquires", svc, stat("Sum")), m(app, "PoolConnsInUse", svc, stat("Maximum"))}, nil),
			graph("Pool: mean acquire time (ms)", [][]any{
				{map[string]any{"id": "e1", "expression": "m1 / IF(m2 > 0, m2, 1)", "label": "mean acquire ms"}},
				m(app, "PoolAcquireTime", svc, map[string]any{"stat": "Sum", "id": "m1", "visible": false}),
				m(app, "PoolAcquires", svc, map[string]any{"stat": "Sum", "id": "m2", "visible": false}),
			}, nil),
			graph("Worker claims: empty vs with work", [][]any{m(app, "Claims", []any{"Result", "empty"}, stat("Sum")), m(app, "Claims", []any{"Result", "work"}, stat("Sum"))}, nil),
		},
		{
			graph("Oldest claimable task (s)", [][]any{m(app, "OldestClaimableAge", svc, label("Maximum", "all types")),
				search("e1", fmt.Sprintf(`{%s,AgentType} MetricName="OldestClaimableAge"`, app), "Maximum", "")},
				hline("alarm", queueAgeAlarmMinutes*60)),
			graph("Queue depth by agent type", [][]any{search("e1", fmt.Sprintf(`{%s,AgentType} MetricName="QueueDepth"`, app), "Maximum", "")}, nil),
			graph("Workers online", [][]any{m(app, "WorkersOnline", svc, label("Minimum", "all")),
				search("e1", fmt.Sprintf(`{%s,AgentType} MetricName="WorkersOnline"`, app), "Minimum", "")}, nil),
			graph("Sweeps, requeued tasks, migrations", [][]any{m(app, "SweepRuns", svc, stat("Sum")), m(app, "TasksRequeued", svc, stat("Sum")),
				m(app, "MigrationRuns", svc, stat("Sum")), m(app, "MigrationFailures", svc, stat("Sum"))}, nil),
		},
		{
			logs("Recent server errors (5xx) by request_id", in.FunctionLogGroup,
				`filter msg = "request" and status >= 500 | fields @timestamp, request_id, method, path, status, user_id, org_id | sort @timestamp desc | limit 50`),
			logs("Recent error log lines", in.FunctionLogGroup,
				`filter level = "ERROR" or level = "WARN" | fields @timestamp, request_id, msg, error | sort @timestamp desc | limit 50`),
			logs("API Gateway 5xx (access log)", in.APILogGroup,
				`filter status like /^5/ | fields @timestamp, requestId, routeKey, status, integrationError | sort @timestamp desc | limit 50`),
		},
	}
	var ws []widget
	y := 0
	for _, row := range rows {
		width, height := 24/len(row), 6
		if row[0].Type == "text" {
			height = 2
		}
		for i, w := range row {
			w.X, w.Y, w.Width, w.Height = i*width, y, width, height
			ws = append(ws, w)
		}
		y += height
	}
	b, err := json.Marshal(map[string]any{"widgets": ws})
	return string(b), err
}
