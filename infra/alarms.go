package main

import (
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sns"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// alarmInputs are the things watched.
type alarmInputs struct {
	FunctionName pulumi.StringOutput
	APIID        pulumi.IDOutput
	DBIdentifier string
}

// newAlarms (production only) notifies an SNS topic, with an email subscription when
// miyabi:alarmEmail is set. Topics encrypted with the AWS-managed SNS key cannot
// receive CloudWatch alarms, so the topic uses SNS's default encryption at rest.
func newAlarms(ctx *pulumi.Context, cfg Config, in alarmInputs) error {
	topic, err := sns.NewTopic(ctx, "alarms", &sns.TopicArgs{Name: pulumi.String(cfg.name("alarms"))})
	if err != nil {
		return err
	}
	if cfg.AlarmEmail != "" {
		if _, err := sns.NewTopicSubscription(ctx, "alarms-email", &sns.TopicSubscriptionArgs{
			Topic: topic.Arn, Protocol: pulumi.String("email"), Endpoint: pulumi.String(cfg.AlarmEmail),
		}); err != nil {
			return err
		}
	}

	type alarm struct {
		name, namespace, metric, statistic, comparison, description string
		threshold                                                   float64
		periods                                                     int
		dims                                                        pulumi.StringMap
	}
	fn := pulumi.StringMap{"FunctionName": in.FunctionName}
	db := pulumi.StringMap{"DBInstanceIdentifier": pulumi.String(in.DBIdentifier)}
	const gt, lt = "GreaterThanOrEqualToThreshold", "LessThanThreshold"
	alarms := []alarm{
		{"lambda-errors", "AWS/Lambda", "Errors", "Sum", gt, "The API Lambda failed 5+ invocations in 5 minutes", 5, 1, fn},
		{"lambda-throttles", "AWS/Lambda", "Throttles", "Sum", gt, "The API Lambda hit its reserved concurrency", 1, 1, fn},
		{"api-5xx", "AWS/ApiGateway", "5xx", "Sum", gt, "The HTTP API answered 5xx 5+ times in 5 minutes", 5, 1,
			pulumi.StringMap{"ApiId": in.APIID.ToStringOutput(), "Stage": pulumi.String("$default")}},
		{"db-cpu", "AWS/RDS", "CPUUtilization", "Average", gt, "Database CPU at 80%+ for 15 minutes", 80, 3, db},
		{"db-free-storage", "AWS/RDS", "FreeStorageSpace", "Minimum", lt, "Database has under 2 GiB free (autoscaling may be at its maximum)", 2 << 30, 1, db},
		// 80% of max_connections: the budget rule keeps the Lambda below it, so
		// reaching it means something else is connecting.
		{"db-connections", "AWS/RDS", "DatabaseConnections", "Maximum", gt, "Database connections at 80% of max_connections", float64(cfg.DBMaxConnections) * 0.8, 1, db},
	}
	for _, a := range alarms {
		if _, err := cloudwatch.NewMetricAlarm(ctx, a.name, &cloudwatch.MetricAlarmArgs{
			Name:               pulumi.String(cfg.name(a.name)),
			AlarmDescription:   pulumi.String(a.description),
			Namespace:          pulumi.String(a.namespace),
			MetricName:         pulumi.String(a.metric),
			Statistic:          pulumi.String(a.statistic),
			ComparisonOperator: pulumi.String(a.comparison),
			Threshold:          pulumi.Float64(a.threshold),
			Period:             pulumi.Int(300),
			EvaluationPeriods:  pulumi.Int(a.periods),
			Dimensions:         a.dims,
			TreatMissingData:   pulumi.String("notBreaching"),
			AlarmActions:       pulumi.Array{topic.Arn},
			OkActions:          pulumi.Array{topic.Arn},
		}); err != nil {
			return err
		}
	}
	return nil
}
