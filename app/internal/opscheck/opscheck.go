// Package opscheck is the operators' deep health check: the database and its pool, the
// migrations at the version this binary expects, the secrets loaded, and the sweeper's
// last run. The public /health says only up or down; this says what is wrong. It serves
// GET /api/v1/ops/health (operators only) and the Lambda's {"action":"health"}, which an
// operator can invoke with IAM credentials when signing in is what broke.
package opscheck

import (
	"context"
	"time"

	"github.com/miyabi/miyabi/app/internal/config"
	"github.com/miyabi/miyabi/app/internal/store"
)

// Check statuses.
const (
	OK       = "ok"
	Degraded = "degraded"
)

// Report is the whole check; Status is degraded when any part is not ok.
type Report struct {
	Status     string     `json:"status" enum:"ok,degraded"`
	Version    string     `json:"version"`
	CheckedAt  time.Time  `json:"checked_at"`
	Database   Database   `json:"database"`
	Migrations Migrations `json:"migrations"`
	Secrets    Secrets    `json:"secrets"`
	Sweeper    Sweeper    `json:"sweeper"`
}

// Database is reachability, round trip and the pool.
type Database struct {
	Status    string  `json:"status" enum:"ok,down"`
	LatencyMS float64 `json:"latency_ms"`
	Error     string  `json:"error,omitempty"`
	PoolInUse int32   `json:"pool_in_use"`
	PoolTotal int32   `json:"pool_total"`
	PoolMax   int32   `json:"pool_max"`
	// PoolWaits counts acquisitions that found no free connection (since start).
	PoolWaits int64 `json:"pool_waits"`
}

// Migrations compares the database with the binary. "ahead" is fine for one release:
// the previous version keeps serving while a new one migrated (expand, then contract).
type Migrations struct {
	Status   string `json:"status" enum:"ok,behind,ahead,unknown"`
	Current  int64  `json:"current"`
	Expected int64  `json:"expected"`
	Error    string `json:"error,omitempty"`
}

// Secrets says which keys the process holds (never their values).
type Secrets struct {
	Status             string `json:"status" enum:"ok,missing"`
	JWTSigningKey      bool   `json:"jwt_signing_key"`
	TokenEncryptionKey bool   `json:"token_encryption_key"`
	GitHubClientSecret bool   `json:"github_client_secret"`
	OriginVerifySecret bool   `json:"origin_verify_secret" doc:"Loaded, or not required"`
}

// Sweeper is the last sweep's record.
type Sweeper struct {
	Status     string     `json:"status" enum:"ok,stale,never,failed,unknown"`
	LastRunAt  *time.Time `json:"last_run_at,omitempty"`
	AgeSeconds float64    `json:"age_seconds"`
	Requeued   int        `json:"requeued"`
	Error      string     `json:"error,omitempty"`
	// StaleAfter is how old the last run may be: three missed sweeps, at least 3 minutes
	// (the AWS schedule runs every minute).
	StaleAfterSeconds float64 `json:"stale_after_seconds"`
}

// Run checks everything, each part bounded by ctx.
func Run(ctx context.Context, cfg config.Config, st *store.Store, version string) Report {
	r := Report{Version: version, CheckedAt: time.Now().UTC()}

	ps := st.Stats()
	r.Database = Database{PoolInUse: ps.Acquired, PoolTotal: ps.Total, PoolMax: ps.Max, PoolWaits: ps.EmptyAcquires}
	if latency, err := st.Ping(ctx); err != nil {
		r.Database.Status, r.Database.Error = "down", "the database did not answer: "+err.Error()
	} else {
		r.Database.Status, r.Database.LatencyMS = OK, float64(latency.Microseconds())/1000
	}

	current, expected, err := st.MigrationVersions(ctx)
	r.Migrations = Migrations{Current: current, Expected: expected}
	switch {
	case err != nil:
		r.Migrations.Status, r.Migrations.Error = "unknown", err.Error()
	case current < expected:
		r.Migrations.Status = "behind"
	case current > expected:
		r.Migrations.Status = "ahead"
	default:
		r.Migrations.Status = OK
	}

	r.Secrets = Secrets{
		JWTSigningKey: len(cfg.JWTSigningKey) >= 32, TokenEncryptionKey: len(cfg.TokenEncryptionKey) == 32,
		GitHubClientSecret: cfg.GitHubClientSecret != "", OriginVerifySecret: !cfg.RequireOriginSecret || cfg.OriginVerifySecret != "",
	}
	r.Secrets.Status = OK
	if !r.Secrets.JWTSigningKey || !r.Secrets.TokenEncryptionKey || !r.Secrets.GitHubClientSecret || !r.Secrets.OriginVerifySecret {
		r.Secrets.Status = "missing"
	}

	staleAfter := max(3*cfg.SweepInterval, 3*time.Minute)
	r.Sweeper = Sweeper{StaleAfterSeconds: staleAfter.Seconds()}
	run, ok, err := st.LastSweep(ctx)
	switch {
	case err != nil:
		r.Sweeper.Status, r.Sweeper.Error = "unknown", err.Error()
	case !ok:
		r.Sweeper.Status = "never"
	default:
		at := run.LastRunAt.UTC()
		r.Sweeper.LastRunAt, r.Sweeper.Requeued = &at, run.Requeued
		r.Sweeper.AgeSeconds = float64(time.Since(at).Milliseconds()) / 1000
		switch {
		case run.LastError != nil:
			r.Sweeper.Status, r.Sweeper.Error = "failed", *run.LastError
		case time.Since(at) > staleAfter:
			r.Sweeper.Status = "stale"
		default:
			r.Sweeper.Status = OK
		}
	}

	r.Status = OK
	if r.Database.Status != OK || (r.Migrations.Status != OK && r.Migrations.Status != "ahead") ||
		r.Secrets.Status != OK || r.Sweeper.Status != OK {
		r.Status = Degraded
	}
	return r
}
