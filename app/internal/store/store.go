// Package store is Miyabi's data access: hand-written SQL over a pgx pool, one file per
// aggregate. Every tenant query takes the organization id; the store knows nothing of HTTP.
package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Store is the database behind the API. Its pool is its own: everything that reads or
// writes goes through a method, in one transaction style (inTx).
type Store struct {
	pool *pgxpool.Pool
}

// New wraps an open pool (OpenPool's, or a test's).
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

// PoolStats is the pool's state, for the health route and the operators' figures: its
// connections now, and its cumulative acquisition counters.
type PoolStats struct {
	Total, Idle, Acquired, Max int32
	Acquires                   int64         // acquisitions since the pool opened
	EmptyAcquires              int64         // acquisitions that found no idle connection and waited
	CanceledAcquires           int64         // acquisitions given up (the request deadline) while waiting
	AcquireTime                time.Duration // total time spent acquiring
}

// Stats reports the pool's connections and counters.
func (s *Store) Stats() PoolStats {
	st := s.pool.Stat()
	return PoolStats{Total: st.TotalConns(), Idle: st.IdleConns(), Acquired: st.AcquiredConns(), Max: st.MaxConns(),
		Acquires: st.AcquireCount(), EmptyAcquires: st.EmptyAcquireCount(), CanceledAcquires: st.CanceledAcquireCount(),
		AcquireTime: st.AcquireDuration()}
}

// Migrate applies the embedded migrations (goose, under an advisory lock).
func (s *Store) Migrate(ctx context.Context, log *slog.Logger) error {
	return Migrate(ctx, s.pool, log)
}

// OpenPool creates a pool that connects lazily: creating it never touches the network,
// so a server (or a Lambda init) starts even when the database is briefly away. Options
// (dbauth.go) adjust it: per-connection credentials, migration timeouts.
func OpenPool(ctx context.Context, databaseURL string, maxConns int32, opts ...PoolOption) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	cfg.MaxConns = maxConns
	cfg.MinConns = 0
	cfg.MaxConnIdleTime = 5 * time.Minute
	cfg.HealthCheckPeriod = 15 * time.Second
	cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	if cfg.ConnConfig.RuntimeParams == nil {
		cfg.ConnConfig.RuntimeParams = map[string]string{}
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = "miyabi"
	// A statement that runs away must not hold a connection past any request's life.
	cfg.ConnConfig.RuntimeParams["statement_timeout"] = "20000"
	cfg.ConnConfig.RuntimeParams["idle_in_transaction_session_timeout"] = "30000"
	cfg.AfterConnect = RegisterTypes
	for _, o := range opts {
		o(cfg)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("create pool: %w", err)
	}
	return pool, nil
}

// Ping measures one round trip to the database.
func (s *Store) Ping(ctx context.Context) (time.Duration, error) {
	start := time.Now()
	var one int
	if err := s.pool.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// inTx runs fn in a transaction, committing when it returns nil and rolling back
// otherwise: the store's one transaction style.
func (s *Store) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return s.inTxWith(ctx, pgx.TxOptions{}, fn)
}

// readSnapshot is a read-only transaction whose reads all see one snapshot.
var readSnapshot = pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}

// inTxWith is inTx with transaction options.
func (s *Store) inTxWith(ctx context.Context, opts pgx.TxOptions, fn func(tx pgx.Tx) error) error {
	return pgx.BeginTxFunc(ctx, s.pool, opts, fn)
}

// Unique and foreign-key violations are client mistakes, not server faults.
const (
	pgUniqueViolation     = "23505"
	pgForeignKeyViolation = "23503"
	pgCheckViolation      = "23514"
	pgUndefinedFunction   = "42883"
)

// constraintName returns the violated constraint of a PostgreSQL error with the given code.
func constraintName(err error, code string) (string, bool) {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == code {
		return pgErr.ConstraintName, true
	}
	return "", false
}
