package store_test

import (
	"context"
	"database/sql"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/miyabi/miyabi/app/internal/perm"
	"github.com/miyabi/miyabi/app/internal/store"
	"github.com/miyabi/miyabi/app/internal/testdb"
)

func TestMigrationsUpDownUp(t *testing.T) {
	ctx := context.Background()
	db, err := sql.Open("pgx", testdb.Empty(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	log := slog.New(slog.DiscardHandler)
	countTables := func() int {
		var n int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'goose_db_version'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if err := store.MigrateDB(ctx, db, log); err != nil {
		t.Fatalf("up: %v", err)
	}
	up := countTables()
	if up < 20 {
		t.Fatalf("after up: %d tables, want the whole schema", up)
	}
	if err := store.MigrateDownAll(ctx, db); err != nil {
		t.Fatalf("down: %v", err)
	}
	if n := countTables(); n != 0 {
		t.Fatalf("after down: %d tables left", n)
	}
	var types int
	_ = db.QueryRowContext(ctx, `SELECT count(*) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = 'public' AND t.typtype = 'e'`).Scan(&types)
	if types != 0 {
		t.Fatalf("after down: %d enum types left", types)
	}
	if err := store.MigrateDB(ctx, db, log); err != nil {
		t.Fatalf("up again: %v", err)
	}
	if n := countTables(); n != up {
		t.Fatalf("up again: %d tables, want %d", n, up)
	}
}

// The seed is the contract of api.md: 29 permissions and what each role holds (the
// audit trail, migration 00011, is for owners and admins only, not viewers;
// notifications.manage, migration 00015, for owners and admins).
func TestSeededRolesMatchTheContract(t *testing.T) {
	pool := testdb.Pool(t)
	ctx := context.Background()
	all := []string{
		"repositories.read", "repositories.write", "repositories.delete", "repositories.manage",
		"agents.read", "agents.execute", "agents.stop", "agents.manage",
		"workflows.read", "workflows.create", "workflows.update", "workflows.delete", "workflows.execute",
		"tasks.read", "tasks.create", "tasks.update", "tasks.delete", "tasks.assign",
		"organization.read", "organization.update", "organization.delete", "organization.members.read", "organization.members.manage",
		"teams.read", "teams.create", "teams.update", "teams.delete",
		"notifications.manage", // migration 00015
		"organization.audit.read",
	}
	without := func(list []string, drop ...string) []string {
		return slices.DeleteFunc(slices.Clone(list), func(p string) bool { return slices.Contains(drop, p) })
	}
	var reads []string
	for _, p := range all {
		if strings.HasSuffix(p, ".read") && p != "organization.audit.read" {
			reads = append(reads, p)
		}
	}
	want := map[string][]string{
		"org:owner": all,
		"org:admin": without(all, "organization.delete"),
		"org:member": {"repositories.read", "repositories.write", "agents.read", "agents.execute", "agents.stop",
			"workflows.read", "workflows.create", "workflows.update", "workflows.execute",
			"tasks.read", "tasks.create", "tasks.update", "organization.read", "organization.members.read", "teams.read"},
		"org:viewer": reads,
	}
	rows, err := pool.Query(ctx, `SELECT name FROM permissions ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var n string
		_ = rows.Scan(&n)
		got = append(got, n)
	}
	sorted := slices.Clone(all)
	sort.Strings(sorted)
	// the typed constants routes are declared with are exactly the seeded permissions
	var typed []string
	for _, p := range perm.All {
		typed = append(typed, string(p))
	}
	sort.Strings(typed)
	if !slices.Equal(typed, got) {
		t.Errorf("perm.All %v, seeded %v", typed, got)
	}
	if !slices.Equal(got, sorted) {
		t.Fatalf("permissions:\n got %v\nwant %v", got, sorted)
	}
	for role, perms := range want {
		var have []string
		if err := pool.QueryRow(ctx, `SELECT coalesce(array_agg(permission_name ORDER BY permission_name), '{}') FROM role_permissions WHERE role_name = $1`, role).Scan(&have); err != nil {
			t.Fatal(err)
		}
		w := slices.Clone(perms)
		sort.Strings(w)
		if !slices.Equal(have, w) {
			t.Errorf("%s:\n got %v\nwant %v", role, have, w)
		}
	}
	for _, role := range []string{"team:lead", "team:member"} {
		var n int
		_ = pool.QueryRow(ctx, `SELECT count(*) FROM role_permissions WHERE role_name = $1`, role).Scan(&n)
		if n == 0 {
			t.Errorf("%s has no permissions", role)
		}
	}
}

func TestDatabaseRefusesTaskDependencyCycle(t *testing.T) {
	pool := testdb.Pool(t)
	ctx := context.Background()
	var org string
	if err := pool.QueryRow(ctx, `INSERT INTO organizations (name, slug) VALUES ('o', 'o') RETURNING id`).Scan(&org); err != nil {
		t.Fatal(err)
	}
	ids := make([]string, 3)
	for i := range ids {
		if err := pool.QueryRow(ctx, `INSERT INTO tasks (organization_id, name) VALUES ($1, $2) RETURNING id`, org, "t").Scan(&ids[i]); err != nil {
			t.Fatal(err)
		}
	}
	// a -> b -> c is fine
	for _, e := range [][2]string{{ids[0], ids[1]}, {ids[1], ids[2]}} {
		if _, err := pool.Exec(ctx, `INSERT INTO task_dependencies (task_id, depends_on_task_id) VALUES ($1, $2)`, e[0], e[1]); err != nil {
			t.Fatalf("acyclic edge refused: %v", err)
		}
	}
	// c -> a closes the cycle; a -> a is a cycle of one
	for _, e := range [][2]string{{ids[2], ids[0]}, {ids[0], ids[0]}} {
		_, err := pool.Exec(ctx, `INSERT INTO task_dependencies (task_id, depends_on_task_id) VALUES ($1, $2)`, e[0], e[1])
		var pgErr *pgconn.PgError
		if err == nil || !errorsAs(err, &pgErr) || pgErr.Code != "23514" {
			t.Fatalf("cycle %v accepted or wrong error: %v", e, err)
		}
	}
	var n int
	_ = pool.QueryRow(ctx, `SELECT count(*) FROM task_dependencies`).Scan(&n)
	if n != 2 {
		t.Fatalf("%d edges, want 2", n)
	}
}
