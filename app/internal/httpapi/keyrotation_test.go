package httpapi_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/miyabi/miyabi/app/internal/apitest"
	"github.com/miyabi/miyabi/app/internal/auth"
	"github.com/miyabi/miyabi/app/internal/config"
	"github.com/miyabi/miyabi/app/internal/testdb"
)

// The token-encryption key rotates under stored GitHub tokens: a token sealed with the
// old key still works while it is the previous key, is re-sealed with the new one on
// use, and keeps working after the old key is dropped.
func TestGitHubTokenSurvivesAKeyRotation(t *testing.T) {
	db := testdb.Pool(t)
	oldKey := []byte("0123456789abcdef0123456789abcdef") // apitest's default
	newKey := []byte("fedcba9876543210fedcba9876543210")
	// connecting reads the person's token only without a GitHub App (with one, the
	// installation reads the repository)
	noApp := apitest.WithoutGitHubApp()
	before := apitest.NewOn(t, db, noApp)
	st := before.Store
	alice := before.Login("alice") // the dev login stores alice's GitHub token, sealed
	stored := func() []byte {
		t.Helper()
		b, err := st.SealedGitHubToken(context.Background(), alice.UserID)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	keyOf := func(k []byte) []byte { return append([]byte("mk1"), auth.KeyID(k)[:8]...) }
	if !bytes.HasPrefix(stored(), keyOf(oldKey)) {
		t.Fatal("the stored token does not name the key that sealed it")
	}

	during := apitest.NewOn(t, db, noApp, func(c *config.Config) {
		c.TokenEncryptionKey, c.TokenEncryptionKeyPrevious = newKey, oldKey
	})
	as := during.Anonymous()
	as.Token = alice.Token
	connectRepo(t, as, "miyabi-demo/webapp") // reads the token: GitHub is asked with it
	if !bytes.HasPrefix(stored(), keyOf(newKey)) {
		t.Fatal("the token was not re-sealed with the current key on use")
	}

	after := apitest.NewOn(t, db, noApp, func(c *config.Config) { c.TokenEncryptionKey = newKey })
	as = after.Anonymous()
	as.Token = alice.Token
	connectRepo(t, as, "miyabi-demo/api-server")

	// A server that has only a key the token was never sealed with cannot read it, and
	// says what to do.
	stranger := apitest.NewOn(t, db, noApp, func(c *config.Config) { c.TokenEncryptionKey = oldKey })
	as = stranger.Anonymous()
	as.Token = alice.Token
	p := as.Do("POST", "/repositories", map[string]any{"full_name": "alice/hello-world"}).Problem(409)
	if !p.Mentions("sign in with GitHub again") {
		t.Fatalf("problem %+v", p)
	}
}
