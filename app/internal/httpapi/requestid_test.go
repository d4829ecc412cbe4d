package httpapi_test

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/miyabi/miyabi/app/internal/apitest"
)

// Every error a person or a worker can get carries the request_id the operators' log
// queries need, equal to the X-Request-Id header: every route called without
// credentials, with a malformed body and unknown ids, plus the engine's own refusals
// (no route, wrong method, a body too large, an unknown encoding).
func TestEveryErrorCarriesRequestID(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	param := regexp.MustCompile(`\{[a-z_]+\}`)
	checked := 0
	check := func(r *apitest.Response, what string) {
		t.Helper()
		if r.Status < 400 {
			return
		}
		if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/problem+json") {
			t.Errorf("%s: %d answered %q, not problem+json", what, r.Status, r.Header.Get("Content-Type"))
			return
		}
		var p struct {
			RequestID string `json:"request_id"`
		}
		_ = json.Unmarshal(r.Body, &p)
		if p.RequestID == "" || p.RequestID != r.Header.Get("X-Request-Id") {
			t.Errorf("%s: %d problem request_id %q, header %q: %s", what, r.Status, p.RequestID, r.Header.Get("X-Request-Id"), r.Body)
		}
		checked++
	}
	for path, item := range env.Server.OpenAPI().Paths {
		for _, o := range operations(item) {
			if path == "/auth/logout" || path == "/auth/dev-login" {
				continue // would end alice's session / sign someone in
			}
			p := param.ReplaceAllStringFunc(path, func(string) string { return uuid.NewString() })
			check(env.Anonymous().Do(o.Method, p, nil), "anonymous "+o.Method+" "+path)
			var body any
			if o.RequestBody != nil {
				body = "{"
			}
			check(alice.Do(o.Method, p, body), "alice "+o.Method+" "+path)
		}
	}
	check(alice.Do("GET", "/no-such-route", nil), "no route")
	check(alice.Do("PUT", "/tasks", nil), "wrong method")
	check(alice.Do("POST", "/tasks", strings.Repeat("x", 2<<20)), "too large")
	check(alice.Do("POST", "/tasks", "{}", "Content-Encoding", "br"), "unknown encoding")
	check(alice.Do("POST", "/tasks", map[string]any{"name": ""}), "validation")
	if checked < 50 {
		t.Fatalf("only %d errors checked", checked)
	}
}
