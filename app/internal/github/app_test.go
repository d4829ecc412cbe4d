package github_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/miyabi/miyabi/app/internal/config"
	"github.com/miyabi/miyabi/app/internal/fakegithub"
	"github.com/miyabi/miyabi/app/internal/github"
)

func newApp(t *testing.T, key []byte) (*github.App, *fakegithub.Server) {
	t.Helper()
	fake := fakegithub.New("id", "secret")
	if err := fake.ConfigureApp(config.DevGitHubAppID, []byte(config.DevGitHubAppPrivateKey), "", nil); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	app, err := github.NewApp(srv.URL, config.DevGitHubAppID, key)
	if err != nil {
		t.Fatal(err)
	}
	return app, fake
}

func TestInstallationTokensAreCachedUntilShortlyBeforeExpiry(t *testing.T) {
	app, fake := newApp(t, []byte(config.DevGitHubAppPrivateKey))
	ctx := context.Background()
	inst, err := app.RepoInstallation(ctx, "miyabi-demo/webapp")
	if err != nil || inst != fake.InstallationFor("miyabi-demo/webapp") {
		t.Fatalf("installation %d, %v", inst, err)
	}
	first, err := app.InstallationToken(ctx, inst)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := app.InstallationToken(ctx, inst)
	if again != first {
		t.Fatalf("a second token was minted while the first is fresh")
	}
	// a token that expires within five minutes is never used: a fresh one is minted
	fake.SetTokenLifetime(4 * time.Minute)
	other := fake.InstallationFor("octo-org/private-tool")
	short, err := app.InstallationToken(ctx, other)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := app.InstallationToken(ctx, other); err != nil || again == short {
		t.Fatalf("a token living 4 minutes was cached (%v)", err)
	}
	fake.SetTokenLifetime(time.Hour)
	// the token reads the repository, private ones too
	r, err := app.Repo(ctx, fake.InstallationFor("octo-org/private-tool"), "octo-org/private-tool")
	if err != nil || !r.Private || r.FullName != "octo-org/private-tool" {
		t.Fatalf("repo %+v, %v", r, err)
	}
	if _, err := app.RepoInstallation(ctx, "miyabi-demo/docs-site"); !errors.Is(err, github.ErrNotInstalled) {
		t.Fatalf("docs-site: %v, want ErrNotInstalled", err)
	}
}

func TestAJWTFromAnotherKeyIsRefused(t *testing.T) {
	k, _ := rsa.GenerateKey(rand.Reader, 2048)
	other := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
	app, _ := newApp(t, other)
	if _, err := app.RepoInstallation(context.Background(), "miyabi-demo/webapp"); !errors.Is(err, github.ErrUnauthorized) {
		t.Fatalf("got %v, want ErrUnauthorized", err)
	}
}

func TestWebhookSignatures(t *testing.T) {
	secret, body := []byte("s3cret"), []byte(`{"action":"labeled"}`)
	sig := github.Sign(secret, body)
	if !github.ValidSignature(secret, body, sig) {
		t.Fatal("own signature refused")
	}
	for name, h := range map[string]string{"empty": "", "sha1": "sha1=" + sig[7:], "other body": github.Sign(secret, []byte("{}")),
		"other secret": github.Sign([]byte("x"), body), "not hex": "sha256=zz", "short": sig[:20]} {
		if github.ValidSignature(secret, body, h) {
			t.Errorf("%s: accepted", name)
		}
	}
	if github.ValidSignature(nil, body, github.Sign(nil, body)) {
		t.Error("an empty secret verifies anything")
	}
}
