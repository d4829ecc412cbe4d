package config_test

import (
	"context"
	"net/url"
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
		"DB_HOST": "db.internal", "DB_PORT": "5432", "DB_NAME": "miyabi",
		"DB_SECRET_ARN": dbARN, "APP_SECRET_ARN": appARN,
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
	pw, _ := u.User.Password()
	if u.User.Username() != "miyabi_admin" || pw != "p@ss:w/rd?#&" || u.Host != "db.internal:5432" || u.Path != "/miyabi" || u.Query().Get("sslmode") != "require" {
		t.Fatalf("DATABASE_URL %s", cfg.DatabaseURL)
	}
	if string(cfg.JWTSigningKey) != "jwt-key-from-secrets-manager-32-bytes-long" || cfg.GitHubClientSecret != "github-secret-from-secrets-manager-32b" ||
		cfg.OriginVerifySecret != "origin-secret-from-secrets-manager-32b" || len(cfg.TokenEncryptionKey) != 32 {
		t.Fatalf("keys not taken from the app secret: %+v", cfg)
	}
	if cfg.DBPoolMax != 2 {
		t.Fatalf("DBPoolMax %d, want 2 on Lambda", cfg.DBPoolMax)
	}
	if f.Reads(dbARN) != 1 || f.Reads(appARN) != 1 || len(res.Fetched) != 2 {
		t.Fatalf("reads db=%d app=%d fetched=%v", f.Reads(dbARN), f.Reads(appARN), res.Fetched)
	}
}

func TestResolveLambdaEnvVerifiesTLSWithACABundle(t *testing.T) {
	_, aws := fake(t, goodSecrets)
	res, err := config.ResolveLambdaEnv(context.Background(), lambdaEnv(map[string]string{"DB_CA_BUNDLE": "/var/task/rds-ca.pem", "DB_POOL_MAX": "5"}), aws)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(res.Getenv("DATABASE_URL"))
	if u.Query().Get("sslmode") != "verify-full" || u.Query().Get("sslrootcert") != "/var/task/rds-ca.pem" {
		t.Fatalf("DATABASE_URL %s", u)
	}
	if res.Getenv("DB_POOL_MAX") != "5" {
		t.Fatalf("DB_POOL_MAX %q, want the configured 5", res.Getenv("DB_POOL_MAX"))
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
		{"no DB secret ARN", map[string]string{"DB_SECRET_ARN": ""}, goodSecrets, []string{"DB_SECRET_ARN"}},
		{"no DB host or name", map[string]string{"DB_HOST": "", "DB_NAME": ""}, goodSecrets, []string{"DB_HOST", "DB_NAME"}},
		{"bad DB port", map[string]string{"DB_PORT": "five"}, goodSecrets, []string{"DB_PORT"}},
		{"no app secret ARN", map[string]string{"APP_SECRET_ARN": ""}, goodSecrets, []string{"APP_SECRET_ARN", "JWT_SIGNING_KEY"}},
		{"secret not found", nil, map[string]string{dbARN: goodSecrets[dbARN]}, []string{"APP_SECRET_ARN", "ResourceNotFoundException"}},
		{"DB secret without password", nil, map[string]string{dbARN: `{"username":"u"}`, appARN: goodSecrets[appARN]}, []string{"DB_SECRET_ARN", "password"}},
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
