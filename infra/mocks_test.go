package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"gopkg.in/yaml.v3"

	"github.com/miyabi/miyabi/internal/artifact"
)

const (
	fakeAccount  = "123456789012"
	fakeAPIHost  = "abc123.execute-api.us-west-2.amazonaws.com"
	fakeCDNHost  = "d111111abcdef8.cloudfront.net"
	fakeDBSecret = "arn:aws:secretsmanager:us-west-2:123456789012:secret:rds!db-0001-AbCdEf"
	// what a published version, the app secret's version and the instance's resource id
	// come back as
	fakeVersion       = "7"
	fakeSecretVersion = "c0ffee00-0000-4000-8000-000000000001"
	fakeDBResourceID  = "db-ABCDEFGHIJKLMNOPQRSTUVWXY0"
	// RDS Proxy's resource id, the last segment of its ARN
	fakeProxyResourceID = "prx-0a1b2c3d4e5f67890"
	// the proxy's login secret, as the mock names a resource's ARN
	fakeProxySecret = "arn:aws:secretsmanager:us-west-2:" + fakeAccount + ":rds-proxy-login"
)

// urnOf is the URN the engine gives a resource (type chain of its parents included).
func urnOf(stack string, args pulumi.MockResourceArgs) string {
	parentType := ""
	if r := args.RegisterRPC; r != nil && r.GetParent() != "" {
		p := r.GetParent()
		// urn:pulumi:stack::project::parentTypeChain::name
		parts := strings.Split(p, "::")
		if len(parts) >= 4 && parts[2] != "pulumi:pulumi:Stack" {
			parentType = parts[2] + "$"
		}
	}
	return "urn:pulumi:" + stack + "::miyabi::" + parentType + args.TypeToken + "::" + args.Name
}

// Values the tests put in the secret config keys; no recorded plain input may
// contain them.
var testSecrets = map[string]string{
	"miyabi:githubClientSecret": "ghsecret-0123456789abcdef0123456789abcdef",
	"miyabi:jwtSigningKey":      "jwt-signing-key-for-tests-0123456789abcdef0123",
	"miyabi:tokenEncryptionKey": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
	"miyabi:originVerifySecret": "origin-verify-secret-0123456789abcdef0123456789",
}

// recorded is one resource the program registered.
type recorded struct {
	Type, Name, ID string
	Inputs         map[string]any // secrets unwrapped
	Redacted       string         // inputs as JSON with secrets replaced, for leak checks
	Protect        bool
	Parent         string   // the parent's URN
	DependsOn      []string // URNs of explicit and input dependencies
	IgnoreChanges  []string
	Retain         bool
	AliasNoParent  bool     // an alias to the same name without a parent (see components.go)
	AliasURNs      []string // aliases the SDK resolved to URNs itself
	URN            string
}

type mocks struct {
	mu  sync.Mutex
	res []recorded
	// fail makes the registration of resources of this type fail with this error, as
	// the provider would (a migration invocation whose function failed).
	fail  map[string]error
	stack string
	// previousAssets is the dashboardAssets output of the stack's last deploy, as the
	// stack's reference to itself reads it ("" is a stack that never exported it).
	previousAssets string
	// previousProxy is the databaseProxyEndpoint output of the stack's last deploy ("":
	// it had no proxy).
	previousProxy string
}

func (m *mocks) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	id := args.Name + "-id"
	in := plain(resource.NewObjectProperty(args.Inputs), false).(map[string]any)
	red, _ := json.Marshal(plain(resource.NewObjectProperty(args.Inputs), true))
	rec := recorded{Type: args.TypeToken, Name: args.Name, ID: id, Inputs: in, Redacted: string(red)}
	if r := args.RegisterRPC; r != nil {
		rec.Protect = r.GetProtect()
		rec.Parent = r.GetParent()
		rec.DependsOn = r.GetDependencies()
		for _, deps := range r.GetPropertyDependencies() {
			rec.DependsOn = append(rec.DependsOn, deps.GetUrns()...)
		}
		rec.IgnoreChanges = r.GetIgnoreChanges()
		rec.Retain = r.GetRetainOnDelete()
		for _, a := range r.GetAliases() {
			if spec := a.GetSpec(); spec != nil && spec.GetNoParent() {
				rec.AliasNoParent = true
			}
		}
		rec.AliasURNs = r.GetAliasURNs()
	}
	rec.URN = urnOf(m.stack, args)
	m.mu.Lock()
	m.res = append(m.res, rec)
	err := m.fail[args.TypeToken]
	m.mu.Unlock()
	if err != nil {
		return "", nil, err
	}

	out := args.Inputs.Copy()
	set := func(k string, v any) { out[resource.PropertyKey(k)] = resource.NewPropertyValue(v) }
	module := strings.SplitN(strings.SplitN(args.TypeToken, ":", 3)[1], "/", 2)[0]
	set("arn", fmt.Sprintf("arn:aws:%s:us-west-2:%s:%s", module, fakeAccount, args.Name))
	if _, ok := in["name"]; !ok {
		set("name", args.Name+"-name")
	}
	switch args.TypeToken {
	case "pulumi:pulumi:StackReference":
		outs := map[string]any{}
		if m.previousAssets != "" {
			outs[assetsOutput] = m.previousAssets
		}
		if m.previousProxy != "" {
			outs[proxyEndpointOutput] = m.previousProxy
		}
		set("outputs", outs)
		set("secretOutputNames", []any{})
	case "aws:ec2/instance:Instance":
		set("primaryNetworkInterfaceId", "eni-0nat")
	case "aws:rds/instance:Instance":
		addr := fmt.Sprint(in["identifier"]) + ".cxyz.us-west-2.rds.amazonaws.com"
		set("address", addr)
		set("port", 5432)
		set("endpoint", addr+":5432")
		set("resourceId", fakeDBResourceID)
		out["masterUserSecrets"] = resource.NewArrayProperty([]resource.PropertyValue{
			resource.NewObjectProperty(resource.PropertyMap{"secretArn": resource.NewStringProperty(fakeDBSecret)}),
		})
	case "aws:rds/proxy:Proxy":
		set("arn", fmt.Sprintf("arn:aws:rds:us-west-2:%s:db-proxy:%s", fakeAccount, fakeProxyResourceID))
		set("endpoint", fmt.Sprint(in["name"])+".proxy-cxyz.us-west-2.rds.amazonaws.com")
	case "aws:rds/proxyDefaultTargetGroup:ProxyDefaultTargetGroup":
		set("name", "default")
	case "aws:cloudwatch/logGroup:LogGroup":
		set("arn", fmt.Sprintf("arn:aws:logs:us-west-2:%s:log-group:%s", fakeAccount, in["name"]))
	case "aws:lambda/function:Function":
		arn := fmt.Sprintf("arn:aws:lambda:us-west-2:%s:function:%s", fakeAccount, in["name"])
		set("arn", arn)
		set("version", fakeVersion)
		set("qualifiedArn", arn+":"+fakeVersion)
		set("invokeArn", "arn:aws:apigateway:us-west-2:lambda:path/2015-03-31/functions/"+arn+"/invocations")
	case "aws:lambda/alias:Alias":
		arn := fmt.Sprintf("arn:aws:lambda:us-west-2:%s:function:%s:%s", fakeAccount, in["functionName"], in["name"])
		set("arn", arn)
		set("invokeArn", "arn:aws:apigateway:us-west-2:lambda:path/2015-03-31/functions/"+arn+"/invocations")
	case "aws:secretsmanager/secretVersion:SecretVersion":
		set("versionId", fakeSecretVersion)
	case "aws:apigatewayv2/api:Api":
		set("apiEndpoint", "https://"+fakeAPIHost)
		set("executionArn", fmt.Sprintf("arn:aws:execute-api:us-west-2:%s:abc123", fakeAccount))
	case "aws:apigatewayv2/stage:Stage":
		set("invokeUrl", "https://"+fakeAPIHost+"/")
	case "aws:s3/bucketV2:BucketV2":
		bucket := fmt.Sprint(in["bucketPrefix"]) + "20260101"
		set("bucket", bucket)
		set("arn", "arn:aws:s3:::"+bucket)
		set("bucketRegionalDomainName", bucket+".s3.us-west-2.amazonaws.com")
	case "aws:cloudfront/distribution:Distribution":
		set("domainName", fakeCDNHost)
		set("arn", fmt.Sprintf("arn:aws:cloudfront::%s:distribution/%s", fakeAccount, id))
	}
	return id, out, nil
}

func (m *mocks) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	switch args.Token {
	case "aws:index/getAvailabilityZones:getAvailabilityZones":
		return resource.NewPropertyMapFromMap(map[string]any{
			"names": []any{"us-west-2a", "us-west-2b", "us-west-2c"}, "zoneIds": []any{"usw2-az1", "usw2-az2", "usw2-az3"}, "id": "us-west-2",
		}), nil
	case "aws:index/getCallerIdentity:getCallerIdentity":
		return resource.NewPropertyMapFromMap(map[string]any{"accountId": fakeAccount, "arn": "arn:aws:iam::" + fakeAccount + ":user/ops", "userId": "AIDA", "id": fakeAccount}), nil
	case "aws:ec2/getAmi:getAmi":
		return resource.NewPropertyMapFromMap(map[string]any{"id": "ami-0a1b2c3d4e5f", "architecture": "arm64"}), nil
	}
	return args.Args, nil
}

// plain turns a property value into Go values; redact replaces secrets.
func plain(v resource.PropertyValue, redact bool) any {
	switch {
	case v.IsSecret():
		if redact {
			return "[secret]"
		}
		return plain(v.SecretValue().Element, redact)
	case v.IsOutput():
		if v.OutputValue().Secret && redact {
			return "[secret]"
		}
		return plain(v.OutputValue().Element, redact)
	case v.IsComputed():
		return nil
	case v.IsObject():
		m := map[string]any{}
		for k, e := range v.ObjectValue() {
			m[string(k)] = plain(e, redact)
		}
		return m
	case v.IsArray():
		var a []any
		for _, e := range v.ArrayValue() {
			a = append(a, plain(e, redact))
		}
		return a
	case v.IsAsset():
		return map[string]any{"assetPath": v.AssetValue().Path, "assetText": v.AssetValue().Text}
	case v.IsArchive():
		return map[string]any{"archivePath": v.ArchiveValue().Path}
	case v.IsNull():
		return nil
	}
	return v.V
}

// stackRun is what one program run recorded.
type stackRun struct {
	cfg     Config
	res     []recorded
	outputs map[string]string
	// proxyRetiring: the run removes the proxy the previous deploy had (what the checks
	// expect of it, from the mocks' previous deploy and the config).
	proxyRetiring bool
}

func (r *stackRun) all(typ string) []recorded {
	var out []recorded
	for _, x := range r.res {
		if x.Type == typ {
			out = append(out, x)
		}
	}
	return out
}

func (r *stackRun) one(t *testing.T, typ, name string) recorded {
	t.Helper()
	for _, x := range r.res {
		if x.Type == typ && x.Name == name {
			return x
		}
	}
	t.Fatalf("no %s named %q", typ, name)
	return recorded{}
}

func (r *stackRun) inventory() map[string]int {
	inv := map[string]int{}
	for _, x := range r.res {
		if !strings.HasPrefix(x.Type, "pulumi:") && !strings.HasPrefix(x.Type, "miyabi:") {
			inv[x.Type]++
		}
	}
	return inv
}

// testBuilders hand the program a tiny prebuilt zip and the fixture dashboard, so a
// stack run takes milliseconds; the real builds have their own tests.
var (
	fakeArtifactOnce sync.Once
	fakeArtifact     artifact.Result
	fakeArtifactErr  error
)

func testBuilders(t *testing.T, dist string) Builders {
	t.Helper()
	fakeArtifactOnce.Do(func() {
		dir, err := os.MkdirTemp("", "miyabi-infra-test")
		if err != nil {
			fakeArtifactErr = err
			return
		}
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		w, _ := zw.Create("bootstrap")
		w.Write([]byte("#!/bin/sh\necho not a real bootstrap\n"))
		zw.Close()
		p := filepath.Join(dir, "bootstrap.zip")
		if fakeArtifactErr = os.WriteFile(p, buf.Bytes(), 0o644); fakeArtifactErr == nil {
			fakeArtifact, fakeArtifactErr = artifact.Describe(p, "")
		}
	})
	if fakeArtifactErr != nil {
		t.Fatal(fakeArtifactErr)
	}
	if dist == "" {
		dist = fixtureDist(t)
	}
	return Builders{
		Lambda:    func(context.Context, Config) (artifact.Result, error) { return fakeArtifact, nil },
		Dashboard: func(context.Context, Config) (string, error) { return dist, nil },
	}
}

func fixtureDist(t *testing.T) string {
	t.Helper()
	d, err := filepath.Abs(filepath.Join("webasset", "testdata", "dist"))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// stackConfig reads Pulumi.<stack>.yaml into the key -> string form the engine
// passes in PULUMI_CONFIG, with the placeholders filled as an operator would.
func stackConfig(t *testing.T, stack string) map[string]string {
	t.Helper()
	doc := readStackFile(t, stack)
	cfg := map[string]string{}
	for k, v := range doc.Config {
		switch v := v.(type) {
		case string:
			cfg[k] = v
		case map[string]any, []any:
			b, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			cfg[k] = string(b)
		default:
			cfg[k] = fmt.Sprint(v)
		}
	}
	for k, v := range cfg {
		if !strings.HasPrefix(v, "<set") {
			continue
		}
		switch {
		case testSecrets[k] != "":
			cfg[k] = testSecrets[k]
		case k == "miyabi:githubClientId":
			cfg[k] = "Ov23liTestClientId01"
		case k == "miyabi:alarmEmail":
			cfg[k] = "ops@example.com"
		default:
			t.Fatalf("%s: placeholder with no test value: %s", k, v)
		}
	}
	return cfg
}

type stackFile struct {
	Config map[string]any `yaml:"config"`
}

func readStackFile(t *testing.T, stack string) stackFile {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "Pulumi."+stack+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc stackFile
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("Pulumi.%s.yaml: %v", stack, err)
	}
	return doc
}

// runStack runs the real program under mocks with cfg passed the way the engine
// passes it.
func runStack(t *testing.T, stack string, cfg map[string]string, b Builders) (*stackRun, error) {
	t.Helper()
	return runStackWith(t, stack, cfg, b, &mocks{})
}

func runStackWith(t *testing.T, stack string, cfg map[string]string, b Builders, m *mocks) (*stackRun, error) {
	t.Helper()
	raw, _ := json.Marshal(cfg)
	var secretKeys []string
	for k := range testSecrets {
		if _, ok := cfg[k]; ok {
			secretKeys = append(secretKeys, k)
		}
	}
	sort.Strings(secretKeys)
	keys, _ := json.Marshal(secretKeys)
	t.Setenv(pulumi.EnvConfig, string(raw))
	t.Setenv(pulumi.EnvConfigSecretKeys, string(keys))

	m.stack = stack
	run := &stackRun{outputs: map[string]string{}}
	var wg sync.WaitGroup
	var mu sync.Mutex
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		c, err := loadConfig(ctx)
		if err != nil {
			return err
		}
		run.cfg = c
		run.proxyRetiring = m.previousProxy != "" && !c.RDSProxy
		outs, err := deploy(ctx, b)
		if err != nil {
			return err
		}
		for name, o := range outs {
			wg.Add(1)
			o.ApplyT(func(v string) string {
				mu.Lock()
				run.outputs[name] = v
				mu.Unlock()
				wg.Done()
				return v
			})
		}
		return nil
	}, pulumi.WithMocks("miyabi", stack, m))
	if err != nil {
		run.res = m.res
		return run, err
	}
	wg.Wait()
	run.res = m.res
	return run, nil
}
