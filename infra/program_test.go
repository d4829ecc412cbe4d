package main

import (
	"strings"
	"testing"
)

// Resource inventory per stack, with the fixture dashboard's 4 files. A change here
// is a change in what a deploy creates: review it as such.
var wantInventory = map[string]map[string]int{
	"staging": {
		"aws:ec2/vpc:Vpc": 1, "aws:ec2/internetGateway:InternetGateway": 1, "aws:ec2/routeTable:RouteTable": 2,
		"aws:ec2/route:Route": 2, "aws:ec2/subnet:Subnet": 4, "aws:ec2/routeTableAssociation:RouteTableAssociation": 4,
		"aws:ec2/securityGroup:SecurityGroup": 3, "aws:ec2/instance:Instance": 1,
		"aws:rds/subnetGroup:SubnetGroup": 1, "aws:rds/parameterGroup:ParameterGroup": 1, "aws:rds/instance:Instance": 1,
		"aws:cloudwatch/logGroup:LogGroup": 4,
		"aws:secretsmanager/secret:Secret": 1, "aws:secretsmanager/secretVersion:SecretVersion": 1,
		"aws:s3/bucketV2:BucketV2": 1, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": 1,
		"aws:s3/bucketOwnershipControls:BucketOwnershipControls": 1, "aws:s3/bucketVersioningV2:BucketVersioningV2": 1,
		"aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2":                       1,
		"aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2": 1,
		"aws:s3/bucketPolicy:BucketPolicy":                                                           1, "aws:s3/bucketObjectv2:BucketObjectv2": 4,
		"aws:cloudfront/originAccessControl:OriginAccessControl": 1, "aws:cloudfront/function:Function": 2,
		"aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy": 1, "aws:cloudfront/distribution:Distribution": 1,
		// the HTTP API and the events WebSocket API ($connect, $disconnect, $default)
		"aws:apigatewayv2/api:Api": 2, "aws:apigatewayv2/stage:Stage": 2, "aws:apigatewayv2/integration:Integration": 2,
		"aws:apigatewayv2/route:Route": 4,
		"aws:iam/role:Role":            2, "aws:iam/rolePolicy:RolePolicy": 3,
		"aws:lambda/function:Function": 2, "aws:lambda/invocation:Invocation": 1, "aws:lambda/permission:Permission": 3,
		"aws:lambda/alias:Alias":             1,
		"aws:cloudwatch/eventRule:EventRule": 1, "aws:cloudwatch/eventTarget:EventTarget": 1,
		"aws:cloudformation/stack:Stack":     1, // the edge WAF web ACL (waf.go)
		"aws:cloudwatch/dashboard:Dashboard": 1,
	},
}

func init() {
	prod := map[string]int{}
	for k, v := range wantInventory["staging"] {
		prod[k] = v
	}
	// A managed NAT gateway instead of the NAT instance and its security group, and the
	// Secrets Manager endpoint with its own.
	delete(prod, "aws:ec2/instance:Instance")
	prod["aws:ec2/securityGroup:SecurityGroup"] = 3
	prod["aws:ec2/vpcEndpoint:VpcEndpoint"] = 1
	prod["aws:ec2/eip:Eip"] = 1
	prod["aws:ec2/natGateway:NatGateway"] = 1
	// Alarms.
	prod["aws:sns/topic:Topic"] = 1
	prod["aws:sns/topicSubscription:TopicSubscription"] = 1
	prod["aws:cloudwatch/metricAlarm:MetricAlarm"] = 10
	wantInventory["production"] = prod
}

func TestStacks(t *testing.T) {
	for _, stack := range []string{"staging", "production"} {
		t.Run(stack, func(t *testing.T) {
			run, err := runStack(t, stack, stackConfig(t, stack), testBuilders(t, ""))
			if err != nil {
				t.Fatal(err)
			}
			checkInventory(t, run.inventory(), wantInventory[stack])
			checkOutputs(t, run)
			checkPolicies(t, run)
		})
	}
}

func checkInventory(t *testing.T, got, want map[string]int) {
	t.Helper()
	for typ, n := range want {
		if got[typ] != n {
			t.Errorf("%s: %d, want %d", typ, got[typ], n)
		}
	}
	for typ, n := range got {
		if _, ok := want[typ]; !ok {
			t.Errorf("unexpected %d x %s", n, typ)
		}
	}
}

func checkOutputs(t *testing.T, run *stackRun) {
	t.Helper()
	want := map[string]string{
		"dashboardUrl":      "https://" + fakeCDNHost,
		"apiUrl":            "https://" + fakeCDNHost + "/api/v1",
		"apiGatewayUrl":     "https://" + fakeAPIHost + "/",
		"githubCallbackUrl": "https://" + fakeCDNHost + "/api/v1/auth/github/callback",
		"githubWebhookUrl":  "https://" + fakeCDNHost + "/api/v1/github/webhook",
		"databaseEndpoint":  "miyabi-" + run.cfg.Stack + "-db.cxyz.us-west-2.rds.amazonaws.com:5432",
		"functionName":      "miyabi-" + run.cfg.Stack + "-api",
		"distributionId":    "cdn-id",
		"lambdaSha256":      fakeArtifact.SHA256,
		"liveVersion":       fakeVersion,
		"migrateFunction":   "miyabi-" + run.cfg.Stack + "-migrate",
		"opsDashboardUrl":   "https://us-west-2.console.aws.amazon.com/cloudwatch/home?region=us-west-2#dashboards/dashboard/miyabi-" + run.cfg.Stack + "-ops",
	}
	for name, v := range want {
		if got := run.outputs[name]; got != v {
			t.Errorf("output %s = %q, want %q", name, got, v)
		}
	}
	if b := run.outputs["bucketName"]; !strings.HasPrefix(b, "miyabi-"+run.cfg.Stack+"-dashboard-") {
		t.Errorf("output bucketName = %q", b)
	}
}
