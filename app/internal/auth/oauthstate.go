package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"time"
)

// OAuthStateTTL is how long a sign-in may take between /auth/github and the callback.
const OAuthStateTTL = 10 * time.Minute

// OAuthState rides in a signed, HttpOnly cookie from /auth/github to the callback.
type OAuthState struct {
	State    string `json:"s"`
	Verifier string `json:"v"`
	Redirect string `json:"r"`
	Expires  int64  `json:"e"`
}

// StateSigner signs the OAuth state cookie with a key derived from the JWT key, so a
// leaked cookie value can never pass as an access token or the reverse. During a key
// rotation a cookie signed with the previous JWT key (a sign-in started just before)
// still verifies.
type StateSigner struct {
	key      []byte
	previous [][]byte
}

func NewStateSigner(jwtKey []byte, previous ...[]byte) *StateSigner {
	s := &StateSigner{key: stateKey(jwtKey)}
	for _, p := range previous {
		if len(p) > 0 {
			s.previous = append(s.previous, stateKey(p))
		}
	}
	return s
}

func stateKey(jwtKey []byte) []byte {
	m := hmac.New(sha256.New, jwtKey)
	m.Write([]byte("miyabi oauth state cookie"))
	return m.Sum(nil)
}

// NewOAuthState makes a fresh random state and PKCE verifier for a redirect path.
func NewOAuthState(redirect string, now time.Time) OAuthState {
	return OAuthState{
		State:    randomString(24),
		Verifier: randomString(48),
		Redirect: SafeRedirect(redirect),
		Expires:  now.Add(OAuthStateTTL).Unix(),
	}
}

// Challenge is the PKCE S256 code challenge for the verifier.
func (o OAuthState) Challenge() string {
	h := sha256.Sum256([]byte(o.Verifier))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

func (s *StateSigner) Encode(o OAuthState) string {
	body, _ := json.Marshal(o)
	payload := base64.RawURLEncoding.EncodeToString(body)
	return payload + "." + s.mac(payload)
}

var (
	ErrStateMissing = errors.New("sign-in state cookie missing")
	ErrStateInvalid = errors.New("sign-in state cookie invalid")
	ErrStateExpired = errors.New("sign-in took longer than 10 minutes")
)

func (s *StateSigner) Decode(v string, now time.Time) (OAuthState, error) {
	if v == "" {
		return OAuthState{}, ErrStateMissing
	}
	payload, sig, ok := strings.Cut(v, ".")
	if !ok || !s.verify(payload, sig) {
		return OAuthState{}, ErrStateInvalid
	}
	body, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return OAuthState{}, ErrStateInvalid
	}
	var o OAuthState
	if err := json.Unmarshal(body, &o); err != nil {
		return OAuthState{}, ErrStateInvalid
	}
	if now.Unix() > o.Expires {
		return OAuthState{}, ErrStateExpired
	}
	return o, nil
}

func (s *StateSigner) verify(payload, sig string) bool {
	for _, k := range append([][]byte{s.key}, s.previous...) {
		if hmac.Equal([]byte(sig), []byte(macWith(k, payload))) {
			return true
		}
	}
	return false
}

func (s *StateSigner) mac(payload string) string { return macWith(s.key, payload) }

func macWith(key []byte, payload string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// SafeRedirect keeps only local absolute paths ("/x", not "//host" or "/\host" or a
// URL); anything else becomes "/", so sign-in can never be turned into an open redirect.
func SafeRedirect(p string) string {
	if p == "" || p[0] != '/' || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") ||
		strings.ContainsAny(p, "\r\n\t") || len(p) > 2048 {
		return "/"
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" {
		return "/"
	}
	return p
}

func randomString(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
