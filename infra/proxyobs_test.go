package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// proxyAlarms are the alarms RDS Proxy adds to a production stack, sorted.
var proxyAlarms = []string{"db-proxy-auth-failures", "db-proxy-availability", "db-proxy-connections", "db-proxy-pinning"}

// dashWidget is a widget of the dashboard body, as far as these tests read it.
type dashWidget struct {
	Type       string `json:"type"`
	Y          int    `json:"y"`
	Properties struct {
		Title       string  `json:"title"`
		Region      string  `json:"region"`
		Metrics     [][]any `json:"metrics"`
		Annotations struct {
			Horizontal []struct {
				Label string  `json:"label"`
				Value float64 `json:"value"`
			} `json:"horizontal"`
		} `json:"annotations"`
	} `json:"properties"`
}

// dashMetric is one metric line of a widget: [namespace, name, dim, value, ..., options].
type dashMetric struct {
	ns, name string
	dims     map[string]string
	opts     map[string]any
}

func dashboardWidgets(t *testing.T, run *stackRun) []dashWidget {
	t.Helper()
	var body struct {
		Widgets []dashWidget `json:"widgets"`
	}
	dash := run.one(t, "aws:cloudwatch/dashboard:Dashboard", "ops")
	if err := json.Unmarshal([]byte(fmt.Sprint(dash.Inputs["dashboardBody"])), &body); err != nil {
		t.Fatalf("dashboard body: %v", err)
	}
	return body.Widgets
}

// metricsOf splits a widget's lines into metrics and expressions (id -> expression).
func metricsOf(w dashWidget) ([]dashMetric, map[string]string) {
	var out []dashMetric
	exprs := map[string]string{}
	for _, line := range w.Properties.Metrics {
		if len(line) == 0 {
			continue
		}
		if e, ok := line[0].(map[string]any); ok {
			exprs[fmt.Sprint(e["id"])] = fmt.Sprint(e["expression"])
			continue
		}
		m := dashMetric{ns: fmt.Sprint(line[0]), name: fmt.Sprint(line[1]), dims: map[string]string{}, opts: map[string]any{}}
		for i := 2; i < len(line); i++ {
			if o, ok := line[i].(map[string]any); ok {
				m.opts = o
				break
			}
			if i+1 < len(line) {
				m.dims[fmt.Sprint(line[i])] = fmt.Sprint(line[i+1])
				i++
			}
		}
		out = append(out, m)
	}
	return out, exprs
}

// proxyCap is the proxy's pool cap as the stack declares it: its target group's
// maxConnectionsPercent of the parameter group's max_connections, rounded down.
func proxyCap(t *testing.T, run *stackRun) int {
	t.Helper()
	pool, _ := run.one(t, "aws:rds/proxyDefaultTargetGroup:ProxyDefaultTargetGroup", "db").Inputs["connectionPoolConfig"].(map[string]any)
	pct, ok := pool["maxConnectionsPercent"].(float64)
	if !ok {
		t.Fatalf("target group pool %v", pool)
	}
	return run.cfg.DBMaxConnections * int(pct) / 100
}

// With miyabi:rdsProxy the dashboard has a row for the proxy, under the database's: every
// figure the runbook reads, from AWS/RDS with the proxy's own name; the connection
// counts as per-minute sums (the nodes' Sum over one minute, never over the graph's
// period); database connections against the proxy's cap, the figure the connection budget
// counts, and the alarm's line.
func TestRDSProxyDashboard(t *testing.T) {
	for _, stack := range []string{"staging", "production"} {
		t.Run(stack, func(t *testing.T) {
			run, err := runStack(t, stack, withProxy(t, stack), testBuilders(t, ""))
			if err != nil {
				t.Fatal(err)
			}
			name := fmt.Sprint(run.one(t, "aws:rds/proxy:Proxy", "db").Inputs["name"])
			if name != "miyabi-"+stack+"-db-proxy" {
				t.Fatalf("proxy name %q", name)
			}
			want := stackDimensions(t, run)
			capacity := proxyCap(t, run)
			if capacity != ConnectionBudget(run.cfg)-fixedConnections {
				t.Errorf("cap %d is not what the budget counts for the proxy (%d)", capacity, ConnectionBudget(run.cfg)-fixedConnections)
			}
			gauges := []string{"ClientConnections", "DatabaseConnections", "DatabaseConnectionsCurrentlyBorrowed",
				"DatabaseConnectionsCurrentlySessionPinned", "MaxDatabaseConnectionsAllowed"}
			seen := map[string]bool{}
			dbRow, proxyRow := -1, -1
			for _, w := range dashboardWidgets(t, run) {
				where := "widget " + w.Properties.Title
				metrics, exprs := metricsOf(w)
				for _, m := range metrics {
					if m.ns == "AWS/RDS" && m.dims["DBInstanceIdentifier"] != "" {
						dbRow = w.Y
					}
					if _, ok := m.dims["ProxyName"]; !ok {
						continue
					}
					proxyRow = w.Y
					checkDims(t, where, m.ns, m.dims, want, run.cfg.Environment)
					if m.ns != "AWS/RDS" || m.dims["ProxyName"] != name {
						t.Errorf("%s: %s %s %v, want AWS/RDS with ProxyName=%s", where, m.ns, m.name, m.dims, name)
					}
					seen[m.name] = true
					switch {
					case m.name == "AvailabilityPercentage":
						// reported per target group and role only
						if m.dims["TargetGroup"] != "default" || m.dims["TargetRole"] != "READ_WRITE" || m.opts["stat"] != "Average" {
							t.Errorf("%s: AvailabilityPercentage %v %v, want the default target group's READ_WRITE role, Average", where, m.dims, m.opts)
						}
					case slices.Contains(gauges, m.name):
						if len(m.dims) != 1 || m.opts["stat"] != "Sum" || m.opts["visible"] != false {
							t.Errorf("%s: %s %v %v, want the hidden Sum over the proxy's nodes", where, m.name, m.dims, m.opts)
						}
						id := fmt.Sprint(m.opts["id"])
						if e := exprs["e"+strings.TrimPrefix(id, "m")]; e != fmt.Sprintf("%s / (PERIOD(%s) / 60)", id, id) {
							t.Errorf("%s: %s drawn as %q, want its per-minute sum", where, m.name, e)
						}
					}
				}
				if !slices.ContainsFunc(metrics, func(m dashMetric) bool { return m.name == "DatabaseConnections" && m.dims["ProxyName"] != "" }) {
					continue
				}
				lines := map[string]float64{}
				for _, h := range w.Properties.Annotations.Horizontal {
					lines[h.Label] = h.Value
				}
				if got := lines["cap (80% of max_connections)"]; got != float64(capacity) {
					t.Errorf("%s: cap line %v, want %d (%d x 80 %%): %v", where, got, capacity, run.cfg.DBMaxConnections, lines)
				}
				if got := lines["alarm (80% of the cap)"]; got != math.Ceil(float64(capacity)*80/100) {
					t.Errorf("%s: alarm line %v, want %v", where, got, math.Ceil(float64(capacity)*80/100))
				}
			}
			for _, m := range []string{"ClientConnections", "DatabaseConnections", "DatabaseConnectionsCurrentlyBorrowed",
				"DatabaseConnectionsCurrentlySessionPinned", "DatabaseConnectionsBorrowLatency", "QueryDatabaseResponseLatency",
				"AvailabilityPercentage", "ClientConnectionsSetupFailedAuth", "DatabaseConnectionsSetupFailed", "MaxDatabaseConnectionsAllowed"} {
				if !seen[m] {
					t.Errorf("the dashboard does not show the proxy's %s", m)
				}
			}
			if dbRow < 0 || proxyRow != dbRow+6 {
				t.Errorf("the proxy's row at y=%d, want it under the database's (y=%d)", proxyRow, dbRow)
			}
		})
	}
}

// runbookSection is the text of docs/ops.md under "### Alarm: <name>", to the next heading.
func runbookSection(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("../docs/ops.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "\n### Alarm: "+name+"\n")
	if !ok {
		t.Fatalf("docs/ops.md has no section Alarm: %s", name)
	}
	if i := regexp.MustCompile(`\n#{1,3} `).FindStringIndex(rest); i != nil {
		rest = rest[:i[0]]
	}
	return rest
}

// With miyabi:rdsProxy production has four more alarms, on the proxy's own figures, each
// linking to its runbook section and notifying the topic like the others: availability
// under 100 % for 5 minutes (silence counts), database connections at 80 % of the cap for 5
// minutes, a quarter of the cap pinned for 15, and failed connection setups (the API's
// IAM sign-ins to the proxy, the proxy's to the database). Staging has none.
func TestRDSProxyAlarms(t *testing.T) {
	anchors := githubAnchors(t, "../docs/ops.md")
	run, err := runStack(t, "production", withProxy(t, "production"), testBuilders(t, ""))
	if err != nil {
		t.Fatal(err)
	}
	topic := run.one(t, "aws:sns/topic:Topic", "alarms")
	topicArn := fmt.Sprintf("arn:aws:sns:us-west-2:%s:%s", fakeAccount, topic.Name)
	names := checkAlarms(t, run, anchors, topicArn) // runbook links, the topic, the stack's dimensions
	if wantNames := slices.Sorted(slices.Values(slices.Concat(productionAlarms, proxyAlarms))); !slices.Equal(names, wantNames) {
		t.Errorf("alarms %v, want %v", names, wantNames)
	}
	proxy := fmt.Sprint(run.one(t, "aws:rds/proxy:Proxy", "db").Inputs["name"])
	capacity := float64(proxyCap(t, run))
	for _, tc := range []struct {
		name, metric, stat, comparison string
		threshold                      float64
		period, periods                float64
		missing                        string
	}{
		{"db-proxy-availability", "AvailabilityPercentage", "Average", "LessThanThreshold", 100, 60, 5, "breaching"},
		{"db-proxy-connections", "DatabaseConnections", "Sum", "GreaterThanOrEqualToThreshold", math.Ceil(capacity * 80 / 100), 60, 5, "notBreaching"},
		{"db-proxy-pinning", "DatabaseConnectionsCurrentlySessionPinned", "Sum", "GreaterThanOrEqualToThreshold", math.Ceil(capacity * 25 / 100), 60, 15, "notBreaching"},
	} {
		a := run.one(t, "aws:cloudwatch/metricAlarm:MetricAlarm", tc.name).Inputs
		dims, _ := a["dimensions"].(map[string]any)
		if a["namespace"] != "AWS/RDS" || a["metricName"] != tc.metric || a["statistic"] != tc.stat || dims["ProxyName"] != proxy ||
			a["comparisonOperator"] != tc.comparison || a["threshold"] != tc.threshold ||
			a["period"] != tc.period || a["evaluationPeriods"] != tc.periods || a["treatMissingData"] != tc.missing {
			t.Errorf("%s = %v %v %v %v, %v %v, period %v x %v, missing %v; want %s %s of %s, %s %v, %v x %v, %s", tc.name,
				a["namespace"], a["metricName"], a["statistic"], dims, a["comparisonOperator"], a["threshold"], a["period"], a["evaluationPeriods"], a["treatMissingData"],
				tc.metric, tc.stat, proxy, tc.comparison, tc.threshold, tc.period, tc.periods, tc.missing)
		}
		if tc.metric == "AvailabilityPercentage" && (dims["TargetGroup"] != "default" || dims["TargetRole"] != "READ_WRITE") {
			t.Errorf("%s: dimensions %v, want the default target group's READ_WRITE role (the only ones it is reported with)", tc.name, dims)
		}
	}
	auth := run.one(t, "aws:cloudwatch/metricAlarm:MetricAlarm", "db-proxy-auth-failures").Inputs
	watched := map[string]string{}
	var expr string
	for _, q := range objs(auth["metricQueries"]) {
		if m, ok := q["metric"].(map[string]any); ok {
			if dims, _ := m["dimensions"].(map[string]any); m["namespace"] == "AWS/RDS" && m["stat"] == "Sum" && dims["ProxyName"] == proxy && len(dims) == 1 {
				watched[fmt.Sprint(m["metricName"])] = fmt.Sprint(q["id"])
			}
		} else if q["returnData"] == true {
			expr = fmt.Sprint(q["expression"])
		}
	}
	c, d := watched["ClientConnectionsSetupFailedAuth"], watched["DatabaseConnectionsSetupFailed"]
	if c == "" || d == "" || !strings.Contains(expr, c) || !strings.Contains(expr, d) ||
		auth["threshold"] != float64(proxyFailedSetups) || auth["comparisonOperator"] != "GreaterThanOrEqualToThreshold" {
		t.Errorf("db-proxy-auth-failures adds %v up as %q, threshold %v; want the proxy's failed client sign-ins and database connections", watched, expr, auth["threshold"])
	}

	// The runbook says what to do: the auth section gives the migrate command as the
	// rotation section does; the pinning section names what pins this app.
	migrate := "aws lambda invoke --function-name miyabi-production-migrate \\\n  --payload '{\"action\":\"migrate\"}' --cli-binary-format raw-in-base64-out /dev/stdout"
	if !strings.Contains(runbookSection(t, "db-proxy-auth-failures"), migrate) {
		t.Errorf("the runbook of db-proxy-auth-failures does not give the migrate command:\n%s", migrate)
	}
	for _, s := range []string{"startup message", "statement_timeout", "debug-logging", "initQuery"} {
		if !strings.Contains(runbookSection(t, "db-proxy-pinning"), s) {
			t.Errorf("the runbook of db-proxy-pinning does not mention %s", s)
		}
	}

	staging, err := runStack(t, "staging", withProxy(t, "staging"), testBuilders(t, ""))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(staging.all("aws:cloudwatch/metricAlarm:MetricAlarm")); n != 0 {
		t.Errorf("staging with a proxy has %d alarms", n)
	}
}

// Without the proxy (the stack files) neither the dashboard nor any alarm mentions one.
func TestNoProxyObservabilityWithoutAProxy(t *testing.T) {
	for _, stack := range []string{"staging", "production"} {
		t.Run(stack, func(t *testing.T) {
			run, err := runStack(t, stack, stackConfig(t, stack), testBuilders(t, ""))
			if err != nil {
				t.Fatal(err)
			}
			body := fmt.Sprint(run.one(t, "aws:cloudwatch/dashboard:Dashboard", "ops").Inputs["dashboardBody"])
			for _, s := range []string{"ProxyName", "RDS Proxy", "db-proxy"} {
				if strings.Contains(body, s) {
					t.Errorf("the dashboard mentions %q without a proxy", s)
				}
			}
			for _, a := range run.all("aws:cloudwatch/metricAlarm:MetricAlarm") {
				if strings.HasPrefix(a.Name, "db-proxy") || strings.Contains(a.Redacted, "ProxyName") {
					t.Errorf("alarm %s watches a proxy the stack does not have", a.Name)
				}
			}
		})
	}
}
