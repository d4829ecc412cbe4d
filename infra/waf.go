package main

import (
	"encoding/json"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudformation"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudfront"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// The edge rate rule: an AWS WAF web ACL on the CloudFront distribution that blocks a
// client address past a request rate, before a request costs a Lambda invocation. The
// app's own limits (per user, per worker, per address on the sign-in routes) stay the
// fine-grained ones; this one takes floods off the stage-wide API Gateway throttle that
// every tenant shares.
//
// The web ACL is declared in a CloudFormation template, not with pulumi-aws's wafv2
// package: that Go package alone takes tens of GB of memory to compile. CloudFront only
// takes web ACLs of scope CLOUDFRONT, which live in us-east-1, hence the provider.

// Edge limits: requests per client address per 5-minute window (WAF's evaluation window).
const (
	edgeAPIRequestsPer5Min    = 3000 // everything under /api/ (10 per second sustained)
	edgeSignInRequestsPer5Min = 300  // /api/v1/auth/ and invitation accepts
)

// newEdgeRateLimit creates the web ACL and attaches it to the distribution the program
// creates after it (through a stack transformation: the CDN layer stays as it is).
func newEdgeRateLimit(ctx *pulumi.Context, cfg Config) error {
	template, err := edgeWAFTemplate(cfg)
	if err != nil {
		return err
	}
	opt, err := newLayer(ctx, "Edge", "edge") // its own layer: the web ACL lives in us-east-1
	if err != nil {
		return err
	}
	east, err := aws.NewProvider(ctx, "us-east-1", &aws.ProviderArgs{Region: pulumi.String("us-east-1")}, opt)
	if err != nil {
		return err
	}
	stack, err := cloudformation.NewStack(ctx, "edge-waf", &cloudformation.StackArgs{
		Name:         pulumi.String(cfg.name("edge-waf")),
		TemplateBody: pulumi.String(template),
	}, pulumi.Provider(east), opt)
	if err != nil {
		return err
	}
	arn := stack.Outputs.MapIndex(pulumi.String("WebAclArn"))
	return ctx.RegisterStackTransformation(func(args *pulumi.ResourceTransformationArgs) *pulumi.ResourceTransformationResult {
		props, ok := args.Props.(*cloudfront.DistributionArgs)
		if !ok || args.Type != "aws:cloudfront/distribution:Distribution" {
			return nil
		}
		props.WebAclId = arn
		return &pulumi.ResourceTransformationResult{Props: props, Opts: args.Opts}
	})
}

// edgeWAFTemplate is the CloudFormation template of the web ACL: two rate-based rules
// per client address (the API, and the sign-in routes tighter), answering 429.
func edgeWAFTemplate(cfg Config) (string, error) {
	visibility := func(metric string) map[string]any {
		return map[string]any{"SampledRequestsEnabled": true, "CloudWatchMetricsEnabled": true, "MetricName": metric}
	}
	startsWith := func(path string) map[string]any {
		return map[string]any{"ByteMatchStatement": map[string]any{
			"SearchString": path, "PositionalConstraint": "STARTS_WITH",
			"FieldToMatch":        map[string]any{"UriPath": map[string]any{}},
			"TextTransformations": []any{map[string]any{"Priority": 0, "Type": "LOWERCASE"}},
		}}
	}
	rateRule := func(name string, priority, limit int, scope map[string]any) map[string]any {
		return map[string]any{
			"Name": name, "Priority": priority,
			"Action": map[string]any{"Block": map[string]any{"CustomResponse": map[string]any{
				"ResponseCode":    429,
				"ResponseHeaders": []any{map[string]any{"Name": "Retry-After", "Value": "300"}},
			}}},
			"Statement": map[string]any{"RateBasedStatement": map[string]any{
				"Limit": limit, "EvaluationWindowSec": 300, "AggregateKeyType": "IP", "ScopeDownStatement": scope,
			}},
			"VisibilityConfig": visibility(cfg.name(name)),
		}
	}
	signIn := map[string]any{"OrStatement": map[string]any{"Statements": []any{
		startsWith("/api/v1/auth/"), startsWith("/api/v1/invitations/"),
	}}}
	doc := map[string]any{
		"AWSTemplateFormatVersion": "2010-09-09",
		"Description":              fmt.Sprintf("Miyabi %s: per-address rate limits at the CloudFront edge", cfg.Stack),
		"Resources": map[string]any{
			"WebAcl": map[string]any{
				"Type": "AWS::WAFv2::WebACL",
				"Properties": map[string]any{
					"Name":             cfg.name("edge"),
					"Scope":            "CLOUDFRONT",
					"DefaultAction":    map[string]any{"Allow": map[string]any{}},
					"VisibilityConfig": visibility(cfg.name("edge")),
					"Rules": []any{
						rateRule("signin-per-address", 0, edgeSignInRequestsPer5Min, signIn),
						rateRule("api-per-address", 1, edgeAPIRequestsPer5Min, startsWith("/api/")),
					},
				},
			},
		},
		"Outputs": map[string]any{
			"WebAclArn": map[string]any{"Value": map[string]any{"Fn::GetAtt": []any{"WebAcl", "Arn"}}},
		},
	}
	b, err := json.Marshal(doc)
	return string(b), err
}
