package main

import (
	"encoding/json"
	"testing"
)

// The edge rate rule (issue 14, finding 4): a WAF web ACL in us-east-1, declared through
// CloudFormation, with per-address rate rules answering 429, attached to the distribution.
func TestEdgeRateLimitIsAWebACLOnTheDistribution(t *testing.T) {
	run, err := runStack(t, "staging", stackConfig(t, "staging"), testBuilders(t, ""))
	if err != nil {
		t.Fatal(err)
	}
	var stack, dist, east *recorded
	for i, r := range run.res {
		switch {
		case r.Type == "aws:cloudformation/stack:Stack" && r.Name == "edge-waf":
			stack = &run.res[i]
		case r.Type == "aws:cloudfront/distribution:Distribution":
			dist = &run.res[i]
		case r.Type == "pulumi:providers:aws" && r.Inputs["region"] == "us-east-1":
			east = &run.res[i]
		}
	}
	if stack == nil || dist == nil || east == nil {
		t.Fatalf("stack %v, distribution %v, us-east-1 provider %v", stack != nil, dist != nil, east != nil)
	}
	if _, ok := dist.Inputs["webAclId"]; !ok {
		t.Fatalf("the distribution has no web ACL: %v", dist.Inputs)
	}
	var tpl struct {
		Resources map[string]struct {
			Type       string
			Properties struct {
				Scope string
				Rules []struct {
					Name      string
					Action    map[string]map[string]map[string]any
					Statement struct {
						RateBasedStatement struct {
							Limit            int
							AggregateKeyType string
						}
					}
				}
			}
		}
		Outputs map[string]any
	}
	if err := json.Unmarshal([]byte(stack.Inputs["templateBody"].(string)), &tpl); err != nil {
		t.Fatal(err)
	}
	acl := tpl.Resources["WebAcl"]
	if acl.Type != "AWS::WAFv2::WebACL" || acl.Properties.Scope != "CLOUDFRONT" || len(acl.Properties.Rules) != 2 || tpl.Outputs["WebAclArn"] == nil {
		t.Fatalf("web ACL %+v", acl)
	}
	for _, r := range acl.Properties.Rules {
		rb := r.Statement.RateBasedStatement
		if rb.AggregateKeyType != "IP" || rb.Limit < 10 || r.Action["Block"]["CustomResponse"]["ResponseCode"] != float64(429) {
			t.Errorf("rule %s: %+v %v", r.Name, rb, r.Action)
		}
	}
}
