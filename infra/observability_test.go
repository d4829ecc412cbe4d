package main

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The stack's resources the dashboard and the alarms may name, by dimension: each
// dimension's allowed values.
func stackDimensions(t *testing.T, run *stackRun) map[string][]string {
	t.Helper()
	api := fmt.Sprint(run.one(t, "aws:lambda/function:Function", "api").Inputs["name"])
	migrate := fmt.Sprint(run.one(t, "aws:lambda/function:Function", "migrate").Inputs["name"])
	alias := fmt.Sprint(run.one(t, "aws:lambda/alias:Alias", "live").Inputs["name"])
	dims := map[string][]string{
		"FunctionName":         {api, migrate},
		"Resource":             {api + ":" + alias},
		"ApiId":                {run.one(t, "aws:apigatewayv2/api:Api", "http").ID, run.one(t, "aws:apigatewayv2/api:Api", "events").ID},
		"Stage":                {"$default", "live"},
		"DBInstanceIdentifier": {fmt.Sprint(run.one(t, "aws:rds/instance:Instance", "db").Inputs["identifier"])},
		"Service":              {"miyabi"},
	}
	// RDS Proxy's, only with one: its name, its default target group and the instance's
	// role in it (the writer)
	if proxies := run.all("aws:rds/proxy:Proxy"); len(proxies) == 1 {
		dims["ProxyName"] = []string{fmt.Sprint(proxies[0].Inputs["name"])}
		dims["TargetGroup"] = []string{"default"}
		dims["TargetRole"] = []string{"READ_WRITE"}
	}
	return dims
}

// checkDims fails a dimension that names something the stack does not have.
func checkDims(t *testing.T, where string, ns string, dims map[string]string, want map[string][]string, env string) {
	t.Helper()
	if !strings.HasPrefix(ns, "AWS/") && ns != "Miyabi/"+env {
		t.Errorf("%s: namespace %q is neither AWS's nor the app's Miyabi/%s", where, ns, env)
	}
	for k, v := range dims {
		switch k {
		case "StatusClass", "Result", "AgentType", "Route":
			continue // the app's own dimension values
		}
		w, ok := want[k]
		if !ok {
			t.Errorf("%s: unknown dimension %s", where, k)
		} else if !slices.Contains(w, v) {
			t.Errorf("%s: %s=%q, but the stack's are %q", where, k, v, w)
		}
	}
}

// Every widget of the dashboard names resources of its own stack: the function, the
// API, the database, the app's namespace, existing log groups; and it shows what ops
// watch (the list).
func TestDashboardWidgetsReferenceTheStack(t *testing.T) {
	for _, stack := range []string{"staging", "production"} {
		t.Run(stack, func(t *testing.T) {
			run, err := runStack(t, stack, stackConfig(t, stack), testBuilders(t, ""))
			if err != nil {
				t.Fatal(err)
			}
			dash := run.one(t, "aws:cloudwatch/dashboard:Dashboard", "ops")
			name := fmt.Sprint(dash.Inputs["dashboardName"])
			if name != "miyabi-"+stack+"-ops" {
				t.Errorf("dashboard name %q", name)
			}
			region := run.cfg.Region
			if want := fmt.Sprintf("https://%s.console.aws.amazon.com/cloudwatch/home?region=%s#dashboards/dashboard/%s", region, region, name); run.outputs["opsDashboardUrl"] != want {
				t.Errorf("opsDashboardUrl = %q, want %q", run.outputs["opsDashboardUrl"], want)
			}
			var body struct {
				Widgets []struct {
					Type       string `json:"type"`
					Properties struct {
						Title   string  `json:"title"`
						Region  string  `json:"region"`
						Metrics [][]any `json:"metrics"`
						Query   string  `json:"query"`
					} `json:"properties"`
				} `json:"widgets"`
			}
			if err := json.Unmarshal([]byte(fmt.Sprint(dash.Inputs["dashboardBody"])), &body); err != nil {
				t.Fatalf("dashboard body: %v", err)
			}
			groups := map[string]bool{}
			for _, g := range run.all("aws:cloudwatch/logGroup:LogGroup") {
				groups[fmt.Sprint(g.Inputs["name"])] = true
			}
			want := stackDimensions(t, run)
			seen := map[string]bool{}
			searchNS := regexp.MustCompile(`SEARCH\('\{([^,}]+)`)
			searchMetric := regexp.MustCompile(`MetricName="([^"]+)"`)
			for _, w := range body.Widgets {
				where := "widget " + w.Properties.Title
				switch w.Type {
				case "text":
					continue
				case "log":
					src := regexp.MustCompile(`^SOURCE '([^']+)'`).FindStringSubmatch(w.Properties.Query)
					if src == nil || !groups[src[1]] {
						t.Errorf("%s: queries %v, not a log group of the stack %v", where, src, groups)
					}
					seen["log:"+w.Properties.Title] = true
					continue
				}
				if w.Properties.Region != region {
					t.Errorf("%s: region %q", where, w.Properties.Region)
				}
				for _, m := range w.Properties.Metrics {
					if len(m) == 0 {
						t.Errorf("%s: empty metric", where)
						continue
					}
					if e, ok := m[0].(map[string]any); ok {
						expr := fmt.Sprint(e["expression"])
						if ns := searchNS.FindStringSubmatch(expr); ns != nil {
							checkDims(t, where, ns[1], nil, want, run.cfg.Environment)
							seen["search:"+ns[1]] = true
							if name := searchMetric.FindStringSubmatch(expr); name != nil {
								seen["search:"+ns[1]+" "+name[1]] = true
							}
						}
						continue
					}
					ns, metric := fmt.Sprint(m[0]), fmt.Sprint(m[1])
					dims := map[string]string{}
					for i := 2; i+1 < len(m); i += 2 {
						k, ok := m[i].(string)
						if !ok {
							break
						}
						dims[k] = fmt.Sprint(m[i+1])
					}
					checkDims(t, where, ns, dims, want, run.cfg.Environment)
					seen[ns+" "+metric] = true
					// the API function's per-invocation figures follow the live alias
					if ns == "AWS/Lambda" && metric != "ConcurrentExecutions" && dims["FunctionName"] == want["FunctionName"][0] && dims["Resource"] != want["Resource"][0] {
						t.Errorf("%s: %s of the API function without the live alias: %v", where, metric, dims)
					}
					if ns == "AWS/Lambda" && dims["FunctionName"] == want["FunctionName"][1] {
						seen["migrate "+metric] = true
					}
				}
			}
			app := "Miyabi/" + run.cfg.Environment
			for _, m := range []string{
				"AWS/ApiGateway 4xx", "AWS/ApiGateway 5xx", "AWS/ApiGateway Latency",
				"AWS/Lambda Invocations", "AWS/Lambda Errors", "AWS/Lambda Throttles", "AWS/Lambda ConcurrentExecutions", "AWS/Lambda Duration",
				"log:Lambda cold starts (init duration)",
				"AWS/RDS CPUUtilization", "AWS/RDS DatabaseConnections", "AWS/RDS FreeStorageSpace", "AWS/RDS ReadLatency", "AWS/RDS WriteLatency",
				app + " Requests", app + " PoolWaits", app + " PoolAcquireTime", app + " Claims", app + " OldestClaimableAge",
				app + " WorkersOnline", app + " SweepRuns", app + " MigrationFailures", "search:" + app,
				"migrate Errors", "log:Migration log (last runs)", app + " EventsPosted", app + " IssueCommentsSent",
				app + " Notifications", "AWS/ApiGateway ConnectCount", "AWS/ApiGateway MessageCount", "AWS/ApiGateway IntegrationError",
				"search:" + app + " SweepJobErrors", "search:" + app + " SweepJobItemsFailed",
			} {
				if !seen[m] {
					t.Errorf("the dashboard does not show %s", m)
				}
			}
		})
	}
}

// githubAnchors are the anchors GitHub gives the headings of a Markdown file.
func githubAnchors(t *testing.T, path string) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	drop := regexp.MustCompile(`[^\p{L}\p{N} _-]`)
	inFence := false
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "```") {
			inFence = !inFence
		}
		if inFence || !strings.HasPrefix(line, "#") {
			continue
		}
		h := strings.TrimSpace(strings.TrimLeft(line, "#"))
		slug := strings.ReplaceAll(drop.ReplaceAllString(strings.ToLower(h), ""), " ", "-")
		for n := 0; ; n++ {
			s := slug
			if n > 0 {
				s = fmt.Sprintf("%s-%d", slug, n)
			}
			if !out[s] {
				out[s] = true
				break
			}
		}
	}
	return out
}

// productionAlarms are a production stack's alarms without RDS Proxy, sorted.
var productionAlarms = []string{"api-5xx-rate", "db-connections", "db-cpu", "db-free-storage", "db-pool-exhausted", "lambda-errors",
	"lambda-throttles", "migration-failed", "queue-stalled", "sweeper-not-running"}

// Every production alarm says what happened and links to its own section of
// docs/ops.md (the heading exists); each notifies the stack's SNS topic, which has an
// email subscription; each watches the stack's own resources. Staging has no alarms.
func TestAlarmsLinkToRunbookAndNotify(t *testing.T) {
	anchors := githubAnchors(t, "../docs/ops.md")
	run, err := runStack(t, "production", stackConfig(t, "production"), testBuilders(t, ""))
	if err != nil {
		t.Fatal(err)
	}
	topic := run.one(t, "aws:sns/topic:Topic", "alarms")
	topicArn := fmt.Sprintf("arn:aws:sns:us-west-2:%s:%s", fakeAccount, topic.Name)
	sub := run.one(t, "aws:sns/topicSubscription:TopicSubscription", "alarms-email")
	if sub.Inputs["protocol"] != "email" || sub.Inputs["endpoint"] != run.cfg.AlarmEmail || sub.Inputs["topic"] != topicArn {
		t.Errorf("email subscription %v", sub.Inputs)
	}
	want := stackDimensions(t, run)
	names := checkAlarms(t, run, anchors, topicArn)
	if !slices.Equal(names, productionAlarms) {
		t.Errorf("alarms %v, want %v", names, productionAlarms)
	}
	conn := run.one(t, "aws:cloudwatch/metricAlarm:MetricAlarm", "db-connections")
	if got, want := conn.Inputs["threshold"], float64(run.cfg.DBMaxConnections)*0.8; got != want {
		t.Errorf("db-connections threshold %v, want 80%% of max_connections %d = %v", got, run.cfg.DBMaxConnections, want)
	}
	stalled := run.one(t, "aws:cloudwatch/metricAlarm:MetricAlarm", "queue-stalled")
	if stalled.Inputs["metricName"] != "OldestClaimableAge" || stalled.Inputs["threshold"] != float64(queueAgeAlarmMinutes*60) {
		t.Errorf("queue-stalled %v", stalled.Inputs)
	}
	if sweep := run.one(t, "aws:cloudwatch/metricAlarm:MetricAlarm", "sweeper-not-running"); sweep.Inputs["treatMissingData"] != "breaching" {
		t.Errorf("sweeper-not-running must fire on silence: %v", sweep.Inputs["treatMissingData"])
	}
	// the Lambda alarms watch what serves (the live alias); a migration failure is an
	// error of the migrate function
	for _, name := range []string{"lambda-errors", "lambda-throttles"} {
		dims, _ := run.one(t, "aws:cloudwatch/metricAlarm:MetricAlarm", name).Inputs["dimensions"].(map[string]any)
		if dims["FunctionName"] != want["FunctionName"][0] || dims["Resource"] != want["Resource"][0] {
			t.Errorf("%s watches %v, not the live alias %s", name, dims, want["Resource"][0])
		}
	}
	mig := run.one(t, "aws:cloudwatch/metricAlarm:MetricAlarm", "migration-failed")
	if dims, _ := mig.Inputs["dimensions"].(map[string]any); mig.Inputs["namespace"] != "AWS/Lambda" || mig.Inputs["metricName"] != "Errors" || dims["FunctionName"] != want["FunctionName"][1] {
		t.Errorf("migration-failed watches %v %v %v, not the migrate function's errors", mig.Inputs["namespace"], mig.Inputs["metricName"], mig.Inputs["dimensions"])
	}

	staging, err := runStack(t, "staging", stackConfig(t, "staging"), testBuilders(t, ""))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(staging.all("aws:cloudwatch/metricAlarm:MetricAlarm")); n != 0 {
		t.Errorf("staging has %d alarms", n)
	}
}

// checkAlarms checks every alarm of a run: its description ends with a link to its own
// section of docs/ops.md (the heading exists), it notifies the topic when it fires and
// when it recovers, and it watches the stack's own resources. It returns the alarms'
// names, sorted.
func checkAlarms(t *testing.T, run *stackRun, anchors map[string]bool, topicArn string) []string {
	t.Helper()
	want := stackDimensions(t, run)
	alarms := run.all("aws:cloudwatch/metricAlarm:MetricAlarm")
	var names []string
	link := regexp.MustCompile(`Runbook: (\S+)#(\S+)$`)
	for _, a := range alarms {
		names = append(names, a.Name)
		desc := fmt.Sprint(a.Inputs["alarmDescription"])
		m := link.FindStringSubmatch(desc)
		switch {
		case m == nil:
			t.Errorf("%s: no runbook link in %q", a.Name, desc)
		case m[1] != defaultRunbook:
			t.Errorf("%s: runbook %q, want %q", a.Name, m[1], defaultRunbook)
		case !anchors[m[2]]:
			t.Errorf("%s: docs/ops.md has no heading for #%s", a.Name, m[2])
		}
		for _, key := range []string{"alarmActions", "okActions"} {
			acts, _ := a.Inputs[key].([]any)
			if !slices.Contains(acts, any(topicArn)) {
				t.Errorf("%s: %s %v does not notify the topic %s", a.Name, key, acts, topicArn)
			}
		}
		check := func(ns any, dims any) {
			d := map[string]string{}
			if dm, ok := dims.(map[string]any); ok {
				for k, v := range dm {
					d[k] = fmt.Sprint(v)
				}
			}
			checkDims(t, a.Name, fmt.Sprint(ns), d, want, "production")
		}
		if qs, ok := a.Inputs["metricQueries"].([]any); ok {
			for _, q := range qs {
				if metric, ok := q.(map[string]any)["metric"].(map[string]any); ok {
					check(metric["namespace"], metric["dimensions"])
				}
			}
		} else {
			check(a.Inputs["namespace"], a.Inputs["dimensions"])
		}
	}
	slices.Sort(names)
	return names
}

// The function learns its operators from miyabi:operatorGithubIds; a malformed list
// stops the program before anything is created.
func TestOperatorIDsConfig(t *testing.T) {
	cfg := stackConfig(t, "staging")
	cfg["miyabi:operatorGithubIds"] = "583231, 9919"
	run, err := runStack(t, "staging", cfg, testBuilders(t, ""))
	if err != nil {
		t.Fatal(err)
	}
	env := run.one(t, "aws:lambda/function:Function", "api").Inputs["environment"].(map[string]any)["variables"].(map[string]any)
	if env["OPERATOR_GITHUB_IDS"] != "583231,9919" {
		t.Errorf("OPERATOR_GITHUB_IDS = %v", env["OPERATOR_GITHUB_IDS"])
	}
	cfg["miyabi:operatorGithubIds"] = "octocat"
	if _, err := runStack(t, "staging", cfg, testBuilders(t, "")); err == nil || !strings.Contains(err.Error(), "miyabi:operatorGithubIds") {
		t.Errorf("a login instead of an id: %v", err)
	}
}
