// Package testdb gives each test a fresh, migrated PostgreSQL database: pgtestdb clones
// a template built once from the embedded migrations (~0.2 s a test). The cluster is the
// throwaway one `make test` starts (scripts/pg.sh); its URL comes from
// MIYABI_TEST_DATABASE_URL. No database means a failed test, never a skip.
//
// The roles are those of a deployment: the migrations run as OwnerRole (like the RDS
// master user: it owns the tables and may create roles, but is no superuser), and the
// API connects as AppRole, the least-privilege role migration 00009 creates. A table a
// migration forgets to grant fails the tests that touch it.
package testdb

import (
	"context"
	"database/sql"
	"fmt"
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

// The roles tests use; AppRole is created by the migrations.
const (
	OwnerRole = "miyabi_owner"
	AppRole   = "miyabi_app"
)

// AdminConfig is the pgtestdb configuration of the test cluster: databases are created
// for and migrated by OwnerRole.
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
		TestRole: &pgtestdb.Role{Username: OwnerRole, Password: "miyabi-owner-test", Capabilities: "NOSUPERUSER NOCREATEDB CREATEROLE"},
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

// URL returns the connection URL of a fresh migrated database, dropped after the test,
// as the API connects to it: as AppRole.
func URL(t testing.TB) string {
	t.Helper()
	return AsApp(OwnerURL(t))
}

// OwnerURL returns the connection URL of a fresh migrated database as its owner, for
// tests that change the schema or roles (as the migrate action does).
func OwnerURL(t testing.TB) string {
	t.Helper()
	return pgtestdb.Custom(t, AdminConfig(t), migrator{}).URL()
}

// AsApp is databaseURL with the user switched to AppRole. The test cluster trusts
// loopback connections, so no password is needed (tests that check passwords run a
// cluster of their own).
func AsApp(databaseURL string) string {
	u, err := url.Parse(databaseURL)
	if err != nil {
		panic(fmt.Sprintf("testdb: %v", err))
	}
	u.User = url.User(AppRole)
	return u.String()
}

// New returns a store over a fresh migrated database, connected as AppRole.
func New(t testing.TB) *store.Store {
	t.Helper()
	return store.New(Pool(t))
}

// Pool returns a pool over a fresh migrated database, dropped after the test: for a store
// (store.New) and for tests that set up rows the API cannot create.
func Pool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	return PoolAt(t, URL(t))
}

// PoolAt opens a pool on databaseURL as the server's pool does (its types registered),
// closed after the test: the API's pool over AsApp(OwnerURL(t)) when a test also needs
// the owner (to change what the API's role cannot).
func PoolAt(t testing.TB, databaseURL string) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(databaseURL)
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
