package main

import (
	"encoding/json"
	"strconv"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/miyabi/miyabi/infra/artifact"
)

// Function is the API Lambda.
type Function struct {
	Fn *lambda.Function
	// Migrated is the migration invocation; dependants that need the schema wait on it.
	Migrated *lambda.Invocation
}

// functionInputs are the other layers' outputs the Lambda reads.
type functionInputs struct {
	Artifact  artifact.Result
	Net       *Network
	DB        *Database
	Secret    *AppSecret
	PublicURL pulumi.StringOutput // the dashboard's URL: OAuth redirects and cookies
	EventsURL pulumi.StringOutput // the events WebSocket API's @connections endpoint
}

// newFunction creates the Lambda with its log group and role, runs the migrations
// through it, and schedules the lease sweeper.
func newFunction(ctx *pulumi.Context, cfg Config, in functionInputs) (*Function, error) {
	name := cfg.name("api")
	logs, err := cloudwatch.NewLogGroup(ctx, "lambda", &cloudwatch.LogGroupArgs{
		Name:            pulumi.String("/aws/lambda/" + name),
		RetentionInDays: pulumi.Int(cfg.LogRetentionDays),
	})
	if err != nil {
		return nil, err
	}
	role, policy, err := newFunctionRole(ctx, logs, in.DB.MasterSecretArn, in.Secret.Arn)
	if err != nil {
		return nil, err
	}

	requireOrigin := strconv.FormatBool(cfg.DashboardAPIBase == APIBaseCloudFront)
	fn, err := lambda.NewFunction(ctx, "api", &lambda.FunctionArgs{
		Name:          pulumi.String(name),
		Runtime:       pulumi.String("provided.al2023"),
		Architectures: pulumi.StringArray{pulumi.String("arm64")},
		Handler:       pulumi.String("bootstrap"),
		Code:          pulumi.NewFileArchive(in.Artifact.ZipPath),
		// Unchanged source gives an unchanged hash (the zip is deterministic), so
		// there is no spurious update.
		SourceCodeHash:               pulumi.String(in.Artifact.SHA256Base64),
		MemorySize:                   pulumi.Int(cfg.LambdaMemoryMB),
		Timeout:                      pulumi.Int(cfg.LambdaTimeout),
		ReservedConcurrentExecutions: pulumi.Int(cfg.LambdaReservedConcurrency),
		Role:                         role.Arn,
		VpcConfig: lambda.FunctionVpcConfigArgs{
			SubnetIds:        in.Net.PrivateSubnetIDs,
			SecurityGroupIds: pulumi.StringArray{in.Net.LambdaSGID},
		},
		TracingConfig: lambda.FunctionTracingConfigArgs{Mode: pulumi.String("Active")},
		LoggingConfig: lambda.FunctionLoggingConfigArgs{LogFormat: pulumi.String("Text"), LogGroup: logs.Name},
		// ARNs and names only: the app fetches the secrets at cold start.
		Environment: lambda.FunctionEnvironmentArgs{Variables: pulumi.StringMap{
			"APP_ENV":               pulumi.String(cfg.Environment),
			"LOG_FORMAT":            pulumi.String("json"),
			"DB_HOST":               in.DB.Address,
			"DB_PORT":               in.DB.Port.ApplyT(func(p int) string { return strconv.Itoa(p) }).(pulumi.StringOutput),
			"DB_NAME":               pulumi.String(dbName),
			"DB_SECRET_ARN":         in.DB.MasterSecretArn,
			"APP_SECRET_ARN":        in.Secret.Arn,
			"DB_POOL_MAX":           pulumi.String(strconv.Itoa(cfg.DBPoolMax)),
			"GITHUB_CLIENT_ID":      pulumi.String(cfg.GitHubClientID),
			"PUBLIC_URL":            in.PublicURL,
			"REQUIRE_ORIGIN_SECRET": pulumi.String(requireOrigin),
			"EVENTS_MANAGEMENT_URL": in.EventsURL,
		}},
	}, pulumi.DependsOn([]pulumi.Resource{logs, policy}))
	if err != nil {
		return nil, err
	}

	// A failed migration makes the invocation fail and with it `pulumi up`. It re-runs
	// when the artifact changes, which is when new migrations can appear.
	migrate, err := lambda.NewInvocation(ctx, "migrate", &lambda.InvocationArgs{
		FunctionName: fn.Name,
		Input:        pulumi.String(`{"action":"migrate"}`),
		Triggers:     pulumi.StringMap{"artifactSha256": pulumi.String(in.Artifact.SHA256)},
	}, pulumi.DependsOn([]pulumi.Resource{fn, in.DB.Instance, in.Secret.Version, in.Net.Egress}))
	if err != nil {
		return nil, err
	}

	if err := newSweepSchedule(ctx, cfg, fn, migrate); err != nil {
		return nil, err
	}
	return &Function{Fn: fn, Migrated: migrate}, nil
}

// newSweepSchedule puts expired worker leases back in the queue every minute.
func newSweepSchedule(ctx *pulumi.Context, cfg Config, fn *lambda.Function, after pulumi.Resource) error {
	rule, err := cloudwatch.NewEventRule(ctx, "sweep", &cloudwatch.EventRuleArgs{
		Name:               pulumi.String(cfg.name("sweep")),
		Description:        pulumi.String("Miyabi: return expired task leases to the queue"),
		ScheduleExpression: pulumi.String("rate(1 minute)"),
	})
	if err != nil {
		return err
	}
	perm, err := lambda.NewPermission(ctx, "sweep", &lambda.PermissionArgs{
		Action:    pulumi.String("lambda:InvokeFunction"),
		Function:  fn.Name,
		Principal: pulumi.String("events.amazonaws.com"),
		SourceArn: rule.Arn,
	})
	if err != nil {
		return err
	}
	_, err = cloudwatch.NewEventTarget(ctx, "sweep", &cloudwatch.EventTargetArgs{
		Rule:  rule.Name,
		Arn:   fn.Arn,
		Input: pulumi.String(`{"action":"sweep"}`),
	}, pulumi.DependsOn([]pulumi.Resource{perm, after}))
	return err
}

// newFunctionRole grants exactly: writing to its own log group, the VPC network
// interfaces Lambda manages, X-Ray, and reading its two secrets.
func newFunctionRole(ctx *pulumi.Context, logs *cloudwatch.LogGroup, dbSecret, appSecret pulumi.StringOutput) (*iam.Role, *iam.RolePolicy, error) {
	assume, _ := json.Marshal(policyDoc(statement{
		Effect: "Allow", Action: []string{"sts:AssumeRole"},
		Principal: map[string]string{"Service": "lambda.amazonaws.com"},
	}))
	role, err := iam.NewRole(ctx, "lambda", &iam.RoleArgs{AssumeRolePolicy: pulumi.String(string(assume))})
	if err != nil {
		return nil, nil, err
	}
	doc := pulumi.All(logs.Arn, dbSecret, appSecret).ApplyT(func(v []any) (string, error) {
		b, err := json.Marshal(policyDoc(
			statement{Sid: "OwnLogs", Effect: "Allow", Action: []string{"logs:CreateLogStream", "logs:PutLogEvents"}, Resource: []string{v[0].(string) + ":*"}},
			// EC2 and X-Ray do not support resource-level permissions for these
			// actions; "*" is what AWS's own AWSLambdaVPCAccessExecutionRole uses.
			statement{Sid: "VpcNetworkInterfaces", Effect: "Allow", Action: []string{
				"ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets",
				"ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses",
			}, Resource: []string{"*"}},
			statement{Sid: "XRay", Effect: "Allow", Action: []string{"xray:PutTraceSegments", "xray:PutTelemetryRecords"}, Resource: []string{"*"}},
			statement{Sid: "OwnSecrets", Effect: "Allow", Action: []string{"secretsmanager:GetSecretValue"}, Resource: []string{v[1].(string), v[2].(string)}},
		))
		return string(b), err
	}).(pulumi.StringOutput)
	policy, err := iam.NewRolePolicy(ctx, "lambda", &iam.RolePolicyArgs{Role: role.Name, Policy: doc})
	if err != nil {
		return nil, nil, err
	}
	return role, policy, nil
}

// IAM policy documents, typed so a typo is a compile error.
type statement struct {
	Sid       string         `json:"Sid,omitempty"`
	Effect    string         `json:"Effect"`
	Principal any            `json:"Principal,omitempty"`
	Action    []string       `json:"Action"`
	Resource  []string       `json:"Resource,omitempty"`
	Condition map[string]any `json:"Condition,omitempty"`
}

type policyDocument struct {
	Version   string      `json:"Version"`
	Statement []statement `json:"Statement"`
}

func policyDoc(s ...statement) policyDocument {
	return policyDocument{Version: "2012-10-17", Statement: s}
}
