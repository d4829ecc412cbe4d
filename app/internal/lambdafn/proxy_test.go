package lambdafn_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/miyabi/miyabi/app/internal/config"
	"github.com/miyabi/miyabi/app/internal/lambdafn/fakesecrets"
	"github.com/miyabi/miyabi/app/internal/testdb"
)

const proxyLoginARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:miyabi/test/rds-proxy-AbCdEf"

// rdsHBA is StartSecureCluster's rules with RDS's own in front: RDS sends every member of
// rds_iam, direct or not ("+" matches both), to IAM authentication, so such a role cannot
// sign in with a password. Here that line rejects, which is what a password meets there.
const rdsHBA = `local all all trust
hostssl all +rds_iam 127.0.0.1/32 reject
hostssl all all 127.0.0.1/32 scram-sha-256
hostnossl all all 0.0.0.0/0 reject
`

func proxyLoginSecret(password string) string {
	return mustJSON(map[string]string{"username": "miyabi_proxy", "password": password})
}

// RDS Proxy's database login, as a stack with miyabi:rdsProxy runs it. The database is
// as on RDS (passwords, TLS, a master that may create roles but is no superuser, rds_iam
// and its pg_hba rule, miyabi_app in rds_iam by migration 00009); the migrate action gets
// DB_PROXY_SECRET_ARN as infra sets it, and the proxy's secret comes from the fake
// Secrets Manager. The migrate action creates miyabi_proxy with the secret's password
// (logging in as it through real PostgreSQL proves it), with miyabi_app's privileges and
// no membership (one in miyabi_app would lock it out, as the rule shows); the API signing
// in as miyabi_proxy (what the proxy does for it) works; a new password in the secret
// reaches the database with the next migrate run; switching the proxy off keeps the login
// while the proxy may still serve, and switches it off after.
func TestEmulatorRDSProxyLogin(t *testing.T) {
	cluster := testdb.StartSecureCluster(t)
	cluster.SetHBA(rdsHBA)
	ctx := context.Background()
	admin, err := pgxpool.New(ctx, cluster.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(admin.Close)
	exec := func(sql string) {
		t.Helper()
		if _, err := admin.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	exec(`CREATE ROLE rds_iam NOLOGIN`)
	exec(`CREATE ROLE miyabi_admin LOGIN CREATEROLE PASSWORD 'master-1'`)
	exec(`CREATE DATABASE miyabi OWNER miyabi_admin`)

	// login signs in with a password over verified TLS, as the proxy does.
	login := func(user, password string) error {
		t.Helper()
		c, err := pgx.Connect(ctx, config.DatabaseURL("127.0.0.1", strconv.Itoa(cluster.Port), "miyabi", user, password, cluster.CAFile))
		if err != nil {
			return err
		}
		defer c.Close(ctx)
		_, err = c.Exec(ctx, `SELECT 1`)
		return err
	}
	// The rule is live (a reload is asynchronous) and matches an indirect member.
	exec(`CREATE ROLE probe_group NOLOGIN IN ROLE rds_iam`)
	exec(`CREATE ROLE probe LOGIN PASSWORD 'probe-password' IN ROLE probe_group`)
	for deadline := time.Now().Add(10 * time.Second); ; {
		err := login("probe", "probe-password")
		if err != nil && strings.Contains(err.Error(), "pg_hba.conf rejects") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("an indirect member of rds_iam signs in with a password: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}

	const (
		pw1 = "FirstProxyPassword0123456789abcdefghijklmnopqr"
		pw2 = "SecondProxyPassword0123456789abcdefghijklmnop"
	)
	secrets := fakesecrets.New(map[string]string{
		masterARN:     `{"username":"miyabi_admin","password":"master-1"}`,
		proxyLoginARN: proxyLoginSecret(pw1),
		appSecretARN: mustJSON(map[string]string{"jwt_signing_key": jwtKey, "token_encryption_key": encKey,
			"github_client_secret": githubSecret, "origin_verify_secret": originSecret}),
	})
	t.Cleanup(secrets.Close)
	env := productionEnv("")
	delete(env, "DATABASE_URL")
	for k, v := range map[string]string{
		"DB_HOST": "127.0.0.1", "DB_PORT": strconv.Itoa(cluster.Port), "DB_NAME": "miyabi", "DB_CA_BUNDLE": cluster.CAFile,
		// the migrate function's: the master secret, and the proxy's login (its ARN only)
		"DB_SECRET_ARN": masterARN, "DB_PROXY_SECRET_ARN": proxyLoginARN,
		// the API as the proxy signs in for it: miyabi_proxy with the secret's password (on
		// AWS the API signs in to the proxy with an IAM token as miyabi_proxy)
		"DB_APP_USER": "miyabi_proxy", "DB_APP_AUTH": "secret", "DB_APP_PASSWORD_SECRET_ARN": proxyLoginARN,
		"APP_SECRET_ARN": appSecretARN, "REQUIRE_ORIGIN_SECRET": "true",
		"AWS_ENDPOINT_URL_SECRETS_MANAGER": secrets.URL,
	} {
		env[k] = v
	}
	e := startEmulator(t, env)
	runMigrate := func(step string) { mustMigrate(t, ctx, e, step) }
	health := func() int { return healthStatus(t, e) }

	runMigrate("first deploy with the proxy")
	if n := secrets.Reads(proxyLoginARN); n != 1 {
		t.Fatalf("the proxy's login read %d times by one migrate run, want 1", n)
	}
	var super, createDB, createRole, replication, bypass, canLogin, inIAM, appInIAM, inApp bool
	var stored string
	if err := admin.QueryRow(ctx, `SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls, rolcanlogin,
			pg_has_role('miyabi_proxy', 'rds_iam', 'MEMBER'), pg_has_role('miyabi_app', 'rds_iam', 'MEMBER'),
			pg_has_role('miyabi_proxy', 'miyabi_app', 'MEMBER'), rolpassword
		FROM pg_authid WHERE rolname = 'miyabi_proxy'`).Scan(&super, &createDB, &createRole, &replication, &bypass, &canLogin, &inIAM, &appInIAM, &inApp, &stored); err != nil {
		t.Fatal(err)
	}
	if super || createDB || createRole || replication || bypass || !canLogin || inIAM || inApp {
		t.Fatalf("miyabi_proxy: super=%v createdb=%v createrole=%v replication=%v bypassrls=%v login=%v in rds_iam=%v in miyabi_app=%v",
			super, createDB, createRole, replication, bypass, canLogin, inIAM, inApp)
	}
	if !appInIAM {
		t.Fatal("miyabi_app is not in rds_iam: the test would not show what it means to")
	}
	if !strings.HasPrefix(stored, "SCRAM-SHA-256$4096:") || strings.Contains(stored, pw1) {
		t.Fatalf("stored password %.20q..., want a SCRAM-SHA-256 verifier", stored)
	}
	if err := login("miyabi_proxy", pw1); err != nil {
		t.Fatalf("miyabi_proxy cannot sign in with the password from its secret: %v", err)
	}
	inDB, err := pgxpool.New(ctx, strings.Replace(cluster.URL(), "/postgres?", "/miyabi?", 1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(inDB.Close)
	var same bool
	var tables int
	if err := inDB.QueryRow(ctx, `SELECT bool_and(has_table_privilege('miyabi_proxy', c.oid, p) = has_table_privilege('miyabi_app', c.oid, p))
		, count(DISTINCT c.oid) FROM pg_class c CROSS JOIN unnest(ARRAY['SELECT','INSERT','UPDATE','DELETE','TRUNCATE']) p
		WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r'`).Scan(&same, &tables); err != nil || !same || tables < 20 {
		t.Fatalf("miyabi_proxy's privileges on %d tables differ from miyabi_app's (%v)", tables, err)
	}

	// The API through "the proxy": miyabi_proxy's privileges are enough to serve, and the
	// connection is that role's, over TLS.
	deadline := time.Now().Add(15 * time.Second)
	for health() != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatalf("the API as miyabi_proxy is not healthy:\n%s", e.Output())
		}
	}
	var user string
	var ssl bool
	if err := admin.QueryRow(ctx, `SELECT usename, ssl FROM pg_stat_activity JOIN pg_stat_ssl USING (pid)
		WHERE datname = 'miyabi' AND application_name = 'miyabi' LIMIT 1`).Scan(&user, &ssl); err != nil || user != "miyabi_proxy" || !ssl {
		t.Fatalf("the API connects as %q (TLS %v, %v), want miyabi_proxy over TLS", user, ssl, err)
	}
	resp := call(t, e, event{method: "POST", path: "/api/v1/auth/refresh", cookies: []string{"miyabi_refresh=not-a-session"}})
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a request that reads sessions as miyabi_proxy: %d, want 401", resp.StatusCode)
	}

	t.Cleanup(func() {
		for _, pw := range []string{pw1, pw2} {
			if strings.Contains(e.Output(), pw) {
				t.Error("the function's output carries the proxy's password")
			}
		}
	})
	if !strings.Contains(e.Output(), "rds proxy login up to date") {
		t.Errorf("no log line for the proxy login:\n%s", e.Output())
	}

	t.Run("membership in miyabi_app would lock the proxy out", func(t *testing.T) {
		exec(`GRANT miyabi_app TO miyabi_proxy`)
		if err := login("miyabi_proxy", pw1); err == nil || !strings.Contains(err.Error(), "pg_hba.conf rejects") {
			t.Fatalf("miyabi_proxy in miyabi_app (so in rds_iam) signs in with a password: %v", err)
		}
		runMigrate("the next deploy")
		if err := login("miyabi_proxy", pw1); err != nil {
			t.Fatalf("migrate did not take miyabi_proxy out of miyabi_app: %v", err)
		}
	})

	t.Run("a new password in the secret reaches the database with the next migrate run", func(t *testing.T) {
		secrets.Set(proxyLoginARN, proxyLoginSecret(pw2))
		runMigrate("rotation")
		if err := login("miyabi_proxy", pw1); err == nil || !strings.Contains(err.Error(), "password authentication failed") {
			t.Fatalf("the old password still works: %v", err)
		}
		if err := login("miyabi_proxy", pw2); err != nil {
			t.Fatalf("the new password does not: %v", err)
		}
		// open sessions are not ended by a password change; new ones use the new password
		if got := health(); got != http.StatusOK {
			t.Fatalf("health on the existing connections: %d", got)
		}
		exec(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'miyabi_proxy'`)
		deadline := time.Now().Add(15 * time.Second)
		for health() != http.StatusOK {
			if time.Now().After(deadline) {
				t.Fatal("new connections do not sign in with the new password")
			}
		}
	})

	// Switching the proxy off: the deploy that removes it publishes a migrate function
	// without DB_PROXY_SECRET_ARN and with DB_PROXY_RETIRING (infra sets it when the
	// previous deploy had the proxy); its run comes before the alias moves, while the
	// proxy serves the live version, so the login stays. A later run switches it off, but
	// only once no session of the role is open (the proxy is deleted at the end of the
	// update that removes it).
	t.Run("switching the proxy off never locks out the version that goes through it", func(t *testing.T) {
		off := map[string]string{}
		for k, v := range env {
			off[k] = v
		}
		delete(off, "DB_PROXY_SECRET_ARN")
		off["DB_APP_USER"], off["DB_APP_PASSWORD_SECRET_ARN"] = "miyabi_app", appDBARN // never used: only migrate runs here
		retiring := map[string]string{"DB_PROXY_RETIRING": "true"}
		for k, v := range off {
			retiring[k] = v
		}
		migrateWith := func(step string, env map[string]string) string {
			t.Helper()
			fn := startEmulator(t, env)
			before := secrets.Reads(proxyLoginARN)
			inv, err := fn.Invoke(ctx, map[string]string{"action": "migrate"})
			if err != nil || inv.FunctionError != nil || !strings.Contains(string(inv.Body), `"status":"ok"`) {
				t.Fatalf("%s: migrate: %v %s", step, err, inv.Body)
			}
			if secrets.Reads(proxyLoginARN) != before {
				t.Fatalf("%s: a migrate run without DB_PROXY_SECRET_ARN read the proxy's secret", step)
			}
			return fn.Output()
		}
		proxySessions := func() int {
			t.Helper()
			var n int
			if err := admin.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE usename = 'miyabi_proxy'`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}

		// The deploy that removes the proxy: its migrate run keeps the login, and the
		// version still live (through "the proxy") opens new connections.
		if out := migrateWith("the deploy that removes the proxy", retiring); !strings.Contains(out, "rds proxy login kept: this deploy removes the proxy") {
			t.Errorf("no log line says the login was kept for the proxy still serving:\n%s", out)
		}
		exec(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'miyabi_proxy'`)
		deadline := time.Now().Add(15 * time.Second)
		for health() != http.StatusOK {
			if time.Now().After(deadline) {
				t.Fatalf("the live version through the proxy cannot open a connection after the migrate run that removes the proxy:\n%s", e.Output())
			}
		}
		if err := login("miyabi_proxy", pw2); err != nil {
			t.Fatalf("miyabi_proxy no longer signs in during the deploy that removes the proxy: %v", err)
		}

		// A later run while a proxy still holds sessions of the role (the API's pool here):
		// kept, and the log says why.
		if n := proxySessions(); n == 0 {
			t.Fatal("no session of miyabi_proxy is open: the next step would prove nothing")
		}
		if out := migrateWith("a run with sessions of the proxy open", off); !strings.Contains(out, "rds proxy login kept: the stack has no proxy but sessions of the role are open") {
			t.Errorf("no log line says the login was kept for the open sessions:\n%s", out)
		}
		if err := login("miyabi_proxy", pw2); err != nil {
			t.Fatalf("miyabi_proxy no longer signs in while its sessions are open: %v", err)
		}

		// The proxy is gone (its sessions with it): the next run switches the login off.
		exec(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'miyabi_proxy'`)
		for deadline := time.Now().Add(10 * time.Second); proxySessions() > 0; time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("sessions of miyabi_proxy outlive their termination")
			}
		}
		if out := migrateWith("the next deploy, the proxy gone", off); !strings.Contains(out, "rds proxy login switched off") {
			t.Errorf("no log line says the login was switched off:\n%s", out)
		}
		if err := login("miyabi_proxy", pw2); err == nil || !strings.Contains(err.Error(), "password authentication failed") {
			t.Fatalf("miyabi_proxy still signs in: %v", err)
		}
		var canLogin, hasPassword bool
		if err := admin.QueryRow(ctx, `SELECT rolcanlogin, rolpassword IS NOT NULL FROM pg_authid WHERE rolname = 'miyabi_proxy'`).Scan(&canLogin, &hasPassword); err != nil || canLogin || hasPassword {
			t.Fatalf("miyabi_proxy: login %v, password %v (%v), want neither", canLogin, hasPassword, err)
		}
	})
}
