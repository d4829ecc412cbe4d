// Command build-lambda builds the Lambda package (`make lambda`) with the same code
// the Pulumi program uses, so what ops build by hand is what `pulumi up` ships.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/miyabi/miyabi/internal/artifact"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "build-lambda:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("build-lambda", flag.ContinueOnError)
	out := fs.String("out", "dist/lambda", "output directory (relative to the repository root)")
	arch := fs.String("arch", "arm64", "GOARCH: arm64 or amd64")
	pkg := fs.String("pkg", "./app", "main package to build")
	if err := fs.Parse(args); err != nil {
		return err
	}
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	root, err := artifact.FindRepoRoot(wd)
	if err != nil {
		return err
	}
	res, err := artifact.BuildLambda(ctx, artifact.Options{RepoRoot: root, OutDir: *out, GOARCH: *arch, Package: *pkg})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "zip     %s\nsize    %d bytes (%.1f MB)\nsha256  %s\n", res.ZipPath, res.Size, float64(res.Size)/1e6, res.SHA256)
	return nil
}
