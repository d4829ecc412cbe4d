package lambdafn

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/miyabi/miyabi/app/internal/config"
	"github.com/miyabi/miyabi/app/internal/httpapi"
	"github.com/miyabi/miyabi/app/internal/metrics"
	"github.com/miyabi/miyabi/app/internal/store"
)

// Options is what the process gives the function at init.
type Options struct {
	Getenv  func(string) string
	Version string
	Log     io.Writer
	// Secrets reads Secrets Manager; aws-sdk-go-v2 with its default chain when nil.
	Secrets config.SecretSource
}

// Init does the cold start once, before the first event: the secrets (only those the
// environment lacks), the configuration, the pool (created, not connected: the first
// query connects) and the API. It logs how long each took, the secret fetch apart.
func Init(ctx context.Context, opts Options) (*Function, error) {
	start := time.Now()
	if opts.Secrets == nil {
		opts.Secrets = &config.AWSSecrets{Getenv: opts.Getenv}
	}
	env, err := config.ResolveLambdaEnv(ctx, opts.Getenv, opts.Secrets)
	if err != nil {
		return nil, fmt.Errorf("configuration:\n%w", err)
	}
	cfg, err := config.Load(env.Getenv)
	if err != nil {
		return nil, fmt.Errorf("configuration:\n%w", err)
	}
	var log *slog.Logger
	if cfg.LogFormat == "json" {
		log = slog.New(slog.NewJSONHandler(opts.Log, nil))
	} else {
		log = slog.New(slog.NewTextHandler(opts.Log, nil))
	}
	var poolOpts []store.PoolOption
	if env.Password != nil {
		poolOpts = append(poolOpts, store.WithPasswordFunc(store.PasswordFunc(env.Password), log))
	}
	pool, err := store.OpenPool(ctx, cfg.DatabaseURL, cfg.DBPoolMax, poolOpts...)
	if err != nil {
		return nil, err
	}
	st := store.New(pool)
	// EMF lines go to the function's output, where CloudWatch Logs extracts them.
	m := metrics.New(metrics.Namespace(cfg.Env), opts.Log)
	srv, err := httpapi.NewServer(httpapi.Deps{Config: cfg, Store: st, Logger: log, Version: opts.Version, Metrics: m})
	if err != nil {
		pool.Close()
		return nil, err
	}
	fn := New(srv, st, log, cfg.RequestTimeout)
	fn.masterURL = env.MasterURL
	fn.proxyLogin = env.ProxyLogin
	fn.proxyRetiring = env.ProxyRetiring
	fn.restrictedDB = env.Password != nil
	fn.fanout = newFanout(st, opts.Getenv, log)
	total := time.Since(start)
	log.Info("lambda init",
		"env", cfg.Env, "version", opts.Version, "pool_max", cfg.DBPoolMax, "db_user", env.AppUser,
		"app_secret_version", opts.Getenv("APP_SECRET_VERSION"),
		"secrets_fetched", len(env.Fetched), "secrets_ms", ms(env.Took),
		"init_ms", ms(total), "init_without_secrets_ms", ms(total-env.Took))
	return fn, nil
}

// Run is the Lambda process: Init, then the runtime loop (lambda.Start). It returns
// only when init fails; the runtime loop ends the process itself.
func Run(ctx context.Context, opts Options) error {
	fn, err := Init(ctx, opts)
	if err != nil {
		return err
	}
	lambda.StartWithOptions(fn.Invoke, lambda.WithContext(ctx))
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
