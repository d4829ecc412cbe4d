package main

import (
	"encoding/json"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/apigatewayv2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// HTTPAPI is the API Gateway in front of the Lambda.
type HTTPAPI struct {
	API *apigatewayv2.Api
	// Host is the execute-api host name, CloudFront's /api/* origin.
	Host pulumi.StringOutput
	// InvokeURL is the $default stage's URL, ending in "/".
	InvokeURL pulumi.StringOutput
	Stage     *apigatewayv2.Stage
	opt       pulumi.ResourceOption
	// Events, when set, is routed by CloudFront at /api/v1/events (websocket.go).
	Events *WebSocketAPI
}

// newHTTPAPI creates the API and its $default stage. corsOrigin is set only when the
// dashboard calls API Gateway directly (dashboardApiBase=apigateway); through
// CloudFront the browser sees one origin and needs no CORS.
func newHTTPAPI(ctx *pulumi.Context, cfg Config, corsOrigin pulumi.StringInput) (*HTTPAPI, error) {
	opt, err := newLayer(ctx, "API", "api")
	if err != nil {
		return nil, err
	}
	args := &apigatewayv2.ApiArgs{
		Name:         pulumi.String(cfg.name("http")),
		ProtocolType: pulumi.String("HTTP"),
	}
	if corsOrigin != nil {
		args.CorsConfiguration = apigatewayv2.ApiCorsConfigurationArgs{
			AllowOrigins:     pulumi.StringArray{corsOrigin},
			AllowCredentials: pulumi.Bool(true),
			AllowMethods:     pulumi.ToStringArray([]string{"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}),
			AllowHeaders:     pulumi.ToStringArray([]string{"authorization", "content-type"}),
			MaxAge:           pulumi.Int(600),
		}
	}
	api, err := apigatewayv2.NewApi(ctx, "http", args, opt)
	if err != nil {
		return nil, err
	}

	logs, err := cloudwatch.NewLogGroup(ctx, "api-access", &cloudwatch.LogGroupArgs{
		Name:            pulumi.String("/aws/apigateway/" + cfg.name("http")),
		RetentionInDays: pulumi.Int(cfg.LogRetentionDays),
	}, opt)
	if err != nil {
		return nil, err
	}
	format, _ := json.Marshal(map[string]string{
		"requestId": "$context.requestId", "ip": "$context.identity.sourceIp",
		"requestTime": "$context.requestTime", "method": "$context.httpMethod",
		"path": "$context.path", "routeKey": "$context.routeKey", "status": "$context.status",
		"protocol": "$context.protocol", "responseLength": "$context.responseLength",
		"latencyMs": "$context.responseLatency", "integrationLatencyMs": "$context.integrationLatency",
		"integrationError": "$context.integrationErrorMessage", "userAgent": "$context.identity.userAgent",
	})
	stage, err := apigatewayv2.NewStage(ctx, "default", &apigatewayv2.StageArgs{
		ApiId:      api.ID(),
		Name:       pulumi.String("$default"),
		AutoDeploy: pulumi.Bool(true),
		AccessLogSettings: apigatewayv2.StageAccessLogSettingsArgs{
			DestinationArn: logs.Arn,
			Format:         pulumi.String(string(format)),
		},
		DefaultRouteSettings: apigatewayv2.StageDefaultRouteSettingsArgs{
			ThrottlingRateLimit:  pulumi.Float64(float64(cfg.APIThrottleRate)),
			ThrottlingBurstLimit: pulumi.Int(cfg.APIThrottleBurst),
		},
	}, opt)
	if err != nil {
		return nil, err
	}
	host := api.ApiEndpoint.ApplyT(func(u string) string { return strings.TrimPrefix(u, "https://") }).(pulumi.StringOutput)
	return &HTTPAPI{API: api, Host: host, InvokeURL: stage.InvokeUrl, Stage: stage, opt: opt}, nil
}

// routeToFunction sends ANY /api/{proxy+} to the Lambda's live alias (payload 2.0,
// what ginadapter.NewV2 reads) and lets only this API invoke it. Through the alias a
// deploy switches traffic at once, after the migrations, never to an unmigrated version.
func routeToFunction(ctx *pulumi.Context, api *HTTPAPI, live *lambda.Alias) error {
	opt := api.opt
	integration, err := apigatewayv2.NewIntegration(ctx, "lambda", &apigatewayv2.IntegrationArgs{
		ApiId:                api.API.ID(),
		IntegrationType:      pulumi.String("AWS_PROXY"),
		IntegrationUri:       live.InvokeArn,
		IntegrationMethod:    pulumi.String("POST"),
		PayloadFormatVersion: pulumi.String("2.0"),
	}, opt)
	if err != nil {
		return err
	}
	if _, err := apigatewayv2.NewRoute(ctx, "api-proxy", &apigatewayv2.RouteArgs{
		ApiId:    api.API.ID(),
		RouteKey: pulumi.String("ANY /api/{proxy+}"),
		Target:   pulumi.Sprintf("integrations/%s", integration.ID()),
	}, opt); err != nil {
		return err
	}
	_, err = lambda.NewPermission(ctx, "api", &lambda.PermissionArgs{
		Action:    pulumi.String("lambda:InvokeFunction"),
		Function:  live.FunctionName,
		Qualifier: live.Name,
		Principal: pulumi.String("apigateway.amazonaws.com"),
		SourceArn: pulumi.Sprintf("%s/*/*", api.API.ExecutionArn),
	}, opt)
	return err
}
