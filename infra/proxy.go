package main

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/rds"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/secretsmanager"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// RDS Proxy (miyabi:rdsProxy). The chain: the API signs in to the proxy as proxyDBUser
// with an IAM token (the proxy requires IAM: iamAuth REQUIRED), the proxy signs in to the
// database as proxyDBUser with the password of its own secret, which the migrate action
// gives the role on every run (app/internal/store/proxyrole.go). The role is not
// miyabi_app: on RDS a member of rds_iam, even through another role, cannot use a
// password, and miyabi_app is one; proxyDBUser holds a copy of miyabi_app's grants.
const proxyDBUser = "miyabi_proxy"

// proxyIdleClientTimeout: a frozen Lambda environment cannot close its connection to the
// proxy; the proxy drops it after this long, as the database does without a proxy
// (idle_session_timeout).
const proxyIdleClientTimeout = idleSessionTimeoutMs / 1000

// proxyMaxIdleConnectionsPercent of max_connections the proxy keeps open while idle (AWS's
// default is half of its maximum; stated so a review sees it).
const proxyMaxIdleConnectionsPercent = proxyMaxConnectionsPercent / 2

// DBProxy is what the API needs to reach the database through the proxy.
type DBProxy struct {
	Proxy *rds.Proxy
	// Name is the proxy's name, its ProxyName in CloudWatch (the dashboard and the alarms).
	Name     string
	Endpoint pulumi.StringOutput
	// ResourceID (prx-...) names the proxy in rds-db:connect ARNs: the last segment of its
	// ARN.
	ResourceID pulumi.StringOutput
	// SecretArn is the proxy's database login ({"username","password"}); the proxy and the
	// migrate function read it, nothing else.
	SecretArn     pulumi.StringOutput
	SecretVersion *secretsmanager.SecretVersion
	// Target is the instance registered in the proxy's default target group; the live
	// alias waits for it.
	Target *rds.ProxyTarget
}

// newProxySecurityGroup: PostgreSQL in from the Lambda only, out to the VPC on 5432 only
// (where the database's group admits it). Made before the database's group, which admits
// it; the other way round (egress to the database's group) would be a cycle, or rules
// outside the groups that fight their inline ones.
func newProxySecurityGroup(ctx *pulumi.Context, cfg Config, net *Network, opt pulumi.ResourceOption) (*ec2.SecurityGroup, error) {
	return ec2.NewSecurityGroup(ctx, "rds-proxy", &ec2.SecurityGroupArgs{
		VpcId:       net.VpcID,
		Description: pulumi.String("Miyabi RDS Proxy: from the API Lambda, to PostgreSQL"),
		Ingress: ec2.SecurityGroupIngressArray{ec2.SecurityGroupIngressArgs{
			Protocol: pulumi.String("tcp"), FromPort: pulumi.Int(5432), ToPort: pulumi.Int(5432),
			SecurityGroups: pulumi.StringArray{net.LambdaSGID}, Description: pulumi.String("PostgreSQL from the API Lambda"),
		}},
		Egress: ec2.SecurityGroupEgressArray{ec2.SecurityGroupEgressArgs{
			Protocol: pulumi.String("tcp"), FromPort: pulumi.Int(5432), ToPort: pulumi.Int(5432),
			CidrBlocks: pulumi.StringArray{pulumi.String(vpcCIDR)}, Description: pulumi.String("PostgreSQL to the database"),
		}},
		Tags: nameTag(cfg.name("rds-proxy")),
	}, opt)
}

// proxyPassword makes the proxy's database password: 48 characters of [A-Za-z0-9] from
// crypto/rand (285 bits; visible ASCII, as the migrate action requires, and nothing to
// escape anywhere). A variable so tests pin it.
var proxyPassword = func() (string, error) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	out := make([]byte, 0, 48)
	buf := make([]byte, 64)
	for len(out) < cap(out) {
		if _, err := rand.Read(buf); err != nil {
			return "", err
		}
		for _, b := range buf {
			// 248 = 4 x 62: below it every letter is equally likely
			if b < 248 && len(out) < cap(out) {
				out = append(out, alphabet[b%62])
			}
		}
	}
	return string(out), nil
}

// newDBProxy creates the proxy's login secret, the role that lets the proxy read exactly
// that secret, the proxy in the private subnets, its default target group and the
// instance as its target.
func newDBProxy(ctx *pulumi.Context, cfg Config, net *Network, db *rds.Instance, sg *ec2.SecurityGroup, opt pulumi.ResourceOption) (*DBProxy, error) {
	account, err := aws.GetCallerIdentity(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("rds proxy: account: %w", err)
	}
	recovery := 30
	if !cfg.Production {
		recovery = 0 // as the app secret: staging is torn down and rebuilt
	}
	// A prefix, not a name: the provider adds a unique suffix. Switching the proxy off
	// deletes the secret with the recovery window, during which Secrets Manager keeps its
	// name taken; switching it on again within the window creates a new one beside it.
	secret, err := secretsmanager.NewSecret(ctx, "rds-proxy-login", &secretsmanager.SecretArgs{
		NamePrefix:           pulumi.String("miyabi/" + cfg.Stack + "/rds-proxy-"),
		Description:          pulumi.String("Miyabi: the database login RDS Proxy signs in with (" + proxyDBUser + "); the migrate function sets the role's password from it"),
		RecoveryWindowInDays: pulumi.Int(recovery),
	}, opt)
	if err != nil {
		return nil, err
	}
	password, err := proxyPassword()
	if err != nil {
		return nil, fmt.Errorf("rds proxy: password: %w", err)
	}
	body, err := json.Marshal(map[string]string{"username": proxyDBUser, "password": password})
	if err != nil {
		return nil, err
	}
	// A new random value on every run, so the value is fixed at creation and ignored after
	// (no new secret version, no rotation, on each `pulumi up`). A rotation changes
	// miyabi:rdsProxyPasswordGeneration, which names a new version: created with a new
	// value, it becomes current, the migrate invocation (triggered by its id) sets the
	// role's password from it, and the old version is deleted.
	version, err := secretsmanager.NewSecretVersion(ctx, fmt.Sprintf("rds-proxy-login-%d", cfg.RDSProxyPasswordGeneration), &secretsmanager.SecretVersionArgs{
		SecretId:     secret.ID(),
		SecretString: pulumi.ToSecret(pulumi.String(string(body))).(pulumi.StringOutput),
	}, pulumi.IgnoreChanges([]string{"secretString"}), opt)
	if err != nil {
		return nil, err
	}

	assume, err := json.Marshal(policyDoc(statement{
		Effect: "Allow", Action: []string{"sts:AssumeRole"},
		Principal: map[string]string{"Service": "rds.amazonaws.com"},
		// only on behalf of this account's proxies
		Condition: map[string]any{"StringEquals": map[string]string{"aws:SourceAccount": account.AccountId}},
	}))
	if err != nil {
		return nil, err
	}
	role, err := iam.NewRole(ctx, "rds-proxy", &iam.RoleArgs{AssumeRolePolicy: pulumi.String(string(assume))}, opt)
	if err != nil {
		return nil, err
	}
	// The secret is encrypted with Secrets Manager's AWS-managed key, whose key policy lets
	// any principal of the account that may read the secret decrypt through Secrets
	// Manager: no kms:Decrypt statement. A customer-managed key would need one, on that key
	// with kms:ViaService secretsmanager.<region>.amazonaws.com.
	doc := secret.Arn.ApplyT(func(arn string) (string, error) {
		b, err := json.Marshal(policyDoc(statement{
			Sid: "OwnLoginSecret", Effect: "Allow", Action: []string{"secretsmanager:GetSecretValue"}, Resource: []string{arn},
		}))
		return string(b), err
	}).(pulumi.StringOutput)
	policy, err := iam.NewRolePolicy(ctx, "rds-proxy", &iam.RolePolicyArgs{Role: role.Name, Policy: doc}, opt)
	if err != nil {
		return nil, err
	}

	name := cfg.name("db-proxy")
	proxy, err := rds.NewProxy(ctx, "db", &rds.ProxyArgs{
		Name:         pulumi.String(name),
		EngineFamily: pulumi.String("POSTGRESQL"),
		Auths: rds.ProxyAuthArray{rds.ProxyAuthArgs{
			AuthScheme:             pulumi.String("SECRETS"),
			SecretArn:              secret.Arn,
			IamAuth:                pulumi.String("REQUIRED"),
			ClientPasswordAuthType: pulumi.String("POSTGRES_SCRAM_SHA_256"),
			Description:            pulumi.String("the API signs in with IAM as " + proxyDBUser + "; the proxy signs in with this secret"),
		}},
		RequireTls:          pulumi.Bool(true),
		RoleArn:             role.Arn,
		VpcSubnetIds:        net.PrivateSubnetIDs,
		VpcSecurityGroupIds: pulumi.StringArray{sg.ID()},
		IdleClientTimeout:   pulumi.Int(proxyIdleClientTimeout),
		// debug logging writes statements' text to the logs: never by default
		DebugLogging: pulumi.Bool(false),
		Tags:         nameTag(name),
	}, pulumi.DependsOn([]pulumi.Resource{policy, version}), opt)
	if err != nil {
		return nil, err
	}
	group, err := rds.NewProxyDefaultTargetGroup(ctx, "db", &rds.ProxyDefaultTargetGroupArgs{
		DbProxyName: proxy.Name,
		ConnectionPoolConfig: rds.ProxyDefaultTargetGroupConnectionPoolConfigArgs{
			// what the budget rule counts for the proxy (budget.go)
			MaxConnectionsPercent:     pulumi.Int(proxyMaxConnectionsPercent),
			MaxIdleConnectionsPercent: pulumi.Int(proxyMaxIdleConnectionsPercent),
			// a request waits for a connection no longer than it may run
			ConnectionBorrowTimeout: pulumi.Int(proxyBorrowTimeout(cfg)),
		},
	}, opt)
	if err != nil {
		return nil, err
	}
	target, err := rds.NewProxyTarget(ctx, "db", &rds.ProxyTargetArgs{
		DbProxyName:          proxy.Name,
		TargetGroupName:      group.Name,
		DbInstanceIdentifier: db.Identifier,
	}, opt)
	if err != nil {
		return nil, err
	}
	id := proxy.Arn.ApplyT(func(arn string) (string, error) {
		id := arn[strings.LastIndex(arn, ":")+1:]
		if !strings.HasPrefix(id, "prx-") {
			return "", fmt.Errorf("rds proxy: ARN %q does not end in the proxy's resource id (prx-...)", arn)
		}
		return id, nil
	}).(pulumi.StringOutput)
	return &DBProxy{Proxy: proxy, Name: name, Endpoint: proxy.Endpoint, ResourceID: id, SecretArn: secret.Arn, SecretVersion: version, Target: target}, nil
}

// proxyBorrowTimeout is how long, in seconds, the proxy lets a client wait for a database
// connection when its pool is full: the request's own timeout (REQUEST_TIMEOUT, the Lambda
// timeout minus 2 s), after which the API has answered 503 anyway.
func proxyBorrowTimeout(cfg Config) int { return max(1, cfg.LambdaTimeout-2) }
