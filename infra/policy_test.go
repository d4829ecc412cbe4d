package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// checkPolicies holds every recorded resource to the rules of infra.md.
func checkPolicies(t *testing.T, run *stackRun) {
	t.Helper()
	t.Run("database", func(t *testing.T) { policyDatabase(t, run) })
	t.Run("no open ingress", func(t *testing.T) { policyNoOpenIngress(t, run) })
	t.Run("bucket", func(t *testing.T) { policyBucket(t, run) })
	t.Run("cdn", func(t *testing.T) { policyCDN(t, run) })
	t.Run("lambda", func(t *testing.T) { policyLambda(t, run) })
	t.Run("iam", func(t *testing.T) { policyIAM(t, run) })
	t.Run("logs", func(t *testing.T) { policyLogs(t, run) })
	t.Run("no plain secrets", func(t *testing.T) { policyNoPlainSecrets(t, run) })
	t.Run("api", func(t *testing.T) { policyAPI(t, run) })
	t.Run("production", func(t *testing.T) { policyProduction(t, run) })
}

func policyDatabase(t *testing.T, run *stackRun) {
	db := run.one(t, "aws:rds/instance:Instance", "db")
	in := db.Inputs
	for k, want := range map[string]any{
		"publiclyAccessible": false, "storageEncrypted": true, "manageMasterUserPassword": true,
		"engine": "postgres", "engineVersion": "16", "storageType": "gp3", "performanceInsightsEnabled": true,
	} {
		if in[k] != want {
			t.Errorf("rds %s = %v, want %v", k, in[k], want)
		}
	}
	if _, ok := in["password"]; ok {
		t.Error("rds has a password input; the master password must be managed by RDS")
	}
	if n, _ := in["backupRetentionPeriod"].(float64); n < 7 {
		t.Errorf("rds backupRetentionPeriod = %v, want >= 7", in["backupRetentionPeriod"])
	}
	if in["maxAllocatedStorage"].(float64) <= in["allocatedStorage"].(float64) {
		t.Error("rds storage autoscaling is off (maxAllocatedStorage <= allocatedStorage)")
	}

	// Private subnets only.
	group := run.one(t, "aws:rds/subnetGroup:SubnetGroup", "db")
	if in["dbSubnetGroupName"] != group.Inputs["name"] && in["dbSubnetGroupName"] != "db-name" {
		t.Errorf("rds subnet group = %v, not the db subnet group", in["dbSubnetGroupName"])
	}
	ids := strs(group.Inputs["subnetIds"])
	if len(ids) != 2 {
		t.Errorf("db subnet group has %d subnets, want 2", len(ids))
	}
	for _, id := range ids {
		if !strings.HasPrefix(id, "private-") {
			t.Errorf("db subnet group includes %s, not a private subnet", id)
		}
	}
	for _, s := range run.all("aws:ec2/subnet:Subnet") {
		if strings.HasPrefix(s.Name, "private-") && s.Inputs["mapPublicIpOnLaunch"] == true {
			t.Errorf("subnet %s is private but maps public IPs", s.Name)
		}
	}
	// The private route table's default route goes to the NAT, never the internet gateway.
	for _, r := range run.all("aws:ec2/route:Route") {
		if r.Inputs["routeTableId"] == "private-rt-id" && r.Inputs["gatewayId"] != nil {
			t.Errorf("private route %s goes to an internet gateway", r.Name)
		}
	}

	// Reachable on 5432 from the Lambda SG only.
	sg := run.one(t, "aws:ec2/securityGroup:SecurityGroup", "db")
	if got := strs(db.Inputs["vpcSecurityGroupIds"]); !slices.Equal(got, []string{"db-id"}) {
		t.Errorf("rds security groups = %v, want [db-id]", got)
	}
	ingress := objs(sg.Inputs["ingress"])
	// the Lambda's group, and with RDS Proxy the proxy's (also on the deploy that removes
	// the proxy, which serves until the alias moves and is deleted at the end)
	sources := [][]string{{"lambda-id"}}
	if run.cfg.RDSProxy || run.proxyRetiring {
		sources = append(sources, []string{"rds-proxy-id"})
	}
	if len(ingress) != len(sources) {
		t.Fatalf("db security group has %d ingress rules, want %d", len(ingress), len(sources))
	}
	for i, r := range ingress {
		if r["fromPort"] != 5432.0 || r["toPort"] != 5432.0 || r["protocol"] != "tcp" {
			t.Errorf("db ingress = %v, want tcp 5432", r)
		}
		if !slices.Equal(strs(r["securityGroups"]), sources[i]) || len(strs(r["cidrBlocks"])) > 0 || len(strs(r["ipv6CidrBlocks"])) > 0 {
			t.Errorf("db ingress sources = %v, want only %v", r, sources[i])
		}
	}

	// force_ssl.
	params := run.one(t, "aws:rds/parameterGroup:ParameterGroup", "db")
	forced := false
	for _, p := range objs(params.Inputs["parameters"]) {
		if p["name"] == "rds.force_ssl" && p["value"] == "1" {
			forced = true
		}
	}
	if !forced {
		t.Error("parameter group does not set rds.force_ssl=1")
	}
	if in["parameterGroupName"] != "db-name" {
		t.Errorf("rds parameter group = %v, not ours", in["parameterGroupName"])
	}
}

func policyNoOpenIngress(t *testing.T, run *stackRun) {
	for _, sg := range run.all("aws:ec2/securityGroup:SecurityGroup") {
		for _, r := range objs(sg.Inputs["ingress"]) {
			if slices.Contains(strs(r["cidrBlocks"]), "0.0.0.0/0") || slices.Contains(strs(r["ipv6CidrBlocks"]), "::/0") {
				t.Errorf("security group %s allows ingress from anywhere: %v", sg.Name, r)
			}
		}
	}
}

func policyBucket(t *testing.T, run *stackRun) {
	pab := run.one(t, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "dashboard")
	for _, k := range []string{"blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"} {
		if pab.Inputs[k] != true {
			t.Errorf("public access block %s = %v", k, pab.Inputs[k])
		}
	}
	own := run.one(t, "aws:s3/bucketOwnershipControls:BucketOwnershipControls", "dashboard")
	if get(own.Inputs, "rule", "objectOwnership") != "BucketOwnerEnforced" {
		t.Errorf("ownership = %v, want BucketOwnerEnforced (no ACLs)", own.Inputs["rule"])
	}
	sse := run.one(t, "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2", "dashboard")
	if get(objs(sse.Inputs["rules"])[0], "applyServerSideEncryptionByDefault", "sseAlgorithm") == nil {
		t.Error("bucket has no default encryption")
	}
	ver := run.one(t, "aws:s3/bucketVersioningV2:BucketVersioningV2", "dashboard")
	if get(ver.Inputs, "versioningConfiguration", "status") != "Enabled" {
		t.Error("bucket versioning is not enabled")
	}
	bucket := run.one(t, "aws:s3/bucketV2:BucketV2", "dashboard")
	for _, k := range []string{"acl", "policy", "websites"} {
		if v, ok := bucket.Inputs[k]; ok && v != nil {
			t.Errorf("bucket sets %s = %v; the bucket must stay private and be configured by its side resources", k, v)
		}
	}

	// Only this distribution may read.
	pol := run.one(t, "aws:s3/bucketPolicy:BucketPolicy", "dashboard")
	doc := policyOf(t, pol.Inputs["policy"])
	distArn := fmt.Sprintf("arn:aws:cloudfront::%s:distribution/cdn-id", fakeAccount)
	allows := 0
	for _, s := range doc.Statement {
		if s.Effect != "Allow" {
			continue
		}
		allows++
		p, _ := s.Principal.(map[string]any)
		if p["Service"] != "cloudfront.amazonaws.com" {
			t.Errorf("bucket policy allows %v; only CloudFront may read", s.Principal)
		}
		if get(s.Condition, "StringEquals", "AWS:SourceArn") != distArn {
			t.Errorf("bucket policy condition = %v, want AWS:SourceArn = %s", s.Condition, distArn)
		}
		if !slices.Equal(s.Action, []string{"s3:GetObject"}) {
			t.Errorf("bucket policy allows %v, want only s3:GetObject", s.Action)
		}
	}
	if allows != 1 {
		t.Errorf("bucket policy has %d allow statements, want 1", allows)
	}
}

func policyCDN(t *testing.T, run *stackRun) {
	d := run.one(t, "aws:cloudfront/distribution:Distribution", "cdn").Inputs
	def, _ := d["defaultCacheBehavior"].(map[string]any)
	if p := def["viewerProtocolPolicy"]; p != "redirect-to-https" && p != "https-only" {
		t.Errorf("default behaviour viewerProtocolPolicy = %v", p)
	}
	if def["cachePolicyId"] != cachingOptimized {
		t.Errorf("default behaviour cache policy = %v, want CachingOptimized", def["cachePolicyId"])
	}
	if len(objs(def["functionAssociations"])) != 1 {
		t.Errorf("default behaviour has %d functions, want the SPA rewrite", len(objs(def["functionAssociations"])))
	}
	if errs := objs(d["customErrorResponses"]); len(errs) > 0 {
		t.Errorf("distribution has custom error responses %v; API 404s must stay 404s", errs)
	}
	oac := run.one(t, "aws:cloudfront/originAccessControl:OriginAccessControl", "dashboard").Inputs
	if oac["signingBehavior"] != "always" || oac["signingProtocol"] != "sigv4" || oac["originAccessControlOriginType"] != "s3" {
		t.Errorf("origin access control = %v", oac)
	}

	origins := map[string]map[string]any{}
	for _, o := range objs(d["origins"]) {
		origins[o["originId"].(string)] = o
	}
	if s3o := origins["dashboard"]; s3o == nil || s3o["originAccessControlId"] != "dashboard-id" {
		t.Errorf("dashboard origin = %v, want the origin access control", s3o)
	}

	behaviours := objs(d["orderedCacheBehaviors"])
	for _, b := range behaviours {
		if len(objs(b["functionAssociations"])) > 0 && b["pathPattern"] != eventsPath {
			t.Errorf("behaviour %v runs a function; the SPA rewrite belongs to the S3 behaviour only", b["pathPattern"])
		}
	}
	if run.cfg.DashboardAPIBase == APIBaseCloudFront {
		// the events WebSocket first (websocket_test.go checks it), then /api/*
		if len(behaviours) != 2 || behaviours[0]["pathPattern"] != eventsPath || behaviours[1]["pathPattern"] != "/api/*" {
			t.Fatalf("ordered behaviours = %v, want %s then /api/*", behaviours, eventsPath)
		}
		api := behaviours[1]
		if api["targetOriginId"] != "api" || api["viewerProtocolPolicy"] != "https-only" ||
			api["cachePolicyId"] != cachingDisabled || api["originRequestPolicyId"] != allViewerExceptHostHeader {
			t.Errorf("/api/* behaviour = %v, want uncached, AllViewerExceptHostHeader, https-only", api)
		}
		if m := strs(api["allowedMethods"]); len(m) != 7 {
			t.Errorf("/api/* allows %v, want all 7 methods", m)
		}
		o := origins["api"]
		cfg, _ := o["customOriginConfig"].(map[string]any)
		if o["domainName"] != fakeAPIHost || cfg["originProtocolPolicy"] != "https-only" || !slices.Equal(strs(cfg["originSslProtocols"]), []string{"TLSv1.2"}) {
			t.Errorf("api origin = %v, want %s over TLS 1.2 only", o, fakeAPIHost)
		}
		h := objs(o["customHeaders"])
		if len(h) != 1 || h[0]["name"] != OriginVerifyHeader || h[0]["value"] != testSecrets["miyabi:originVerifySecret"] {
			t.Errorf("api origin headers = %v, want %s with the origin secret", h, OriginVerifyHeader)
		}
	} else if len(behaviours) != 0 {
		t.Errorf("dashboardApiBase=apigateway but the distribution has behaviours %v", behaviours)
	}

	cert, _ := d["viewerCertificate"].(map[string]any)
	if run.cfg.DomainName != "" {
		if cert["minimumProtocolVersion"] != "TLSv1.2_2021" || cert["sslSupportMethod"] != "sni-only" || cert["acmCertificateArn"] != run.cfg.CertificateArn {
			t.Errorf("viewer certificate = %v, want the ACM certificate with TLSv1.2_2021", cert)
		}
		if !slices.Equal(strs(d["aliases"]), []string{run.cfg.DomainName}) {
			t.Errorf("aliases = %v", d["aliases"])
		}
	} else if cert["cloudfrontDefaultCertificate"] != true {
		t.Errorf("viewer certificate = %v, want the default certificate", cert)
	}

	hdr := run.one(t, "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy", "security").Inputs
	sec, _ := hdr["securityHeadersConfig"].(map[string]any)
	for _, k := range []string{"strictTransportSecurity", "contentTypeOptions", "frameOptions", "referrerPolicy", "contentSecurityPolicy"} {
		if sec[k] == nil {
			t.Errorf("response headers policy lacks %s", k)
		}
	}
}

func policyLambda(t *testing.T, run *stackRun) {
	fn := run.one(t, "aws:lambda/function:Function", "api").Inputs
	if !slices.Equal(strs(fn["architectures"]), []string{"arm64"}) || fn["runtime"] != "provided.al2023" || fn["handler"] != "bootstrap" {
		t.Errorf("lambda = %v/%v/%v, want arm64 provided.al2023 bootstrap", fn["architectures"], fn["runtime"], fn["handler"])
	}
	if fn["reservedConcurrentExecutions"] != float64(run.cfg.LambdaReservedConcurrency) {
		t.Errorf("reserved concurrency = %v, want %d", fn["reservedConcurrentExecutions"], run.cfg.LambdaReservedConcurrency)
	}
	if fn["sourceCodeHash"] != fakeArtifact.SHA256Base64 || get(fn, "code", "archivePath") != fakeArtifact.ZipPath {
		t.Errorf("lambda code = %v / %v, want the artifact", fn["code"], fn["sourceCodeHash"])
	}
	if get(fn, "tracingConfig", "mode") != "Active" {
		t.Error("X-Ray tracing is not active")
	}
	for _, id := range strs(get(fn, "vpcConfig", "subnetIds")) {
		if !strings.HasPrefix(id, "private-") {
			t.Errorf("lambda in subnet %s, want private subnets", id)
		}
	}
	if fn["publish"] != true {
		t.Error("the API function does not publish versions")
	}
	env, _ := get(fn, "environment", "variables").(map[string]any)
	origin := "true"
	if run.cfg.DashboardAPIBase == APIBaseGateway {
		origin = "false"
	}
	instanceHost := "miyabi-" + run.cfg.Stack + "-db.cxyz.us-west-2.rds.amazonaws.com"
	dbHost, dbUser := instanceHost, "miyabi_app"
	if run.cfg.RDSProxy {
		dbHost, dbUser = "miyabi-"+run.cfg.Stack+"-db-proxy.proxy-cxyz.us-west-2.rds.amazonaws.com", "miyabi_proxy"
	}
	want := map[string]string{
		"APP_ENV": run.cfg.Environment, "LOG_FORMAT": "json", "DB_NAME": "miyabi", "DB_PORT": "5432",
		"DB_HOST": dbHost, "DB_APP_USER": dbUser,
		"APP_SECRET_ARN":     fmt.Sprintf("arn:aws:secretsmanager:us-west-2:%s:app", fakeAccount),
		"APP_SECRET_VERSION": fakeSecretVersion,
		"DB_POOL_MAX":        fmt.Sprint(run.cfg.DBPoolMax), "GITHUB_CLIENT_ID": run.cfg.GitHubClientID,
		"PUBLIC_URL": run.outputs["dashboardUrl"], "REQUIRE_ORIGIN_SECRET": origin,
		"REQUEST_TIMEOUT":       fmt.Sprintf("%ds", run.cfg.LambdaTimeout-2),
		"EVENTS_MANAGEMENT_URL": "https://" + fakeAPIHost + "/" + wsStage,
		"OPERATOR_GITHUB_IDS":   "", // miyabi:operatorGithubIds, empty in the stack files
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("env %s = %v, want %q", k, env[k], v)
		}
	}
	for k := range env {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected env %s (the API never gets the master secret)", k)
		}
	}
	// The migrate function: the same artifact and settings, plus the master secret, its
	// own timeout, one run at a time.
	mig := run.one(t, "aws:lambda/function:Function", "migrate").Inputs
	menv, _ := get(mig, "environment", "variables").(map[string]any)
	// It connects to the instance as the master user, proxy or not; with a proxy it gets
	// the ARN of the proxy's login, to set that role's password.
	if menv["DB_SECRET_ARN"] != fakeDBSecret || menv["APP_SECRET_ARN"] != want["APP_SECRET_ARN"] || menv["DB_HOST"] != instanceHost ||
		menv["DB_APP_USER"] != "miyabi_app" {
		t.Errorf("migrate env = %v", menv)
	}
	if got, ok := menv["DB_PROXY_SECRET_ARN"]; ok != run.cfg.RDSProxy || ok && got != fakeProxySecret {
		t.Errorf("migrate DB_PROXY_SECRET_ARN = %v, want %q only with a proxy", got, fakeProxySecret)
	}
	if _, ok := env["DB_PROXY_SECRET_ARN"]; ok {
		t.Error("the API gets the proxy's login secret")
	}
	// On the deploy that removes the proxy the migrate action leaves its login alone (the
	// proxy serves the live version until the alias moves); on no other.
	if got, ok := menv["DB_PROXY_RETIRING"]; ok != run.proxyRetiring || ok && got != "true" {
		t.Errorf("migrate DB_PROXY_RETIRING = %v, want \"true\" only on the deploy that removes the proxy", got)
	}
	if _, ok := env["DB_PROXY_RETIRING"]; ok {
		t.Error("the API gets DB_PROXY_RETIRING")
	}
	if mig["timeout"] != float64(run.cfg.MigrateTimeout) || mig["timeout"].(float64) < 60 || mig["reservedConcurrentExecutions"] != 1.0 ||
		mig["publish"] != true || mig["sourceCodeHash"] != fakeArtifact.SHA256Base64 {
		t.Errorf("migrate function timeout=%v concurrency=%v publish=%v", mig["timeout"], mig["reservedConcurrentExecutions"], mig["publish"])
	}
	for _, e := range []map[string]any{env, menv} {
		for k, v := range e {
			for name, secret := range testSecrets {
				if strings.Contains(fmt.Sprint(v), secret) {
					t.Errorf("env %s holds the value of %s", k, name)
				}
			}
		}
	}

	inv := run.one(t, "aws:lambda/invocation:Invocation", "migrate").Inputs
	if inv["input"] != `{"action":"migrate"}` || get(inv, "triggers", "artifactSha256") != fakeArtifact.SHA256 ||
		inv["functionName"] != "miyabi-"+run.cfg.Stack+"-migrate" || inv["qualifier"] != fakeVersion {
		t.Errorf("migration invocation = %v, want migrate on the new version of the migrate function, triggered by the artifact", inv)
	}
	rule := run.one(t, "aws:cloudwatch/eventRule:EventRule", "sweep").Inputs
	target := run.one(t, "aws:cloudwatch/eventTarget:EventTarget", "sweep").Inputs
	if rule["scheduleExpression"] != "rate(1 minute)" || target["input"] != `{"action":"sweep"}` {
		t.Errorf("sweep = %v / %v", rule["scheduleExpression"], target["input"])
	}
	liveArn := fmt.Sprintf("arn:aws:lambda:us-west-2:%s:function:miyabi-%s-api:live", fakeAccount, run.cfg.Stack)
	if target["arn"] != liveArn {
		t.Errorf("the schedule invokes %v, want the live alias %s", target["arn"], liveArn)
	}
	if p := run.one(t, "aws:lambda/permission:Permission", "sweep").Inputs; p["qualifier"] != "live" {
		t.Errorf("sweep permission qualifier = %v, want live", p["qualifier"])
	}
}

// Actions AWS offers no resource-level permission for; "*" is allowed for these only.
var starOK = []string{
	"ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets", "ec2:DeleteNetworkInterface",
	"ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses", "xray:PutTraceSegments", "xray:PutTelemetryRecords",
}

func policyIAM(t *testing.T, run *stackRun) {
	for _, p := range run.all("aws:iam/rolePolicy:RolePolicy") {
		doc := policyOf(t, p.Inputs["policy"])
		for _, s := range doc.Statement {
			for _, a := range s.Action {
				if strings.Contains(a, "*") {
					t.Errorf("policy %s grants wildcard action %s", p.Name, a)
				}
			}
			if !slices.Contains(s.Resource, "*") {
				continue
			}
			for _, a := range s.Action {
				if !slices.Contains(starOK, a) {
					t.Errorf("policy %s grants %s on *", p.Name, a)
				}
			}
		}
		if p.Name == "events" {
			continue // the API function's @connections grant, checked in websocket_test.go
		}
		if p.Name == "lambda-proxy" {
			// The API's connection through RDS Proxy, a policy of its own: it exists only
			// with the proxy, so it is created before the alias moves to a version that
			// uses the proxy, and deleted at the end of the update that removes the proxy,
			// after the alias moved off it (TestRDSProxy checks the order).
			if !run.cfg.RDSProxy {
				t.Errorf("policy %s without a proxy", p.Name)
			}
			want := fmt.Sprintf("arn:aws:rds-db:us-west-2:%s:dbuser:%s/miyabi_proxy", fakeAccount, fakeProxyResourceID)
			if len(doc.Statement) != 1 || doc.Statement[0].Effect != "Allow" || !slices.Equal(doc.Statement[0].Action, []string{"rds-db:connect"}) ||
				!slices.Equal(doc.Statement[0].Resource, []string{want}) {
				t.Errorf("%s = %+v, want rds-db:connect on exactly %s", p.Name, doc.Statement, want)
			}
			if p.Inputs["role"] != "lambda-name" {
				t.Errorf("%s is on role %v, want the API function's (lambda-name)", p.Name, p.Inputs["role"])
			}
			continue
		}
		if p.Name == "rds-proxy" && run.cfg.RDSProxy {
			// RDS Proxy's role: exactly its login secret, nothing else
			if len(doc.Statement) != 1 || !slices.Equal(doc.Statement[0].Action, []string{"secretsmanager:GetSecretValue"}) ||
				!slices.Equal(doc.Statement[0].Resource, []string{fakeProxySecret}) || doc.Statement[0].Effect != "Allow" {
				t.Errorf("rds-proxy policy = %+v, want GetSecretValue on exactly %s", doc.Statement, fakeProxySecret)
			}
			continue
		}
		fn := map[string]string{"lambda": "api", "lambda-migrate": "migrate"}[p.Name]
		if fn == "" {
			t.Errorf("unexpected role policy %s", p.Name)
			continue
		}
		wantSecrets := []string{fmt.Sprintf("arn:aws:secretsmanager:us-west-2:%s:app", fakeAccount)}
		var wantConnect []string
		switch {
		case fn == "migrate" && run.cfg.RDSProxy:
			wantSecrets = []string{fakeDBSecret, wantSecrets[0], fakeProxySecret}
		case fn == "migrate":
			wantSecrets = append([]string{fakeDBSecret}, wantSecrets...)
		default:
			// The API's base policy names the instance's miyabi_app, proxy or not: while the
			// proxy is switched on or off, the version still serving keeps connecting as it
			// did (the proxy's user is in the lambda-proxy policy above).
			wantConnect = []string{fmt.Sprintf("arn:aws:rds-db:us-west-2:%s:dbuser:%s/miyabi_app", fakeAccount, fakeDBResourceID)}
		}
		secrets, connects := 0, 0
		for _, s := range doc.Statement {
			if slices.Contains(s.Action, "secretsmanager:GetSecretValue") {
				secrets++
				if !slices.Equal(s.Resource, wantSecrets) {
					t.Errorf("%s: secret access on %v, want exactly %v", p.Name, s.Resource, wantSecrets)
				}
			}
			if slices.Contains(s.Action, "rds-db:connect") {
				connects++
				if !slices.Equal(s.Resource, wantConnect) || len(s.Action) != 1 {
					t.Errorf("%s: rds-db:connect on %v, want exactly %v", p.Name, s.Resource, wantConnect)
				}
			}
			if slices.Contains(s.Action, "logs:PutLogEvents") && !slices.Equal(s.Resource, []string{fmt.Sprintf("arn:aws:logs:us-west-2:%s:log-group:/aws/lambda/%s:*", fakeAccount, run.cfg.name(fn))}) {
				t.Errorf("%s: log access on %v, want the function's own group", p.Name, s.Resource)
			}
		}
		if secrets != 1 || connects != len(wantConnect) {
			t.Errorf("policy %s: %d secret statements and %d connect statements, want 1 and %d", p.Name, secrets, connects, len(wantConnect))
		}
	}
	for _, r := range run.all("aws:iam/role:Role") {
		if len(strs(r.Inputs["managedPolicyArns"])) > 0 {
			t.Errorf("role %s attaches managed policies %v", r.Name, r.Inputs["managedPolicyArns"])
		}
	}
}

func policyLogs(t *testing.T, run *stackRun) {
	groups := map[string]bool{}
	for _, g := range run.all("aws:cloudwatch/logGroup:LogGroup") {
		if g.Inputs["retentionInDays"] != float64(run.cfg.LogRetentionDays) {
			t.Errorf("log group %v retention = %v, want %d", g.Inputs["name"], g.Inputs["retentionInDays"], run.cfg.LogRetentionDays)
		}
		groups[g.Inputs["name"].(string)] = true
	}
	// Groups AWS would otherwise create itself, with infinite retention.
	for _, fn := range run.all("aws:lambda/function:Function") {
		if !groups["/aws/lambda/"+fn.Inputs["name"].(string)] {
			t.Errorf("function %v has no explicit log group", fn.Inputs["name"])
		}
	}
	for _, db := range run.all("aws:rds/instance:Instance") {
		for _, l := range strs(db.Inputs["enabledCloudwatchLogsExports"]) {
			if name := fmt.Sprintf("/aws/rds/instance/%s/%s", db.Inputs["identifier"], l); !groups[name] {
				t.Errorf("rds exports %s but %s is not created with retention", l, name)
			}
		}
	}
	stage := run.one(t, "aws:apigatewayv2/stage:Stage", "default").Inputs
	if dest := get(stage, "accessLogSettings", "destinationArn"); dest != fmt.Sprintf("arn:aws:logs:us-west-2:%s:log-group:/aws/apigateway/%s", fakeAccount, run.cfg.name("http")) {
		t.Errorf("API access logs go to %v", dest)
	}
}

func policyNoPlainSecrets(t *testing.T, run *stackRun) {
	for _, r := range run.res {
		for name, secret := range testSecrets {
			if strings.Contains(r.Redacted, secret) {
				t.Errorf("%s %s carries the value of %s outside a secret", r.Type, r.Name, name)
			}
		}
	}
	v := run.one(t, "aws:secretsmanager/secretVersion:SecretVersion", "app")
	var body map[string]string
	if err := json.Unmarshal([]byte(v.Inputs["secretString"].(string)), &body); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"jwt_signing_key": testSecrets["miyabi:jwtSigningKey"], "token_encryption_key": testSecrets["miyabi:tokenEncryptionKey"],
		"github_client_secret": testSecrets["miyabi:githubClientSecret"], "origin_verify_secret": testSecrets["miyabi:originVerifySecret"],
	}
	if fmt.Sprint(body) != fmt.Sprint(want) {
		t.Errorf("app secret keys = %v", keys(body))
	}
}

func policyAPI(t *testing.T, run *stackRun) {
	route := run.one(t, "aws:apigatewayv2/route:Route", "api-proxy").Inputs
	if route["routeKey"] != "ANY /api/{proxy+}" || route["target"] != "integrations/lambda-id" {
		t.Errorf("route = %v", route)
	}
	in := run.one(t, "aws:apigatewayv2/integration:Integration", "lambda").Inputs
	if in["integrationType"] != "AWS_PROXY" || in["payloadFormatVersion"] != "2.0" {
		t.Errorf("integration = %v, want AWS_PROXY payload 2.0", in)
	}
	if uri := fmt.Sprint(in["integrationUri"]); !strings.HasSuffix(uri, ":function:miyabi-"+run.cfg.Stack+"-api:live/invocations") {
		t.Errorf("integration invokes %s, want the live alias", uri)
	}
	perm := run.one(t, "aws:lambda/permission:Permission", "api").Inputs
	if perm["qualifier"] != "live" {
		t.Errorf("api permission qualifier = %v, want live", perm["qualifier"])
	}
	if perm["principal"] != "apigateway.amazonaws.com" || perm["sourceArn"] != fmt.Sprintf("arn:aws:execute-api:us-west-2:%s:abc123/*/*", fakeAccount) {
		t.Errorf("api permission = %v, want scoped to the API", perm)
	}
	stage := run.one(t, "aws:apigatewayv2/stage:Stage", "default").Inputs
	if stage["name"] != "$default" || stage["autoDeploy"] != true || get(stage, "defaultRouteSettings", "throttlingBurstLimit") == nil {
		t.Errorf("stage = %v", stage)
	}
}

func policyProduction(t *testing.T, run *stackRun) {
	db := run.one(t, "aws:rds/instance:Instance", "db")
	prod := run.cfg.Production
	if db.Protect != prod || db.Inputs["deletionProtection"] != prod || db.Inputs["skipFinalSnapshot"] != !prod {
		t.Errorf("rds protect=%v deletionProtection=%v skipFinalSnapshot=%v in %s", db.Protect, db.Inputs["deletionProtection"], db.Inputs["skipFinalSnapshot"], run.cfg.Environment)
	}
	if !prod {
		return
	}
	if db.Inputs["multiAz"] != true {
		t.Error("production database is not multi-AZ")
	}
	if s, _ := db.Inputs["finalSnapshotIdentifier"].(string); s == "" {
		t.Error("production database has no final snapshot identifier")
	}
	metrics := map[string]bool{}
	for _, a := range run.all("aws:cloudwatch/metricAlarm:MetricAlarm") {
		if qs, ok := a.Inputs["metricQueries"].([]any); ok { // metric math (a rate)
			for _, q := range qs {
				if m, ok := q.(map[string]any)["metric"].(map[string]any); ok {
					metrics[fmt.Sprint(m["namespace"])+"/"+fmt.Sprint(m["metricName"])] = true
				}
			}
		} else {
			metrics[a.Inputs["namespace"].(string)+"/"+a.Inputs["metricName"].(string)] = true
		}
		if len(strs(a.Inputs["alarmActions"])) == 0 {
			t.Errorf("alarm %s notifies nobody", a.Name)
		}
	}
	for _, m := range []string{"AWS/Lambda/Errors", "AWS/Lambda/Throttles", "AWS/ApiGateway/5xx", "AWS/RDS/CPUUtilization", "AWS/RDS/FreeStorageSpace", "AWS/RDS/DatabaseConnections"} {
		if !metrics[m] {
			t.Errorf("no alarm on %s", m)
		}
	}
	if b := run.one(t, "aws:s3/bucketV2:BucketV2", "dashboard"); b.Inputs["forceDestroy"] != false {
		t.Error("production bucket can be force-destroyed")
	}
}

// Helpers over the recorded inputs.

type recordedPolicy struct {
	Statement []struct {
		Effect    string
		Principal any
		Action    []string
		Resource  []string
		Condition map[string]any
	}
}

func policyOf(t *testing.T, v any) recordedPolicy {
	t.Helper()
	s, ok := v.(string)
	if !ok {
		t.Fatalf("policy is %T, want a JSON string", v)
	}
	var doc recordedPolicy
	if err := json.Unmarshal([]byte(s), &doc); err != nil {
		t.Fatalf("policy: %v", err)
	}
	return doc
}

func get(m map[string]any, path ...string) any {
	var cur any = m
	for _, p := range path {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = mm[p]
	}
	return cur
}

func strs(v any) []string {
	var out []string
	a, _ := v.([]any)
	for _, e := range a {
		out = append(out, fmt.Sprint(e))
	}
	return out
}

func objs(v any) []map[string]any {
	var out []map[string]any
	a, _ := v.([]any)
	for _, e := range a {
		if m, ok := e.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
