package main

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
)

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
