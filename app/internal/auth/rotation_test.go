package auth

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

var (
	oldJWT = []byte("old-jwt-signing-key-0123456789abcdef-0123")
	newJWT = []byte("new-jwt-signing-key-0123456789abcdef-4567")
)

// A rotation: tokens signed with the old key keep working while it is the previous
// key, and stop once it is dropped; tokens name their key.
func TestAccessTokensAcrossAKeyRotation(t *testing.T) {
	user, sid, org := uuid.New(), uuid.New(), uuid.New()
	before := NewTokens(oldJWT, nil)
	oldTok, _, err := before.Issue(user, sid, org)
	if err != nil {
		t.Fatal(err)
	}
	during := NewTokens(newJWT, nil, oldJWT)
	if a, err := during.Parse(oldTok); err != nil || a.UserID != user {
		t.Fatalf("a token of the previous key was refused during the rotation: %v", err)
	}
	newTok, _, _ := during.Issue(user, sid, org)
	if kid := header(t, newTok)["kid"]; kid != KeyIDString(newJWT) {
		t.Fatalf("kid %v, want the new key's %s", kid, KeyIDString(newJWT))
	}
	if _, err := before.Parse(newTok); err == nil {
		t.Fatal("a token of the new key passed with the old key alone")
	}
	after := NewTokens(newJWT, nil)
	if _, err := after.Parse(oldTok); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("the old key's token still passed after the rotation: %v", err)
	}
	if _, err := after.Parse(newTok); err != nil {
		t.Fatal(err)
	}

	// Tokens issued before keys had ids carry no kid: tried with every key.
	legacy := jwt.NewWithClaims(jwt.SigningMethodHS256, Claims{SessionID: sid.String(), OrgID: org.String(),
		RegisteredClaims: jwt.RegisteredClaims{Issuer: Issuer, Subject: user.String(), Audience: jwt.ClaimStrings{Audience},
			IssuedAt: jwt.NewNumericDate(time.Now()), ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Minute))}})
	raw, _ := legacy.SignedString(oldJWT)
	if _, err := during.Parse(raw); err != nil {
		t.Fatalf("a kid-less token of the previous key was refused: %v", err)
	}
	if _, err := after.Parse(raw); err == nil {
		t.Fatal("a kid-less token of a dropped key passed")
	}
	// A kid naming a key we do not hold is refused even when the signature is ours.
	forged := jwt.NewWithClaims(jwt.SigningMethodHS256, legacy.Claims)
	forged.Header["kid"] = "0000000000000000"
	raw, _ = forged.SignedString(newJWT)
	if _, err := after.Parse(raw); err == nil {
		t.Fatal("a token with an unknown kid passed")
	}
}

func TestOAuthStateAcrossAKeyRotation(t *testing.T) {
	now := time.Now()
	v := NewStateSigner(oldJWT).Encode(NewOAuthState("/x", now))
	if _, err := NewStateSigner(newJWT, oldJWT).Decode(v, now); err != nil {
		t.Fatalf("a sign-in started before the rotation failed: %v", err)
	}
	if _, err := NewStateSigner(newJWT).Decode(v, now); !errors.Is(err, ErrStateInvalid) {
		t.Fatalf("the dropped key's cookie passed: %v", err)
	}
}

func TestSealedTokensAcrossAKeyRotation(t *testing.T) {
	oldKey, newKey := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	owner := uuid.New()
	before, _ := NewSealer(oldKey)
	sealed := before.Seal([]byte("gho_token"), owner[:])

	// The value sealed before keys had ids (nonce | ciphertext).
	block, _ := aes.NewCipher(oldKey)
	aead, _ := cipher.NewGCM(block)
	nonce := make([]byte, aead.NonceSize())
	rand.Read(nonce)
	legacy := aead.Seal(append([]byte{}, nonce...), nonce, []byte("gho_legacy"), owner[:])

	during, err := NewSealer(newKey, oldKey)
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		sealed []byte
		plain  string
	}{"previous key": {sealed, "gho_token"}, "unversioned": {legacy, "gho_legacy"}} {
		plain, fresh, err := during.ResealIfStale(c.sealed, owner[:])
		if err != nil || string(plain) != c.plain {
			t.Fatalf("%s: open %q, %v", name, plain, err)
		}
		if fresh == nil {
			t.Fatalf("%s: not re-sealed with the current key", name)
		}
		// the re-sealed value opens with the new key alone and is current
		after, _ := NewSealer(newKey)
		p, again, err := after.ResealIfStale(fresh, owner[:])
		if err != nil || string(p) != c.plain || again != nil {
			t.Fatalf("%s: the re-sealed value: %q %v stale=%v", name, p, err, again != nil)
		}
	}
	// Bound to its owner, and unreadable once its key is gone.
	if _, err := during.Open(sealed, []byte("someone else")); err == nil {
		t.Fatal("opened with another owner")
	}
	after, _ := NewSealer(newKey)
	if _, err := after.Open(sealed, owner[:]); !errors.Is(err, ErrSealedUnreadable) {
		t.Fatalf("a value of a dropped key: %v", err)
	}
	if _, err := NewSealer(newKey, []byte("short")); err == nil {
		t.Fatal("a previous key of the wrong size was accepted")
	}
}

func header(t *testing.T, tok string) map[string]any {
	t.Helper()
	p, _, err := jwt.NewParser().ParseUnverified(tok, jwt.MapClaims{})
	if err != nil {
		t.Fatal(err)
	}
	return p.Header
}
