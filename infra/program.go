package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/miyabi/miyabi/internal/artifact"
)

// proxyEndpointOutput is the stack output of RDS Proxy's endpoint, exported only by a
// deploy whose API goes through the proxy; the next deploy reads it (previousDeploy).
const proxyEndpointOutput = "databaseProxyEndpoint"

// Builders make the two build products. They are passed in so tests can hand the
// program prebuilt ones instead of compiling the app for every stack they check.
type Builders struct {
	Lambda    func(ctx context.Context, cfg Config) (artifact.Result, error)
	Dashboard func(ctx context.Context, cfg Config) (dist string, err error)
}

// program is the Pulumi program: deploy, then export what it returns.
func program(b Builders) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		outputs, err := deploy(ctx, b)
		if err != nil {
			return err
		}
		for name, v := range outputs {
			ctx.Export(name, v)
		}
		return nil
	}
}

// deploy wires the layers; each layer is a function from the config and what it
// needs to what others need. It returns the stack outputs.
func deploy(ctx *pulumi.Context, b Builders) (map[string]pulumi.StringOutput, error) {
	cfg, err := loadConfig(ctx)
	if err != nil {
		return nil, err
	}
	pkg, err := b.Lambda(ctx.Context(), cfg)
	if err != nil {
		return nil, fmt.Errorf("lambda artifact: %w", err)
	}
	_ = ctx.Log.Info(fmt.Sprintf("lambda artifact %s: %d bytes, sha256 %s", pkg.ZipPath, pkg.Size, pkg.SHA256), nil)
	dist, err := b.Dashboard(ctx.Context(), cfg)
	if err != nil {
		return nil, fmt.Errorf("dashboard build: %w", err)
	}
	files, err := dashboardFiles(dist)
	if err != nil {
		return nil, err
	}

	prev, err := readPreviousDeploy(ctx)
	if err != nil {
		return nil, err
	}
	net, err := newNetwork(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("network: %w", err)
	}
	// The deploy that switches RDS Proxy off (the previous one had it) keeps what the proxy
	// needs until the alias moves off the version that uses it (database.go).
	db, err := newDatabase(ctx, cfg, net, prev.Proxy && !cfg.RDSProxy)
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	secret, err := newAppSecret(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	bucket, err := newDashboardBucket(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("dashboard bucket: %w", err)
	}

	if err := newEdgeRateLimit(ctx, cfg); err != nil { // waf.go: before the distribution it attaches to
		return nil, fmt.Errorf("edge rate limit: %w", err)
	}

	// Through CloudFront the distribution needs the API as an origin; direct, the
	// API's CORS needs the distribution's URL. Either way one is made first.
	ws, err := newWebSocketAPI(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("events api: %w", err)
	}
	var api *HTTPAPI
	var cdn *CDN
	var apiBase pulumi.StringOutput
	if cfg.DashboardAPIBase == APIBaseCloudFront {
		if api, err = newHTTPAPI(ctx, cfg, nil); err != nil {
			return nil, fmt.Errorf("api: %w", err)
		}
		api.Events = ws
		if cdn, err = newCDN(ctx, cfg, bucket, api); err != nil {
			return nil, fmt.Errorf("cdn: %w", err)
		}
		apiBase = pulumi.Sprintf("%s/api/v1", cdn.URL)
	} else {
		if cdn, err = newCDN(ctx, cfg, bucket, nil); err != nil {
			return nil, fmt.Errorf("cdn: %w", err)
		}
		if api, err = newHTTPAPI(ctx, cfg, cdn.URL); err != nil {
			return nil, fmt.Errorf("api: %w", err)
		}
		apiBase = api.InvokeURL.ApplyT(func(u string) string { return strings.TrimRight(u, "/") + "/api/v1" }).(pulumi.StringOutput)
	}

	fn, err := newFunction(ctx, cfg, functionInputs{Artifact: pkg, Net: net, DB: db, Secret: secret, PublicURL: cdn.URL,
		EventsURL: ws.ManagementURL, After: []pulumi.Resource{cdn.Distribution}})
	if err != nil {
		return nil, fmt.Errorf("function: %w", err)
	}
	if err := routeToFunction(ctx, api, fn.Live); err != nil {
		return nil, fmt.Errorf("api routes: %w", err)
	}
	if err := routeWebSocket(ctx, ws, fn); err != nil {
		return nil, fmt.Errorf("events routes: %w", err)
	}
	if err := uploadDashboard(ctx, bucket, files, apiBase); err != nil {
		return nil, fmt.Errorf("dashboard upload: %w", err)
	}
	if err := retireAssets(ctx, bucket, prev.Assets, files); err != nil {
		return nil, fmt.Errorf("dashboard retired assets: %w", err)
	}
	obs, err := newObservability(ctx, cfg, observedOf(cfg, fn, api, ws, db))
	if err != nil {
		return nil, fmt.Errorf("observability: %w", err)
	}

	outputs := map[string]pulumi.StringOutput{
		"dashboardUrl":      cdn.URL,
		"apiUrl":            apiBase,
		"apiGatewayUrl":     api.InvokeURL,
		"githubCallbackUrl": pulumi.Sprintf("%s/auth/github/callback", apiBase),
		"githubWebhookUrl":  pulumi.Sprintf("%s/github/webhook", apiBase),
		"databaseEndpoint":  db.Instance.Endpoint,
		"functionName":      fn.Fn.Name,
		"liveVersion":       fn.Live.FunctionVersion,
		"migrateFunction":   fn.Migrate.Name,
		"bucketName":        bucket.Bucket.Bucket,
		"distributionId":    cdn.Distribution.ID().ToStringOutput(),
		"lambdaSha256":      pulumi.String(pkg.SHA256).ToStringOutput(),
		assetsOutput:        pulumi.String(hashedAssets(files)).ToStringOutput(),
		"opsDashboardUrl":   obs.DashboardURL,
	}
	if db.Proxy != nil {
		outputs[proxyEndpointOutput] = db.Proxy.Endpoint // where the API connects
	}
	return outputs, nil
}

// previousDeploy is what the stack's last deploy exported that this one needs.
type previousDeploy struct {
	// Assets are the hashed dashboard assets it uploaded (retireAssets).
	Assets []string
	// Proxy: its API went through RDS Proxy (it exported proxyEndpointOutput).
	Proxy bool
}

// readPreviousDeploy reads the last deploy's outputs through a reference to the stack
// itself (Pulumi reads the last completed checkpoint). A stack that never exported them
// (a first deploy) has none. A failed update never drops an output it did not replace
// (the engine keeps them since pulumi/pulumi#15754, March 2024), and this program
// registers its outputs only once all resolved, the live alias's version among them: so
// after an update that failed before the alias moved, the next one still sees the proxy.
func readPreviousDeploy(ctx *pulumi.Context) (previousDeploy, error) {
	name := ctx.Project() + "/" + ctx.Stack()
	if org := ctx.Organization(); org != "" {
		name = org + "/" + name
	}
	ref, err := pulumi.NewStackReference(ctx, "previous-deploy", &pulumi.StackReferenceArgs{Name: pulumi.String(name)})
	if err != nil {
		return previousDeploy{}, err
	}
	var prev previousDeploy
	d, err := ref.GetOutputDetails(assetsOutput)
	if err != nil {
		return prev, fmt.Errorf("previous deploy's %s: %w", assetsOutput, err)
	}
	v, _ := d.Value.(string)
	prev.Assets = strings.Fields(v)
	if d, err = ref.GetOutputDetails(proxyEndpointOutput); err != nil {
		return prev, fmt.Errorf("previous deploy's %s: %w", proxyEndpointOutput, err)
	}
	endpoint, _ := d.Value.(string)
	prev.Proxy = endpoint != ""
	return prev, nil
}
