package main

import (
	"fmt"
	"math"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sns"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// queueAgeAlarmMinutes: a claimable task that waited this long means no worker is
// taking work of its type, the most common real failure of this system. Workers claim
// every few seconds, so a healthy queue's oldest task is seconds old.
const queueAgeAlarmMinutes = 10

// RDS Proxy's alarms (miyabi:rdsProxy). The proxy's figures come from each of the nodes
// that serve it, every minute: the connection counts are summed over a one-minute period
// (the nodes' sum: AWS's recommended statistic), never over five, which would add five
// minutes up.
const (
	// proxyUnavailableMinutes: the proxy's health checks of the instance failed (or it
	// reported nothing) in each of this many minutes in a row.
	proxyUnavailableMinutes = 5
	// proxyConnectionsAlarmPercent of the proxy's cap (proxyShare: its
	// maxConnectionsPercent of max_connections), held for proxyConnectionsAlarmMinutes.
	proxyConnectionsAlarmPercent = 80
	proxyConnectionsAlarmMinutes = 5
	// proxyPinnedAlarmPercent of the cap pinned to single client sessions for
	// proxyPinnedAlarmMinutes. The API changes no session state, so a healthy proxy pins
	// next to nothing; a quarter of the pool pinned for a quarter of an hour means
	// something pins systematically, long before the pool runs dry.
	proxyPinnedAlarmPercent = 25
	proxyPinnedAlarmMinutes = 15
	// proxyFailedSetups in 5 minutes: connections the proxy could not set up (the API's
	// IAM sign-ins to it, its own sign-ins to the database). A rotation may fail one or two
	// in the seconds before the migrate run sets the new password.
	proxyFailedSetups = 5
	// The proxy's default target group and the instance's role in it, as CloudWatch names
	// them in AvailabilityPercentage's dimensions (reported only per target group and role).
	proxyTargetGroup = "default"
	proxyTargetRole  = "READ_WRITE"
)

// proxyConnectionsAlarm is where the db-proxy-connections alarm fires: 80 % of the cap,
// in whole connections (216 of 269 on db.t4g.medium).
func proxyConnectionsAlarm(cfg Config) float64 {
	return math.Ceil(float64(proxyShare(cfg.DBMaxConnections)) * proxyConnectionsAlarmPercent / 100)
}

// proxyPinnedAlarm is where the db-proxy-pinning alarm fires: 25 % of the cap, in whole
// connections (68 of 269 on db.t4g.medium).
func proxyPinnedAlarm(cfg Config) float64 {
	return math.Ceil(float64(proxyShare(cfg.DBMaxConnections)) * proxyPinnedAlarmPercent / 100)
}

// alarmSpec is one alarm: a single metric, or metric math over several (expr set).
type alarmSpec struct {
	name        string // also the runbook heading: "Alarm: <name>" in docs/ops.md
	description string // what happened; the runbook link is appended
	namespace   string
	metric      string
	statistic   string
	dims        pulumi.StringMap
	comparison  string
	threshold   float64
	periods     int
	period      int    // seconds per evaluation period; 0 is 300
	missing     string // TreatMissingData
	// metric math: ids m1..mN over these metrics, expr the value alarmed on
	math []mathMetric
	expr string
}

type mathMetric struct {
	namespace, metric, stat string
	dims                    pulumi.StringMap
}

// runbookAnchor is the GitHub anchor of the alarm's heading in docs/ops.md.
func runbookAnchor(alarm string) string { return "alarm-" + alarm }

// alarmSpecs lists every alarm of a stack. Each description says what is wrong; its
// runbook section says how to find the cause (a Logs Insights query) and the fix.
func alarmSpecs(cfg Config, in observed) []alarmSpec {
	const gt, lt = "GreaterThanOrEqualToThreshold", "LessThanThreshold"
	// the live alias: the version serving requests and sweeps, not whatever version ran last
	live := pulumi.StringMap{"FunctionName": in.FunctionName, "Resource": in.LiveResource}
	migrate := pulumi.StringMap{"FunctionName": in.MigrateFunctionName}
	db := pulumi.StringMap{"DBInstanceIdentifier": pulumi.String(in.DBIdentifier)}
	api := pulumi.StringMap{"ApiId": in.APIID, "Stage": pulumi.String("$default")}
	app := appNamespace(cfg)
	svc := pulumi.StringMap{"Service": pulumi.String("miyabi")}
	specs := []alarmSpec{
		{name: "api-5xx-rate", description: "5% or more of API requests answered 5xx over 5 minutes (with at least 10 requests)",
			math: []mathMetric{{"AWS/ApiGateway", "5xx", "Sum", api}, {"AWS/ApiGateway", "Count", "Sum", api}},
			expr: "IF(m2 >= 10, 100 * m1 / m2, 0)", comparison: gt, threshold: 5, periods: 1, missing: "notBreaching"},
		{name: "lambda-errors", description: "The API Lambda (live alias) failed 5+ invocations in 5 minutes (crashes, timeouts, failed sweeps)",
			namespace: "AWS/Lambda", metric: "Errors", statistic: "Sum", dims: live, comparison: gt, threshold: 5, periods: 1, missing: "notBreaching"},
		{name: "lambda-throttles", description: "The API Lambda (live alias) hit its reserved concurrency: requests were refused with 429/503",
			namespace: "AWS/Lambda", metric: "Throttles", statistic: "Sum", dims: live, comparison: gt, threshold: 1, periods: 1, missing: "notBreaching"},
		// 80% of max_connections, the value set in the parameter group (budget.go): the
		// budget keeps the stack's own connections below it, so reaching it means
		// something else is connecting or environments were not reaped.
		{name: "db-connections", description: fmt.Sprintf("Database connections at 80%% of max_connections (%d of %d)", int(float64(cfg.DBMaxConnections)*0.8), cfg.DBMaxConnections),
			namespace: "AWS/RDS", metric: "DatabaseConnections", statistic: "Maximum", dims: db, comparison: gt, threshold: float64(cfg.DBMaxConnections) * 0.8, periods: 1, missing: "notBreaching"},
		{name: "db-pool-exhausted", description: "Requests gave up waiting for a database connection (503s from the pool): 5+ in 5 minutes",
			namespace: app, metric: "PoolCanceledAcquires", statistic: "Sum", dims: svc, comparison: gt, threshold: 5, periods: 1, missing: "notBreaching"},
		{name: "db-cpu", description: "Database CPU at 80%+ for 15 minutes",
			namespace: "AWS/RDS", metric: "CPUUtilization", statistic: "Average", dims: db, comparison: gt, threshold: 80, periods: 3, missing: "notBreaching"},
		{name: "db-free-storage", description: "Database has under 2 GiB free (storage autoscaling may be at its maximum)",
			namespace: "AWS/RDS", metric: "FreeStorageSpace", statistic: "Minimum", dims: db, comparison: lt, threshold: 2 << 30, periods: 1, missing: "notBreaching"},
		{name: "queue-stalled", description: fmt.Sprintf("A claimable task has waited %d+ minutes: no worker is taking work of its type", queueAgeAlarmMinutes),
			namespace: app, metric: "OldestClaimableAge", statistic: "Maximum", dims: svc, comparison: gt, threshold: queueAgeAlarmMinutes * 60, periods: 1, missing: "notBreaching"},
		// The sweep runs every minute and reports each run; silence is the failure.
		{name: "sweeper-not-running", description: "No lease sweep reported for 10 minutes: expired leases are not requeued and the queue figures are stale",
			namespace: app, metric: "SweepRuns", statistic: "Sum", dims: svc, comparison: lt, threshold: 1, periods: 2, missing: "breaching"},
		// Every failed run is an error of the migrate function (timeouts and crashes
		// included, which the app's own MigrationFailures figure cannot report).
		{name: "migration-failed", description: "A database migration failed: the deploy stopped and the previous version keeps serving",
			namespace: "AWS/Lambda", metric: "Errors", statistic: "Sum", dims: migrate, comparison: gt, threshold: 1, periods: 1, missing: "notBreaching"},
	}
	if in.ProxyName != "" {
		specs = append(specs, proxyAlarmSpecs(cfg, in)...)
	}
	return specs
}

// proxyAlarmSpecs watch RDS Proxy (namespace AWS/RDS, dimension ProxyName): its health
// checks of the instance, its pool against its cap, sessions pinned to a connection, and
// connections it failed to set up.
func proxyAlarmSpecs(cfg Config, in observed) []alarmSpec {
	const gt, lt = "GreaterThanOrEqualToThreshold", "LessThanThreshold"
	proxy := pulumi.StringMap{"ProxyName": pulumi.String(in.ProxyName)}
	role := pulumi.StringMap{"ProxyName": pulumi.String(in.ProxyName), "TargetGroup": pulumi.String(proxyTargetGroup), "TargetRole": pulumi.String(proxyTargetRole)}
	capacity := proxyShare(cfg.DBMaxConnections)
	return []alarmSpec{
		// A proxy that reports nothing is not one to trust: missing data breaches.
		{name: "db-proxy-availability", description: fmt.Sprintf("RDS Proxy could not reach the database (availability under 100%%, or no figure) in each of %d minutes: the API's database calls fail", proxyUnavailableMinutes),
			namespace: "AWS/RDS", metric: "AvailabilityPercentage", statistic: "Average", dims: role, comparison: lt, threshold: 100,
			period: 60, periods: proxyUnavailableMinutes, missing: "breaching"},
		{name: "db-proxy-connections", description: fmt.Sprintf("RDS Proxy's database connections at %d%% of its cap (%d of %d, %d%% of max_connections %d) for %d minutes; at the cap requests wait, then answer 503",
			proxyConnectionsAlarmPercent, int(proxyConnectionsAlarm(cfg)), capacity, proxyMaxConnectionsPercent, cfg.DBMaxConnections, proxyConnectionsAlarmMinutes),
			namespace: "AWS/RDS", metric: "DatabaseConnections", statistic: "Sum", dims: proxy, comparison: gt, threshold: proxyConnectionsAlarm(cfg),
			period: 60, periods: proxyConnectionsAlarmMinutes, missing: "notBreaching"},
		{name: "db-proxy-pinning", description: fmt.Sprintf("RDS Proxy kept %d+ database connections pinned to single client sessions (%d%% of its cap of %d) for %d minutes: the pool no longer shares them",
			int(proxyPinnedAlarm(cfg)), proxyPinnedAlarmPercent, capacity, proxyPinnedAlarmMinutes),
			namespace: "AWS/RDS", metric: "DatabaseConnectionsCurrentlySessionPinned", statistic: "Sum", dims: proxy, comparison: gt, threshold: proxyPinnedAlarm(cfg),
			period: 60, periods: proxyPinnedAlarmMinutes, missing: "notBreaching"},
		// Both halves of the chain: the API signing in to the proxy (IAM), and the proxy
		// signing in to the database with its secret, which fails after a rotation whose
		// migrate run did not set the role's password.
		{name: "db-proxy-auth-failures", description: fmt.Sprintf("RDS Proxy failed %d+ connection setups in 5 minutes: the API's IAM sign-ins to it, or its own sign-ins to the database (its password is not the role's: run the migrate function)", proxyFailedSetups),
			math: []mathMetric{{"AWS/RDS", "ClientConnectionsSetupFailedAuth", "Sum", proxy}, {"AWS/RDS", "DatabaseConnectionsSetupFailed", "Sum", proxy}},
			expr: "FILL(m1, 0) + FILL(m2, 0)", comparison: gt, threshold: proxyFailedSetups, periods: 1, missing: "notBreaching"},
	}
}

// newAlarms creates the alarms; in production each notifies the SNS topic, with an
// email subscription (miyabi:alarmEmail) that must be confirmed from the inbox. Topics
// encrypted with the AWS-managed SNS key cannot receive CloudWatch alarms, so the topic
// uses SNS's default encryption at rest.
func newAlarms(ctx *pulumi.Context, cfg Config, in observed, opt pulumi.ResourceOption) error {
	topic, err := sns.NewTopic(ctx, "alarms", &sns.TopicArgs{Name: pulumi.String(cfg.name("alarms"))}, opt)
	if err != nil {
		return err
	}
	if cfg.AlarmEmail != "" {
		if _, err := sns.NewTopicSubscription(ctx, "alarms-email", &sns.TopicSubscriptionArgs{
			Topic: topic.Arn, Protocol: pulumi.String("email"), Endpoint: pulumi.String(cfg.AlarmEmail),
		}, opt); err != nil {
			return err
		}
	}
	for _, a := range alarmSpecs(cfg, in) {
		period := a.period
		if period == 0 {
			period = 300
		}
		args := &cloudwatch.MetricAlarmArgs{
			Name:               pulumi.String(cfg.name(a.name)),
			AlarmDescription:   pulumi.String(fmt.Sprintf("%s. Runbook: %s#%s", a.description, cfg.RunbookURL, runbookAnchor(a.name))),
			ComparisonOperator: pulumi.String(a.comparison),
			Threshold:          pulumi.Float64(a.threshold),
			EvaluationPeriods:  pulumi.Int(a.periods),
			TreatMissingData:   pulumi.String(a.missing),
			AlarmActions:       pulumi.Array{topic.Arn},
			OkActions:          pulumi.Array{topic.Arn},
		}
		if a.expr == "" {
			args.Namespace, args.MetricName, args.Statistic = pulumi.String(a.namespace), pulumi.String(a.metric), pulumi.String(a.statistic)
			args.Period, args.Dimensions = pulumi.Int(period), a.dims
		} else {
			q := cloudwatch.MetricAlarmMetricQueryArray{cloudwatch.MetricAlarmMetricQueryArgs{
				Id: pulumi.String("e1"), Expression: pulumi.String(a.expr), Label: pulumi.String(a.name), ReturnData: pulumi.Bool(true),
			}}
			for i, m := range a.math {
				q = append(q, cloudwatch.MetricAlarmMetricQueryArgs{Id: pulumi.String(fmt.Sprintf("m%d", i+1)), ReturnData: pulumi.Bool(false),
					Metric: cloudwatch.MetricAlarmMetricQueryMetricArgs{
						Namespace: pulumi.String(m.namespace), MetricName: pulumi.String(m.metric), Stat: pulumi.String(m.stat),
						Period: pulumi.Int(period), Dimensions: m.dims,
					}})
			}
			args.MetricQueries = q
		}
		if _, err := cloudwatch.NewMetricAlarm(ctx, a.name, args, opt); err != nil {
			return err
		}
	}
	return nil
}
