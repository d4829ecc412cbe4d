package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"time"
)

// RefreshGrace is how long a just-rotated refresh token is still accepted, answering
// with the same successor: two tabs (or a restored browser session) refreshing at the
// same moment both carry the old token, and the second must not look like theft.
const RefreshGrace = 10 * time.Second

// SuccessorSigner derives the token a refresh token rotates into. The successor is a
// MAC of the old token under a server key: unpredictable without the key, yet the same
// for every presentation of the old token, so the grace can hand out the one successor
// that was stored (only its hash is kept) without storing the token itself.
type SuccessorSigner struct{ key []byte }

// NewSuccessorSigner derives its key from the JWT key, for this use only.
func NewSuccessorSigner(jwtKey []byte) *SuccessorSigner {
	m := hmac.New(sha256.New, jwtKey)
	m.Write([]byte("miyabi refresh successor"))
	return &SuccessorSigner{key: m.Sum(nil)}
}

// Successor returns the token old rotates into, and its hash.
func (s *SuccessorSigner) Successor(old string) (token string, hash []byte) {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(old))
	token = base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	return token, HashToken(token)
}
