// Command worker is Miyabi's worker daemon: `go run ./app/worker` claims tasks from the
// API with a worker token and runs each as a local agent command. See
// app/internal/workerd for what it does and `worker -h` for its settings.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/miyabi/miyabi/app/internal/workerd"
)

// version is set at build time with -ldflags "-X main.version=..."
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "worker:", err)
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	cfg, err := workerd.ParseConfig(args, getenv, stderr)
	if err != nil {
		return err
	}
	cfg.Version = version
	log := slog.New(slog.NewTextHandler(stderr, nil))
	return workerd.New(cfg, log).Run(ctx)
}
