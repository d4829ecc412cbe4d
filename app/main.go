// Command app is Miyabi's API server. `go run ./app` serves on LISTEN_ADDR;
// `go run ./app migrate` applies the migrations; `go run ./app openapi` prints the API's
// OpenAPI document. On AWS Lambda (AWS_LAMBDA_RUNTIME_API set) the same binary is the
// function's handler.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/miyabi/miyabi/app/internal/auth"
	"github.com/miyabi/miyabi/app/internal/config"
	"github.com/miyabi/miyabi/app/internal/demo"
	"github.com/miyabi/miyabi/app/internal/httpapi"
	"github.com/miyabi/miyabi/app/internal/lambdafn"
	"github.com/miyabi/miyabi/app/internal/store"
	"github.com/miyabi/miyabi/app/internal/sweeper"
)

// version is set at build time (-ldflags "-X main.version=...").
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "miyabi: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 {
		cmd = args[0]
	}
	if cmd == "openapi" {
		return printOpenAPI(stdout)
	}
	if cmd == "serve" && getenv("AWS_LAMBDA_RUNTIME_API") != "" {
		// On Lambda: the same API behind the runtime loop instead of a listener, with
		// the secrets fetched at init (see lambdafn).
		return lambdafn.Run(ctx, lambdafn.Options{Getenv: getenv, Version: version, Log: stderr})
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	log := newLogger(cfg, stderr)
	pool, err := store.OpenPool(ctx, cfg.DatabaseURL, cfg.DBPoolMax)
	if err != nil {
		return err
	}
	defer pool.Close()
	st := store.New(pool)

	switch cmd {
	case "migrate":
		return store.Migrate(ctx, pool, log)
	case "seed-demo":
		if !cfg.Development() {
			return fmt.Errorf("seed-demo runs only with APP_ENV=development")
		}
		sealer, err := auth.NewSealer(cfg.TokenEncryptionKey)
		if err != nil {
			return err
		}
		orgID, err := demo.Seed(ctx, st, sealer)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "demo: alice (owner) and bob (member) in organization %s (%s)\n", demo.OrgSlug, orgID)
		return nil
	case "serve":
		return serve(ctx, cfg, st, log, stdout)
	default:
		return fmt.Errorf("unknown command %q (want serve, migrate, seed-demo or openapi)", cmd)
	}
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

func serve(ctx context.Context, cfg config.Config, st *store.Store, log *slog.Logger, stdout io.Writer) error {
	srv, err := httpapi.NewServer(httpapi.Deps{Config: cfg, Store: st, Logger: log, Version: version})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	hs := &http.Server{
		Handler:           srv, // bounded per request by the engine's own deadline
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      cfg.RequestTimeout + 5*time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	go sweeper.Run(ctx, st, cfg.SweepInterval, log)
	go srv.Reporter().Run(ctx, 2*time.Second) // GitHub issue comments: kicked after commits, retried when due
	go srv.Notifier().Run(ctx, 5*time.Second) // notifications: after each commit, retries as they come due

	fmt.Fprintf(stdout, "Miyabi API listening on http://%s (env %s)\n", ln.Addr(), cfg.Env)
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// printOpenAPI writes the document of a development server (it has every route,
// dev login included) without touching a database.
func printOpenAPI(w io.Writer) error {
	cfg, err := config.Load(func(k string) string {
		switch k {
		case "APP_ENV":
			return config.EnvDevelopment
		case "DATABASE_URL":
			return "postgres://localhost/unused"
		}
		return ""
	})
	if err != nil {
		return err
	}
	pool, err := store.OpenPool(context.Background(), cfg.DatabaseURL, 1)
	if err != nil {
		return err
	}
	defer pool.Close()
	srv, err := httpapi.NewServer(httpapi.Deps{Config: cfg, Store: store.New(pool), Logger: slog.New(slog.DiscardHandler), Version: "dev"})
	if err != nil {
		return err
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(srv.OpenAPI())
}
