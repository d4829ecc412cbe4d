package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
)

// withProxy is a stack file's config with RDS Proxy turned on.
func withProxy(t *testing.T, stack string) map[string]string {
	t.Helper()
	cfg := stackConfig(t, stack)
	cfg["miyabi:rdsProxy"] = "true"
	return cfg
}

// capturePasswords records every password the program generates for the proxy (the real
// generator, so its output is checked too).
func capturePasswords(t *testing.T) *[]string {
	t.Helper()
	saved := proxyPassword
	var got []string
	proxyPassword = func() (string, error) {
		p, err := saved()
		got = append(got, p)
		return p, err
	}
	t.Cleanup(func() { proxyPassword = saved })
	return &got
}

// With miyabi:rdsProxy the stack has a proxy in front of the instance: TLS required, IAM
// required from clients, the private subnets, its own security group between the
// Lambda's and the database's, a pool of the share the budget counts, the instance as
// target, and a role that may read exactly its login secret. The API connects to the
// proxy as miyabi_proxy with IAM (rds-db:connect on the proxy's dbuser, not the
// instance's); the migrate function still connects to the instance, and gets the login
// secret's ARN (never its value) to set the role's password.
func TestRDSProxy(t *testing.T) {
	for _, stack := range []string{"staging", "production"} {
		t.Run(stack, func(t *testing.T) {
			passwords := capturePasswords(t)
			run, err := runStack(t, stack, withProxy(t, stack), testBuilders(t, ""))
			if err != nil {
				t.Fatal(err)
			}
			want := maps.Clone(wantInventory[stack])
			for typ, n := range map[string]int{
				"aws:ec2/securityGroup:SecurityGroup": 1, "aws:secretsmanager/secret:Secret": 1, "aws:secretsmanager/secretVersion:SecretVersion": 1,
				// the proxy's role and policy, and the API's policy for the proxy
				"aws:iam/role:Role": 1, "aws:iam/rolePolicy:RolePolicy": 2,
				"aws:rds/proxy:Proxy": 1, "aws:rds/proxyDefaultTargetGroup:ProxyDefaultTargetGroup": 1, "aws:rds/proxyTarget:ProxyTarget": 1,
			} {
				want[typ] += n
			}
			if stack == "production" {
				want["aws:cloudwatch/metricAlarm:MetricAlarm"] += len(proxyAlarms) // proxyobs_test.go
			}
			checkInventory(t, run.inventory(), want)
			checkOutputs(t, run)
			checkPolicies(t, run) // the API's env and IAM, the migrate function's, the database's ingress

			proxy := run.one(t, "aws:rds/proxy:Proxy", "db")
			p := proxy.Inputs
			if p["name"] != "miyabi-"+stack+"-db-proxy" || p["engineFamily"] != "POSTGRESQL" || p["requireTls"] != true || p["debugLogging"] != false ||
				p["idleClientTimeout"] != float64(idleSessionTimeoutMs/1000) {
				t.Errorf("proxy = %v", p)
			}
			auths := objs(p["auths"])
			if len(auths) != 1 || auths[0]["authScheme"] != "SECRETS" || auths[0]["iamAuth"] != "REQUIRED" || auths[0]["secretArn"] != fakeProxySecret {
				t.Errorf("proxy auth = %v, want its secret to the database and IAM required from clients", auths)
			}
			if ids := strs(p["vpcSubnetIds"]); len(ids) != 2 || !strings.HasPrefix(ids[0], "private-") || !strings.HasPrefix(ids[1], "private-") {
				t.Errorf("proxy subnets = %v, want both private subnets", ids)
			}
			if !slices.Equal(strs(p["vpcSecurityGroupIds"]), []string{"rds-proxy-id"}) {
				t.Errorf("proxy security groups = %v", p["vpcSecurityGroupIds"])
			}
			role := run.one(t, "aws:iam/role:Role", "rds-proxy")
			if p["roleArn"] != "arn:aws:iam:us-west-2:"+fakeAccount+":rds-proxy" {
				t.Errorf("proxy role = %v", p["roleArn"])
			}
			trust := policyOf(t, role.Inputs["assumeRolePolicy"])
			if len(trust.Statement) != 1 || fmt.Sprint(trust.Statement[0].Principal) != "map[Service:rds.amazonaws.com]" ||
				get(trust.Statement[0].Condition, "StringEquals", "aws:SourceAccount") != fakeAccount {
				t.Errorf("proxy role trust = %+v, want RDS on behalf of this account only", trust.Statement)
			}
			// the role's policy (exactly GetSecretValue on the login secret) is checked by
			// policyIAM; the proxy waits for it, and for the secret's value
			if !slices.Contains(proxy.DependsOn, run.one(t, "aws:iam/rolePolicy:RolePolicy", "rds-proxy").URN) ||
				!slices.Contains(proxy.DependsOn, run.one(t, "aws:secretsmanager/secretVersion:SecretVersion", "rds-proxy-login-1").URN) {
				t.Error("the proxy does not wait for its role's policy and its login")
			}

			group := run.one(t, "aws:rds/proxyDefaultTargetGroup:ProxyDefaultTargetGroup", "db").Inputs
			pool, _ := group["connectionPoolConfig"].(map[string]any)
			if group["dbProxyName"] != p["name"] || pool["maxConnectionsPercent"] != float64(proxyMaxConnectionsPercent) ||
				pool["maxIdleConnectionsPercent"] != float64(proxyMaxConnectionsPercent/2) ||
				pool["connectionBorrowTimeout"] != float64(run.cfg.LambdaTimeout-2) {
				t.Errorf("target group = %v, want %d %% of max_connections (what the budget counts), borrow timeout the request's", group, proxyMaxConnectionsPercent)
			}
			target := run.one(t, "aws:rds/proxyTarget:ProxyTarget", "db")
			if target.Inputs["dbProxyName"] != p["name"] || target.Inputs["targetGroupName"] != "default" || target.Inputs["dbInstanceIdentifier"] != "miyabi-"+stack+"-db" {
				t.Errorf("target = %v, want the instance in the default target group", target.Inputs)
			}

			sg := run.one(t, "aws:ec2/securityGroup:SecurityGroup", "rds-proxy").Inputs
			in, out := objs(sg["ingress"]), objs(sg["egress"])
			if len(in) != 1 || in[0]["fromPort"] != 5432.0 || in[0]["toPort"] != 5432.0 || !slices.Equal(strs(in[0]["securityGroups"]), []string{"lambda-id"}) || len(strs(in[0]["cidrBlocks"])) > 0 {
				t.Errorf("proxy ingress = %v, want 5432 from the Lambda only", in)
			}
			if len(out) != 1 || out[0]["fromPort"] != 5432.0 || out[0]["toPort"] != 5432.0 || !slices.Equal(strs(out[0]["cidrBlocks"]), []string{vpcCIDR}) {
				t.Errorf("proxy egress = %v, want 5432 inside the VPC only", out)
			}

			// The login secret: the role's name and a generated password, inside a secret,
			// fixed at creation. Named by a prefix, to which the provider adds a unique
			// suffix: switching the proxy off deletes the secret with a recovery window (30
			// days in production) during which its name stays taken, and switching it on
			// again within it must create a new one, not collide.
			secret := run.one(t, "aws:secretsmanager/secret:Secret", "rds-proxy-login").Inputs
			if name, ok := secret["name"]; ok && name != nil || secret["namePrefix"] != "miyabi/"+stack+"/rds-proxy-" {
				t.Errorf("login secret name = %v, prefix %v; want no fixed name, the prefix miyabi/%s/rds-proxy-", secret["name"], secret["namePrefix"], stack)
			}
			if secret["recoveryWindowInDays"] != map[bool]float64{true: 30, false: 0}[stack == "production"] {
				t.Errorf("login secret recovery window = %v", secret["recoveryWindowInDays"])
			}
			version := run.one(t, "aws:secretsmanager/secretVersion:SecretVersion", "rds-proxy-login-1")
			var login map[string]string
			if err := json.Unmarshal([]byte(version.Inputs["secretString"].(string)), &login); err != nil {
				t.Fatal(err)
			}
			if len(*passwords) != 1 || login["username"] != "miyabi_proxy" || login["password"] != (*passwords)[0] || len(login) != 2 {
				t.Fatalf("login secret keys %v, want username miyabi_proxy and the generated password", keys(login))
			}
			if pw := login["password"]; len(pw) != 48 || strings.Trim(pw, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") != "" {
				t.Errorf("generated password: %d characters, want 48 letters and digits", len(pw))
			}
			if !slices.Equal(version.IgnoreChanges, []string{"secretString"}) {
				t.Errorf("the login's version ignores %v, want secretString (fixed at creation)", version.IgnoreChanges)
			}
			for _, r := range run.res {
				if strings.Contains(r.Redacted, login["password"]) {
					t.Errorf("%s %s carries the proxy's password outside a secret", r.Type, r.Name)
				}
			}
			for _, fn := range run.all("aws:lambda/function:Function") {
				env, _ := get(fn.Inputs, "environment", "variables").(map[string]any)
				for k, v := range env {
					if strings.Contains(fmt.Sprint(v), login["password"]) {
						t.Errorf("%s: env %s holds the proxy's password", fn.Name, k)
					}
				}
			}

			// The migration runs again when the login changes, and traffic moves only once
			// the instance is the proxy's target.
			inv := run.one(t, "aws:lambda/invocation:Invocation", "migrate").Inputs
			if get(inv, "triggers", "proxyLoginVersion") != fakeSecretVersion {
				t.Errorf("migration triggers = %v, want the login secret's version", inv["triggers"])
			}
			alias := run.one(t, "aws:lambda/alias:Alias", "live")
			if !slices.Contains(alias.DependsOn, target.URN) {
				t.Error("the live alias does not wait for the proxy's target")
			}
			// ... nor until the API's role may connect through the proxy: on turn-on that
			// policy exists before the alias moves; on turn-off Pulumi deletes it at the end
			// of the update, after the alias moved, so the version that goes through the
			// proxy keeps its permission while it serves.
			if !slices.Contains(alias.DependsOn, run.one(t, "aws:iam/rolePolicy:RolePolicy", "lambda-proxy").URN) {
				t.Error("the live alias does not wait for the API's permission to connect through the proxy")
			}
			if got := run.outputs["databaseProxyEndpoint"]; got != "miyabi-"+stack+"-db-proxy.proxy-cxyz.us-west-2.rds.amazonaws.com" {
				t.Errorf("output databaseProxyEndpoint = %q", got)
			}
		})
	}
}

// Off (the stack files), there is no proxy anywhere: no proxy resources (TestStacks holds
// the inventory), no proxy user, no proxy output.
func TestNoRDSProxyByDefault(t *testing.T) {
	run, err := runStack(t, "production", stackConfig(t, "production"), testBuilders(t, ""))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range run.res {
		if strings.Contains(r.Redacted, "miyabi_proxy") || strings.Contains(r.Redacted, "rds-proxy") {
			t.Errorf("%s %s mentions the proxy", r.Type, r.Name)
		}
	}
	if _, ok := run.outputs["databaseProxyEndpoint"]; ok {
		t.Error("a databaseProxyEndpoint output without a proxy")
	}
}

// A second run over the same source changes no input with the proxy on either: the
// password generated again is ignored (it was fixed at creation).
func TestSecondRunHasNoChangesWithAProxy(t *testing.T) {
	passwords := capturePasswords(t)
	first, err := runStack(t, "production", withProxy(t, "production"), testBuilders(t, ""))
	if err != nil {
		t.Fatal(err)
	}
	second, err := runStack(t, "production", withProxy(t, "production"), testBuilders(t, ""))
	if err != nil {
		t.Fatal(err)
	}
	if len(*passwords) != 2 || (*passwords)[0] == (*passwords)[1] {
		t.Fatalf("%d passwords generated, want a different one per run (so the ignore matters)", len(*passwords))
	}
	before := map[string]recorded{}
	for _, r := range first.res {
		before[r.URN] = r
	}
	if len(first.res) != len(second.res) {
		t.Fatalf("%d resources, then %d", len(first.res), len(second.res))
	}
	for _, r := range second.res {
		a, ok := before[r.URN]
		if !ok {
			t.Errorf("%s is new in the second run", r.URN)
			continue
		}
		x, y := withoutIgnored(a), withoutIgnored(r)
		for k := range y {
			if fmt.Sprint(x[k]) != fmt.Sprint(y[k]) {
				t.Errorf("%s: input %s changed", r.URN, k)
			}
		}
	}
}

// A rotation: raising miyabi:rdsProxyPasswordGeneration names a new version of the login
// (created with a new password, the old one deleted), and the migrate invocation, which
// depends on it, runs after it and sets the role's password.
func TestRDSProxyPasswordRotation(t *testing.T) {
	cfg := withProxy(t, "staging")
	cfg["miyabi:rdsProxyPasswordGeneration"] = "2"
	run, err := runStack(t, "staging", cfg, testBuilders(t, ""))
	if err != nil {
		t.Fatal(err)
	}
	if len(run.all("aws:secretsmanager/secretVersion:SecretVersion")) != 2 {
		t.Fatal("want the app secret's version and the login's")
	}
	version := run.one(t, "aws:secretsmanager/secretVersion:SecretVersion", "rds-proxy-login-2")
	if inv := run.one(t, "aws:lambda/invocation:Invocation", "migrate"); !slices.Contains(inv.DependsOn, version.URN) {
		t.Error("the migrate invocation does not follow the login's new version")
	}
}

// Switching the proxy off: the deploy after one that had it (the stack's reference to
// itself reads the databaseProxyEndpoint output) removes the proxy, its target, login
// secret, role and the API's lambda-proxy policy, which Pulumi deletes at the end of the
// update, after the alias moved to the version that connects directly. What the proxy
// needs while it still serves the old version stays: the database admits the proxy's
// security group (an inline rule: removing it would be an update of the database's group,
// early in the update, long before the alias moves), and the migrate action keeps the
// proxy's login (DB_PROXY_RETIRING). The next deploy removes the rule and the group and
// switches the login off.
func TestRDSProxySwitchedOff(t *testing.T) {
	const previous = "miyabi-production-db-proxy.proxy-cxyz.us-west-2.rds.amazonaws.com"
	run, err := runStackWith(t, "production", stackConfig(t, "production"), testBuilders(t, ""), &mocks{previousProxy: previous})
	if err != nil {
		t.Fatal(err)
	}
	if !run.proxyRetiring {
		t.Fatal("the run does not count as removing the proxy")
	}
	want := maps.Clone(wantInventory["production"])
	want["aws:ec2/securityGroup:SecurityGroup"]++ // the proxy's, kept for this deploy
	checkInventory(t, run.inventory(), want)
	checkPolicies(t, run) // the database admits the proxy's group; the migrate function has DB_PROXY_RETIRING; the API connects directly
	if _, ok := run.outputs[proxyEndpointOutput]; ok {
		t.Error("the deploy that removes the proxy exports its endpoint: the next one would keep its group and login again")
	}
	sg := run.one(t, "aws:ec2/securityGroup:SecurityGroup", "rds-proxy").Inputs
	if in := objs(sg["ingress"]); len(in) != 1 || !slices.Equal(strs(in[0]["securityGroups"]), []string{"lambda-id"}) {
		t.Errorf("the kept proxy group changed: %v", sg)
	}

	// The next deploy (this one exported no proxy) removes the rest: TestNoRDSProxyByDefault.
	// Nor does a stack that keeps its proxy count as removing it.
	run, err = runStackWith(t, "production", withProxy(t, "production"), testBuilders(t, ""), &mocks{previousProxy: previous})
	if err != nil {
		t.Fatal(err)
	}
	mig := run.one(t, "aws:lambda/function:Function", "migrate").Inputs
	if env, _ := get(mig, "environment", "variables").(map[string]any); env["DB_PROXY_RETIRING"] != nil || env["DB_PROXY_SECRET_ARN"] != fakeProxySecret {
		t.Errorf("a stack that keeps its proxy: migrate env %v", env)
	}
}
