package httpapi

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/time/rate"

	"github.com/miyabi/miyabi/app/internal/auth"
	"github.com/miyabi/miyabi/app/internal/config"
)

// Rate limits per principal (issue 14): per client address on the sign-in routes, counted
// in PostgreSQL so every Lambda environment shares them; per user, per worker token or
// per client address otherwise, in in-process token buckets. Every operation declares the
// 429 (routes.go), with Retry-After.

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
	case method == http.MethodPost && strings.HasPrefix(p, "/invitations/") && strings.HasSuffix(p, "accept"),
		method == http.MethodPost && p == "/invitations/lookup": // one budget: looking up is guessing tokens too
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
