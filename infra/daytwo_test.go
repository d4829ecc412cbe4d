package main

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func urnOfRes(t *testing.T, run *stackRun, typ, name string) string {
	t.Helper()
	return run.one(t, typ, name).URN
}

// A deploy migrates before traffic moves: the live alias names the new API version and
// waits for the migration invocation, which runs the new version of the migrate
// function; the HTTP API and the schedule invoke only the alias.
func TestDeployMigratesBeforeTheAliasMoves(t *testing.T) {
	for _, stack := range []string{"staging", "production"} {
		t.Run(stack, func(t *testing.T) {
			run, err := runStack(t, stack, stackConfig(t, stack), testBuilders(t, ""))
			if err != nil {
				t.Fatal(err)
			}
			alias := run.one(t, "aws:lambda/alias:Alias", "live")
			inv := run.one(t, "aws:lambda/invocation:Invocation", "migrate")
			if alias.Inputs["name"] != "live" || alias.Inputs["functionVersion"] != fakeVersion || alias.Inputs["functionName"] != "miyabi-"+stack+"-api" {
				t.Errorf("alias = %v, want live on the published version of the API", alias.Inputs)
			}
			if !slices.Contains(alias.DependsOn, inv.URN) {
				t.Errorf("the alias does not wait for the migration (depends on %v)", alias.DependsOn)
			}
			migrateFn := urnOfRes(t, run, "aws:lambda/function:Function", "migrate")
			if inv.Inputs["qualifier"] != fakeVersion || !slices.Contains(inv.DependsOn, migrateFn) {
				t.Errorf("the migration runs %v of %v, want the new version of the migrate function", inv.Inputs["qualifier"], inv.Inputs["functionName"])
			}
			// Nothing that serves traffic names the function without the alias.
			for _, r := range run.res {
				if r.Type == "aws:lambda/function:Function" || r.Type == "aws:lambda/alias:Alias" || r.Type == "aws:lambda/invocation:Invocation" || r.Type == "aws:iam/rolePolicy:RolePolicy" {
					continue
				}
				for _, unqualified := range []string{
					fmt.Sprintf("function:miyabi-%s-api/invocations", stack),
					fmt.Sprintf("function:miyabi-%s-api\"", stack),
				} {
					if strings.Contains(r.Redacted, unqualified) {
						t.Errorf("%s %s invokes the function without the live alias", r.Type, r.Name)
					}
				}
			}
			// The function waits for the distribution: its header is deployed before the
			// new version stops accepting the previous origin secret.
			api := run.one(t, "aws:lambda/function:Function", "api")
			if !slices.Contains(api.DependsOn, urnOfRes(t, run, "aws:cloudfront/distribution:Distribution", "cdn")) {
				t.Error("the API function does not wait for the distribution")
			}
		})
	}
}

// A failed migration fails the run with the migration's error, and the alias (so the
// traffic) never moves: the old version keeps serving.
func TestFailedMigrationLeavesTheOldVersionServing(t *testing.T) {
	m := &mocks{fail: map[string]error{
		"aws:lambda/invocation:Invocation": errors.New(`invoking Lambda Function (miyabi-staging-migrate): {"errorMessage":"migrate: migrate up: ERROR 00010_broken.sql: relation \"nope\" does not exist"}`),
	}}
	run, err := runStackWith(t, "staging", stackConfig(t, "staging"), testBuilders(t, ""), m)
	if err == nil || !strings.Contains(err.Error(), "00010_broken.sql") {
		t.Fatalf("err = %v, want the migration's error", err)
	}
	for _, r := range run.res {
		if r.Type == "aws:lambda/alias:Alias" {
			t.Fatal("the alias was registered after a failed migration: traffic would move to the new version")
		}
		if r.Type == "aws:apigatewayv2/integration:Integration" || r.Type == "aws:cloudwatch/eventTarget:EventTarget" {
			t.Errorf("%s %s was changed after a failed migration", r.Type, r.Name)
		}
	}
}

// A second run over the same source changes no input: no spurious version, no
// migration, no upload. Inputs the program tells Pulumi to ignore are left out, as the
// engine leaves them out of the diff.
func TestSecondRunHasNoChanges(t *testing.T) {
	for _, stack := range []string{"staging", "production"} {
		t.Run(stack, func(t *testing.T) {
			first, err := runStack(t, stack, stackConfig(t, stack), testBuilders(t, ""))
			if err != nil {
				t.Fatal(err)
			}
			saved := finalSnapshotStamp
			finalSnapshotStamp = func() string { return "20991231-235959" } // a later run, another time
			defer func() { finalSnapshotStamp = saved }()
			second, err := runStack(t, stack, stackConfig(t, stack), testBuilders(t, ""))
			if err != nil {
				t.Fatal(err)
			}
			if len(first.res) != len(second.res) {
				t.Fatalf("%d resources, then %d", len(first.res), len(second.res))
			}
			before := map[string]recorded{}
			for _, r := range first.res {
				before[r.URN] = r
			}
			for _, r := range second.res {
				a, ok := before[r.URN]
				if !ok {
					t.Errorf("%s is new in the second run", r.URN)
					continue
				}
				x, y := withoutIgnored(a), withoutIgnored(r)
				if !reflect.DeepEqual(x, y) {
					for k := range y {
						if !reflect.DeepEqual(x[k], y[k]) {
							t.Errorf("%s: input %s changed: %v -> %v", r.URN, k, x[k], y[k])
						}
					}
				}
			}
		})
	}
}

func withoutIgnored(r recorded) map[string]any {
	out := map[string]any{}
	for k, v := range r.Inputs {
		if !slices.Contains(r.IgnoreChanges, k) {
			out[k] = v
		}
	}
	return out
}

// The database side of day two: IAM authentication, the real max_connections and the
// idle-session reaper in the parameter group, windows, a unique final snapshot.
func TestDatabaseDayTwo(t *testing.T) {
	for _, stack := range []string{"staging", "production"} {
		t.Run(stack, func(t *testing.T) {
			run, err := runStack(t, stack, stackConfig(t, stack), testBuilders(t, ""))
			if err != nil {
				t.Fatal(err)
			}
			db := run.one(t, "aws:rds/instance:Instance", "db")
			if db.Inputs["iamDatabaseAuthenticationEnabled"] != true {
				t.Error("IAM database authentication is off")
			}
			if db.Inputs["backupWindow"] != run.cfg.DBBackupWindow || db.Inputs["maintenanceWindow"] != run.cfg.DBMaintenanceWindow ||
				run.cfg.DBBackupWindow == "" || run.cfg.DBMaintenanceWindow == "" {
				t.Errorf("windows = %v / %v", db.Inputs["backupWindow"], db.Inputs["maintenanceWindow"])
			}
			if run.cfg.Production {
				snap, _ := db.Inputs["finalSnapshotIdentifier"].(string)
				if !strings.HasPrefix(snap, "miyabi-production-db-final-") || len(snap) <= len("miyabi-production-db-final-") ||
					!slices.Contains(db.IgnoreChanges, "finalSnapshotIdentifier") {
					t.Errorf("final snapshot %q (ignored later: %v), want a name unique to this instance", snap, db.IgnoreChanges)
				}
			}
			params := map[string]map[string]any{}
			for _, p := range objs(run.one(t, "aws:rds/parameterGroup:ParameterGroup", "db").Inputs["parameters"]) {
				params[p["name"].(string)] = p
			}
			want, _ := MaxConnections(run.cfg.DBInstanceClass)
			if mc := params["max_connections"]; mc == nil || mc["value"] != fmt.Sprint(want) || mc["applyMethod"] != "pending-reboot" || want != run.cfg.DBMaxConnections {
				t.Errorf("max_connections = %v, want %d set explicitly", mc, want)
			}
			if it := params["idle_session_timeout"]; it == nil || it["value"] != fmt.Sprint(idleSessionTimeoutMs) {
				t.Errorf("idle_session_timeout = %v", it)
			}
			if ConnectionBudget(run.cfg) > run.cfg.DBMaxConnections {
				t.Errorf("the shipped %s stack is over its budget: %d > %d", stack, ConnectionBudget(run.cfg), run.cfg.DBMaxConnections)
			}
		})
	}
}

// Production reaches Secrets Manager inside the VPC, from the Lambda only.
func TestSecretsEndpoint(t *testing.T) {
	run, err := runStack(t, "production", stackConfig(t, "production"), testBuilders(t, ""))
	if err != nil {
		t.Fatal(err)
	}
	ep := run.one(t, "aws:ec2/vpcEndpoint:VpcEndpoint", "secretsmanager").Inputs
	if ep["serviceName"] != "com.amazonaws.us-west-2.secretsmanager" || ep["vpcEndpointType"] != "Interface" || ep["privateDnsEnabled"] != true {
		t.Errorf("endpoint = %v", ep)
	}
	if ids := strs(ep["subnetIds"]); len(ids) != 2 || !strings.HasPrefix(ids[0], "private-") || !strings.HasPrefix(ids[1], "private-") {
		t.Errorf("endpoint subnets = %v, want both private subnets", ids)
	}
	sg := run.one(t, "aws:ec2/securityGroup:SecurityGroup", "secrets-endpoint").Inputs
	in := objs(sg["ingress"])
	if len(in) != 1 || in[0]["fromPort"] != 443.0 || !slices.Equal(strs(in[0]["securityGroups"]), []string{"lambda-id"}) {
		t.Errorf("endpoint ingress = %v, want 443 from the Lambda only", in)
	}
}

// index.html goes up after every asset, and a deploy never deletes a hashed asset.
func TestIndexUploadedLastAssetsRetained(t *testing.T) {
	run, err := runStack(t, "staging", stackConfig(t, "staging"), testBuilders(t, ""))
	if err != nil {
		t.Fatal(err)
	}
	index := run.one(t, "aws:s3/bucketObjectv2:BucketObjectv2", "dashboard/index.html")
	n := 0
	for _, o := range run.all("aws:s3/bucketObjectv2:BucketObjectv2") {
		if o.Name == index.Name {
			continue
		}
		n++
		if !slices.Contains(index.DependsOn, o.URN) {
			t.Errorf("index.html does not wait for %s", o.Name)
		}
		if strings.HasPrefix(o.Name, "dashboard/assets/") && !o.Retain {
			t.Errorf("%s would be deleted by the next deploy", o.Name)
		}
	}
	if n == 0 {
		t.Fatal("no assets in the fixture")
	}
}

// Secrets rotate: the previous values ride in the app secret during a rotation and
// never in a plain input; the function's configuration names the secret's version.
func TestRotationKeysInTheAppSecret(t *testing.T) {
	cfg := stackConfig(t, "staging")
	prev := map[string]string{
		"miyabi:jwtSigningKeyPrevious":      "previous-jwt-signing-key-0123456789abcdef",
		"miyabi:tokenEncryptionKeyPrevious": "ZW11bGF0b3ItdGVzdC10b2tlbi1rZXktMzItYnl0ZXM=",
		"miyabi:originVerifySecretPrevious": "previous-origin-verify-secret-0123456789ab",
	}
	for k, v := range prev {
		cfg[k] = v
		testSecrets[k] = v
	}
	defer func() {
		for k := range prev {
			delete(testSecrets, k)
		}
	}()
	run, err := runStack(t, "staging", cfg, testBuilders(t, ""))
	if err != nil {
		t.Fatal(err)
	}
	policyNoPlainSecretsRedacted(t, run)
	body := run.one(t, "aws:secretsmanager/secretVersion:SecretVersion", "app").Inputs["secretString"].(string)
	for _, k := range []string{"jwt_signing_key_previous", "token_encryption_key_previous", "origin_verify_secret_previous"} {
		if !strings.Contains(body, `"`+k+`"`) {
			t.Errorf("the app secret lacks %s", k)
		}
	}
	// CloudFront keeps sending the current value.
	d := run.one(t, "aws:cloudfront/distribution:Distribution", "cdn").Inputs
	for _, o := range objs(d["origins"]) {
		for _, h := range objs(o["customHeaders"]) {
			if h["value"] != testSecrets["miyabi:originVerifySecret"] {
				t.Errorf("CloudFront sends %v, want the current origin secret", h["value"])
			}
		}
	}
	// A previous key given as plain config is refused.
	_, _, err = readConfig("test", func(k string) (string, bool) { v, ok := cfg[k]; return v, ok },
		func(k string) bool { return k != "miyabi:jwtSigningKeyPrevious" && testSecrets[k] != "" })
	if err == nil || !strings.Contains(err.Error(), "miyabi:jwtSigningKeyPrevious: is not a secret") {
		t.Errorf("err = %v", err)
	}
}

func policyNoPlainSecretsRedacted(t *testing.T, run *stackRun) {
	for _, r := range run.res {
		for name, secret := range testSecrets {
			if strings.Contains(r.Redacted, secret) {
				t.Errorf("%s %s carries the value of %s outside a secret", r.Type, r.Name, name)
			}
		}
	}
}

// The layers are components (a preview reads as a tree), and every resource moved into
// one keeps its old URN as an alias: an existing stack updates in place, it does not
// replace its database, bucket or distribution.
func TestLayersKeepTheOldURNs(t *testing.T) {
	for _, stack := range []string{"staging", "production"} {
		t.Run(stack, func(t *testing.T) {
			run, err := runStack(t, stack, stackConfig(t, stack), testBuilders(t, ""))
			if err != nil {
				t.Fatal(err)
			}
			layers := map[string]bool{}
			for _, r := range run.res {
				if strings.HasPrefix(r.Type, "miyabi:infra:") {
					layers[r.Name] = true
				}
			}
			for _, want := range []string{"network", "database", "secrets", "dashboard", "api", "cdn", "compute"} {
				if !layers[want] {
					t.Errorf("no %s layer", want)
				}
			}
			for _, r := range run.res {
				if strings.HasPrefix(r.Type, "miyabi:") || strings.HasPrefix(r.Type, "pulumi:") {
					continue
				}
				if r.Type == "aws:sns/topic:Topic" || r.Type == "aws:sns/topicSubscription:TopicSubscription" || r.Type == "aws:cloudwatch/metricAlarm:MetricAlarm" {
					continue // alarms.go: not in a layer (yet)
				}
				if !strings.Contains(r.Parent, "miyabi:infra:") {
					t.Errorf("%s %s is in no layer", r.Type, r.Name)
					continue
				}
				old := "urn:pulumi:" + stack + "::miyabi::" + r.Type + "::" + r.Name
				if !r.AliasNoParent && !slices.Contains(r.AliasURNs, old) {
					t.Errorf("%s %s has no alias to its old URN %s (aliases %v)", r.Type, r.Name, old, r.AliasURNs)
				}
			}
		})
	}
}
