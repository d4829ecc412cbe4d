package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// The events WebSocket API: its three routes go to the function, only it may invoke the
// function for them, the function may post to and close its connections and nothing
// more, and CloudFront routes /api/v1/events to its stage root with the ticket.
func TestEventsWebSocketAPI(t *testing.T) {
	run, err := runStack(t, "staging", stackConfig(t, "staging"), testBuilders(t, ""))
	if err != nil {
		t.Fatal(err)
	}
	api := run.one(t, "aws:apigatewayv2/api:Api", "events").Inputs
	if api["protocolType"] != "WEBSOCKET" || api["routeSelectionExpression"] != "$request.body.action" {
		t.Errorf("events api = %v", api)
	}
	if st := run.one(t, "aws:apigatewayv2/stage:Stage", "events").Inputs; st["name"] != wsStage || st["autoDeploy"] != true {
		t.Errorf("events stage = %v", st)
	}
	in := run.one(t, "aws:apigatewayv2/integration:Integration", "events").Inputs
	if in["integrationType"] != "AWS_PROXY" || !strings.HasSuffix(fmt.Sprint(in["integrationUri"]), ":function:miyabi-staging-api:live/invocations") {
		t.Errorf("events integration = %v, want the API function's live alias", in)
	}
	var keys []string
	for _, r := range run.all("aws:apigatewayv2/route:Route") {
		if r.Inputs["target"] == "integrations/events-id" {
			keys = append(keys, fmt.Sprint(r.Inputs["routeKey"]))
		}
	}
	slices.Sort(keys)
	if !slices.Equal(keys, []string{"$connect", "$default", "$disconnect"}) {
		t.Errorf("routes to the function: %v", keys)
	}
	perm := run.one(t, "aws:lambda/permission:Permission", "events").Inputs
	if perm["principal"] != "apigateway.amazonaws.com" || perm["qualifier"] != "live" || perm["sourceArn"] != fmt.Sprintf("arn:aws:execute-api:us-west-2:%s:abc123/*/*", fakeAccount) {
		t.Errorf("events permission = %v, want scoped to the API", perm)
	}
	doc := policyOf(t, run.one(t, "aws:iam/rolePolicy:RolePolicy", "events").Inputs["policy"])
	base := fmt.Sprintf("arn:aws:execute-api:us-west-2:%s:abc123/%s/", fakeAccount, wsStage)
	if len(doc.Statement) != 1 || !slices.Equal(doc.Statement[0].Action, []string{"execute-api:ManageConnections"}) ||
		!slices.Equal(doc.Statement[0].Resource, []string{base + "POST/@connections/*", base + "DELETE/@connections/*"}) {
		t.Errorf("events policy = %+v, want ManageConnections on this stage's connections only", doc)
	}

	d := run.one(t, "aws:cloudfront/distribution:Distribution", "cdn").Inputs
	var events map[string]any
	for _, b := range objs(d["orderedCacheBehaviors"]) {
		if b["pathPattern"] == eventsPath {
			events = b
		}
	}
	if events == nil || events["targetOriginId"] != "events" || events["cachePolicyId"] != cachingDisabled ||
		events["originRequestPolicyId"] != allViewerExceptHostHeader || len(objs(events["functionAssociations"])) != 1 {
		t.Fatalf("%s behaviour = %v, want uncached to the events origin with the path rewrite", eventsPath, events)
	}
	for _, o := range objs(d["origins"]) {
		if o["originId"] == "events" && (o["domainName"] != fakeAPIHost || o["originPath"] != "/"+wsStage) {
			t.Errorf("events origin = %v", o)
		}
	}
	fn := run.one(t, "aws:cloudfront/function:Function", "events").Inputs
	if !strings.Contains(fmt.Sprint(fn["code"]), "request.uri = '/'") {
		t.Errorf("events rewrite = %v", fn["code"])
	}
}
