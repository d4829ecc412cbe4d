package httpapi_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/miyabi/miyabi/app/internal/apitest"
)

// fuzzSetup starts one server for a whole fuzz target: the fuzzer calls the target
// thousands of times and a database per call would measure pgtestdb, not the API.
func fuzzSetup(f *testing.F) (*apitest.Client, []writeOp) {
	env := apitest.New(f)
	user := env.Login("alice")
	return user, writeOperations(&testing.T{}, env)
}

// Any body on any write route: a 2xx or a 4xx problem, never a 5xx.
func FuzzWriteRouteBodies(f *testing.F) {
	fuzzUser, fuzzOps := fuzzSetup(f)
	for _, seed := range []string{`{}`, `{"name":"x"}`, `[]`, `{"definition":{"nodes":[{"id":"a"}],"edges":[{"from":"a","to":"a"}]}}`, `{"lines":[{"stream":"stdout","message":"x"}]}`, "\x00", `{"name":"` + strings.Repeat("é", 100) + `"}`,
		// NUL and other control characters in strings and keys (issue 14)
		`{"name":"a\u0000b"}`, `{"name":"\u0007\u001b[31m\u007f"}`, `{"metadata":{"\u0000":"\u0000"}}`,
		`{"lines":[{"stream":"stdout","message":"\u0000\u0001\u001f"}]}`, `{"summary":"x\u0000","error":"\u0000"}`} {
		for i := range 4 {
			f.Add(uint8(i*7), []byte(seed))
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		op := fuzzOps[int(which)%len(fuzzOps)]
		r := fuzzUser.For(t).Do(op.method, fillPath(op.path, fuzzUser), body)
		if r.Status >= 500 {
			t.Fatalf("%s %s with %q: %d %s", op.method, op.path, body, r.Status, r.Body)
		}
		if r.Status >= 400 && !strings.HasPrefix(r.Header.Get("Content-Type"), "application/problem+json") {
			t.Fatalf("%s %s: %d without problem+json", op.method, op.path, r.Status)
		}
	})
}

// Pagination and filter parsing: any query string is a 2xx or a 4xx problem.
func FuzzListQuery(f *testing.F) {
	fuzzUser, _ := fuzzSetup(f)
	for _, seed := range []string{"page=1&limit=20", "page=0", "limit=101", "page=-1", "limit=abc", "page=99999999999999999999", "after=x", "status=running", "range=7d", "status=%00", "agent_type=a%00b", "after=%01"} {
		f.Add(seed)
	}
	paths := []string{"/organizations", "/organizations/" + fuzzUser.OrgID.String() + "/members", "/organizations/" + fuzzUser.OrgID.String() + "/teams",
		"/repositories", "/agents/executions", "/tasks", "/workflows", "/workers", "/dashboard/recent", "/dashboard/metrics"}
	f.Fuzz(func(t *testing.T, q string) {
		if _, err := url.ParseQuery(q); err != nil || strings.ContainsFunc(q, func(r rune) bool { return r < 0x21 || r == 0x7f || r == '#' }) {
			return // not a query a client could send
		}
		for _, p := range paths {
			r := fuzzUser.For(t).Do("GET", p+"?"+q, nil)
			if r.Status >= 500 {
				t.Fatalf("GET %s?%s: %d %s", p, q, r.Status, r.Body)
			}
		}
	})
}
