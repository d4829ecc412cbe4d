package auth

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// A token changed anywhere (or extended) is refused; Parse never panics on any input.
func FuzzParseAccessToken(f *testing.F) {
	tokens := NewTokens([]byte("fuzz-signing-key-0123456789abcdef0123"), nil)
	f.Add(uint16(0), byte('x'), "")
	f.Add(uint16(5), byte('.'), "")
	f.Add(uint16(1000), byte('A'), "")
	f.Add(uint16(9), byte('a'), ".extra")
	f.Fuzz(func(t *testing.T, pos uint16, b byte, tail string) {
		issued, _, err := tokens.Issue(uuid.New(), uuid.New(), uuid.New())
		if err != nil {
			t.Fatal(err)
		}
		i := int(pos) % len(issued)
		mutated := issued[:i] + string([]byte{b}) + issued[i+1:] + tail
		if _, err := tokens.Parse(mutated); err == nil && mutated != issued {
			t.Fatalf("accepted a changed token: byte %d -> %q, tail %q", i, b, tail)
		}
		_, _ = tokens.Parse(tail) // arbitrary input: must not panic
	})
}

// The state cookie decodes only what this server signed, and never panics.
func FuzzDecodeOAuthState(f *testing.F) {
	s := NewStateSigner([]byte("fuzz-signing-key-0123456789abcdef0123"))
	// A fixed expiry: the fuzzing workers are other processes that build valid again, and
	// a clock read could cross a second between them and the seed's process (it did in CI).
	expires := time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	valid := s.Encode(OAuthState{State: "state", Verifier: "verifier", Redirect: "/x", Expires: expires})
	f.Add(valid)
	f.Add("")
	f.Add("e30.")
	f.Fuzz(func(t *testing.T, v string) {
		if _, err := s.Decode(v, time.Now()); err == nil && v != valid {
			t.Fatalf("accepted a cookie this server did not sign: %q", v)
		}
	})
}

// Whatever redirect a sign-in asks for, it lands on a local path.
func FuzzSafeRedirect(f *testing.F) {
	for _, seed := range []string{"/", "/executions?x=1", "//evil", "/\\evil", "https://evil", "javascript:x", "/%2F%2Fevil", "\t/x"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, p string) {
		got := SafeRedirect(p)
		if !strings.HasPrefix(got, "/") || strings.HasPrefix(got, "//") || strings.HasPrefix(got, "/\\") || strings.ContainsAny(got, "\r\n\t") {
			t.Fatalf("SafeRedirect(%q) = %q", p, got)
		}
	})
}
