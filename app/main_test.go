package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestRunRefusesMissingOrBadConfiguration(t *testing.T) {
	base := map[string]string{
		"APP_ENV":              "production",
		"DATABASE_URL":         "postgres://u:p@127.0.0.1:1/db",
		"JWT_SIGNING_KEY":      "a-real-jwt-signing-key-of-at-least-32-bytes",
		"TOKEN_ENCRYPTION_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
		"GITHUB_CLIENT_ID":     "client",
		"GITHUB_CLIENT_SECRET": "a-real-github-client-secret-of-32-bytes",
	}
	cases := []struct {
		name, key, value string
	}{
		{"APP_ENV missing", "APP_ENV", ""},
		{"APP_ENV unknown", "APP_ENV", "prod"},
		{"DATABASE_URL missing", "DATABASE_URL", ""},
		{"DATABASE_URL not postgres", "DATABASE_URL", "mysql://x"},
		{"DB_POOL_MAX not a number", "DB_POOL_MAX", "many"},
		{"LOG_FORMAT unknown", "LOG_FORMAT", "xml"},
		{"PUBLIC_URL not a URL", "PUBLIC_URL", "example"},
		{"JWT_SIGNING_KEY missing", "JWT_SIGNING_KEY", ""},
		{"JWT_SIGNING_KEY short", "JWT_SIGNING_KEY", "short"},
		{"JWT_SIGNING_KEY dev default", "JWT_SIGNING_KEY", "miyabi-development-jwt-signing-key-not-secret"},
		{"TOKEN_ENCRYPTION_KEY missing", "TOKEN_ENCRYPTION_KEY", ""},
		{"TOKEN_ENCRYPTION_KEY not 32 bytes", "TOKEN_ENCRYPTION_KEY", "c2hvcnQ="},
		{"GITHUB_CLIENT_SECRET missing", "GITHUB_CLIENT_SECRET", ""},
		{"GITHUB_CLIENT_ID missing", "GITHUB_CLIENT_ID", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range base {
				env[k] = v
			}
			env[tc.key] = tc.value
			var out, errOut bytes.Buffer
			err := run(context.Background(), []string{"serve"}, func(k string) string { return env[k] }, &out, &errOut)
			if err == nil {
				t.Fatal("started with a bad configuration")
			}
			if !strings.Contains(err.Error(), tc.key) {
				t.Fatalf("error does not name %s: %v", tc.key, err)
			}
		})
	}
}

func TestOpenAPICommandNeedsNoDatabase(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"openapi"}, func(string) string { return "" }, &out, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"openapi": "3.1`) || !strings.Contains(out.String(), "/auth/dev-login") {
		t.Fatalf("document: %.200s", out.String())
	}
}
