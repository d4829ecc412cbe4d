package httpapi_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/miyabi/miyabi/app/internal/apitest"
	"github.com/miyabi/miyabi/app/internal/config"
	"github.com/miyabi/miyabi/app/internal/poll"
	"github.com/miyabi/miyabi/app/internal/testdb"
)

func TestHealthFollowsTheDatabase(t *testing.T) {
	proxy, url := testdb.NewProxy(t, testdb.URL(t))
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	const operator = "operator-token-0123456789abcdef0123456789"
	env := apitest.NewOn(t, pool, func(c *config.Config) { c.OperatorToken = operator })
	c := env.Anonymous()
	c.Token = operator // the version and pool figures are for operators

	var h struct {
		Status   string `json:"status"`
		Version  string `json:"version"`
		Database struct {
			Status string `json:"status"`
			Pool   struct {
				Max int `json:"max"`
			} `json:"pool"`
		} `json:"database"`
	}
	c.Do("GET", "/health", nil).Expect(200).JSON(&h)
	if h.Status != "ok" || h.Database.Status != "up" || h.Version != "test" || h.Database.Pool.Max == 0 {
		t.Fatalf("healthy answer: %+v", h)
	}

	proxy.Cut()
	r := c.Do("GET", "/health", nil).Expect(503).JSON(&h)
	if h.Database.Status != "down" || strings.Contains(string(r.Body), "dial") {
		t.Fatalf("down answer leaks or lies: %s", r.Body)
	}

	proxy.Restore(t)
	poll.Until(t, 10*time.Second, "health to recover without a restart", func() bool {
		return c.Do("GET", "/health", nil).Status == 200
	})
}

func TestErrorsAreProblems(t *testing.T) {
	env := apitest.New(t)
	c := env.Anonymous()
	internal := []string{"goroutine", ".go:", "pgx", "SQLSTATE", "panic"}
	check := func(name string, r *apitest.Response, status int) {
		t.Helper()
		p := r.Problem(status)
		if p.Title == "" || p.Detail == "" {
			t.Errorf("%s: problem without title/detail: %s", name, r.Body)
		}
		for _, bad := range internal {
			if strings.Contains(string(r.Body), bad) {
				t.Errorf("%s: body leaks %q: %s", name, bad, r.Body)
			}
		}
	}
	check("unknown route", c.Do("GET", "/nope", nil), 404)
	check("unknown api root route", c.Do("GET", "/api/other", nil), 404)
	check("wrong method", c.Do("DELETE", "/health", nil), 405)
	big := strings.Repeat("x", 2<<20)
	check("2 MiB body", c.Do("POST", "/auth/dev-login", `{"login":"`+big+`"}`), 413)
	check("malformed JSON", c.Do("POST", "/auth/dev-login", `{"login": "ali`), 400)
	check("unknown field", c.Do("POST", "/auth/dev-login", `{"login":"alice","role":"owner"}`), 422)
	check("no token", c.Do("GET", "/auth/me", nil), 401)
}

func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	env := apitest.New(t)
	c := env.Login("alice")
	type call struct{ method, path string }
	calls := []call{{"GET", "/health"}, {"GET", "/nope"}, {"GET", "/openapi.json"}, {"GET", "/"}, {"GET", "/executions/deep/link"}}
	for path, item := range env.Server.OpenAPI().Paths {
		for _, o := range operations(item) {
			calls = append(calls, call{o.Method, fillPath(path, c)})
		}
	}
	for _, cl := range calls {
		method, path := cl.method, cl.path
		if path == "/auth/logout" {
			continue // would end the session the other calls use
		}
		r := c.Do(method, path, nil)
		for _, h := range []string{"X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy", "X-Request-Id", "Content-Security-Policy"} {
			if r.Header.Get(h) == "" {
				t.Errorf("%s %s: no %s header", method, path, h)
			}
		}
	}
}

// Deny by default: every operation in the document declares its permission.
func TestEveryRouteDeclaresItsPermission(t *testing.T) {
	env := apitest.New(t)
	doc := env.Server.OpenAPI()
	n := 0
	for path, item := range doc.Paths {
		for _, o := range operations(item) {
			n++
			if perm, _ := o.Extensions["x-miyabi-permission"].(string); perm == "" {
				t.Errorf("%s %s (%s) declares no permission", o.Method, path, o.OperationID)
			}
		}
	}
	if n < 5 {
		t.Fatalf("only %d operations found", n)
	}
	c := env.Anonymous()
	c.Do("GET", "/openapi.json", nil).Expect(http.StatusOK)
	c.Do("GET", "/docs", nil).Expect(http.StatusOK)
}

func TestCompressedBodies(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write([]byte(`{"name":"Zipped team"}`))
	_ = zw.Close()
	path := "/organizations/" + alice.OrgID.String() + "/teams"
	var team struct {
		Name string `json:"name"`
	}
	alice.Do("POST", path, buf.Bytes(), "Content-Encoding", "gzip").Expect(201).JSON(&team)
	if team.Name != "Zipped team" {
		t.Fatalf("decompressed body read as %q", team.Name)
	}
	alice.Do("POST", path, []byte("\x1f\x8bnot gzip"), "Content-Encoding", "gzip").Problem(400)
	alice.Do("POST", path, []byte(`{"name":"x"}`), "Content-Encoding", "br").Problem(415)
	// a gzip bomb: 2 MiB of zeros in a few kB
	buf.Reset()
	zw = gzip.NewWriter(&buf)
	_, _ = zw.Write(make([]byte, 2<<20))
	_ = zw.Close()
	alice.Do("POST", path, buf.Bytes(), "Content-Encoding", "gzip").Problem(413)
}
