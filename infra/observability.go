package main

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"

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
	// FunctionName is the API function; LiveResource its live alias as Lambda's metrics
	// name it ("<function>:live"): what the HTTP API and the sweep schedule invoke, so the
	// alarms and graphs follow the version that actually serves.
	FunctionName pulumi.StringOutput
	LiveResource pulumi.StringOutput
	// MigrateFunctionName is the migrate function: its errors are failed migrations.
	MigrateFunctionName pulumi.StringOutput
	APIID               pulumi.StringOutput
	// EventsAPIID is the events WebSocket API (its stage is wsStage).
	EventsAPIID  pulumi.StringOutput
	DBIdentifier string
	// ProxyName is RDS Proxy's name (miyabi:rdsProxy), "" without one: the dashboard's proxy
	// row and the proxy's alarms exist only with it.
	ProxyName string
	// Log groups, for the Logs Insights widgets.
	FunctionLogGroup string
	MigrateLogGroup  string
	APILogGroup      string
}

// observedOf names the stack's watched resources.
func observedOf(cfg Config, fn *Function, api *HTTPAPI, ws *WebSocketAPI, db *Database) observed {
	proxy := ""
	if db.Proxy != nil {
		proxy = db.Proxy.Name
	}
	return observed{
		FunctionName:        fn.Fn.Name,
		LiveResource:        pulumi.Sprintf("%s:%s", fn.Fn.Name, fn.Live.Name),
		MigrateFunctionName: fn.Migrate.Name,
		APIID:               api.API.ID().ToStringOutput(),
		EventsAPIID:         ws.API.ID().ToStringOutput(),
		DBIdentifier:        db.Identifier,
		ProxyName:           proxy,
		FunctionLogGroup:    "/aws/lambda/" + cfg.name("api"),
		MigrateLogGroup:     "/aws/lambda/" + cfg.name("migrate"),
		APILogGroup:         "/aws/apigateway/" + cfg.name("http"),
	}
}

// Observability is what newObservability made.
type Observability struct {
	Dashboard    *cloudwatch.Dashboard
	DashboardURL pulumi.StringOutput
}

func appNamespace(cfg Config) string { return "Miyabi/" + cfg.Environment }

var operatorIDsPattern = regexp.MustCompile(`^[0-9]+(,[0-9]+)*$`)

// newObservability creates the stack's dashboard, and the alarms in production, as
// one layer.
func newObservability(ctx *pulumi.Context, cfg Config, in observed) (*Observability, error) {
	opt, err := newLayer(ctx, "Observability", "observability")
	if err != nil {
		return nil, err
	}
	name := cfg.name("ops")
	body := pulumi.All(in.FunctionName, in.LiveResource, in.MigrateFunctionName, in.APIID, in.EventsAPIID).ApplyT(func(v []any) (string, error) {
		return dashboardBody(cfg, dashboardNames{function: v[0].(string), live: v[1].(string), migrate: v[2].(string),
			apiID: v[3].(string), eventsAPIID: v[4].(string)}, in)
	}).(pulumi.StringOutput)
	dash, err := cloudwatch.NewDashboard(ctx, "ops", &cloudwatch.DashboardArgs{
		DashboardName: pulumi.String(name),
		DashboardBody: body,
	}, opt)
	if err != nil {
		return nil, err
	}
	if cfg.Production {
		if err := newAlarms(ctx, cfg, in, opt); err != nil {
			return nil, fmt.Errorf("alarms: %w", err)
		}
	}
	url := dash.DashboardName.ApplyT(func(n string) string {
		return fmt.Sprintf("https://%s.console.aws.amazon.com/cloudwatch/home?region=%s#dashboards/dashboard/%s", cfg.Region, cfg.Region, n)
	}).(pulumi.StringOutput)
	return &Observability{Dashboard: dash, DashboardURL: url}, nil
}

// dashboardNames are the resolved names the dashboard body is written with.
type dashboardNames struct{ function, live, migrate, apiID, eventsAPIID string }

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
func dashboardBody(cfg Config, n dashboardNames, in observed) (string, error) {
	app := appNamespace(cfg)
	api := []any{"ApiId", n.apiID, "Stage", "$default"}
	events := []any{"ApiId", n.eventsAPIID, "Stage", wsStage}
	fn := []any{"FunctionName", n.function}                       // the whole function (reserved concurrency is per function)
	live := []any{"FunctionName", n.function, "Resource", n.live} // the live alias: what serves
	migrate := []any{"FunctionName", n.migrate}
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
				"## Miyabi %s\nAlarms link to their runbook section (%s). Lambda graphs follow the `live` alias. App metrics: namespace `%s`. Deep health: `GET /api/v1/ops/health` (operators) or `aws lambda invoke --function-name %s --qualifier live --cli-binary-format raw-in-base64-out --payload '{\"action\":\"health\"}' out.json`.",
				cfg.Stack, cfg.RunbookURL, app, n.function)}},
		},
		{
			graph("API requests, 4xx, 5xx", [][]any{m("AWS/ApiGateway", "Count", api, stat("Sum")), m("AWS/ApiGateway", "4xx", api, stat("Sum")), m("AWS/ApiGateway", "5xx", api, stat("Sum"))}, nil),
			graph("API latency (ms)", [][]any{m("AWS/ApiGateway", "Latency", api, label("p50", "p50")), m("AWS/ApiGateway", "Latency", api, label("p99", "p99")), m("AWS/ApiGateway", "IntegrationLatency", api, label("p99", "integration p99"))}, nil),
			graph("App requests by status class", [][]any{m(app, "Requests", []any{"StatusClass", "2xx"}, stat("Sum")), m(app, "Requests", []any{"StatusClass", "4xx"}, stat("Sum")), m(app, "Requests", []any{"StatusClass", "5xx"}, stat("Sum"))}, nil),
			graph("App 5xx by route", [][]any{search("e1", fmt.Sprintf(`{%s,Route,StatusClass} MetricName="Requests" StatusClass="5xx"`, app), "Sum", "")}, nil),
		},
		{
			graph("Lambda (live) invocations, errors, throttles", [][]any{m("AWS/Lambda", "Invocations", live, stat("Sum")), m("AWS/Lambda", "Errors", live, stat("Sum")), m("AWS/Lambda", "Throttles", live, stat("Sum"))}, nil),
			graph("Lambda concurrency", [][]any{m("AWS/Lambda", "ConcurrentExecutions", fn, stat("Maximum"))}, hline("reserved", float64(cfg.LambdaReservedConcurrency))),
			graph("Lambda (live) duration (ms)", [][]any{m("AWS/Lambda", "Duration", live, label("p50", "p50")), m("AWS/Lambda", "Duration", live, label("p99", "p99")), m("AWS/Lambda", "Duration", live, label("Maximum", "max"))}, nil),
			logs("Lambda cold starts (init duration)", in.FunctionLogGroup,
				`filter @type = "REPORT" and ispresent(@initDuration) | stats count(*) as cold_starts, avg(@initDuration) as avg_init_ms, max(@initDuration) as max_init_ms by bin(5m)`),
		},
		{
			graph("Database CPU (%)", [][]any{m("AWS/RDS", "CPUUtilization", db, stat("Average"))}, nil),
			// max_connections is the value this program sets in the parameter group
			// (budget.go), so the line is the real limit; the budget is what the stack
			// may hold by design (two generations of full pools, migrate, reserved slots).
			graph("Database connections", [][]any{m("AWS/RDS", "DatabaseConnections", db, stat("Maximum"))},
				map[string]any{"annotations": map[string]any{"horizontal": []any{
					map[string]any{"label": "max_connections", "value": cfg.DBMaxConnections},
					map[string]any{"label": "alarm (80%)", "value": float64(cfg.DBMaxConnections) * 0.8},
					map[string]any{"label": "budget", "value": ConnectionBudget(cfg)},
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
			graph("Sweeps and requeued tasks", [][]any{m(app, "SweepRuns", svc, stat("Sum")), m(app, "TasksRequeued", svc, stat("Sum"))}, nil),
		},
		{
			// the events WebSocket API: connects (each a ticket check on the function),
			// messages the clients sent (follow/unfollow), and what failed where
			graph("Events WebSocket: connects, client messages", [][]any{m("AWS/ApiGateway", "ConnectCount", events, stat("Sum")),
				m("AWS/ApiGateway", "MessageCount", events, stat("Sum"))}, nil),
			graph("Events WebSocket: errors", [][]any{m("AWS/ApiGateway", "ClientError", events, stat("Sum")),
				m("AWS/ApiGateway", "IntegrationError", events, stat("Sum")), m("AWS/ApiGateway", "ExecutionError", events, stat("Sum"))}, nil),
			graph("Live events posted, failed drains", [][]any{m(app, "EventsPosted", svc, stat("Sum")), m(app, "EventDrainsFailed", svc, stat("Sum"))}, nil),
		},
		{
			graph("GitHub issue comments sent, failed deliveries", [][]any{m(app, "IssueCommentsSent", svc, stat("Sum")), m(app, "IssueCommentRunsFailed", svc, stat("Sum"))}, nil),
			graph("Notifications: delivered, retrying, failed", [][]any{m(app, "Notifications", []any{"Result", "delivered"}, stat("Sum")),
				m(app, "Notifications", []any{"Result", "retrying"}, stat("Sum")), m(app, "Notifications", []any{"Result", "failed"}, stat("Sum"))}, nil),
			// one line per job of the sweep (requeue_leases, purge, issue_comments,
			// notifications, queue_figures, record): runs that stopped on an error, and
			// items that failed and will be retried
			graph("Sweep jobs: errors and failed items by job", [][]any{
				search("e1", fmt.Sprintf(`{%s,Job} MetricName="SweepJobErrors"`, app), "Sum", "errors"),
				search("e2", fmt.Sprintf(`{%s,Job} MetricName="SweepJobItemsFailed"`, app), "Sum", "failed items")}, nil),
		},
		{
			graph("Migrations (migrate function)", [][]any{m("AWS/Lambda", "Invocations", migrate, stat("Sum")), m("AWS/Lambda", "Errors", migrate, stat("Sum")),
				m(app, "MigrationRuns", svc, stat("Sum")), m(app, "MigrationFailures", svc, stat("Sum"))}, nil),
			logs("Migration log (last runs)", in.MigrateLogGroup,
				`filter msg in ["migration failed", "migrations up to date"] or @message like /goose|migrat/ | fields @timestamp, level, msg, error, duration_ms | sort @timestamp desc | limit 30`),
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
	if in.ProxyName != "" {
		// under the database's row: the proxy in front of it
		rows = slices.Insert(rows, 4, proxyWidgets(cfg, in, m, graph))
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

// proxyWidgets is the dashboard's RDS Proxy row (miyabi:rdsProxy): AWS/RDS figures with
// the proxy's ProxyName. Each node serving the proxy reports every minute, and AWS's
// statistic for the connection counts is the nodes' Sum; a Sum over a longer period (the
// dashboard's 5 minutes, or more on a long time range) would add the minutes up, so each
// count is drawn as the per-minute sum averaged over the period (Sum / minutes in it).
// Latencies are the nodes' Average, in microseconds.
func proxyWidgets(cfg Config, in observed, m func(ns, name string, dims []any, opts map[string]any) []any,
	graph func(title string, metrics [][]any, extra map[string]any) widget) []widget {
	proxy := []any{"ProxyName", in.ProxyName}
	// AvailabilityPercentage is reported per target group and role only
	role := []any{"ProxyName", in.ProxyName, "TargetGroup", proxyTargetGroup, "TargetRole", proxyTargetRole}
	perMinute := func(n int, metric, label string) [][]any {
		return [][]any{
			{map[string]any{"id": fmt.Sprintf("e%d", n), "expression": fmt.Sprintf("m%d / (PERIOD(m%d) / 60)", n, n), "label": label}},
			m("AWS/RDS", metric, proxy, map[string]any{"stat": "Sum", "id": fmt.Sprintf("m%d", n), "visible": false}),
		}
	}
	lines := func(ls ...any) map[string]any {
		return map[string]any{"annotations": map[string]any{"horizontal": ls}}
	}
	line := func(label string, v float64) any { return map[string]any{"label": label, "value": v} }
	capacity := float64(proxyShare(cfg.DBMaxConnections))
	return []widget{
		// the cap is the target group's maxConnectionsPercent of max_connections, the share
		// the connection budget counts (budget.go); the proxy's own figure for it beside
		graph("RDS Proxy: database connections against its cap", slices.Concat(
			perMinute(1, "DatabaseConnections", "database connections"),
			perMinute(2, "DatabaseConnectionsCurrentlyBorrowed", "borrowed (in a transaction or query)"),
			perMinute(3, "MaxDatabaseConnectionsAllowed", "cap, as the proxy reports it")),
			lines(line(fmt.Sprintf("cap (%d%% of max_connections)", proxyMaxConnectionsPercent), capacity),
				line(fmt.Sprintf("alarm (%d%% of the cap)", proxyConnectionsAlarmPercent), proxyConnectionsAlarm(cfg)))),
		graph("RDS Proxy: client connections, pinned sessions", slices.Concat(
			perMinute(1, "ClientConnections", "client connections (API environments)"),
			perMinute(2, "DatabaseConnectionsCurrentlySessionPinned", "database connections pinned to a session")),
			lines(line(fmt.Sprintf("pinning alarm (%d%% of the cap)", proxyPinnedAlarmPercent), proxyPinnedAlarm(cfg)))),
		graph("RDS Proxy: borrow wait and database response (µs)", [][]any{
			m("AWS/RDS", "DatabaseConnectionsBorrowLatency", proxy, map[string]any{"stat": "Average", "label": "wait to borrow a connection"}),
			m("AWS/RDS", "QueryDatabaseResponseLatency", proxy, map[string]any{"stat": "Average", "label": "database response"}),
		}, nil),
		graph("RDS Proxy: availability (%), failed connection setups", [][]any{
			m("AWS/RDS", "AvailabilityPercentage", role, map[string]any{"stat": "Average", "label": "availability % (left)"}),
			m("AWS/RDS", "ClientConnectionsSetupFailedAuth", proxy, map[string]any{"stat": "Sum", "label": "API sign-ins refused (right)", "yAxis": "right"}),
			m("AWS/RDS", "DatabaseConnectionsSetupFailed", proxy, map[string]any{"stat": "Sum", "label": "proxy's database connections failed (right)", "yAxis": "right"}),
		}, map[string]any{"yAxis": map[string]any{"left": map[string]any{"min": 0, "max": 100}}}),
	}
}
