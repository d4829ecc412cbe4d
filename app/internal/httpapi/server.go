// Package httpapi is Miyabi's HTTP API: one gin engine with huma operations under
// /api/v1, built by NewServer for the local server, the Lambda handler and the tests alike.
package httpapi

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"runtime/debug"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humagin"
	"github.com/gin-gonic/gin"

	"github.com/miyabi/miyabi/app/internal/auth"
	"github.com/miyabi/miyabi/app/internal/config"
	"github.com/miyabi/miyabi/app/internal/events"
	"github.com/miyabi/miyabi/app/internal/ghreport"
	"github.com/miyabi/miyabi/app/internal/github"
	"github.com/miyabi/miyabi/app/internal/metrics"
	"github.com/miyabi/miyabi/app/internal/notify"
	"github.com/miyabi/miyabi/app/internal/store"
)

// APIPrefix is where every API route lives.
const APIPrefix = "/api/v1"

// MaxBodyBytes bounds every request body (413 beyond it).
const MaxBodyBytes = 1 << 20

// Deps is everything the API needs from the outside world.
type Deps struct {
	Config  config.Config
	Store   *store.Store
	Logger  *slog.Logger
	Version string
	Now     func() time.Time
	// GitHub defaults to a client for the configured GITHUB_* URLs.
	GitHub *github.Client
	// Metrics receives every request's figures; a registry that writes no EMF lines
	// (totals for /ops/metrics only) when nil.
	Metrics *metrics.Registry
	// Events tunes the live-events hub (zero: defaults).
	Events events.HubOptions
	// GitHubApp defaults to the configured App (nil without one).
	GitHubApp *github.App
}

// Server is the API: an http.Handler plus the huma API it was built from.
type Server struct {
	deps   Deps
	cfg    config.Config
	store  *store.Store
	log    *slog.Logger
	now    func() time.Time
	engine *gin.Engine
	api    huma.API

	tokens *auth.Tokens
	sealer *auth.Sealer
	states *auth.StateSigner
	// successors derives the token a refresh token rotates into (see auth.RefreshGrace)
	successors *auth.SuccessorSigner
	github     *github.Client
	limits     *rateLimits
	hub        *events.Hub

	// the GitHub loop (githubwebhook.go)
	app      *github.App
	reporter *ghreport.Reporter
	issues   *issueCache
	notifier *notify.Notifier

	metrics *metrics.Registry

	// the published document's component schemas, for the null check (nulls.go)
	schemasOnce sync.Once
	schemas     map[string]any
}

// NewServer builds the whole API. What is tested is what ships: the local server and the
// Lambda adapter both serve exactly this handler.
func NewServer(deps Deps) (*Server, error) {
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	gin.SetMode(gin.ReleaseMode)
	engine := gin.New()
	engine.HandleMethodNotAllowed = true
	engine.RedirectTrailingSlash = false
	engine.RedirectFixedPath = false
	engine.ContextWithFallback = true

	cfg := deps.Config
	if deps.GitHub == nil {
		deps.GitHub = github.New(cfg.GitHubOAuthURL, cfg.GitHubAPIURL, cfg.GitHubClientID, cfg.GitHubClientSecret)
	}
	sealer, err := auth.NewSealer(cfg.TokenEncryptionKey, cfg.TokenEncryptionKeyPrevious)
	if err != nil {
		return nil, err
	}
	if deps.Metrics == nil {
		deps.Metrics = metrics.New(metrics.Namespace(cfg.Env), nil)
	}
	s := &Server{deps: deps, cfg: cfg, store: deps.Store, log: deps.Logger, now: deps.Now, engine: engine,
		tokens: auth.NewTokens(cfg.JWTSigningKey, deps.Now, cfg.JWTSigningKeyPrevious), sealer: sealer,
		states: auth.NewStateSigner(cfg.JWTSigningKey, cfg.JWTSigningKeyPrevious), successors: auth.NewSuccessorSigner(cfg.JWTSigningKey),
		github: deps.GitHub, limits: newRateLimits(cfg.RateLimits), hub: events.NewHub(deps.Store, deps.Logger, deps.Events),
		metrics: deps.Metrics}
	engine.Use(s.requestID, s.observe, s.withClientAddress, s.securityHeaders, s.accessLog, s.recoverPanics, s.deadline, s.limitBody,
		s.refuseNUL, s.requireOrigin, s.rateLimit)
	s.notifier = notify.New(notify.Options{Store: deps.Store, Sealer: sealer, Log: deps.Logger, PublicURL: cfg.PublicURL,
		LINEAPIURL: cfg.LINEAPIURL, AllowPrivate: cfg.Development(), Metrics: deps.Metrics})
	engine.NoRoute(s.noRoute)
	engine.NoMethod(func(c *gin.Context) {
		s.writeProblem(c, http.StatusMethodNotAllowed, fmt.Sprintf("%s is not allowed on %s.", c.Request.Method, c.Request.URL.Path))
	})

	hcfg := huma.DefaultConfig("Miyabi API", deps.Version)
	hcfg.Info.Description = "The control plane of Miyabi's agent society. Errors are RFC 9457 problem+json."
	hcfg.Servers = []*huma.Server{{URL: APIPrefix}}
	hcfg.OpenAPIPath = "/openapi"
	hcfg.DocsPath = "/docs"
	hcfg.SchemasPath = ""
	hcfg.CreateHooks = nil // no $schema links in bodies
	hcfg.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		"bearer": {Type: "http", Scheme: "bearer", BearerFormat: "JWT", Description: "A person's access token"},
		"worker": {Type: "http", Scheme: "bearer", Description: "A worker token (mw_...)"},
		"ticket": {Type: "apiKey", In: "query", Name: "ticket", Description: "A single-use events ticket from POST /events/ticket"},
	}
	if err := s.setupGitHubApp(); err != nil {
		return nil, err
	}
	registerSchemaTypes(hcfg.Components.Schemas)
	s.api = humagin.NewWithGroup(engine, engine.Group(APIPrefix), hcfg)
	s.routes()
	return s, nil
}

// ServeHTTP serves the API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.engine.ServeHTTP(w, r) }

// OpenAPI is the API's document (the dashboard's types are generated from it).
func (s *Server) OpenAPI() *huma.OpenAPI { return s.api.OpenAPI() }

type ctxKey int

const requestIDKey ctxKey = iota

func requestIDFrom(ctx context.Context) string {
	if ctx == nil {
		return ""
	}
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

func (s *Server) requestID(c *gin.Context) {
	id := c.GetHeader("X-Request-Id")
	if id == "" || len(id) > 64 || strings.ContainsFunc(id, func(r rune) bool { return r < 0x21 || r > 0x7e }) {
		var b [12]byte
		_, _ = rand.Read(b[:])
		id = hex.EncodeToString(b[:])
	}
	c.Header("X-Request-Id", id)
	c.Request = c.Request.WithContext(context.WithValue(c.Request.Context(), requestIDKey, id))
	c.Next()
}

func (s *Server) securityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
	if strings.HasPrefix(c.Request.URL.Path, APIPrefix+"/docs") {
		// the docs page loads its renderer; huma sets its own CSP for it
	} else if strings.HasPrefix(c.Request.URL.Path, "/api/") {
		h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
		h.Set("Cache-Control", "no-store")
	} else {
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data: https://avatars.githubusercontent.com; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
	}
	if s.cfg.SecureCookies() {
		h.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
	}
	c.Next()
}

func (s *Server) accessLog(c *gin.Context) {
	start := time.Now()
	c.Next()
	if c.Request.URL.Path == APIPrefix+"/health" && c.Writer.Status() == 200 {
		return
	}
	attrs := []any{
		"request_id", requestIDFrom(c.Request.Context()),
		"method", c.Request.Method, "path", redactPath(c.Request.URL.Path),
		"status", c.Writer.Status(), "duration_ms", float64(time.Since(start).Microseconds()) / 1000,
		"bytes", c.Writer.Size(),
	}
	if p, ok := c.Get(principalKey); ok {
		if pr, ok := p.(*Principal); ok {
			attrs = append(attrs, "user_id", pr.UserID, "org_id", pr.OrgID)
		}
	}
	level := slog.LevelInfo
	if strings.HasPrefix(c.Request.URL.Path, APIPrefix+"/worker/") && c.Writer.Status() < 400 {
		level = slog.LevelDebug // workers poll every second; their successes would drown the log
	}
	s.log.Log(c.Request.Context(), level, "request", attrs...)
}

func (s *Server) recoverPanics(c *gin.Context) {
	defer func() {
		if r := recover(); r != nil {
			if r == http.ErrAbortHandler {
				panic(r)
			}
			s.log.ErrorContext(c.Request.Context(), "panic", "request_id", requestIDFrom(c.Request.Context()),
				"panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			if !c.Writer.Written() {
				s.writeProblem(c, http.StatusInternalServerError, "Internal error.")
			}
			c.Abort()
		}
	}()
	c.Next()
}

// deadline bounds every request: a request waiting for a database connection that never
// frees up answers 503 at the deadline instead of hanging (locally and on Lambda alike).
func (s *Server) deadline(c *gin.Context) {
	if s.cfg.RequestTimeout <= 0 {
		c.Next()
		return
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), s.cfg.RequestTimeout)
	defer cancel()
	c.Request = c.Request.WithContext(ctx)
	c.Next()
}

// limitBody reads every request body once, bounded: past MaxBodyBytes is 413 (also
// after gzip decompression, which defuses gzip bombs); a gzip body (workers batching
// logs send them) is decompressed so handlers see plain JSON; any other encoding is 415;
// a body that is not valid UTF-8 is 400, because JSON decoding would silently turn it
// into U+FFFD.
func (s *Server) limitBody(c *gin.Context) {
	if c.Request.ContentLength > MaxBodyBytes {
		s.writeProblem(c, http.StatusRequestEntityTooLarge, fmt.Sprintf("The request body is larger than %d bytes.", MaxBodyBytes))
		c.Abort()
		return
	}
	if c.Request.Body == nil || c.Request.Body == http.NoBody {
		c.Next()
		return
	}
	var reader io.Reader = http.MaxBytesReader(c.Writer, c.Request.Body, MaxBodyBytes)
	switch enc := strings.ToLower(strings.TrimSpace(c.GetHeader("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(reader)
		if err != nil {
			s.writeProblem(c, http.StatusBadRequest, "The request body is not valid gzip.")
			c.Abort()
			return
		}
		defer zr.Close()
		reader = zr
	default:
		s.writeProblem(c, http.StatusUnsupportedMediaType, fmt.Sprintf("Content-Encoding %q is not supported; send gzip or no encoding.", enc))
		c.Abort()
		return
	}
	body, err := io.ReadAll(io.LimitReader(reader, MaxBodyBytes+1))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge) || len(body) > MaxBodyBytes:
		s.writeProblem(c, http.StatusRequestEntityTooLarge, fmt.Sprintf("The request body is larger than %d bytes.", MaxBodyBytes))
		c.Abort()
		return
	case err != nil:
		s.writeProblem(c, http.StatusBadRequest, "The request body could not be read.")
		c.Abort()
		return
	case !utf8.Valid(body):
		s.writeProblem(c, http.StatusBadRequest, "The request body is not valid UTF-8.")
		c.Abort()
		return
	}
	c.Request.Header.Del("Content-Encoding")
	c.Request.Body = io.NopCloser(bytes.NewReader(body))
	c.Request.ContentLength = int64(len(body))
	c.Next()
}

// OriginHeader carries the secret CloudFront adds, so the API cannot be called around it.
const OriginHeader = "X-Miyabi-Origin-Verify"

// During a rotation the previous value is accepted too (both compared, in constant time).
func (s *Server) requireOrigin(c *gin.Context) {
	if s.cfg.RequireOriginSecret && strings.HasPrefix(c.Request.URL.Path, "/api/") {
		got := []byte(c.GetHeader(OriginHeader))
		ok := subtle.ConstantTimeCompare(got, []byte(s.cfg.OriginVerifySecret))
		if prev := s.cfg.OriginVerifySecretPrevious; prev != "" {
			ok |= subtle.ConstantTimeCompare(got, []byte(prev))
		}
		if ok != 1 {
			s.writeProblem(c, http.StatusForbidden, "Requests must come through the Miyabi distribution.")
			c.Abort()
			return
		}
	}
	c.Next()
}

func (s *Server) noRoute(c *gin.Context) {
	if s.serveDashboard(c) {
		return
	}
	s.writeProblem(c, http.StatusNotFound, fmt.Sprintf("No route for %s %s.", c.Request.Method, c.Request.URL.Path))
}

// writeProblem is the one writer of problem+json outside huma's operations.
func (s *Server) writeProblem(c *gin.Context, status int, detail string) {
	p := &Problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: detail,
		RequestID: requestIDFrom(c.Request.Context())}
	body, _ := json.Marshal(p)
	c.Data(status, "application/problem+json", body)
}

var invitationInPath = regexp.MustCompile(`/invitations/[^/]+/accept`)

// redactPath keeps secrets out of access logs: an invitation token in the (deprecated)
// accept path is replaced.
func redactPath(p string) string {
	return invitationInPath.ReplaceAllString(p, "/invitations/[redacted]/accept")
}
