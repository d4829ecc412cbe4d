package lambdafn_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/miyabi/miyabi/app/internal/auth"
	"github.com/miyabi/miyabi/app/internal/lambdafn/fakesecrets"
	"github.com/miyabi/miyabi/app/internal/lambdafn/lambdatest"
	"github.com/miyabi/miyabi/app/internal/store"
	"github.com/miyabi/miyabi/app/internal/testdb"
)

const (
	masterARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-0001"
	appDBARN  = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:miyabi/test/app-db"
)

// The database as on RDS (passwords, TLS verified against the CA, a master user that
// may create roles but is no superuser), the bootstrap configured as infra configures
// it: the API as miyabi_app with a password asked per connection (here from a secret;
// on AWS an IAM token), migrate with the master secret. The master password rotates
// under the warm function and nothing notices; the app role's password changes and
// new connections pick it up; a wrong one gives 503s and a clear log line, then
// recovers without a restart.
func TestEmulatorDatabaseCredentialsRotate(t *testing.T) {
	cluster := testdb.StartSecureCluster(t)
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
	exec(`CREATE ROLE miyabi_admin LOGIN CREATEROLE PASSWORD 'master-1'`)
	exec(`CREATE DATABASE miyabi OWNER miyabi_admin`)

	secrets := fakesecrets.New(map[string]string{
		masterARN: `{"username":"miyabi_admin","password":"master-1"}`,
		appDBARN:  `{"password":"app-1"}`,
		appSecretARN: mustJSON(map[string]string{"jwt_signing_key": jwtKey, "token_encryption_key": encKey,
			"github_client_secret": githubSecret, "origin_verify_secret": originSecret}),
	})
	t.Cleanup(secrets.Close)
	env := productionEnv("")
	delete(env, "DATABASE_URL")
	for k, v := range map[string]string{
		"DB_HOST": "127.0.0.1", "DB_PORT": strconv.Itoa(cluster.Port), "DB_NAME": "miyabi", "DB_CA_BUNDLE": cluster.CAFile,
		"DB_APP_USER": "miyabi_app", "DB_APP_AUTH": "secret", "DB_APP_PASSWORD_SECRET_ARN": appDBARN,
		"DB_SECRET_ARN": masterARN, "APP_SECRET_ARN": appSecretARN, "REQUIRE_ORIGIN_SECRET": "true",
		"AWS_ENDPOINT_URL_SECRETS_MANAGER": secrets.URL,
	} {
		env[k] = v
	}
	e := startEmulator(t, env)

	migrate := func(step string) { mustMigrate(t, ctx, e, step) }
	health := func() int { return healthStatus(t, e) }
	waitHealth := func(step string, want int) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for {
			got := health()
			if got == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: health %d, want %d", step, got, want)
			}
		}
	}
	dropAppConnections := func() {
		t.Helper()
		exec(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'miyabi_app'`)
	}

	// The deploy: migrate as the master user; the migration creates miyabi_app.
	migrate("first deploy")
	if n := secrets.Reads(masterARN); n != 1 {
		t.Fatalf("master secret read %d times by one migrate run, want 1", n)
	}
	exec(`ALTER ROLE miyabi_app PASSWORD 'app-1'`) // on RDS: no password, rds_iam
	waitHealth("first request", http.StatusOK)
	var user string
	var super, createRole bool
	if err := admin.QueryRow(ctx, `SELECT usename, usesuper, rolcreaterole FROM pg_stat_activity JOIN pg_roles ON rolname = usename JOIN pg_user USING (usename)
		WHERE datname = 'miyabi' AND application_name = 'miyabi' LIMIT 1`).Scan(&user, &super, &createRole); err != nil {
		t.Fatal(err)
	}
	if user != "miyabi_app" || super || createRole {
		t.Fatalf("the API connects as %s (superuser %v, createrole %v), want the restricted miyabi_app", user, super, createRole)
	}
	var ssl bool
	if err := admin.QueryRow(ctx, `SELECT ssl FROM pg_stat_ssl JOIN pg_stat_activity USING (pid) WHERE usename = 'miyabi_app' LIMIT 1`).Scan(&ssl); err != nil || !ssl {
		t.Fatalf("the API's connection is not TLS: %v", err)
	}

	t.Run("master password rotates under a warm function", func(t *testing.T) {
		exec(`ALTER ROLE miyabi_admin PASSWORD 'master-2'`)
		secrets.Set(masterARN, `{"username":"miyabi_admin","password":"master-2"}`)
		dropAppConnections() // even its new connections never need the master password
		waitHealth("after the master rotation", http.StatusOK)
		migrate("deploy after the rotation")
		if n := secrets.Reads(masterARN); n != 2 {
			t.Fatalf("master secret read %d times, want once per migrate run", n)
		}
	})

	t.Run("each new connection asks for its password", func(t *testing.T) {
		before := secrets.Reads(appDBARN)
		exec(`ALTER ROLE miyabi_app PASSWORD 'app-2'`)
		secrets.Set(appDBARN, `{"password":"app-2"}`)
		dropAppConnections()
		waitHealth("after the app password changed", http.StatusOK)
		if secrets.Reads(appDBARN) <= before {
			t.Fatal("a new connection did not ask for its password")
		}
	})

	t.Run("a wrong credential is a 503 and a log line, then it recovers", func(t *testing.T) {
		secrets.Set(appDBARN, `{"password":"expired-token"}`)
		dropAppConnections()
		deadline := time.Now().Add(15 * time.Second)
		for !strings.Contains(e.Output(), `password authentication failed for user \"miyabi_app\"`) {
			if time.Now().After(deadline) {
				t.Fatalf("no clear log line naming the refused user:\n%s", e.Output())
			}
			if got := health(); got != http.StatusServiceUnavailable {
				t.Fatalf("health with a refused credential: %d, want 503", got)
			}
		}
		// Any route that needs the database answers 503, and the environment lives on.
		resp := call(t, e, event{method: "POST", path: "/api/v1/auth/refresh", cookies: []string{"miyabi_refresh=not-a-session"}})
		expectProblem(t, resp, http.StatusServiceUnavailable)
		secrets.Set(appDBARN, `{"password":"app-2"}`)
		waitHealth("once the credential is right again", http.StatusOK) // same process: no crash loop
	})
}

// The app secret rotates through new environments (a rotation changes
// APP_SECRET_VERSION in the function's configuration, which publishes a new version):
// during the rotation both keys and both origin values work; after it, only the new.
func TestEmulatorAppSecretRotation(t *testing.T) {
	dbURL := testdb.URL(t)
	const (
		jwtNew    = "emulator-test-jwt-signing-key-NEW-of-more-than-32-bytes"
		originNew = "emulator-origin-verify-secret-NEW-of-32+-bytes"
		encNew    = "bmV3LWVtdWxhdG9yLXRva2VuLWtleS0zMi1ieXRlcyE=" // 32 bytes
	)
	secrets := fakesecrets.New(map[string]string{appSecretARN: mustJSON(map[string]string{
		"jwt_signing_key": jwtKey, "token_encryption_key": encKey, "github_client_secret": githubSecret, "origin_verify_secret": originSecret,
	})})
	t.Cleanup(secrets.Close)
	env := productionEnv(dbURL)
	env["APP_SECRET_ARN"] = appSecretARN
	env["REQUIRE_ORIGIN_SECRET"] = "true"
	env["AWS_ENDPOINT_URL_SECRETS_MANAGER"] = secrets.URL

	ctx := context.Background()
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	st := store.New(pool)
	u, personal, err := st.UpsertUser(ctx, store.SignIn{GitHubID: 777, Login: "rotor"})
	if err != nil {
		t.Fatal(err)
	}
	signIn := func() string {
		t.Helper()
		refresh, hash := auth.NewOpaqueToken("")
		if _, err := st.CreateSession(ctx, u.ID, personal, hash, "rotation-test", auth.SessionTTL); err != nil {
			t.Fatal(err)
		}
		return refresh
	}
	me := func(e *lambdatest.Emulator, token, origin string) int {
		t.Helper()
		return call(t, e, event{method: "GET", path: "/api/v1/auth/me",
			headers: map[string]string{"Authorization": "Bearer " + token, "X-Miyabi-Origin-Verify": origin}}).StatusCode
	}

	// Before: the old keys.
	before := startEmulator(t, env)
	s := decode[session](t, call(t, before, event{method: "POST", path: "/api/v1/auth/refresh", cookies: []string{"miyabi_refresh=" + signIn()}}), http.StatusOK)
	oldToken := s.AccessToken
	if me(before, oldToken, originSecret) != http.StatusOK || me(before, oldToken, originNew) != http.StatusForbidden {
		t.Fatal("before the rotation: want the old origin value only")
	}

	// During: new keys current, the old ones previous (and the new origin value
	// accepted before CloudFront sends it).
	secrets.Set(appSecretARN, mustJSON(map[string]string{
		"jwt_signing_key": jwtNew, "jwt_signing_key_previous": jwtKey,
		"token_encryption_key": encNew, "token_encryption_key_previous": encKey,
		"github_client_secret": githubSecret,
		"origin_verify_secret": originSecret, "origin_verify_secret_previous": originNew,
	}))
	during := startEmulator(t, env)
	for _, origin := range []string{originSecret, originNew} {
		if got := me(during, oldToken, origin); got != http.StatusOK {
			t.Fatalf("during the rotation: the old token with origin %.12q...: %d, want 200", origin, got)
		}
	}
	s = decode[session](t, call(t, during, event{method: "POST", path: "/api/v1/auth/refresh", cookies: []string{"miyabi_refresh=" + signIn()}}), http.StatusOK)
	newToken := s.AccessToken

	// After: only the new values.
	secrets.Set(appSecretARN, mustJSON(map[string]string{
		"jwt_signing_key": jwtNew, "token_encryption_key": encNew, "github_client_secret": githubSecret, "origin_verify_secret": originNew,
	}))
	after := startEmulator(t, env)
	if got := me(after, newToken, originNew); got != http.StatusOK {
		t.Fatalf("after: the new token and origin: %d", got)
	}
	if got := me(after, newToken, originSecret); got != http.StatusForbidden {
		t.Fatalf("after: the retired origin value: %d, want 403", got)
	}
	if got := me(after, oldToken, originNew); got != http.StatusUnauthorized {
		t.Fatalf("after: a token of the retired key: %d, want 401", got)
	}
	// Each environment read the secret once, at its start.
	if n := secrets.Reads(appSecretARN); n != 3 {
		t.Fatalf("the app secret was read %d times by three environments, want 3", n)
	}
}
