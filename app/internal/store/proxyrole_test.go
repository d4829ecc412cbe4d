package store_test

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/miyabi/miyabi/app/internal/store"
	"github.com/miyabi/miyabi/app/internal/testdb"
)

const proxyPassword = "Proxy0Login0Password0For0Tests0123456789abcdef"

// privilegesOf lists what a role may do in the current database, asked the way the server
// checks it (has_*_privilege), so the comparison does not trust the code under test's own
// reading of the ACLs.
func privilegesOf(t *testing.T, pool *pgxpool.Pool, role string) []string {
	t.Helper()
	rows, err := pool.Query(context.Background(), `
		SELECT 'table ' || c.oid::regclass || ' ' || p FROM pg_class c
		  CROSS JOIN unnest(ARRAY['SELECT','INSERT','UPDATE','DELETE','TRUNCATE','REFERENCES','TRIGGER']) p
		 WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r','p','v','m') AND has_table_privilege($1, c.oid, p)
		UNION ALL
		SELECT 'sequence ' || c.oid::regclass || ' ' || p FROM pg_class c
		  CROSS JOIN unnest(ARRAY['USAGE','SELECT','UPDATE']) p
		 WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'S' AND has_sequence_privilege($1, c.oid, p)
		UNION ALL
		SELECT 'function ' || f.oid::regprocedure FROM pg_proc f
		 WHERE f.pronamespace = 'public'::regnamespace AND has_function_privilege($1, f.oid, 'EXECUTE')
		UNION ALL
		SELECT 'schema public ' || p FROM unnest(ARRAY['USAGE','CREATE']) p WHERE has_schema_privilege($1, 'public', p)
		UNION ALL
		SELECT 'database ' || p FROM unnest(ARRAY['CONNECT','CREATE','TEMPORARY']) p WHERE has_database_privilege($1, current_database(), p)
		ORDER BY 1`, role)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// waitNoSessions waits until the server has no session of role: a backend leaves
// pg_stat_activity shortly after its client closed the connection, not at once.
func waitNoSessions(t *testing.T, pool *pgxpool.Pool, role string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var n int
		if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity WHERE usename = $1`, role).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d sessions of %s still open", n, role)
		}
	}
}

func asUser(t *testing.T, databaseURL, user string) string {
	t.Helper()
	u, err := url.Parse(databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.User(user)
	return u.String()
}

// The migrate action's proxy step, as the RDS master would run it (the test owner role:
// CREATEROLE, no superuser): the role is created with no dangerous attribute and member of
// nothing, it gets exactly miyabi_app's privileges (extras revoked, memberships removed,
// grant options dropped), a second run changes nothing, and a stack without a proxy
// switches the login off.
func TestEnsureProxyRole(t *testing.T) {
	ctx := context.Background()
	ownerURL := testdb.OwnerURL(t)
	owner := testdb.PoolAt(t, ownerURL)

	if _, err := store.EnsureProxyRole(ctx, owner, "miyabi_admin", proxyPassword); err == nil || !strings.Contains(err.Error(), "only miyabi_proxy") {
		t.Fatalf("another user in the secret: %v, want it refused", err)
	}
	if _, err := store.EnsureProxyRole(ctx, owner, store.ProxyRole, "short"); err == nil {
		t.Fatal("a short password was accepted")
	}
	if _, err := store.EnsureProxyRole(ctx, owner, store.ProxyRole, strings.Repeat("x", 20)+" "+strings.Repeat("y", 20)); err == nil {
		t.Fatal("a password with a space was accepted")
	}

	first, err := store.EnsureProxyRole(ctx, owner, store.ProxyRole, proxyPassword)
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Grants) == 0 {
		t.Fatalf("no grants on the first run: %+v", first)
	}
	var super, createDB, createRole, replication, bypass, login bool
	if err := owner.QueryRow(ctx, `SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls, rolcanlogin FROM pg_roles WHERE rolname = $1`, store.ProxyRole).
		Scan(&super, &createDB, &createRole, &replication, &bypass, &login); err != nil {
		t.Fatal(err)
	}
	if super || createDB || createRole || replication || bypass || !login {
		t.Fatalf("miyabi_proxy: super=%v createdb=%v createrole=%v replication=%v bypassrls=%v login=%v", super, createDB, createRole, replication, bypass, login)
	}
	app := privilegesOf(t, owner, "miyabi_app")
	if got := privilegesOf(t, owner, store.ProxyRole); !slices.Equal(got, app) {
		t.Fatalf("miyabi_proxy may:\n%s\nmiyabi_app may:\n%s", strings.Join(got, "\n"), strings.Join(app, "\n"))
	}
	for _, want := range []string{"table users SELECT", "table audit_events INSERT", "function schema_version()"} {
		if !slices.Contains(app, want) {
			t.Errorf("miyabi_app lacks %q; the comparison would prove little", want)
		}
	}
	for _, never := range []string{"table goose_db_version SELECT", "table audit_events UPDATE", "schema public CREATE", "database CREATE"} {
		if slices.Contains(app, never) {
			t.Errorf("miyabi_app may %s", never)
		}
	}

	// Drift: a grant too many, a grant option, a membership. The next run undoes them.
	for _, sql := range []string{
		`GRANT SELECT ON goose_db_version TO miyabi_proxy`,
		`GRANT UPDATE, DELETE ON audit_events TO miyabi_proxy`,
		`GRANT SELECT ON users TO miyabi_proxy WITH GRANT OPTION`,
		`GRANT miyabi_app TO miyabi_proxy`,
	} {
		if _, err := owner.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	second, err := store.EnsureProxyRole(ctx, owner, store.ProxyRole, proxyPassword)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(second.MembershipsRevoked, []string{"miyabi_app"}) || len(second.Revokes) != 3 || len(second.Grants) != 1 {
		t.Fatalf("second run: %+v, want the membership and the three extras revoked, SELECT on users granted again without the option", second)
	}
	if got := privilegesOf(t, owner, store.ProxyRole); !slices.Equal(got, app) {
		t.Fatalf("after the drift was undone miyabi_proxy may:\n%s", strings.Join(got, "\n"))
	}
	var grantable bool
	if err := owner.QueryRow(ctx, `SELECT has_table_privilege('miyabi_proxy', 'users', 'SELECT WITH GRANT OPTION')`).Scan(&grantable); err != nil || grantable {
		t.Fatalf("miyabi_proxy keeps a grant option (%v)", err)
	}
	third, err := store.EnsureProxyRole(ctx, owner, store.ProxyRole, proxyPassword)
	if err != nil {
		t.Fatal(err)
	}
	if third.Created || len(third.Grants)+len(third.Revokes)+len(third.MembershipsRevoked) != 0 {
		t.Fatalf("a run with nothing to do changed %+v", third)
	}

	// As miyabi_proxy itself: the app's rows, no DDL, not the migrations' bookkeeping.
	proxy := testdb.PoolAt(t, asUser(t, ownerURL, store.ProxyRole))
	var n int
	if err := proxy.QueryRow(ctx, `SELECT count(*) FROM users`).Scan(&n); err != nil {
		t.Fatalf("miyabi_proxy cannot read users: %v", err)
	}
	for _, sql := range []string{`CREATE TABLE proxy_was_here (id int)`, `SELECT count(*) FROM goose_db_version`, `DELETE FROM audit_events`, `CREATE ROLE sneaky`} {
		if _, err := proxy.Exec(ctx, sql); err == nil || !strings.Contains(err.Error(), "permission denied") {
			t.Errorf("miyabi_proxy: %s: %v, want permission denied", sql, err)
		}
	}

	// A stack without the proxy, while a proxy still signs in as the role (the update that
	// removes the proxy deletes it at its end, after the alias moved): the login stays,
	// and new sessions still sign in.
	if off, err := store.DisableProxyRole(ctx, owner); err != nil || off.SwitchedOff || off.Sessions < 1 {
		t.Fatalf("disable with a session of miyabi_proxy open: %+v (%v), want the login kept and the sessions counted", off, err)
	}
	again := testdb.PoolAt(t, asUser(t, ownerURL, store.ProxyRole))
	if err := again.Ping(ctx); err != nil {
		t.Fatalf("a new session of miyabi_proxy after a disable that kept the login: %v", err)
	}
	again.Close()
	proxy.Close()
	waitNoSessions(t, owner, store.ProxyRole)

	// The stack's proxy is gone: the login is switched off, once.
	if off, err := store.DisableProxyRole(ctx, owner); err != nil || !off.SwitchedOff || off.Sessions != 0 {
		t.Fatalf("disable: %+v %v", off, err)
	}
	if off, err := store.DisableProxyRole(ctx, owner); err != nil || off.SwitchedOff {
		t.Fatalf("disable again: %+v %v, want nothing to do", off, err)
	}
	conn, err := pgx.Connect(ctx, asUser(t, ownerURL, store.ProxyRole))
	if err == nil {
		conn.Close(ctx)
		t.Fatal("miyabi_proxy still logs in after it was switched off")
	}
	// and on again with the next run of a stack that has one
	if _, err := store.EnsureProxyRole(ctx, owner, store.ProxyRole, proxyPassword); err != nil {
		t.Fatal(err)
	}
	if err := owner.QueryRow(ctx, `SELECT rolcanlogin FROM pg_roles WHERE rolname = $1`, store.ProxyRole).Scan(&login); err != nil || !login {
		t.Fatalf("miyabi_proxy cannot log in after it was ensured again (%v)", err)
	}
	// leave the shared cluster without a login nobody uses
	t.Cleanup(func() { _, _ = store.DisableProxyRole(context.Background(), owner) })
}

// PostgreSQL 16 and later: REVOKE g FROM miyabi_proxy removes only the membership the
// current role granted; one another role granted stays, with a WARNING and no error.
// Production runs RDS PostgreSQL 16, these tests 15, whose REVOKE removes a membership
// whoever granted it. So the test keeps a real membership granted by another role and
// stands in 16's REVOKE for the statements EnsureProxyRole sends (a plain REVOKE does
// nothing; REVOKE ... GRANTED BY that role either fails as 16 fails when the migrate
// user may not act as it, or runs): the run must fail naming the membership and its
// grantor, or remove it with GRANTED BY, never report it revoked while it stays.
func TestEnsureProxyRoleMembershipAnotherRoleGranted(t *testing.T) {
	ctx := context.Background()
	ownerURL := testdb.OwnerURL(t)
	owner := testdb.PoolAt(t, ownerURL)
	exec := func(sql string) {
		t.Helper()
		if _, err := owner.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	if _, err := store.EnsureProxyRole(ctx, owner, store.ProxyRole, proxyPassword); err != nil {
		t.Fatal(err)
	}
	const grantor = "miyabi_proxy_test_grantor"
	exec(`CREATE ROLE ` + grantor + ` NOLOGIN`)
	t.Cleanup(func() {
		for _, sql := range []string{`REVOKE miyabi_app FROM miyabi_proxy`, `DROP ROLE ` + grantor} {
			if _, err := owner.Exec(context.Background(), sql); err != nil {
				t.Errorf("cleanup: %s: %v", sql, err)
			}
		}
		_, _ = store.DisableProxyRole(context.Background(), owner)
	})
	exec(`GRANT miyabi_app TO ` + grantor + ` WITH ADMIN OPTION`)
	exec(`GRANT ` + grantor + ` TO ` + testdb.OwnerRole)
	memberships := func() []string {
		t.Helper()
		rows, err := owner.Query(ctx, `SELECT m.roleid::regrole::text || ' granted by ' || m.grantor::regrole::text
			FROM pg_auth_members m WHERE m.member = 'miyabi_proxy'::regrole ORDER BY 1`)
		if err != nil {
			t.Fatal(err)
		}
		out, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	// granted by the other role, as it would be by a role other than the migrate user
	err := pgx.BeginFunc(ctx, owner, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `SET LOCAL ROLE `+grantor+`; GRANT miyabi_app TO miyabi_proxy`)
		return err
	})
	if want := []string{"miyabi_app granted by " + grantor}; err != nil || !slices.Equal(memberships(), want) {
		t.Fatalf("memberships %v (%v), want %v", memberships(), err, want)
	}

	var sent []string
	refuse := true
	store.SetMembershipRevoke(t, func(ctx context.Context, tx pgx.Tx, stmt string) error {
		sent = append(sent, stmt)
		if !strings.Contains(stmt, " GRANTED BY ") {
			return nil // 16: another role's grant stays, with a WARNING
		}
		if refuse { // 16, when the migrate user lacks the grantor's privileges: a real error, which aborts what it is in
			_, err := tx.Exec(ctx, `DO $$BEGIN RAISE EXCEPTION 'permission denied to revoke privileges granted by role "%"', '`+grantor+`'
				USING ERRCODE = 'insufficient_privilege'; END$$`)
			return err
		}
		_, err := tx.Exec(ctx, stmt)
		return err
	})

	// The REVOKE leaves it and GRANTED BY is refused: the run fails, says what is left
	// and why, and changes nothing (one transaction).
	_, err = store.EnsureProxyRole(ctx, owner, store.ProxyRole, proxyPassword)
	if err == nil || !strings.Contains(err.Error(), "miyabi_app (granted by "+grantor+")") || !strings.Contains(err.Error(), "permission denied to revoke privileges") {
		t.Fatalf("a membership the REVOKE left: %v, want an error naming it, its grantor and the refusal", err)
	}
	if want := []string{"miyabi_app granted by " + grantor}; !slices.Equal(memberships(), want) {
		t.Fatalf("memberships after the failed run %v, want %v", memberships(), want)
	}
	if want := "REVOKE miyabi_app FROM miyabi_proxy GRANTED BY " + grantor; !slices.Contains(sent, want) {
		t.Errorf("sent %q, want %q among them", sent, want)
	}

	// GRANTED BY permitted (the migrate user has the grantor's privileges): it goes, and
	// the run says so.
	refuse = false
	res, err := store.EnsureProxyRole(ctx, owner, store.ProxyRole, proxyPassword)
	if err != nil || !slices.Equal(res.MembershipsRevoked, []string{"miyabi_app"}) || len(memberships()) != 0 {
		t.Fatalf("with GRANTED BY permitted: %+v %v, memberships %v", res, err, memberships())
	}
}
