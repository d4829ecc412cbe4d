package config

import (
	"strings"
	"testing"
)

func loadWith(over map[string]string) (Config, error) {
	env := map[string]string{
		"APP_ENV": EnvStaging, "DATABASE_URL": "postgres://u:p@db/miyabi",
		"JWT_SIGNING_KEY": strings.Repeat("j", 40), "TOKEN_ENCRYPTION_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
		"GITHUB_CLIENT_ID": "Ov23li", "GITHUB_CLIENT_SECRET": strings.Repeat("c", 40),
	}
	for k, v := range over {
		env[k] = v
	}
	return Load(func(k string) string { return env[k] })
}

func TestGitHubAppConfig(t *testing.T) {
	if c, err := loadWith(nil); err != nil || c.GitHubApp.Enabled() {
		t.Fatalf("no App outside development unless configured: %+v %v", c.GitHubApp, err)
	}
	if c, err := loadWith(map[string]string{"APP_ENV": EnvDevelopment, "TOKEN_ENCRYPTION_KEY": ""}); err != nil || !c.GitHubApp.Enabled() || c.GitHubApp.Slug != DevGitHubAppSlug {
		t.Fatalf("development gets the dev App: %+v %v", c.GitHubApp, err)
	}
	// a one-line key with \n escapes, as secrets often arrive
	oneLine := strings.ReplaceAll(DevGitHubAppPrivateKey, "\n", `\n`)
	cases := []struct {
		name string
		env  map[string]string
		want string // the variable the error names; "" = loads
	}{
		{"complete", map[string]string{"GITHUB_APP_ID": "123", "GITHUB_APP_SLUG": "miyabi", "GITHUB_APP_PRIVATE_KEY": "x", "GITHUB_WEBHOOK_SECRET": strings.Repeat("w", 32)}, "GITHUB_APP_PRIVATE_KEY"},
		{"dev key refused", map[string]string{"GITHUB_APP_ID": "123", "GITHUB_APP_SLUG": "miyabi", "GITHUB_APP_PRIVATE_KEY": oneLine, "GITHUB_WEBHOOK_SECRET": strings.Repeat("w", 32)}, "GITHUB_APP_PRIVATE_KEY"},
		{"secret missing", map[string]string{"GITHUB_APP_ID": "123", "GITHUB_APP_SLUG": "miyabi"}, "GITHUB_WEBHOOK_SECRET"},
		{"bad id", map[string]string{"GITHUB_APP_ID": "abc"}, "GITHUB_APP_ID"},
		{"secret without id", map[string]string{"GITHUB_WEBHOOK_SECRET": strings.Repeat("w", 32)}, "GITHUB_WEBHOOK_SECRET"},
		{"short secret", map[string]string{"GITHUB_APP_ID": "1", "GITHUB_APP_SLUG": "m", "GITHUB_WEBHOOK_SECRET": "short"}, "GITHUB_WEBHOOK_SECRET"},
	}
	for _, tc := range cases {
		_, err := loadWith(tc.env)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one naming %s", tc.name, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "BEGIN RSA") {
			t.Errorf("%s: the error shows the key", tc.name)
		}
	}
}
