// Package testdb gives each test a fresh, migrated PostgreSQL database: pgtestdb clones
// a template built once from the embedded migrations (~0.2 s a test). The cluster is the
// throwaway one `make test` starts (scripts/pg.sh); its URL comes from
// MIYABI_TEST_DATABASE_URL. No database means a failed test, never a skip.
package testdb

import (
	"context"
	"database/sql"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver pgtestdb uses
	"github.com/peterldowns/pgtestdb"
	"github.com/peterldowns/pgtestdb/migrators/common"

	"github.com/miyabi/miyabi/app/internal/store"
	"github.com/miyabi/miyabi/migrations"
)

// DefaultURL is the cluster scripts/pg.sh starts.
const DefaultURL = "postgres://postgres@127.0.0.1:54329/postgres?sslmode=disable"

// AdminConfig is the pgtestdb configuration of the test cluster.
func AdminConfig(t testing.TB) pgtestdb.Config {
	raw := os.Getenv("MIYABI_TEST_DATABASE_URL")
	if raw == "" {
		raw = DefaultURL
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("MIYABI_TEST_DATABASE_URL: %v", err)
	}
	pw, _ := u.User.Password()
	return pgtestdb.Config{
		DriverName: "pgx", Host: u.Hostname(), Port: u.Port(), User: u.User.Username(), Password: pw,
		Database: "postgres", Options: "sslmode=disable", ForceTerminateConnections: true,
	}
}

type migrator struct{}

func (migrator) Hash() (string, error) {
	return common.HashDirs(migrations.FS, "*.sql", ".")
}

func (migrator) Migrate(ctx context.Context, db *sql.DB, _ pgtestdb.Config) error {
	return store.MigrateDB(ctx, db, slog.New(slog.DiscardHandler))
}

var _ fs.FS = migrations.FS

// URL returns the connection URL of a fresh migrated database, dropped after the test.
func URL(t testing.TB) string {
	t.Helper()
	conf := pgtestdb.Custom(t, AdminConfig(t), migrator{})
	return conf.URL()
}

// New returns a store over a fresh migrated database.
func New(t testing.TB) *store.Store {
	t.Helper()
	return store.New(Pool(t))
}

// Pool returns a pool over a fresh migrated database, dropped after the test: for a store
// (store.New) and for tests that set up rows the API cannot create.
func Pool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(URL(t))
	if err != nil {
		t.Fatalf("test database url: %v", err)
	}
	cfg.AfterConnect = store.RegisterTypes // as the server's pool does
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// Empty returns the URL of a fresh database without any migration applied.
func Empty(t testing.TB) string {
	t.Helper()
	return pgtestdb.Custom(t, AdminConfig(t), pgtestdb.NoopMigrator{}).URL()
}
