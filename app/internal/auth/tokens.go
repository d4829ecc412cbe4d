// Package auth issues and checks Miyabi's credentials: access JWTs, opaque refresh and
// worker tokens (stored as SHA-256 only), the signed OAuth state cookie, and the
// encryption of GitHub tokens at rest.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

const (
	Issuer         = "miyabi"
	Audience       = "miyabi-api"
	AccessTokenTTL = 15 * time.Minute
	SessionTTL     = 30 * 24 * time.Hour
	WorkerPrefix   = "mw_"
)

// Claims are the access token's claims: sub is the user, sid the session (refresh-token
// family) and org the active organization.
type Claims struct {
	SessionID string `json:"sid"`
	OrgID     string `json:"org"`
	jwt.RegisteredClaims
}

// Tokens signs access tokens with the current HS256 key and verifies them with the
// current or, during a rotation, the previous key. Each token names its key in the
// header's kid; a token without one (issued before keys had ids) is tried with every
// key.
type Tokens struct {
	key    []byte
	kid    string
	byKid  map[string][]byte
	parser *jwt.Parser
	now    func() time.Time
}

// NewTokens pins the parser to HS256 and requires iss, aud and exp. previous are the
// keys still accepted (JWT_SIGNING_KEY_PREVIOUS); empty ones are ignored.
func NewTokens(key []byte, now func() time.Time, previous ...[]byte) *Tokens {
	if now == nil {
		now = time.Now
	}
	byKid := map[string][]byte{KeyIDString(key): key}
	for _, p := range previous {
		if len(p) > 0 {
			byKid[KeyIDString(p)] = p
		}
	}
	return &Tokens{
		key:   key,
		kid:   KeyIDString(key),
		byKid: byKid,
		now:   now,
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
			jwt.WithIssuer(Issuer),
			jwt.WithAudience(Audience),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithTimeFunc(now),
			jwt.WithLeeway(5*time.Second),
			jwt.WithStrictDecoding(), // one encoding per token: no malleable trailing bits
		),
	}
}

// Issue signs an access token for the user's session in the organization.
func (t *Tokens) Issue(userID, sessionID, orgID uuid.UUID) (string, time.Time, error) {
	now := t.now()
	exp := now.Add(AccessTokenTTL)
	claims := Claims{
		SessionID: sessionID.String(),
		OrgID:     orgID.String(),
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    Issuer,
			Subject:   userID.String(),
			Audience:  jwt.ClaimStrings{Audience},
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(exp),
			ID:        uuid.NewString(),
		},
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
	tok.Header["kid"] = t.kid
	s, err := tok.SignedString(t.key)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign access token: %w", err)
	}
	return s, exp, nil
}

// Access is a verified access token.
type Access struct {
	UserID, SessionID, OrgID uuid.UUID
}

// ErrInvalidToken covers every way an access token can be wrong; callers answer 401.
var ErrInvalidToken = errors.New("invalid access token")

// Parse verifies signature, algorithm, issuer, audience and expiry.
func (t *Tokens) Parse(raw string) (Access, error) {
	// a JWT is base64url and dots only; anything else (base64 decoding would skip CR and
	// LF, for one) is refused before parsing
	if len(raw) > 4096 || strings.ContainsFunc(raw, func(r rune) bool {
		return !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.')
	}) {
		return Access{}, ErrInvalidToken
	}
	var c Claims
	tok, err := t.parser.ParseWithClaims(raw, &c, t.keyFor)
	if err != nil || !tok.Valid {
		return Access{}, fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	var a Access
	if a.UserID, err = uuid.Parse(c.Subject); err != nil {
		return Access{}, fmt.Errorf("%w: sub", ErrInvalidToken)
	}
	if a.SessionID, err = uuid.Parse(c.SessionID); err != nil {
		return Access{}, fmt.Errorf("%w: sid", ErrInvalidToken)
	}
	if a.OrgID, err = uuid.Parse(c.OrgID); err != nil {
		return Access{}, fmt.Errorf("%w: org", ErrInvalidToken)
	}
	return a, nil
}

// keyFor picks the verification key by kid: a known kid gets its key, an unknown one
// none (a token signed with a retired key is refused), and no kid every key.
func (t *Tokens) keyFor(tok *jwt.Token) (any, error) {
	kid, present := tok.Header["kid"]
	if !present {
		set := jwt.VerificationKeySet{}
		for _, k := range t.byKid {
			set.Keys = append(set.Keys, k)
		}
		return set, nil
	}
	s, ok := kid.(string)
	if !ok {
		return nil, errors.New("kid is not a string")
	}
	if k, ok := t.byKid[s]; ok {
		return k, nil
	}
	return nil, errors.New("unknown kid")
}

// KeyIDString is the kid of a signing key: 16 hex digits that identify it without
// revealing it.
func KeyIDString(key []byte) string { return hex.EncodeToString(KeyID(key)[:8]) }

// NewOpaqueToken returns 32 random bytes, URL-safe, with an optional prefix, and the
// SHA-256 that is all the database ever keeps of it.
func NewOpaqueToken(prefix string) (token string, hash []byte) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err)) // the OS has no entropy: nothing is safe
	}
	token = prefix + base64.RawURLEncoding.EncodeToString(b[:])
	return token, HashToken(token)
}

// HashToken is how opaque tokens are looked up.
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// IsWorkerToken tells worker tokens from JWTs without parsing either.
func IsWorkerToken(raw string) bool { return strings.HasPrefix(raw, WorkerPrefix) }
