package config_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/miyabi/miyabi/app/internal/config"
	"github.com/miyabi/miyabi/app/internal/lambdafn/fakesecrets"
)

const (
	dbARN  = "arn:aws:secretsmanager:eu-west-1:1:secret:rds!db-1"
	appARN = "arn:aws:secretsmanager:eu-west-1:1:secret:miyabi/app"
)

func lambdaEnv(overrides map[string]string) func(string) string {
	env := map[string]string{
		"APP_ENV": "production", "GITHUB_CLIENT_ID": "client",
		"DB_HOST": "db.internal", "DB_PORT": "5432", "DB_NAME": "miyabi", "DB_APP_USER": "miyabi_app",
		"APP_SECRET_ARN": appARN, "AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "s",
	}
	for k, v := range overrides {
		env[k] = v
	}
	return func(k string) string { return env[k] }
}

func fake(t *testing.T, secrets map[string]string) (*fakesecrets.Server, *config.AWSSecrets) {
	t.Helper()
	f := fakesecrets.New(secrets)
	t.Cleanup(f.Close)
	aws := &config.AWSSecrets{Getenv: func(k string) string {
		return map[string]string{"AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "AKIA", "AWS_SECRET_ACCESS_KEY": "s",
			"AWS_SESSION_TOKEN": "t", "AWS_ENDPOINT_URL_SECRETS_MANAGER": f.URL}[k]
	}}
	return f, aws
}

var goodSecrets = map[string]string{
	dbARN: `{"username":"miyabi_admin","password":"p@ss:w/rd?#&"}`,
	appARN: `{"jwt_signing_key":"jwt-key-from-secrets-manager-32-bytes-long","token_encryption_key":"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",` +
		`"github_client_secret":"github-secret-from-secrets-manager-32b","origin_verify_secret":"origin-secret-from-secrets-manager-32b"}`,
}

func TestResolveLambdaEnvFetchesWhatTheEnvironmentLacks(t *testing.T) {
	f, aws := fake(t, goodSecrets)
	res, err := config.ResolveLambdaEnv(context.Background(), lambdaEnv(nil), aws)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(res.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(cfg.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	// The API's URL names the restricted role and carries no password: each connection
	// gets an IAM token. TLS is verified against the bundle shipped in the binary.
	if _, has := u.User.Password(); has || u.User.Username() != "miyabi_app" || u.Host != "db.internal:5432" || u.Path != "/miyabi" ||
		u.Query().Get("sslmode") != "verify-full" {
		t.Fatalf("DATABASE_URL %s", cfg.DatabaseURL)
	}
	pem, err := os.ReadFile(u.Query().Get("sslrootcert"))
	if err != nil || !bytes.Equal(pem, config.RDSCABundle) {
		t.Fatalf("sslrootcert %q is not the embedded RDS bundle: %v", u.Query().Get("sslrootcert"), err)
	}
	if res.Password == nil || res.MasterURL != nil {
		t.Fatalf("password func %v, master url %v: want IAM tokens and no master access without DB_SECRET_ARN", res.Password != nil, res.MasterURL != nil)
	}
	if string(cfg.JWTSigningKey) != "jwt-key-from-secrets-manager-32-bytes-long" || cfg.GitHubClientSecret != "github-secret-from-secrets-manager-32b" ||
		cfg.OriginVerifySecret != "origin-secret-from-secrets-manager-32b" || len(cfg.TokenEncryptionKey) != 32 {
		t.Fatalf("keys not taken from the app secret: %+v", cfg)
	}
	if cfg.DBPoolMax != 2 {
		t.Fatalf("DBPoolMax %d, want 2 on Lambda", cfg.DBPoolMax)
	}
	if f.Reads(dbARN) != 0 || f.Reads(appARN) != 1 || len(res.Fetched) != 1 {
		t.Fatalf("reads db=%d app=%d fetched=%v; the master secret is for migrate only", f.Reads(dbARN), f.Reads(appARN), res.Fetched)
	}
}

// During a rotation the app secret carries the previous keys too.
func TestResolveLambdaEnvPreviousKeys(t *testing.T) {
	_, aws := fake(t, map[string]string{appARN: `{"jwt_signing_key":"jwt-key-from-secrets-manager-32-bytes-long","token_encryption_key":"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",` +
		`"github_client_secret":"github-secret-from-secrets-manager-32b","origin_verify_secret":"origin-secret-from-secrets-manager-32b",` +
		`"jwt_signing_key_previous":"previous-jwt-key-of-at-least-32-bytes-x","token_encryption_key_previous":"ZW11bGF0b3ItdGVzdC10b2tlbi1rZXktMzItYnl0ZXM=",` +
		`"origin_verify_secret_previous":"previous-origin-secret-of-32-bytes-xx"}`})
	res, err := config.ResolveLambdaEnv(context.Background(), lambdaEnv(nil), aws)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(res.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	if string(cfg.JWTSigningKeyPrevious) != "previous-jwt-key-of-at-least-32-bytes-x" || len(cfg.TokenEncryptionKeyPrevious) != 32 ||
		cfg.OriginVerifySecretPrevious != "previous-origin-secret-of-32-bytes-xx" {
		t.Fatalf("previous keys not loaded: %q %d %q", cfg.JWTSigningKeyPrevious, len(cfg.TokenEncryptionKeyPrevious), cfg.OriginVerifySecretPrevious)
	}
	bad := lambdaEnv(map[string]string{"TOKEN_ENCRYPTION_KEY_PREVIOUS": "short", "JWT_SIGNING_KEY_PREVIOUS": "short"})
	res, err = config.ResolveLambdaEnv(context.Background(), bad, aws)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := config.Load(res.Getenv); err == nil || !strings.Contains(err.Error(), "TOKEN_ENCRYPTION_KEY_PREVIOUS") || !strings.Contains(err.Error(), "JWT_SIGNING_KEY_PREVIOUS") {
		t.Fatalf("bad previous keys: %v", err)
	}
}

// The embedded bundle holds only certificates that parse, and the RDS roots.
func TestEmbeddedRDSCABundle(t *testing.T) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(config.RDSCABundle) {
		t.Fatal("the RDS CA bundle has no certificate")
	}
	rest, n := config.RDSCABundle, 0
	for {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			t.Fatalf("certificate %d: %v", n, err)
		}
		if !c.IsCA {
			t.Errorf("%s is not a CA", c.Subject)
		}
		n++
	}
	if n < 20 || !strings.Contains(string(config.RDSCABundle), "Amazon RDS us-west-2 Root CA RSA2048 G1") {
		t.Fatalf("%d certificates; want the regional RDS roots", n)
	}
}

// The migrate action reads the master secret on every run: after RDS rotates the
// password, the next run uses the new one.
func TestMasterURLIsReadOnEveryCall(t *testing.T) {
	f, aws := fake(t, goodSecrets)
	res, err := config.ResolveLambdaEnv(context.Background(), lambdaEnv(map[string]string{"DB_SECRET_ARN": dbARN}), aws)
	if err != nil {
		t.Fatal(err)
	}
	if f.Reads(dbARN) != 0 {
		t.Fatal("the master secret was read at init")
	}
	for i, pw := range []string{"p@ss:w/rd?#&", "rotated-by-rds"} {
		if i == 1 {
			f.Set(dbARN, `{"username":"miyabi_admin","password":"rotated-by-rds"}`)
		}
		raw, err := res.MasterURL(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(raw)
		got, _ := u.User.Password()
		if u.User.Username() != "miyabi_admin" || got != pw || u.Query().Get("sslmode") != "verify-full" {
			t.Fatalf("run %d: master URL user %s password %q, want %q", i, u.User.Username(), got, pw)
		}
	}
	if f.Reads(dbARN) != 2 {
		t.Fatalf("master secret read %d times, want once per run", f.Reads(dbARN))
	}
	f.Set(dbARN, `{"username":"u"}`)
	if _, err := res.MasterURL(context.Background()); err == nil || !strings.Contains(err.Error(), "DB_SECRET_ARN") {
		t.Fatalf("a master secret without a password: %v", err)
	}
}

// The IAM token is SigV4-presigned rds-db:connect for exactly the app user at the
// instance's endpoint, built locally from the role's credentials.
func TestRDSIAMToken(t *testing.T) {
	tok, err := config.RDSIAMToken(lambdaEnv(map[string]string{"AWS_SESSION_TOKEN": "session"}))(context.Background(), "db.internal", 5432, "miyabi_app")
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse("https://" + tok)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if u.Host != "db.internal:5432" || q.Get("Action") != "connect" || q.Get("DBUser") != "miyabi_app" ||
		!strings.HasPrefix(q.Get("X-Amz-Credential"), "AKIAEXAMPLE/") || !strings.Contains(q.Get("X-Amz-Credential"), "/eu-west-1/rds-db/") ||
		q.Get("X-Amz-Signature") == "" || q.Get("X-Amz-Security-Token") != "session" || q.Get("X-Amz-Expires") != "900" {
		t.Fatalf("token %s", tok)
	}
	if _, err := config.RDSIAMToken(func(string) string { return "" })(context.Background(), "h", 5432, "u"); err == nil ||
		!strings.Contains(err.Error(), "AWS_REGION") {
		t.Fatalf("no region: %v", err)
	}
}

func TestResolveLambdaEnvAppPasswordFromASecret(t *testing.T) {
	const pwARN = "arn:aws:secretsmanager:eu-west-1:1:secret:miyabi/app-db"
	secrets := map[string]string{appARN: goodSecrets[appARN], pwARN: `{"password":"app-role-password"}`}
	f, aws := fake(t, secrets)
	res, err := config.ResolveLambdaEnv(context.Background(), lambdaEnv(map[string]string{"DB_APP_AUTH": "secret", "DB_APP_PASSWORD_SECRET_ARN": pwARN}), aws)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if pw, err := res.Password(context.Background(), "db.internal", 5432, "miyabi_app"); err != nil || pw != "app-role-password" {
			t.Fatalf("password %q, %v", pw, err)
		}
	}
	if f.Reads(pwARN) != 2 {
		t.Fatalf("read %d times, want once per new connection", f.Reads(pwARN))
	}
}

func TestResolveLambdaEnvFetchesNothingWhenTheEnvironmentHasEverything(t *testing.T) {
	f, aws := fake(t, goodSecrets)
	env := lambdaEnv(map[string]string{"DATABASE_URL": "postgres://u:p@h/db", "JWT_SIGNING_KEY": "env-jwt-key-of-at-least-thirty-two-bytes",
		"TOKEN_ENCRYPTION_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", "GITHUB_CLIENT_SECRET": "env-github-secret-of-at-least-32-bytes"})
	res, err := config.ResolveLambdaEnv(context.Background(), env, aws)
	if err != nil {
		t.Fatal(err)
	}
	if f.TotalReads() != 0 || len(res.Fetched) != 0 {
		t.Fatalf("fetched %v", res.Fetched)
	}
	if res.Getenv("DATABASE_URL") != "postgres://u:p@h/db" || res.Getenv("JWT_SIGNING_KEY") != "env-jwt-key-of-at-least-thirty-two-bytes" {
		t.Fatal("the environment's values were not used as they are")
	}
}

func TestResolveLambdaEnvNamesWhatIsMissingOrWrong(t *testing.T) {
	cases := []struct {
		name    string
		env     map[string]string
		secrets map[string]string
		want    []string
	}{
		{"no app user", map[string]string{"DB_APP_USER": ""}, goodSecrets, []string{"DB_APP_USER"}},
		{"unknown auth", map[string]string{"DB_APP_AUTH": "password"}, goodSecrets, []string{"DB_APP_AUTH"}},
		{"secret auth without its ARN", map[string]string{"DB_APP_AUTH": "secret"}, goodSecrets, []string{"DB_APP_PASSWORD_SECRET_ARN"}},
		{"master secret without a host", map[string]string{"DATABASE_URL": "postgres://u@h/db", "DB_HOST": "", "DB_SECRET_ARN": dbARN}, goodSecrets, []string{"DB_HOST", "migrate"}},
		{"no DB host or name", map[string]string{"DB_HOST": "", "DB_NAME": ""}, goodSecrets, []string{"DB_HOST", "DB_NAME"}},
		{"bad DB port", map[string]string{"DB_PORT": "five"}, goodSecrets, []string{"DB_PORT"}},
		{"no app secret ARN", map[string]string{"APP_SECRET_ARN": ""}, goodSecrets, []string{"APP_SECRET_ARN", "JWT_SIGNING_KEY"}},
		{"secret not found", nil, map[string]string{dbARN: goodSecrets[dbARN]}, []string{"APP_SECRET_ARN", "ResourceNotFoundException"}},
		{"app secret without a key", nil, map[string]string{dbARN: goodSecrets[dbARN], appARN: `{"jwt_signing_key":"x"}`}, []string{"token_encryption_key", "github_client_secret"}},
		{"app secret not JSON", nil, map[string]string{dbARN: goodSecrets[dbARN], appARN: `hunter2`}, []string{"APP_SECRET_ARN", "not a JSON object"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, aws := fake(t, tc.secrets)
			_, err := config.ResolveLambdaEnv(context.Background(), lambdaEnv(tc.env), aws)
			if err == nil {
				t.Fatal("resolved a broken Lambda environment")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("error does not name %s: %v", w, err)
				}
			}
			if strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "p@ss") {
				t.Fatalf("error leaks a secret: %v", err)
			}
		})
	}
}
