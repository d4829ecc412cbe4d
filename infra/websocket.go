package main

import (
	"encoding/json"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/apigatewayv2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudfront"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Live events on AWS (issue 15): an API Gateway WebSocket API routed to the same
// Lambda ($connect checks the ticket, $disconnect, $default for follow/unfollow), the
// function allowed to post to its connections, and CloudFront routing /api/v1/events
// to it so the dashboard stays same-origin.

// wsStage is the WebSocket API's stage; CloudFront's origin path.
const wsStage = "live"

// eventsPath is where the dashboard opens the WebSocket, on the distribution.
const eventsPath = "/api/v1/events"

// eventsRewrite sends /api/v1/events to the stage root: a WebSocket API answers 403
// to any path below its stage. The query string (the ticket) passes unchanged.
const eventsRewrite = `function handler(event) {
  var request = event.request;
  request.uri = '/';
  return request;
}
`

// WebSocketAPI is the events WebSocket API.
type WebSocketAPI struct {
	API   *apigatewayv2.Api
	Stage *apigatewayv2.Stage
	// Host is the execute-api host name (CloudFront's events origin).
	Host pulumi.StringOutput
	// ManagementURL is the @connections endpoint the function posts to.
	ManagementURL pulumi.StringOutput
	opt           pulumi.ResourceOption // the events layer
}

// newWebSocketAPI creates the API and its stage (routes come with the function).
func newWebSocketAPI(ctx *pulumi.Context, cfg Config) (*WebSocketAPI, error) {
	opt, err := newLayer(ctx, "Events", "events")
	if err != nil {
		return nil, err
	}
	api, err := apigatewayv2.NewApi(ctx, "events", &apigatewayv2.ApiArgs{
		Name:                     pulumi.String(cfg.name("events")),
		ProtocolType:             pulumi.String("WEBSOCKET"),
		RouteSelectionExpression: pulumi.String("$request.body.action"),
	}, opt)
	if err != nil {
		return nil, err
	}
	stage, err := apigatewayv2.NewStage(ctx, "events", &apigatewayv2.StageArgs{
		ApiId:      api.ID(),
		Name:       pulumi.String(wsStage),
		AutoDeploy: pulumi.Bool(true),
		DefaultRouteSettings: apigatewayv2.StageDefaultRouteSettingsArgs{
			ThrottlingRateLimit:  pulumi.Float64(float64(cfg.APIThrottleRate)),
			ThrottlingBurstLimit: pulumi.Int(cfg.APIThrottleBurst),
		},
	}, opt)
	if err != nil {
		return nil, err
	}
	host := api.ApiEndpoint.ApplyT(func(u string) string {
		return strings.TrimPrefix(strings.TrimPrefix(u, "wss://"), "https://")
	}).(pulumi.StringOutput)
	return &WebSocketAPI{API: api, Stage: stage, Host: host,
		ManagementURL: pulumi.Sprintf("https://%s/%s", host, wsStage), opt: opt}, nil
}

// routeWebSocket sends $connect, $disconnect and $default to the function, lets only
// this API invoke it for them, and lets the function post to (and close) the API's
// connections, nothing else.
func routeWebSocket(ctx *pulumi.Context, ws *WebSocketAPI, fn *Function) error {
	opt := ws.opt
	// through the live alias, like the HTTP API: never an unmigrated version
	integration, err := apigatewayv2.NewIntegration(ctx, "events", &apigatewayv2.IntegrationArgs{
		ApiId:             ws.API.ID(),
		IntegrationType:   pulumi.String("AWS_PROXY"),
		IntegrationUri:    fn.Live.InvokeArn,
		IntegrationMethod: pulumi.String("POST"),
	}, opt)
	if err != nil {
		return err
	}
	for name, key := range map[string]string{"events-connect": "$connect", "events-disconnect": "$disconnect", "events-default": "$default"} {
		if _, err := apigatewayv2.NewRoute(ctx, name, &apigatewayv2.RouteArgs{
			ApiId:    ws.API.ID(),
			RouteKey: pulumi.String(key),
			Target:   pulumi.Sprintf("integrations/%s", integration.ID()),
		}, opt); err != nil {
			return err
		}
	}
	if _, err := lambda.NewPermission(ctx, "events", &lambda.PermissionArgs{
		Action:    pulumi.String("lambda:InvokeFunction"),
		Function:  fn.Live.FunctionName,
		Qualifier: fn.Live.Name,
		Principal: pulumi.String("apigateway.amazonaws.com"),
		SourceArn: pulumi.Sprintf("%s/*/*", ws.API.ExecutionArn),
	}, opt); err != nil {
		return err
	}
	doc := ws.API.ExecutionArn.ApplyT(func(arn string) (string, error) {
		b, err := json.Marshal(policyDoc(statement{
			Sid: "PostToEventConnections", Effect: "Allow", Action: []string{"execute-api:ManageConnections"},
			Resource: []string{arn + "/" + wsStage + "/POST/@connections/*", arn + "/" + wsStage + "/DELETE/@connections/*"},
		}))
		return string(b), err
	}).(pulumi.StringOutput)
	roleName := fn.Fn.Role.ApplyT(func(arn string) string { return arn[strings.LastIndex(arn, "/")+1:] }).(pulumi.StringOutput)
	_, err = iam.NewRolePolicy(ctx, "events", &iam.RolePolicyArgs{Role: roleName, Policy: doc}, opt)
	return err
}

// eventsBehaviour routes /api/v1/events on the distribution to the WebSocket API:
// never cached, every viewer header but Host (the WebSocket handshake headers), the
// query string (the ticket), the path rewritten to the stage root.
func eventsBehaviour(ctx *pulumi.Context, cfg Config, ws *WebSocketAPI) (cloudfront.DistributionOriginArgs, cloudfront.DistributionOrderedCacheBehaviorArgs, error) {
	rewrite, err := cloudfront.NewFunction(ctx, "events", &cloudfront.FunctionArgs{
		Name:    pulumi.String(cfg.name("events")),
		Runtime: pulumi.String("cloudfront-js-2.0"),
		Code:    pulumi.String(eventsRewrite),
		Publish: pulumi.Bool(true),
		Comment: pulumi.String("Miyabi: /api/v1/events -> the WebSocket stage root"),
	}, ws.opt)
	if err != nil {
		return cloudfront.DistributionOriginArgs{}, cloudfront.DistributionOrderedCacheBehaviorArgs{}, err
	}
	origin := cloudfront.DistributionOriginArgs{
		OriginId:   pulumi.String("events"),
		DomainName: ws.Host,
		OriginPath: pulumi.String("/" + wsStage),
		CustomOriginConfig: cloudfront.DistributionOriginCustomOriginConfigArgs{
			HttpPort: pulumi.Int(80), HttpsPort: pulumi.Int(443),
			OriginProtocolPolicy: pulumi.String("https-only"),
			OriginSslProtocols:   pulumi.StringArray{pulumi.String("TLSv1.2")},
		},
	}
	behaviour := cloudfront.DistributionOrderedCacheBehaviorArgs{
		PathPattern:           pulumi.String(eventsPath),
		TargetOriginId:        pulumi.String("events"),
		ViewerProtocolPolicy:  pulumi.String("https-only"),
		AllowedMethods:        pulumi.ToStringArray([]string{"GET", "HEAD"}),
		CachedMethods:         pulumi.ToStringArray([]string{"GET", "HEAD"}),
		CachePolicyId:         pulumi.String(cachingDisabled),
		OriginRequestPolicyId: pulumi.String(allViewerExceptHostHeader),
		FunctionAssociations: cloudfront.DistributionOrderedCacheBehaviorFunctionAssociationArray{
			cloudfront.DistributionOrderedCacheBehaviorFunctionAssociationArgs{EventType: pulumi.String("viewer-request"), FunctionArn: rewrite.Arn},
		},
	}
	return origin, behaviour, nil
}
