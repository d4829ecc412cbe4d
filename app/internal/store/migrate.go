package store

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/miyabi/miyabi/migrations"
)

// Migrate applies every pending migration over the pool's connection settings.
func Migrate(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger) error {
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	return MigrateDB(ctx, db, log)
}

// MigrateDB applies every pending migration on db.
func MigrateDB(ctx context.Context, db *sql.DB, log *slog.Logger) error {
	return MigrateFS(ctx, db, migrations.FS, log)
}

// MigrateFS applies the migrations of fsys on db (tests pass a broken set). goose holds
// a session advisory lock for the whole run, so two migrate invocations at once (a
// retried deploy) apply each migration once: the second waits, then finds nothing to do.
func MigrateFS(ctx context.Context, db *sql.DB, fsys fs.FS, log *slog.Logger) error {
	p, err := newProviderFS(db, fsys)
	if err != nil {
		return err
	}
	results, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("migrate up: %w", err)
	}
	for _, r := range results {
		log.Info("migration applied", "version", r.Source.Version, "file", r.Source.Path, "duration", r.Duration)
	}
	return nil
}

// MigrateDownAll rolls every migration back (tests prove each Down works).
func MigrateDownAll(ctx context.Context, db *sql.DB) error {
	p, err := newProvider(db)
	if err != nil {
		return err
	}
	if _, err := p.DownTo(ctx, 0); err != nil {
		return fmt.Errorf("migrate down: %w", err)
	}
	return nil
}

func newProvider(db *sql.DB) (*goose.Provider, error) { return newProviderFS(db, migrations.FS) }

func newProviderFS(db *sql.DB, fsys fs.FS) (*goose.Provider, error) {
	// Waits up to 5 minutes for another migrate run to finish, probing every 2 s.
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(2, 150))
	if err != nil {
		return nil, fmt.Errorf("migrations: lock: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, fsys, goose.WithSessionLocker(locker))
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	return p, nil
}
