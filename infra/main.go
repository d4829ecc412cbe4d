// Command infra is Miyabi's Pulumi program (Pulumi.yaml: main: infra/). One
// `pulumi up -s <stack>` builds the Lambda and the dashboard, creates or updates the
// stack, runs the migrations and prints the URLs.
package main

import (
	"context"
	"os"
	"path/filepath"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/miyabi/miyabi/infra/webasset"
	"github.com/miyabi/miyabi/internal/artifact"
)

func main() {
	pulumi.Run(program(Builders{Lambda: buildLambda, Dashboard: buildDashboard}))
}

// buildLambda is `make lambda`: the same code, the same dist/lambda/bootstrap.zip.
func buildLambda(ctx context.Context, _ Config) (artifact.Result, error) {
	root, err := repoRoot()
	if err != nil {
		return artifact.Result{}, err
	}
	return artifact.BuildLambda(ctx, artifact.Options{RepoRoot: root, OutDir: "dist/lambda", GOARCH: "arm64"})
}

func buildDashboard(ctx context.Context, cfg Config) (string, error) {
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	return webasset.Build(ctx, filepath.Join(root, "dashboard"), cfg.DashboardBuild)
}

// repoRoot is found from the working directory: Pulumi runs the program in infra/.
func repoRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	return artifact.FindRepoRoot(wd)
}
