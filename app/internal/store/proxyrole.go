package store

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The database login of RDS Proxy (infra: miyabi:rdsProxy). The API signs in to the proxy
// with an IAM token as ProxyRole; the proxy signs in to the database as ProxyRole with the
// password of its Secrets Manager secret. On RDS a member of rds_iam, even an indirect one
// (RDS's pg_hba sends "+rds_iam" to IAM authentication, and "+" matches indirect members),
// cannot sign in with a password, and miyabi_app is in rds_iam: so ProxyRole cannot simply
// be a member of miyabi_app. It holds copies of miyabi_app's grants instead, kept equal by
// EnsureProxyRole on every migrate run, after the migrations.
const (
	ProxyRole = "miyabi_proxy"
	appRole   = "miyabi_app"
)

// ProxyRoleSync is what EnsureProxyRole changed.
type ProxyRoleSync struct {
	Created bool
	// Grants and Revokes are the statements that made ProxyRole's privileges equal to
	// miyabi_app's (none when they already were).
	Grants, Revokes []string
	// MembershipsRevoked are roles ProxyRole was a member of (it must be of none).
	MembershipsRevoked []string
}

// EnsureProxyRole creates ProxyRole when missing (LOGIN, no superuser, no CREATEDB or
// CREATEROLE, no replication, no RLS bypass, member of no role), sets its password to
// password, and gives it exactly miyabi_app's privileges in this database: what miyabi_app
// lacks is revoked, what it has is granted. All in one transaction, idempotent, as the
// migrate action's master user (CREATEROLE, not superuser: on RDS the master may not set
// SUPERUSER, REPLICATION or BYPASSRLS even to "no", so an existing role that has one of
// those is refused rather than repaired).
//
// The password is sent as a SCRAM-SHA-256 verifier, never in clear: a statement log
// (log_statement = ddl) would otherwise record it.
func EnsureProxyRole(ctx context.Context, pool *pgxpool.Pool, user, password string) (ProxyRoleSync, error) {
	var res ProxyRoleSync
	if user != ProxyRole {
		return res, fmt.Errorf("proxy login: the secret names user %q; only %s is managed", user, ProxyRole)
	}
	if err := checkProxyPassword(password); err != nil {
		return res, err
	}
	verifier, err := scramVerifier(password)
	if err != nil {
		return res, err
	}
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		// one run at a time on this database (the migrate function's concurrency is 1
		// already; this keeps a hand-run invocation from interleaving)
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('miyabi_proxy_role'))`); err != nil {
			return err
		}
		var appExists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT FROM pg_roles WHERE rolname = $1)`, appRole).Scan(&appExists); err != nil {
			return err
		}
		if !appExists {
			return fmt.Errorf("proxy login: %s does not exist (migration 00009 creates it)", appRole)
		}
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT FROM pg_roles WHERE rolname = $1)`, ProxyRole).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			if _, err := tx.Exec(ctx, `CREATE ROLE `+ProxyRole+` LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS`); err != nil {
				return fmt.Errorf("proxy login: create %s: %w", ProxyRole, err)
			}
			res.Created = true
		}
		var super, createDB, createRole, replication, bypassRLS bool
		if err := tx.QueryRow(ctx, `SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls FROM pg_roles WHERE rolname = $1`, ProxyRole).
			Scan(&super, &createDB, &createRole, &replication, &bypassRLS); err != nil {
			return err
		}
		if super || createDB || createRole || replication || bypassRLS {
			return fmt.Errorf("proxy login: %s has superuser=%v createdb=%v createrole=%v replication=%v bypassrls=%v; it must have none (drop the role and run migrate again)",
				ProxyRole, super, createDB, createRole, replication, bypassRLS)
		}
		// scramVerifier's output is base64, '$' and ':' only: nothing to quote
		if _, err := tx.Exec(ctx, `ALTER ROLE `+ProxyRole+` WITH LOGIN PASSWORD '`+verifier+`'`); err != nil {
			return fmt.Errorf("proxy login: set the password of %s: %w", ProxyRole, err)
		}
		revoked, err := revokeMemberships(ctx, tx)
		if err != nil {
			return err
		}
		res.MembershipsRevoked = revoked
		if err := checkNothingElseNamesApp(ctx, tx); err != nil {
			return err
		}
		res.Grants, res.Revokes, err = mirrorPrivileges(ctx, tx)
		return err
	})
	if err != nil {
		return ProxyRoleSync{}, err
	}
	return res, nil
}

// ProxyRoleOff is what DisableProxyRole did: nothing (no role, or its login already off),
// switched the login off, or kept it because sessions of the role were open.
type ProxyRoleOff struct {
	SwitchedOff bool
	// Sessions is how many sessions of ProxyRole were open (pg_stat_activity, every
	// database); the login is switched off only when there is none.
	Sessions int
}

// DisableProxyRole turns ProxyRole's login off (NOLOGIN, no password) when it exists, can
// log in, and no session of it is open: a stack whose proxy was removed keeps no login
// nobody uses, but never while a proxy still signs in with it. The proxy is deleted at
// the end of the update that removes it, after the live alias moved off the version that
// uses it; until then it serves that version, holds its database connections (so
// sessions of the role are open) and may need new ones. A run that finds sessions keeps
// the login and says how many; a later run, once the proxy is gone, switches it off. The
// grants stay, so turning the proxy on again is one migrate run.
func DisableProxyRole(ctx context.Context, pool *pgxpool.Pool) (ProxyRoleOff, error) {
	var res ProxyRoleOff
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		// as EnsureProxyRole: one run at a time
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('miyabi_proxy_role'))`); err != nil {
			return err
		}
		var canLogin bool
		err := tx.QueryRow(ctx, `SELECT rolcanlogin FROM pg_roles WHERE rolname = $1`, ProxyRole).Scan(&canLogin)
		if errors.Is(err, pgx.ErrNoRows) || (err == nil && !canLogin) {
			return nil
		}
		if err != nil {
			return err
		}
		// usesysid is shown to every role, whatever it may see of the sessions
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE usesysid = (SELECT oid FROM pg_roles WHERE rolname = $1)`, ProxyRole).Scan(&res.Sessions); err != nil {
			return fmt.Errorf("proxy login: count the sessions of %s: %w", ProxyRole, err)
		}
		if res.Sessions > 0 {
			return nil
		}
		if _, err := tx.Exec(ctx, `ALTER ROLE `+ProxyRole+` WITH NOLOGIN PASSWORD NULL`); err != nil {
			return fmt.Errorf("proxy login: disable %s: %w", ProxyRole, err)
		}
		res.SwitchedOff = true
		return nil
	})
	if err != nil {
		return ProxyRoleOff{}, err
	}
	return res, nil
}

// checkProxyPassword keeps to what SASLprep leaves unchanged (visible ASCII), so the
// verifier computed here is the one PostgreSQL computes from what the proxy sends.
func checkProxyPassword(pw string) error {
	if len(pw) < 32 {
		return fmt.Errorf("proxy login: the password has %d characters, want at least 32", len(pw))
	}
	for _, c := range []byte(pw) {
		if c < '!' || c > '~' {
			return errors.New("proxy login: the password must be visible ASCII characters only (no spaces)")
		}
	}
	return nil
}

// scramVerifier is PostgreSQL's stored form of a SCRAM-SHA-256 password (RFC 5803, as
// pg_authid.rolpassword holds it), computed the way the server does with its defaults:
// 4096 iterations and a 16-byte random salt.
func scramVerifier(password string) (string, error) {
	const iterations = 4096
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	salted, err := pbkdf2.Key(sha256.New, password, salt, iterations, sha256.Size)
	if err != nil {
		return "", err
	}
	mac := func(key []byte, msg string) []byte {
		h := hmac.New(sha256.New, key)
		h.Write([]byte(msg))
		return h.Sum(nil)
	}
	stored := sha256.Sum256(mac(salted, "Client Key"))
	server := mac(salted, "Server Key")
	b64 := base64.StdEncoding.EncodeToString
	return fmt.Sprintf("SCRAM-SHA-256$%d:%s$%s:%s", iterations, b64(salt), b64(stored[:]), b64(server)), nil
}

// revokeMemberships removes ProxyRole from every role it is a member of: it needs none
// (its privileges are its own), and one in rds_iam's tree would be refused a password. It
// returns the roles it was taken out of, and fails naming each membership that is left.
//
// Since PostgreSQL 16 a membership has a grantor, and REVOKE without GRANTED BY removes
// only the one the current role granted: another role's stays, with a WARNING and no
// error. So a plain REVOKE is tried first (on 15 it removes the membership whoever granted
// it), then, for what is left, REVOKE ... GRANTED BY its grantor (accepted by 15 and 16;
// 16 allows it only to a role with the grantor's privileges), each in a savepoint so a
// refusal leaves the transaction usable; then pg_auth_members is read again, and anything
// still there fails the run with the grantor and the refusal.
func revokeMemberships(ctx context.Context, tx pgx.Tx) ([]string, error) {
	type membership struct{ group, grantor string } // quoted names; grantor "" if unknown
	read := func() ([]membership, error) {
		rows, err := tx.Query(ctx, `SELECT quote_ident(g.rolname), coalesce(quote_ident(gr.rolname), '')
			FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles u ON u.oid = m.member
			LEFT JOIN pg_roles gr ON gr.oid = m.grantor
			WHERE u.rolname = $1 ORDER BY 1, 2`, ProxyRole)
		if err != nil {
			return nil, fmt.Errorf("proxy login: read the memberships of %s: %w", ProxyRole, err)
		}
		return pgx.CollectRows(rows, func(r pgx.CollectableRow) (membership, error) {
			var m membership
			return m, r.Scan(&m.group, &m.grantor)
		})
	}
	// try runs one REVOKE in a savepoint: a refusal is kept for the error, not returned.
	refused := map[membership]error{}
	try := func(m membership, stmt string) error {
		sp, err := tx.Begin(ctx)
		if err != nil {
			return err
		}
		if err := membershipRevoke(ctx, sp, stmt); err != nil {
			refused[m] = err
			return sp.Rollback(ctx)
		}
		return sp.Commit(ctx)
	}
	found, err := read()
	if err != nil {
		return nil, err
	}
	var groups []string
	for _, m := range found {
		if slices.Contains(groups, m.group) {
			continue
		}
		groups = append(groups, m.group)
		if err := try(m, `REVOKE `+m.group+` FROM `+ProxyRole); err != nil {
			return nil, err
		}
	}
	left, err := read()
	if err != nil {
		return nil, err
	}
	for _, m := range left {
		if m.grantor != "" {
			if err := try(m, `REVOKE `+m.group+` FROM `+ProxyRole+` GRANTED BY `+m.grantor); err != nil {
				return nil, err
			}
		}
	}
	if left, err = read(); err != nil {
		return nil, err
	}
	if len(left) > 0 {
		var named []string
		for _, m := range left {
			s := m.group + " (granted by " + cmp.Or(m.grantor, "a role that no longer exists") + ")"
			if err := refused[m]; err != nil {
				s += ": " + err.Error()
			}
			named = append(named, s)
		}
		return nil, fmt.Errorf("proxy login: %s is still a member of %s after REVOKE; a role with the grantor's privileges must revoke it "+
			"(REVOKE <role> FROM %s GRANTED BY <grantor>), then run migrate again", ProxyRole, strings.Join(named, "; "), ProxyRole)
	}
	return groups, nil
}

// membershipRevoke runs one REVOKE of a membership of ProxyRole. A variable so a test on
// PostgreSQL 15 can stand in for the REVOKE of 16 and later, which leaves a membership
// another role granted.
var membershipRevoke = func(ctx context.Context, tx pgx.Tx, stmt string) error {
	_, err := tx.Exec(ctx, stmt)
	return err
}

// checkNothingElseNamesApp refuses what copying grants would miss: row-level security
// policies and per-role settings that name miyabi_app. None exist; a migration adding one
// must give ProxyRole the same, and this says so instead of letting the two drift.
func checkNothingElseNamesApp(ctx context.Context, tx pgx.Tx) error {
	var policies, settings []string
	rows, err := tx.Query(ctx, `SELECT p.polname || ' on ' || p.polrelid::regclass FROM pg_policy p
		WHERE (SELECT oid FROM pg_roles WHERE rolname = $1) = ANY (p.polroles)
		  AND NOT (SELECT oid FROM pg_roles WHERE rolname = $2) = ANY (p.polroles) ORDER BY 1`, appRole, ProxyRole)
	if err != nil {
		return err
	}
	if policies, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
		return err
	}
	rows, err = tx.Query(ctx, `SELECT array_to_string(s.setconfig, ', ') FROM pg_db_role_setting s
		WHERE s.setrole = (SELECT oid FROM pg_roles WHERE rolname = $1)
		  AND NOT EXISTS (SELECT FROM pg_db_role_setting p WHERE p.setrole = (SELECT oid FROM pg_roles WHERE rolname = $2)
		                  AND p.setdatabase = s.setdatabase AND p.setconfig = s.setconfig)`, appRole, ProxyRole)
	if err != nil {
		return err
	}
	if settings, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
		return err
	}
	if len(policies) > 0 || len(settings) > 0 {
		return fmt.Errorf("proxy login: %s is named by row-level policies %v or role settings %v that %s lacks; give %s the same in that migration",
			appRole, policies, settings, ProxyRole, ProxyRole)
	}
	return nil
}

// aclRows lists every privilege miyabi_app and ProxyRole hold in this database (and on
// it): one row per object, privilege and role, with the object already quoted for a
// GRANT. Grant options count as a different privilege, so ProxyRole never keeps one.
const aclRows = `
WITH r AS (SELECT oid, rolname FROM pg_roles WHERE rolname IN ($1, $2)),
acl(kind, target, col, grantee, priv, grantable) AS (
  SELECT 'DATABASE', quote_ident(d.datname), '', a.grantee, a.privilege_type, a.is_grantable
    FROM pg_database d, aclexplode(d.datacl) a WHERE d.datname = current_database()
  UNION ALL
  SELECT 'SCHEMA', quote_ident(n.nspname), '', a.grantee, a.privilege_type, a.is_grantable
    FROM pg_namespace n, aclexplode(n.nspacl) a
  UNION ALL
  SELECT CASE WHEN c.relkind = 'S' THEN 'SEQUENCE' ELSE 'TABLE' END, c.oid::regclass::text, '', a.grantee, a.privilege_type, a.is_grantable
    FROM pg_class c, aclexplode(c.relacl) a
  UNION ALL
  SELECT 'COLUMN', c.oid::regclass::text, quote_ident(at.attname), a.grantee, a.privilege_type, a.is_grantable
    FROM pg_attribute at JOIN pg_class c ON c.oid = at.attrelid, aclexplode(at.attacl) a
   WHERE NOT at.attisdropped
  UNION ALL
  SELECT 'ROUTINE', p.oid::regprocedure::text, '', a.grantee, a.privilege_type, a.is_grantable
    FROM pg_proc p, aclexplode(p.proacl) a
  UNION ALL
  SELECT CASE WHEN t.typtype = 'd' THEN 'DOMAIN' ELSE 'TYPE' END, t.oid::regtype::text, '', a.grantee, a.privilege_type, a.is_grantable
    FROM pg_type t, aclexplode(t.typacl) a
)
SELECT acl.kind, acl.target, acl.col, r.rolname, acl.priv, acl.grantable
  FROM acl JOIN r ON r.oid = acl.grantee`

// mirrorPrivileges makes ProxyRole's privileges equal to miyabi_app's: it revokes what
// only ProxyRole has, then grants what only miyabi_app has, and returns the statements.
func mirrorPrivileges(ctx context.Context, tx pgx.Tx) (grants, revokes []string, err error) {
	type object struct{ kind, target, col string }
	app, proxy := map[object]map[string]bool{}, map[object]map[string]bool{}
	rows, err := tx.Query(ctx, aclRows, appRole, ProxyRole)
	if err != nil {
		return nil, nil, fmt.Errorf("proxy login: read privileges: %w", err)
	}
	var o object
	var role, priv string
	var grantable bool
	_, err = pgx.ForEachRow(rows, []any{&o.kind, &o.target, &o.col, &role, &priv, &grantable}, func() error {
		set := app
		if role == ProxyRole {
			set = proxy
			if grantable {
				priv += " WITH GRANT OPTION"
			}
		}
		if set[o] == nil {
			set[o] = map[string]bool{}
		}
		set[o][priv] = true
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("proxy login: read privileges: %w", err)
	}
	stmt := func(verb string, obj object, privs []string) string {
		to := " TO "
		if verb == "REVOKE" {
			to = " FROM "
		}
		if obj.kind == "COLUMN" {
			cols := make([]string, len(privs))
			for i, p := range privs {
				cols[i] = p + " (" + obj.col + ")"
			}
			return verb + " " + strings.Join(cols, ", ") + " ON TABLE " + obj.target + to + ProxyRole
		}
		return verb + " " + strings.Join(privs, ", ") + " ON " + obj.kind + " " + obj.target + to + ProxyRole
	}
	diff := func(a, b map[string]bool) []string {
		var out []string
		for p := range a {
			if !b[p] {
				out = append(out, strings.TrimSuffix(p, " WITH GRANT OPTION"))
			}
		}
		sort.Strings(out)
		return slices.Compact(out)
	}
	objects := func(m map[object]map[string]bool) []object {
		out := make([]object, 0, len(m))
		for k := range m {
			out = append(out, k)
		}
		sort.Slice(out, func(i, j int) bool {
			return out[i].kind+out[i].target+out[i].col < out[j].kind+out[j].target+out[j].col
		})
		return out
	}
	for _, obj := range objects(proxy) {
		if privs := diff(proxy[obj], app[obj]); len(privs) > 0 {
			revokes = append(revokes, stmt("REVOKE", obj, privs))
		}
	}
	for _, obj := range objects(app) {
		have := map[string]bool{}
		for p := range proxy[obj] {
			if !strings.HasSuffix(p, " WITH GRANT OPTION") {
				have[p] = true
			}
		}
		if privs := diff(app[obj], have); len(privs) > 0 {
			grants = append(grants, stmt("GRANT", obj, privs))
		}
	}
	for _, s := range append(slices.Clone(revokes), grants...) {
		if _, err := tx.Exec(ctx, s); err != nil {
			return nil, nil, fmt.Errorf("proxy login: %s: %w", s, err)
		}
	}
	return grants, revokes, nil
}
