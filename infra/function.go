package main

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/miyabi/miyabi/internal/artifact"
)

// Function is the API Lambda: a version published per artifact behind the live alias,
// which everything invokes.
type Function struct {
	Fn *lambda.Function
	// Live is the alias the HTTP API and the schedule invoke; it moves to the new
	// version only after the migrations succeeded.
	Live *lambda.Alias
	// Migrate is the migrate function and Migrated its invocation with the new version.
	Migrate  *lambda.Function
	Migrated *lambda.Invocation
}

// functionInputs are the other layers' outputs the Lambda reads.
type functionInputs struct {
	Artifact  artifact.Result
	Net       *Network
	DB        *Database
	Secret    *AppSecret
	PublicURL pulumi.StringOutput // the dashboard's URL: OAuth redirects and cookies
	// After are resources that must be in place before the function changes (the
	// distribution, so its header is deployed before the acceptance of the old one ends).
	After     []pulumi.Resource
	EventsURL pulumi.StringOutput // the events WebSocket API's @connections endpoint
}

// newFunction creates the API Lambda and the migrate Lambda (same artifact, its own
// timeout and role), runs the migrations with the new version, and only then moves the
// live alias: new code never serves the old schema, and a failed migration leaves the
// old version serving and `pulumi up` failing with the migration's error.
func newFunction(ctx *pulumi.Context, cfg Config, in functionInputs) (*Function, error) {
	opt, err := newLayer(ctx, "Compute", "compute")
	if err != nil {
		return nil, err
	}
	account, err := aws.GetCallerIdentity(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("function: account: %w", err)
	}
	env := pulumi.StringMap{
		"APP_ENV":    pulumi.String(cfg.Environment),
		"LOG_FORMAT": pulumi.String("json"),
		"DB_HOST":    in.DB.Address,
		"DB_PORT":    in.DB.Port.ApplyT(func(p int) string { return strconv.Itoa(p) }).(pulumi.StringOutput),
		"DB_NAME":    pulumi.String(dbName),
		// The API connects as the least-privilege role with an IAM token per connection.
		"DB_APP_USER":    pulumi.String(appDBUser),
		"APP_SECRET_ARN": in.Secret.Arn,
		// Not a secret: the version id. A rotation changes it, which publishes a new
		// version whose environments read the new keys.
		"APP_SECRET_VERSION": in.Secret.Version.VersionId,
		"DB_POOL_MAX":        pulumi.String(strconv.Itoa(cfg.DBPoolMax)),
		"GITHUB_CLIENT_ID":   pulumi.String(cfg.GitHubClientID),
		"PUBLIC_URL":         in.PublicURL,
		// A slow database ends in a 503 before Lambda kills the environment.
		"REQUEST_TIMEOUT":       pulumi.String(fmt.Sprintf("%ds", cfg.LambdaTimeout-2)),
		"REQUIRE_ORIGIN_SECRET": pulumi.String(strconv.FormatBool(cfg.DashboardAPIBase == APIBaseCloudFront)),
		// Who may call /api/v1/ops/* (miyabi:operatorGithubIds).
		"OPERATOR_GITHUB_IDS": pulumi.String(cfg.OperatorGitHubIDs),
		// live events on AWS: the @connections endpoint the function posts to (websocket.go)
		"EVENTS_MANAGEMENT_URL": in.EventsURL,
	}
	if cfg.GitHubAppID != "" {
		// not secrets: the key and the webhook secret are in the app secret
		env["GITHUB_APP_ID"], env["GITHUB_APP_SLUG"] = pulumi.String(cfg.GitHubAppID), pulumi.String(cfg.GitHubAppSlug)
	}
	// The API's role may always connect to the instance as miyabi_app, with a proxy too:
	// the policy of a role is shared by all its versions, and while the proxy is switched
	// on (or off) the version still serving connects directly (or through the proxy) until
	// the alias moves. The proxy's user is in a policy of its own (below).
	connect := pulumi.Sprintf("arn:aws:rds-db:%s:%s:dbuser:%s/%s", cfg.Region, account.AccountId, in.DB.ResourceID, appDBUser)
	if p := in.DB.Proxy; p != nil {
		// Through RDS Proxy: its endpoint (5432, PostgreSQL's port) as the proxy's user,
		// an IAM token built for that endpoint, and rds-db:connect on the proxy's dbuser
		// (the lambda-proxy policy). TLS is verified as before: the embedded bundle also
		// holds the Amazon Root CAs the proxy's ACM certificate chains to.
		env["DB_HOST"] = p.Endpoint
		env["DB_PORT"] = pulumi.String("5432")
		env["DB_APP_USER"] = pulumi.String(proxyDBUser)
	}
	api, apiRole, err := newLambda(ctx, cfg, lambdaSpec{
		name: "api", timeout: cfg.LambdaTimeout, memory: cfg.LambdaMemoryMB, concurrency: cfg.LambdaReservedConcurrency,
		env: env, secrets: []pulumi.StringInput{in.Secret.Arn}, connect: connect,
	}, in, opt)
	if err != nil {
		return nil, err
	}
	var proxyConnect *iam.RolePolicy
	if p := in.DB.Proxy; p != nil {
		// A resource of its own, which only a stack with the proxy has, and which the
		// alias waits for: switching the proxy on creates it before the alias moves to the
		// version that uses it; switching it off deletes it at the end of the update
		// (Pulumi deletes removed resources last), after the alias moved off that version.
		doc := pulumi.Sprintf("arn:aws:rds-db:%s:%s:dbuser:%s/%s", cfg.Region, account.AccountId, p.ResourceID, proxyDBUser).ApplyT(func(arn string) (string, error) {
			b, err := json.Marshal(policyDoc(statement{Sid: "DatabaseThroughProxy", Effect: "Allow", Action: []string{"rds-db:connect"}, Resource: []string{arn}}))
			return string(b), err
		}).(pulumi.StringOutput)
		if proxyConnect, err = iam.NewRolePolicy(ctx, "lambda-proxy", &iam.RolePolicyArgs{Role: apiRole.Name, Policy: doc}, opt); err != nil {
			return nil, err
		}
	}

	// The migrate function: the same code with the master secret, minutes to run, one
	// run at a time (goose also holds a session lock).
	menv := pulumi.StringMap{}
	for k, v := range env {
		menv[k] = v
	}
	menv["DB_SECRET_ARN"] = in.DB.MasterSecretArn
	menv["DB_POOL_MAX"] = pulumi.String("1")
	// It connects to the instance itself, as the master user, with or without a proxy.
	menv["DB_HOST"] = in.DB.Address
	menv["DB_PORT"] = in.DB.Port.ApplyT(func(p int) string { return strconv.Itoa(p) }).(pulumi.StringOutput)
	menv["DB_APP_USER"] = pulumi.String(appDBUser)
	delete(menv, "REQUEST_TIMEOUT")
	delete(menv, "EVENTS_MANAGEMENT_URL") // it posts to no connection (its role may not)
	msecrets := []pulumi.StringInput{in.DB.MasterSecretArn, in.Secret.Arn}
	triggers := pulumi.StringMap{"artifactSha256": pulumi.String(in.Artifact.SHA256)}
	if p := in.DB.Proxy; p != nil {
		// The ARN, never the value: the migrate action reads the proxy's login on each run
		// and sets miyabi_proxy's password from it.
		menv["DB_PROXY_SECRET_ARN"] = p.SecretArn
		msecrets = append(msecrets, p.SecretArn)
		// a new password (a new secret version) runs the migrate action again
		triggers["proxyLoginVersion"] = p.SecretVersion.VersionId
	}
	if in.DB.ProxyRetiring {
		// This deploy removes the proxy, which serves the live version until the alias
		// moves: the migrate action leaves its login on. The next deploy's migrate function
		// lacks the variable (a new version, so a run), which switches it off.
		menv["DB_PROXY_RETIRING"] = pulumi.String("true")
	}
	migrate, _, err := newLambda(ctx, cfg, lambdaSpec{
		name: "migrate", timeout: cfg.MigrateTimeout, memory: 512, concurrency: 1,
		env: menv, secrets: msecrets,
	}, in, opt)
	if err != nil {
		return nil, err
	}
	triggers["version"] = migrate.Version
	// Re-runs when a new migrate version is published (a new artifact). A failure fails
	// the update with the function's error, and nothing that depends on it moves.
	migrated, err := lambda.NewInvocation(ctx, "migrate", &lambda.InvocationArgs{
		FunctionName: migrate.Name,
		Qualifier:    migrate.Version,
		Input:        pulumi.String(`{"action":"migrate"}`),
		Triggers:     triggers,
	}, pulumi.DependsOn([]pulumi.Resource{migrate, in.DB.Instance, in.Secret.Version, in.Net.Egress}), opt)
	if err != nil {
		return nil, err
	}
	// Traffic moves after the migrations, and with a proxy once the instance is its target
	// (and miyabi_proxy has its password: the migration above) and the API's role may
	// connect through it.
	after := []pulumi.Resource{migrated}
	if p := in.DB.Proxy; p != nil {
		after = append(after, p.Target, proxyConnect)
	}
	live, err := lambda.NewAlias(ctx, "live", &lambda.AliasArgs{
		Name:            pulumi.String("live"),
		Description:     pulumi.String("The version serving traffic; moves after its migrations succeeded"),
		FunctionName:    api.Name,
		FunctionVersion: api.Version,
	}, pulumi.DependsOn(after), opt)
	if err != nil {
		return nil, err
	}
	if err := newSweepSchedule(ctx, cfg, live, opt); err != nil {
		return nil, err
	}
	return &Function{Fn: api, Live: live, Migrate: migrate, Migrated: migrated}, nil
}

// lambdaSpec is what differs between the API and the migrate function.
type lambdaSpec struct {
	name                         string
	timeout, memory, concurrency int
	env                          pulumi.StringMap
	secrets                      []pulumi.StringInput
	connect                      pulumi.StringInput // rds-db:connect resource, or nil
}

// newLambda creates one function from the artifact with its log group and role, and
// publishes a version of it (a new one whenever the code or configuration changes).
func newLambda(ctx *pulumi.Context, cfg Config, spec lambdaSpec, in functionInputs, opt pulumi.ResourceOption) (*lambda.Function, *iam.Role, error) {
	name := cfg.name(spec.name)
	logName := "lambda"
	if spec.name != "api" {
		logName = "lambda-" + spec.name
	}
	logs, err := cloudwatch.NewLogGroup(ctx, logName, &cloudwatch.LogGroupArgs{
		Name:            pulumi.String("/aws/lambda/" + name),
		RetentionInDays: pulumi.Int(cfg.LogRetentionDays),
	}, opt)
	if err != nil {
		return nil, nil, err
	}
	role, policy, err := newFunctionRole(ctx, logName, logs, spec.secrets, spec.connect, opt)
	if err != nil {
		return nil, nil, err
	}
	resName := spec.name
	fn, err := lambda.NewFunction(ctx, resName, &lambda.FunctionArgs{
		Name:          pulumi.String(name),
		Runtime:       pulumi.String("provided.al2023"),
		Architectures: pulumi.StringArray{pulumi.String("arm64")},
		Handler:       pulumi.String("bootstrap"),
		Code:          pulumi.NewFileArchive(in.Artifact.ZipPath),
		// Unchanged source gives an unchanged hash (the zip is deterministic), so
		// there is no spurious update, version or migration.
		SourceCodeHash:               pulumi.String(in.Artifact.SHA256Base64),
		Publish:                      pulumi.Bool(true),
		MemorySize:                   pulumi.Int(spec.memory),
		Timeout:                      pulumi.Int(spec.timeout),
		ReservedConcurrentExecutions: pulumi.Int(spec.concurrency),
		Role:                         role.Arn,
		VpcConfig: lambda.FunctionVpcConfigArgs{
			SubnetIds:        in.Net.PrivateSubnetIDs,
			SecurityGroupIds: pulumi.StringArray{in.Net.LambdaSGID},
		},
		TracingConfig: lambda.FunctionTracingConfigArgs{Mode: pulumi.String("Active")},
		LoggingConfig: lambda.FunctionLoggingConfigArgs{LogFormat: pulumi.String("Text"), LogGroup: logs.Name},
		// ARNs and names only: the app fetches the secrets itself.
		Environment: lambda.FunctionEnvironmentArgs{Variables: spec.env},
	}, pulumi.DependsOn(append([]pulumi.Resource{logs, policy}, in.After...)), opt)
	return fn, role, err
}

// newSweepSchedule puts expired worker leases back in the queue every minute, through
// the live alias.
func newSweepSchedule(ctx *pulumi.Context, cfg Config, live *lambda.Alias, opt pulumi.ResourceOption) error {
	rule, err := cloudwatch.NewEventRule(ctx, "sweep", &cloudwatch.EventRuleArgs{
		Name:               pulumi.String(cfg.name("sweep")),
		Description:        pulumi.String("Miyabi: return expired task leases to the queue"),
		ScheduleExpression: pulumi.String("rate(1 minute)"),
	}, opt)
	if err != nil {
		return err
	}
	perm, err := lambda.NewPermission(ctx, "sweep", &lambda.PermissionArgs{
		Action:    pulumi.String("lambda:InvokeFunction"),
		Function:  live.FunctionName,
		Qualifier: live.Name,
		Principal: pulumi.String("events.amazonaws.com"),
		SourceArn: rule.Arn,
	}, opt)
	if err != nil {
		return err
	}
	_, err = cloudwatch.NewEventTarget(ctx, "sweep", &cloudwatch.EventTargetArgs{
		Rule:  rule.Name,
		Arn:   live.Arn,
		Input: pulumi.String(`{"action":"sweep"}`),
	}, pulumi.DependsOn([]pulumi.Resource{perm}), opt)
	return err
}

// newFunctionRole grants exactly: writing to its own log group, the VPC network
// interfaces Lambda manages, X-Ray, reading the given secrets, and (the API) connecting
// to the database as the app user with IAM authentication.
func newFunctionRole(ctx *pulumi.Context, name string, logs *cloudwatch.LogGroup, secrets []pulumi.StringInput, connect pulumi.StringInput, opt pulumi.ResourceOption) (*iam.Role, *iam.RolePolicy, error) {
	assume, _ := json.Marshal(policyDoc(statement{
		Effect: "Allow", Action: []string{"sts:AssumeRole"},
		Principal: map[string]string{"Service": "lambda.amazonaws.com"},
	}))
	role, err := iam.NewRole(ctx, name, &iam.RoleArgs{AssumeRolePolicy: pulumi.String(string(assume))}, opt)
	if err != nil {
		return nil, nil, err
	}
	inputs := []any{logs.Arn}
	for _, s := range secrets {
		inputs = append(inputs, s)
	}
	if connect != nil {
		inputs = append(inputs, connect)
	}
	doc := pulumi.All(inputs...).ApplyT(func(v []any) (string, error) {
		var arns []string
		for _, a := range v[1 : 1+len(secrets)] {
			arns = append(arns, a.(string))
		}
		st := []statement{
			{Sid: "OwnLogs", Effect: "Allow", Action: []string{"logs:CreateLogStream", "logs:PutLogEvents"}, Resource: []string{v[0].(string) + ":*"}},
			// EC2 and X-Ray do not support resource-level permissions for these
			// actions; "*" is what AWS's own AWSLambdaVPCAccessExecutionRole uses.
			{Sid: "VpcNetworkInterfaces", Effect: "Allow", Action: []string{
				"ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets",
				"ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses",
			}, Resource: []string{"*"}},
			{Sid: "XRay", Effect: "Allow", Action: []string{"xray:PutTraceSegments", "xray:PutTelemetryRecords"}, Resource: []string{"*"}},
			{Sid: "OwnSecrets", Effect: "Allow", Action: []string{"secretsmanager:GetSecretValue"}, Resource: arns},
		}
		if connect != nil {
			st = append(st, statement{Sid: "DatabaseAsAppUser", Effect: "Allow", Action: []string{"rds-db:connect"}, Resource: []string{v[len(v)-1].(string)}})
		}
		b, err := json.Marshal(policyDoc(st...))
		return string(b), err
	}).(pulumi.StringOutput)
	policy, err := iam.NewRolePolicy(ctx, name, &iam.RolePolicyArgs{Role: role.Name, Policy: doc}, opt)
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
