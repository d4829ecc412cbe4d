package store

import (
	"context"
	"log/slog"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/miyabi/miyabi/app/internal/domain"
)

// PoolOption adjusts a pool's configuration before it is created.
type PoolOption func(*pgxpool.Config)

// PasswordFunc returns the password for one new connection as user to host:port. On
// AWS it builds an RDS IAM authentication token (valid 15 minutes, checked only when a
// connection opens), so no password lives in the process long enough to go stale.
type PasswordFunc func(ctx context.Context, host string, port uint16, user string) (string, error)

// WithPasswordFunc asks fn for the password of every new connection (pgx BeforeConnect):
// a pool that reconnects after an idle period gets fresh credentials. When fn fails the
// connection is not attempted; the caller gets an unavailable error (503 from the API)
// and the log says why, and the next connection asks again.
func WithPasswordFunc(fn PasswordFunc, log *slog.Logger) PoolOption {
	return func(cfg *pgxpool.Config) {
		cfg.BeforeConnect = func(ctx context.Context, cc *pgx.ConnConfig) error {
			pw, err := fn(ctx, cc.Host, cc.Port, cc.User)
			if err != nil {
				log.ErrorContext(ctx, "database credentials unavailable: no connection attempted",
					"user", cc.User, "host", cc.Host, "error", err)
				return &domain.Error{Code: domain.CodeUnavailable, Message: "The database is unavailable; try again shortly.", Err: err}
			}
			cc.Password = pw
			return nil
		}
	}
}

// ForMigrations lifts the API's statement timeout: a migration may rewrite a large
// table, bounded by the migrate function's own timeout instead.
func ForMigrations() PoolOption {
	return func(cfg *pgxpool.Config) {
		cfg.ConnConfig.RuntimeParams["statement_timeout"] = "0"
		cfg.ConnConfig.RuntimeParams["application_name"] = "miyabi-migrate"
		// idle_session_timeout (set on RDS to reap frozen Lambda environments' connections)
		// must not end the session that holds goose's lock between statements.
		cfg.ConnConfig.RuntimeParams["idle_session_timeout"] = "0"
	}
}
