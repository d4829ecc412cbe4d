package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/gin-gonic/gin"
	"golang.org/x/time/rate"

	"github.com/miyabi/miyabi/app/internal/auth"
	"github.com/miyabi/miyabi/app/internal/config"
	"github.com/miyabi/miyabi/app/internal/store"
)

// This file guards the API's edges: who the client is (its address), what of a request
// may reach a log or the database (no invitation token in a logged path, no NUL byte in
// a stored string), and how fast one principal may call (rate limits).

type clientAddrKey struct{}

// clientAddressFrom returns the address of the client behind the request.
func clientAddressFrom(ctx context.Context) string {
	a, _ := ctx.Value(clientAddrKey{}).(string)
	return a
}

// clientAddress finds the client's address: the connection's peer, or, behind
// CloudFront (the origin secret proves the request came through it), the last address
// of X-Forwarded-For, which CloudFront appends (earlier entries are the client's to
// forge).
func (s *Server) clientAddress(r *http.Request) string {
	if s.cfg.RequireOriginSecret {
		if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
			parts := strings.Split(xff, ",")
			if ip := net.ParseIP(strings.TrimSpace(parts[len(parts)-1])); ip != nil {
				return ip.String()
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if ip := net.ParseIP(host); ip != nil {
		return ip.String()
	}
	return host
}

func (s *Server) withClientAddress(c *gin.Context) {
	c.Request = c.Request.WithContext(context.WithValue(c.Request.Context(), clientAddrKey{}, s.clientAddress(c.Request)))
	c.Next()
}

// withActor carries who is behind the request into the store, for the audit trail.
func (s *Server) withActor(ctx context.Context) context.Context {
	a := store.Actor{ClientAddress: clientAddressFrom(ctx)}
	if p := principalFrom(ctx); p != nil {
		id := p.UserID
		a.UserID, a.Login = &id, p.Login
	}
	return store.WithActor(ctx, a)
}

var invitationInPath = regexp.MustCompile(`/invitations/[^/]+/accept`)

// redactPath keeps secrets out of access logs: an invitation token in the (deprecated)
// accept path is replaced.
func redactPath(p string) string {
	return invitationInPath.ReplaceAllString(p, "/invitations/[redacted]/accept")
}

// refuseNUL keeps U+0000 away from PostgreSQL, which stores no NUL in text or jsonb
// (22021, 22P05: a 500 on 9 routes). People's input with one is a 422 naming the field;
// a worker's (agent output is untrusted and must not be lost) has it replaced by U+FFFD,
// nothing else changed. It runs after limitBody, on the body read into memory.
func (s *Server) refuseNUL(c *gin.Context) {
	if q := c.Request.URL.RawQuery; strings.Contains(q, "%00") {
		for name, values := range c.Request.URL.Query() {
			for _, v := range values {
				if strings.ContainsRune(v, 0) {
					s.writeInvalid(c, "query."+name, "must not contain a NUL character (\\u0000)")
					return
				}
			}
		}
	}
	if c.Request.Body == nil || c.Request.Body == http.NoBody || c.Request.ContentLength == 0 {
		c.Next()
		return
	}
	body, err := io.ReadAll(c.Request.Body)
	if err != nil {
		s.writeProblem(c, http.StatusBadRequest, "The request body could not be read.")
		c.Abort()
		return
	}
	c.Request.Body = io.NopCloser(bytes.NewReader(body))
	if !bytes.Contains(body, []byte(`\u0000`)) {
		c.Next()
		return
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		c.Next() // not JSON: the operation says so
		return
	}
	if strings.HasPrefix(c.Request.URL.Path, APIPrefix+"/worker/") {
		clean, err := json.Marshal(replaceNUL(doc))
		if err != nil {
			s.writeProblem(c, http.StatusBadRequest, "The request body could not be read.")
			c.Abort()
			return
		}
		c.Request.Body = io.NopCloser(bytes.NewReader(clean))
		c.Request.ContentLength = int64(len(clean))
		c.Next()
		return
	}
	if field, ok := findNUL(doc, "body"); ok {
		s.writeInvalid(c, field, "must not contain a NUL character (\\u0000)")
		return
	}
	c.Next()
}

// findNUL returns the location (body.metadata.key, body.lines[2].message) of the first
// string, or object key, holding a NUL.
func findNUL(v any, at string) (string, bool) {
	switch x := v.(type) {
	case string:
		return at, strings.ContainsRune(x, 0)
	case []any:
		for i, e := range x {
			if f, ok := findNUL(e, fmt.Sprintf("%s[%d]", at, i)); ok {
				return f, true
			}
		}
	case map[string]any:
		for k, e := range x {
			if strings.ContainsRune(k, 0) {
				return at, true
			}
			if f, ok := findNUL(e, at+"."+k); ok {
				return f, true
			}
		}
	}
	return "", false
}

func replaceNUL(v any) any {
	switch x := v.(type) {
	case string:
		return strings.ReplaceAll(x, "\x00", "\uFFFD")
	case []any:
		for i, e := range x {
			x[i] = replaceNUL(e)
		}
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[strings.ReplaceAll(k, "\x00", "\uFFFD")] = replaceNUL(e)
		}
		return out
	}
	return v
}

// writeInvalid answers 422 naming the field, like huma's validation does.
func (s *Server) writeInvalid(c *gin.Context, location, message string) {
	p := &Problem{Type: "about:blank", Title: http.StatusText(http.StatusUnprocessableEntity), Status: http.StatusUnprocessableEntity,
		Detail: "validation failed", RequestID: requestIDFrom(c.Request.Context()),
		Errors: []*huma.ErrorDetail{{Location: location, Message: message}}}
	body, _ := json.Marshal(p)
	c.Data(p.Status, "application/problem+json", body)
	c.Abort()
}

// limiter holds the in-process token buckets, one per key, forgotten after a quiet spell.
type limiter struct {
	rate    config.Rate
	mu      sync.Mutex
	buckets map[string]*bucket
	swept   time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

func newLimiter(r config.Rate) *limiter {
	return &limiter{rate: r, buckets: map[string]*bucket{}, swept: time.Now()}
}

func (l *limiter) get(key string, now time.Time) *rate.Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) > time.Minute && len(l.buckets) > 1000 {
		for k, b := range l.buckets {
			if now.Sub(b.seen) > 2*l.rate.Per {
				delete(l.buckets, k)
			}
		}
		l.swept = now
	}
	b := l.buckets[key]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(rate.Limit(float64(l.rate.N)/l.rate.Per.Seconds()), l.rate.N)}
		l.buckets[key] = b
	}
	b.seen = now
	return b.lim
}

// take spends one token; it returns how long to wait when there was none.
func (l *limiter) take(key string) time.Duration {
	if l == nil || l.rate.Off() {
		return 0
	}
	now := time.Now()
	r := l.get(key, now).ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return d
	}
	return 0
}

// empty reports how long until key has a token again, without spending one.
func (l *limiter) empty(key string) time.Duration {
	if l == nil || l.rate.Off() {
		return 0
	}
	now := time.Now()
	lim := l.get(key, now)
	if lim.TokensAt(now) >= 1 {
		return 0
	}
	r := lim.ReserveN(now, 1)
	d := r.DelayFrom(now)
	r.CancelAt(now)
	return d
}

// rateLimits are the server's limiters.
type rateLimits struct {
	person, worker, anonymous, failures *limiter
}

func newRateLimits(c config.RateLimits) *rateLimits {
	return &rateLimits{person: newLimiter(c.Person), worker: newLimiter(c.Worker), anonymous: newLimiter(c.Anonymous),
		failures: newLimiter(c.AuthFailures)}
}

// signInClass names the sensitive routes limited per client address in PostgreSQL.
func signInClass(method, path string) string {
	p := strings.TrimPrefix(path, APIPrefix)
	switch {
	case p == "/auth/github" || p == "/auth/dev-login":
		return "signin"
	case p == "/auth/github/callback":
		return "oauth-callback"
	case p == "/auth/refresh":
		return "refresh"
	case method == http.MethodPost && strings.HasPrefix(p, "/invitations/") && strings.HasSuffix(p, "accept"):
		return "invitation-accept"
	}
	return ""
}

// rateLimit answers 429 problem+json with Retry-After when a principal goes past its
// limit: per client address on the sign-in routes (in PostgreSQL, shared by every
// Lambda environment) and for failed authentications; per user, per worker token, or
// per client address otherwise (in-process token buckets).
func (s *Server) rateLimit(c *gin.Context) {
	path := c.Request.URL.Path
	if !strings.HasPrefix(path, APIPrefix+"/") {
		c.Next()
		return
	}
	ctx := c.Request.Context()
	addr := clientAddressFrom(ctx)
	if wait := s.limits.failures.empty(addr); wait > 0 {
		s.tooMany(c, wait, "Too many failed sign-ins or bad tokens from your address; wait before trying again.")
		return
	}
	if class := signInClass(c.Request.Method, path); class != "" && !s.cfg.RateLimits.SignIn.Off() {
		r := s.cfg.RateLimits.SignIn
		ok, reset, err := s.store.HitRateLimit(ctx, class+":"+addr, r.N, r.Per)
		if err != nil {
			// the database is away: the route itself will fail; do not add a 429 to it
			s.log.WarnContext(ctx, "rate limit unavailable", "error", err, "request_id", requestIDFrom(ctx))
		} else if !ok {
			s.tooMany(c, reset, fmt.Sprintf("Too many requests to this route from your address (limit %d per %s); try again later.", r.N, r.Per))
			return
		}
	}
	var wait time.Duration
	raw, hasBearer := bearer(c.GetHeader("Authorization"))
	switch {
	case hasBearer && auth.IsWorkerToken(raw):
		wait = s.limits.worker.take("w:" + string(auth.HashToken(raw)[:12]))
	case hasBearer:
		if access, err := s.tokens.Parse(raw); err == nil {
			wait = s.limits.person.take("u:" + access.UserID.String())
		} else {
			wait = s.limits.anonymous.take("a:" + addr)
		}
	default:
		wait = s.limits.anonymous.take("a:" + addr)
	}
	if wait > 0 {
		s.tooMany(c, wait, "Too many requests; slow down.")
		return
	}
	c.Next()
	if c.Writer.Status() == http.StatusUnauthorized {
		s.limits.failures.take(addr)
	}
}

func (s *Server) tooMany(c *gin.Context, wait time.Duration, detail string) {
	secs := int(wait.Seconds() + 0.999)
	if secs < 1 {
		secs = 1
	}
	c.Header("Retry-After", strconv.Itoa(secs))
	s.writeProblem(c, http.StatusTooManyRequests, detail)
	c.Abort()
}
