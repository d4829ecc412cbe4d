package store_test

import (
	"context"
	"database/sql"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/miyabi/miyabi/app/internal/store"
	"github.com/miyabi/miyabi/app/internal/testdb"
	"github.com/miyabi/miyabi/migrations"
)

// migrationsUpTo is the embedded set cut after version n.
func migrationsUpTo(t *testing.T, n string) fstest.MapFS {
	t.Helper()
	out := fstest.MapFS{}
	entries, err := fs.ReadDir(migrations.FS, ".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".sql") || e.Name()[:5] > n {
			continue
		}
		b, _ := fs.ReadFile(migrations.FS, e.Name())
		out[e.Name()] = &fstest.MapFile{Data: b}
	}
	return out
}

func columns(t *testing.T, db *sql.DB) string {
	t.Helper()
	rows, err := db.Query(`SELECT table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable FROM information_schema.columns
		WHERE table_schema = 'public' AND table_name <> 'goose_db_version' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var all []string
	for rows.Next() {
		var c string
		rows.Scan(&c)
		all = append(all, c)
	}
	return strings.Join(all, "\n")
}

// Old code on the new schema: the version before 00009 connected as the master user to
// the same tables; 00009 adds a role and grants and changes no table or column, so the
// previous version keeps working while it serves (until the alias moves, or after a
// rollback).
func TestMigration00009KeepsTheSchema(t *testing.T) {
	ctx := context.Background()
	db, err := sql.Open("pgx", testdb.Empty(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	log := slog.New(slog.DiscardHandler)
	if err := store.MigrateFS(ctx, db, migrationsUpTo(t, "00008"), log); err != nil {
		t.Fatal(err)
	}
	before := columns(t, db)
	if err := store.MigrateFS(ctx, db, migrationsUpTo(t, "00009"), log); err != nil {
		t.Fatal(err)
	}
	if after := columns(t, db); after != before {
		t.Fatalf("00009 changed the schema the previous version reads")
	}
	// and the owner (what the previous version connected as) still writes every table
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM pg_tables WHERE schemaname = 'public'
		AND NOT has_table_privilege(current_user, format('%I.%I', schemaname, tablename), 'INSERT,UPDATE,DELETE')`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d tables the owner can no longer write (%v)", n, err)
	}
}

// The API's role has DML on every application table, no DDL, no migration bookkeeping;
// a table created by a later migration is granted automatically.
func TestAppRoleIsLeastPrivilege(t *testing.T) {
	ctx := context.Background()
	owner, err := pgxpool.New(ctx, testdb.OwnerURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	app, err := pgxpool.New(ctx, testdb.AsApp(owner.Config().ConnString()))
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	var user string
	var super, createRole, createDB bool
	if err := app.QueryRow(ctx, `SELECT current_user, rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = current_user`).Scan(&user, &super, &createRole, &createDB); err != nil {
		t.Fatal(err)
	}
	if user != "miyabi_app" || super || createRole || createDB {
		t.Fatalf("%s super=%v createrole=%v createdb=%v", user, super, createRole, createDB)
	}
	var missing []string
	rows, _ := app.Query(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = 'public'
		AND tablename <> 'goose_db_version' AND NOT has_table_privilege(format('%I.%I', schemaname, tablename), 'SELECT,INSERT,UPDATE,DELETE')`)
	for rows.Next() {
		var n string
		rows.Scan(&n)
		missing = append(missing, n)
	}
	rows.Close()
	if len(missing) > 0 {
		t.Fatalf("the app role lacks DML on %v", missing)
	}
	for _, stmt := range []string{
		`CREATE TABLE intruder (id int)`,
		`ALTER TABLE users ADD COLUMN intruder int`,
		`DROP TABLE tasks`,
		`TRUNCATE users`,
		`DELETE FROM goose_db_version`,
		`CREATE ROLE intruder`,
	} {
		if _, err := app.Exec(ctx, stmt); err == nil {
			t.Errorf("the app role could run %s", stmt)
		}
	}
	// A later migration's table (run by the owner) is the app's to use at once.
	if _, err := owner.Exec(ctx, `CREATE TABLE later_feature (id bigserial PRIMARY KEY, note text)`); err != nil {
		t.Fatal(err)
	}
	if _, err := app.Exec(ctx, `INSERT INTO later_feature (note) VALUES ('granted by default privileges')`); err != nil {
		t.Fatalf("a table created after 00009 is not granted: %v", err)
	}
}

// A broken migration fails with its file and the database's error, applies nothing of
// itself, and releases the lock: the next run (fixed) goes through. Two runs at once
// apply each migration once.
func TestMigrateBrokenAndConcurrent(t *testing.T) {
	ctx := context.Background()
	url := testdb.Empty(t)
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	log := slog.New(slog.DiscardHandler)

	dir := t.TempDir()
	good := migrationsUpTo(t, "99999")
	for name, f := range good {
		if err := os.WriteFile(filepath.Join(dir, name), f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	broken := "-- +goose Up\nALTER TABLE users ADD COLUMN half_done int;\nALTER TABLE no_such_table ADD COLUMN x int;\n-- +goose Down\n"
	if err := os.WriteFile(filepath.Join(dir, "99990_broken.sql"), []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	err = store.MigrateFS(ctx, db, os.DirFS(dir), log)
	if err == nil || !strings.Contains(err.Error(), "99990") || !strings.Contains(err.Error(), "no_such_table") {
		t.Fatalf("err = %v, want the migration's version and the database's error", err)
	}
	var half bool
	db.QueryRow(`SELECT EXISTS (SELECT FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'half_done')`).Scan(&half)
	if half {
		t.Fatal("the broken migration left half of itself applied")
	}
	if err := os.Remove(filepath.Join(dir, "99990_broken.sql")); err != nil {
		t.Fatal(err)
	}

	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Go(func() {
			d, err := sql.Open("pgx", url)
			if err != nil {
				errs[i] = err
				return
			}
			defer d.Close()
			errs[i] = store.MigrateFS(ctx, d, os.DirFS(dir), log)
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatalf("a concurrent run failed: %v", err)
		}
	}
	var dup int
	db.QueryRow(`SELECT count(*) FROM (SELECT version_id FROM goose_db_version WHERE is_applied GROUP BY version_id HAVING count(*) > 1) d`).Scan(&dup)
	if dup != 0 {
		t.Fatalf("%d migrations applied twice", dup)
	}
}

// The pool every store and API test uses (testdb.Pool, behind testdb.New and
// apitest.Env.DB) connects as the API does on AWS, so a missing grant fails a test.
func TestTestPoolsConnectAsTheAppRole(t *testing.T) {
	var user string
	if err := testdb.Pool(t).QueryRow(context.Background(), `SELECT current_user`).Scan(&user); err != nil {
		t.Fatal(err)
	}
	if user != testdb.AppRole {
		t.Fatalf("testdb.Pool connects as %s, not %s", user, testdb.AppRole)
	}
}
