// Package apitest starts the real API (NewServer over real HTTP) on a fresh database with
// the fake GitHub, and signs people in, for tests of every route.
package apitest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/miyabi/miyabi/app/internal/config"
	"github.com/miyabi/miyabi/app/internal/fakegithub"
	"github.com/miyabi/miyabi/app/internal/httpapi"
	"github.com/miyabi/miyabi/app/internal/store"
	"github.com/miyabi/miyabi/app/internal/testdb"
)

// Env is one API server with its own database and fake GitHub.
type Env struct {
	T      testing.TB
	URL    string // http://127.0.0.1:port
	Store  *store.Store
	DB     *pgxpool.Pool // the store's database, for setting up what the API cannot
	GitHub *fakegithub.Server
	Config config.Config
	Server *httpapi.Server
	HTTP   *httptest.Server

	contract *contract  // every answer a Client receives is checked against the document
	logs     *logBuffer // what the server logged
}

// Option changes the configuration before the server starts.
type Option func(*config.Config)

// New starts the API in development mode (dev login on) unless an option says otherwise.
func New(t testing.TB, opts ...Option) *Env {
	t.Helper()
	return NewOn(t, testdb.Pool(t), opts...)
}

// NewOn starts the API over a given pool (a database behind a proxy, say).
func NewOn(t testing.TB, pool *pgxpool.Pool, opts ...Option) *Env {
	t.Helper()
	st := store.New(pool)
	fake := fakegithub.New("test-client", "test-client-secret-0123456789abcdef")
	gh := httptest.NewServer(fake)
	t.Cleanup(gh.Close)
	cfg := config.Config{
		Env: config.EnvDevelopment, DatabaseURL: "postgres://unused", DBPoolMax: 8, LogFormat: "text",
		JWTSigningKey:      []byte("test-jwt-signing-key-0123456789abcdef"),
		TokenEncryptionKey: []byte("0123456789abcdef0123456789abcdef"),
		GitHubClientID:     "test-client", GitHubClientSecret: "test-client-secret-0123456789abcdef",
		GitHubOAuthURL: gh.URL, GitHubAPIURL: gh.URL,
		RequestTimeout: 30 * time.Second, SweepInterval: time.Hour,
		GitHubApp: config.GitHubApp{ID: config.DevGitHubAppID, Slug: config.DevGitHubAppSlug,
			PrivateKeyPEM: []byte(config.DevGitHubAppPrivateKey), WebhookSecret: []byte(WebhookSecret)},
	}
	for _, o := range opts {
		o(&cfg)
	}
	e := &Env{T: t, Store: st, DB: pool, GitHub: fake, logs: &logBuffer{}}
	var handler http.Handler
	hs := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	hs.Start()
	t.Cleanup(hs.Close)
	if cfg.PublicURL == "" {
		cfg.PublicURL = hs.URL
	}
	srv, err := httpapi.NewServer(httpapi.Deps{Config: cfg, Store: st, Logger: slog.New(slog.NewTextHandler(e.logs, nil)), Version: "test"})
	if err != nil {
		t.Fatalf("NewServer: %v", err)
	}
	handler = srv
	t.Cleanup(func() {
		if t.Failed() {
			for _, line := range strings.Split(e.Logs(), "\n") {
				if strings.Contains(line, "level=ERROR") {
					t.Logf("server: %s", line)
				}
			}
		}
	})
	e.URL, e.Config, e.Server, e.HTTP = hs.URL, cfg, srv, hs
	e.contract = newContract(t, srv, hs.URL)
	if cfg.GitHubApp.Enabled() {
		// the fake GitHub sends its webhooks here, and issue comments are delivered as in
		// the server: a loop kicked after commits
		if err := fake.ConfigureApp(cfg.GitHubApp.ID, cfg.GitHubApp.PrivateKeyPEM, hs.URL+httpapi.APIPrefix+"/github/webhook", cfg.GitHubApp.WebhookSecret); err != nil {
			t.Fatalf("fake GitHub App: %v", err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); srv.Reporter().Run(ctx, 200*time.Millisecond) }()
		t.Cleanup(func() { cancel(); <-done })
	}
	return e
}

// logBuffer keeps what the server logged, for tests of what reaches the logs.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// Logs returns everything the server logged so far (access log included).
func (e *Env) Logs() string {
	e.logs.mu.Lock()
	defer e.logs.mu.Unlock()
	return e.logs.b.String()
}

// WebhookSecret is the GitHub App webhook secret of test servers.
const WebhookSecret = "test-webhook-secret-0123456789abcdef"

// WithoutGitHubApp starts the server with no GitHub App configured.
func WithoutGitHubApp() Option { return func(c *config.Config) { c.GitHubApp = config.GitHubApp{} } }

// Client is one caller: a person with a token and a cookie jar, or anyone.
type Client struct {
	env    *Env
	HTTP   *http.Client
	Token  string
	UserID uuid.UUID
	OrgID  uuid.UUID // the personal organization at sign-in
	Login  string
}

// Anonymous is a client without credentials (it keeps cookies).
func (e *Env) Anonymous() *Client {
	jar, _ := cookiejar.New(nil)
	return &Client{env: e, HTTP: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// Session is the body of sign-in, refresh and switch answers.
type Session struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int    `json:"expires_in"`
	User        struct {
		ID    uuid.UUID `json:"id"`
		Login string    `json:"login"`
	} `json:"user"`
	Organization struct {
		ID   uuid.UUID `json:"id"`
		Role string    `json:"role"`
	} `json:"organization"`
}

// Login signs a person in through the dev login.
func (e *Env) Login(login string) *Client {
	e.T.Helper()
	c := e.Anonymous()
	var s Session
	c.Do("POST", "/auth/dev-login", map[string]any{"login": login}).Expect(200).JSON(&s)
	c.Token, c.UserID, c.OrgID, c.Login = s.AccessToken, s.User.ID, s.Organization.ID, login
	return c
}

// Response is a finished call with its body read.
type Response struct {
	t      testing.TB
	req    string
	Status int
	Header http.Header
	Body   []byte
}

// Do calls the API: path is under /api/v1 unless it starts with "http" or "//" prefix rules;
// body is JSON-encoded unless it is []byte or string.
func (c *Client) Do(method, path string, body any, headers ...string) *Response {
	c.env.T.Helper()
	url := path
	if !strings.HasPrefix(path, "http") {
		if strings.HasPrefix(path, "/api/") || !strings.HasPrefix(path, "/") {
			url = c.env.URL + path
		} else {
			url = c.env.URL + httpapi.APIPrefix + path
		}
	}
	var rd io.Reader
	isJSON := false
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
		isJSON = true
	case string:
		rd = strings.NewReader(b)
		isJSON = true
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			c.env.T.Fatalf("encode body: %v", err)
		}
		rd = bytes.NewReader(raw)
		isJSON = true
	}
	req, err := http.NewRequestWithContext(context.Background(), method, url, rd)
	if err != nil {
		c.env.T.Fatalf("request: %v", err)
	}
	if isJSON {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		c.env.T.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if c.env.contract != nil {
		c.env.contract.check(c.env.T, req, resp.StatusCode, resp.Header, raw)
	}
	return &Response{t: c.env.T, req: method + " " + path, Status: resp.StatusCode, Header: resp.Header, Body: raw}
}

// Expect fails the test unless the status is one of want.
func (r *Response) Expect(want ...int) *Response {
	r.t.Helper()
	for _, w := range want {
		if r.Status == w {
			return r
		}
	}
	r.t.Fatalf("%s: status %d, want %v; body: %s", r.req, r.Status, want, r.Body)
	return r
}

// JSON decodes the body into v.
func (r *Response) JSON(v any) *Response {
	r.t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		r.t.Fatalf("%s: decode %s: %v", r.req, r.Body, err)
	}
	return r
}

// Map decodes the body as an object.
func (r *Response) Map() map[string]any {
	r.t.Helper()
	var m map[string]any
	r.JSON(&m)
	return m
}

// Problem is an RFC 9457 body.
type Problem struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail"`
	RequestID string `json:"request_id"`
	Errors    []struct {
		Message  string `json:"message"`
		Location string `json:"location"`
	} `json:"errors"`
}

// Problem checks the status and content type and decodes the problem.
func (r *Response) Problem(status int) Problem {
	r.t.Helper()
	r.Expect(status)
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		r.t.Fatalf("%s: content type %q, want application/problem+json; body %s", r.req, ct, r.Body)
	}
	var p Problem
	r.JSON(&p)
	if p.Status != status {
		r.t.Fatalf("%s: problem status %d, want %d", r.req, p.Status, status)
	}
	return p
}

// Mentions reports whether the problem names the field (in a location or the detail).
func (p Problem) Mentions(field string) bool {
	if strings.Contains(p.Detail, field) {
		return true
	}
	for _, e := range p.Errors {
		if strings.Contains(e.Location, field) || strings.Contains(e.Message, field) {
			return true
		}
	}
	return false
}

// ForgeToken returns a JWT-shaped string with the given header and claims, unsigned:
// for tests of what the parser must refuse.
func ForgeToken(header, claims map[string]any, sig string) string {
	h, _ := json.Marshal(header)
	c, _ := json.Marshal(claims)
	return fmt.Sprintf("%s.%s.%s", base64.RawURLEncoding.EncodeToString(h), base64.RawURLEncoding.EncodeToString(c), sig)
}

// For returns a copy of the client that reports failures to t (a subtest or a fuzz
// call), sharing the server, token and cookies.
func (c *Client) For(t testing.TB) *Client {
	env := *c.env
	env.T = t
	cc := *c
	cc.env = &env
	return &cc
}
