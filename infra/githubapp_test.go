package main

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"
)

// The GitHub App: its id and slug are plain function environment, its key and webhook
// secret ride in the app secret only, and the webhook URL to give GitHub is an output.
func TestGitHubAppWiring(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pemKey := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
	app := map[string]string{
		"miyabi:githubAppId":         "123456",
		"miyabi:githubAppSlug":       "miyabi-staging",
		"miyabi:githubAppPrivateKey": pemKey,
		"miyabi:githubWebhookSecret": "webhook-secret-0123456789abcdef0123456789",
	}
	cfg := stackConfig(t, "staging")
	for k, v := range app {
		cfg[k] = v
	}
	for _, k := range []string{"miyabi:githubAppPrivateKey", "miyabi:githubWebhookSecret"} {
		testSecrets[k] = app[k]
	}
	defer func() {
		delete(testSecrets, "miyabi:githubAppPrivateKey")
		delete(testSecrets, "miyabi:githubWebhookSecret")
	}()
	run, err := runStack(t, "staging", cfg, testBuilders(t, ""))
	if err != nil {
		t.Fatal(err)
	}
	policyNoPlainSecretsRedacted(t, run)
	body := run.one(t, "aws:secretsmanager/secretVersion:SecretVersion", "app").Inputs["secretString"].(string)
	for _, k := range []string{"github_app_private_key", "github_webhook_secret"} {
		if !strings.Contains(body, `"`+k+`"`) {
			t.Errorf("the app secret lacks %s", k)
		}
	}
	env := run.one(t, "aws:lambda/function:Function", "api").Inputs["environment"].(map[string]any)["variables"].(map[string]any)
	if env["GITHUB_APP_ID"] != "123456" || env["GITHUB_APP_SLUG"] != "miyabi-staging" {
		t.Errorf("function environment: GITHUB_APP_ID %v, GITHUB_APP_SLUG %v", env["GITHUB_APP_ID"], env["GITHUB_APP_SLUG"])
	}
	for _, k := range []string{"GITHUB_APP_PRIVATE_KEY", "GITHUB_WEBHOOK_SECRET"} {
		if _, ok := env[k]; ok {
			t.Errorf("%s is in the function's plain environment", k)
		}
	}
	if got, want := run.outputs["githubWebhookUrl"], "https://"+fakeCDNHost+"/api/v1/github/webhook"; got != want {
		t.Errorf("githubWebhookUrl = %q, want %q", got, want)
	}

	// all four keys or none, each checked, the key and the secret as secrets
	bad := []struct {
		name string
		over map[string]string
		want string
	}{
		{"slug without id", map[string]string{"miyabi:githubAppId": ""}, "miyabi:githubAppSlug: is set but miyabi:githubAppId is not"},
		{"id without key", map[string]string{"miyabi:githubAppPrivateKey": ""}, "miyabi:githubAppPrivateKey: is required with miyabi:githubAppId"},
		{"id not numeric", map[string]string{"miyabi:githubAppId": "miyabi"}, "miyabi:githubAppId: must be the App's numeric id"},
		{"key not a key", map[string]string{"miyabi:githubAppPrivateKey": "not a pem"}, "miyabi:githubAppPrivateKey: must be"},
		{"short webhook secret", map[string]string{"miyabi:githubWebhookSecret": "short"}, "miyabi:githubWebhookSecret: must be"},
	}
	for _, tc := range bad {
		c := map[string]string{}
		for k, v := range cfg {
			c[k] = v
		}
		for k, v := range tc.over {
			c[k] = v
		}
		_, _, err := readConfig("test", func(k string) (string, bool) { v, ok := c[k]; return v, ok },
			func(k string) bool { return testSecrets[k] != "" })
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "PRIVATE KEY") {
			t.Errorf("%s: the error shows the key", tc.name)
		}
	}
	_, _, err = readConfig("test", func(k string) (string, bool) { v, ok := cfg[k]; return v, ok },
		func(k string) bool { return k != "miyabi:githubAppPrivateKey" && testSecrets[k] != "" })
	if err == nil || !strings.Contains(err.Error(), "miyabi:githubAppPrivateKey: is not a secret") {
		t.Errorf("a plain private key: err = %v", err)
	}
}
