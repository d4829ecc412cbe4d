// Package config reads Miyabi's settings from the environment once, at start, and
// refuses to start on a missing or malformed value, naming the variable.
package config

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Environments the server knows; only development has the dev login and dev defaults.
const (
	EnvDevelopment = "development"
	EnvTest        = "test"
	EnvStaging     = "staging"
	EnvProduction  = "production"
)

// Development defaults: convenient locally, refused anywhere else.
const (
	DevJWTSigningKey      = "miyabi-development-jwt-signing-key-not-secret"
	DevTokenEncryptionKey = "bWl5YWJpLWRldmVsb3BtZW50LXRva2VuLWtleSEhISE=" // 32 bytes
	DevGitHubClientSecret = "miyabi-development-github-client-secret"
	DevGitHubClientID     = "miyabi-dev-client"
)

// Config is every setting the API server reads.
type Config struct {
	Env          string
	ListenAddr   string
	DatabaseURL  string
	DBPoolMax    int32
	PublicURL    string
	LogFormat    string
	DashboardDir string

	JWTSigningKey      []byte
	TokenEncryptionKey []byte // 32 bytes, AES-256-GCM
	// During a rotation (docs/ops.md): the keys still accepted beside the current ones.
	JWTSigningKeyPrevious      []byte
	TokenEncryptionKeyPrevious []byte
	GitHubClientID             string
	GitHubClientSecret         string
	GitHubOAuthURL             string
	GitHubAPIURL               string
	GitHubApp                  GitHubApp // the GitHub App (githubapp.go)
	// LINEAPIURL is LINE's Messaging API (notifications); a local fake in development.
	LINEAPIURL string

	// When set, API requests must carry X-Miyabi-Origin-Verify with OriginVerifySecret:
	// the API is reachable only through CloudFront.
	RequireOriginSecret bool
	OriginVerifySecret  string
	// OriginVerifySecretPrevious is accepted too while the distribution's header moves
	// from one value to the next.
	OriginVerifySecretPrevious string

	RequestTimeout time.Duration
	SweepInterval  time.Duration

	// OperatorToken, when set, lets a caller presenting it (Authorization: Bearer) see
	// /health's version and pool figures; everyone else sees only up or down.
	OperatorToken string

	// RateLimits are the per-principal limits; the zero value turns limiting off.
	RateLimits RateLimits

	// OperatorGitHubIDs are the GitHub accounts (numeric ids: a login can be renamed and
	// re-registered by someone else) allowed on /api/v1/ops/*.
	OperatorGitHubIDs []int64
}

// Rate is N requests per Per.
type Rate struct {
	N   int
	Per time.Duration
}

// Off reports whether the rate is unlimited.
func (r Rate) Off() bool { return r.N <= 0 || r.Per <= 0 }

// RateLimits are the limits the API applies per principal (docs/reliability.md).
type RateLimits struct {
	// SignIn is per client address and per route class (sign-in, OAuth callback,
	// refresh, invitation accept), counted in PostgreSQL so every Lambda shares it.
	SignIn Rate
	// Person, Worker and Anonymous are in-process token buckets (burst N, refilling N
	// per Per) per user, per worker token and per client address.
	Person, Worker, Anonymous Rate
	// AuthFailures is how many 401s one client address may collect per Per before every
	// request from it is answered 429 (guessed worker tokens, forged JWTs).
	AuthFailures Rate
}

// DefaultRateLimits are the production defaults (development multiplies them by 10:
// everything there comes from one address).
var DefaultRateLimits = RateLimits{
	SignIn:       Rate{N: 30, Per: time.Minute},
	Person:       Rate{N: 300, Per: 10 * time.Second},
	Worker:       Rate{N: 2000, Per: 10 * time.Second},
	Anonymous:    Rate{N: 100, Per: 10 * time.Second},
	AuthFailures: Rate{N: 60, Per: time.Minute},
}

// ParseRate reads "N/duration" (30/1m, 300/10s); "off" or "0" is unlimited.
func ParseRate(v string) (Rate, error) {
	if v == "off" || v == "0" {
		return Rate{}, nil
	}
	n, per, ok := strings.Cut(v, "/")
	if !ok {
		return Rate{}, fmt.Errorf("must be N/duration such as 30/1m, or off, not %q", v)
	}
	count, err := strconv.Atoi(n)
	if err != nil || count < 1 {
		return Rate{}, fmt.Errorf("must be N/duration with N a positive whole number, not %q", v)
	}
	d, err := time.ParseDuration(per)
	if err != nil || d < time.Second {
		return Rate{}, fmt.Errorf("must be N/duration with a duration of at least 1s, not %q", v)
	}
	return Rate{N: count, Per: d}, nil
}

// Development reports whether the dev-only features (dev login, dev keys) are on.
func (c Config) Development() bool { return c.Env == EnvDevelopment }

// SecureCookies reports whether cookies carry the Secure flag.
func (c Config) SecureCookies() bool { return c.Env != EnvDevelopment && c.Env != EnvTest }

// Load reads the configuration through getenv (os.Getenv in main, a map in tests).
func Load(getenv func(string) string) (Config, error) {
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...)))
	}
	c := Config{
		Env:                getenv("APP_ENV"),
		ListenAddr:         or(getenv("LISTEN_ADDR"), "127.0.0.1:8080"),
		DatabaseURL:        getenv("DATABASE_URL"),
		PublicURL:          getenv("PUBLIC_URL"),
		LogFormat:          or(getenv("LOG_FORMAT"), "text"),
		DashboardDir:       or(getenv("DASHBOARD_DIR"), "dashboard/dist"),
		GitHubClientID:     getenv("GITHUB_CLIENT_ID"),
		GitHubOAuthURL:     strings.TrimRight(or(getenv("GITHUB_OAUTH_URL"), "https://github.com"), "/"),
		GitHubAPIURL:       strings.TrimRight(or(getenv("GITHUB_API_URL"), "https://api.github.com"), "/"),
		GitHubClientSecret: getenv("GITHUB_CLIENT_SECRET"),
		LINEAPIURL:         strings.TrimRight(or(getenv("LINE_API_URL"), "https://api.line.me"), "/"),
		OriginVerifySecret: getenv("ORIGIN_VERIFY_SECRET"),

		OriginVerifySecretPrevious: getenv("ORIGIN_VERIFY_SECRET_PREVIOUS"),
	}

	switch c.Env {
	case EnvDevelopment, EnvTest, EnvStaging, EnvProduction:
	case "":
		bad("APP_ENV", "is required (development, test, staging or production)")
	default:
		bad("APP_ENV", "must be development, test, staging or production, not %q", c.Env)
	}
	dev := c.Env == EnvDevelopment

	if c.DatabaseURL == "" {
		bad("DATABASE_URL", "is required (postgres://user:password@host:port/db)")
	} else if u, err := url.Parse(c.DatabaseURL); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		bad("DATABASE_URL", "must be a postgres:// URL")
	}

	c.DBPoolMax = 8
	if v := getenv("DB_POOL_MAX"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			bad("DB_POOL_MAX", "must be a whole number from 1 to 1000, not %q", v)
		}
		c.DBPoolMax = int32(n)
	}
	if c.PublicURL == "" {
		c.PublicURL = "http://" + c.ListenAddr
	} else if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("PUBLIC_URL", "must be an http(s) URL, not %q", c.PublicURL)
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	if c.LogFormat != "text" && c.LogFormat != "json" {
		bad("LOG_FORMAT", "must be text or json, not %q", c.LogFormat)
	}
	for _, v := range []struct{ name, value string }{{"GITHUB_OAUTH_URL", c.GitHubOAuthURL}, {"GITHUB_API_URL", c.GitHubAPIURL}, {"LINE_API_URL", c.LINEAPIURL}} {
		if u, err := url.Parse(v.value); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad(v.name, "must be an http(s) URL, not %q", v.value)
		}
	}

	c.RequestTimeout = 30 * time.Second
	if v := getenv("REQUEST_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			bad("REQUEST_TIMEOUT", "must be a positive duration such as 30s, not %q", v)
		}
		c.RequestTimeout = d
	}
	c.SweepInterval = 15 * time.Second
	if v := getenv("SWEEP_INTERVAL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			bad("SWEEP_INTERVAL", "must be a positive duration such as 15s, not %q", v)
		}
		c.SweepInterval = d
	}
	c.RateLimits = DefaultRateLimits
	if dev {
		for _, r := range []*Rate{&c.RateLimits.SignIn, &c.RateLimits.Person, &c.RateLimits.Worker, &c.RateLimits.Anonymous, &c.RateLimits.AuthFailures} {
			r.N *= 10
		}
	}
	if getenv("RATE_LIMITS") == "off" {
		c.RateLimits = RateLimits{}
	} else if v := getenv("RATE_LIMITS"); v != "" && v != "on" {
		bad("RATE_LIMITS", "must be on or off, not %q", v)
	}
	for _, v := range []struct {
		name string
		rate *Rate
	}{{"RATE_LIMIT_SIGNIN", &c.RateLimits.SignIn}, {"RATE_LIMIT_PERSON", &c.RateLimits.Person},
		{"RATE_LIMIT_WORKER", &c.RateLimits.Worker}, {"RATE_LIMIT_ANONYMOUS", &c.RateLimits.Anonymous},
		{"RATE_LIMIT_AUTH_FAILURES", &c.RateLimits.AuthFailures}} {
		if raw := getenv(v.name); raw != "" {
			r, err := ParseRate(raw)
			if err != nil {
				bad(v.name, "%v", err)
			}
			*v.rate = r
		}
	}
	c.OperatorToken = getenv("OPERATOR_TOKEN")
	if c.OperatorToken != "" && len(c.OperatorToken) < 32 {
		bad("OPERATOR_TOKEN", "must be at least 32 bytes when set")
	}
	// Development means a dev login and known keys: never on Lambda, never reachable
	// from anywhere but this machine.
	if dev && getenv("AWS_LAMBDA_RUNTIME_API") != "" {
		bad("APP_ENV", "development is refused on Lambda (AWS_LAMBDA_RUNTIME_API is set): it enables the dev login")
	}
	if dev && !loopbackURL(c.PublicURL) {
		bad("APP_ENV", "development is refused with a PUBLIC_URL that is not loopback (%s): it enables the dev login", c.PublicURL)
	}
	for _, f := range strings.FieldsFunc(getenv("OPERATOR_GITHUB_IDS"), func(r rune) bool { return r == ',' || r == ' ' }) {
		id, err := strconv.ParseInt(f, 10, 64)
		if err != nil || id <= 0 {
			bad("OPERATOR_GITHUB_IDS", "must be numeric GitHub user ids separated by commas, not %q (find an id with: curl https://api.github.com/users/<login>)", f)
			continue
		}
		c.OperatorGitHubIDs = append(c.OperatorGitHubIDs, id)
	}
	if v := getenv("REQUIRE_ORIGIN_SECRET"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			bad("REQUIRE_ORIGIN_SECRET", "must be true or false, not %q", v)
		}
		c.RequireOriginSecret = b
		if b && len(c.OriginVerifySecret) < 32 {
			bad("ORIGIN_VERIFY_SECRET", "must be at least 32 bytes when REQUIRE_ORIGIN_SECRET is true")
		}
	}
	if v := c.OriginVerifySecretPrevious; v != "" && len(v) < 32 {
		bad("ORIGIN_VERIFY_SECRET_PREVIOUS", "must be at least 32 bytes (or unset)")
	}

	// Keys: development may fall back to known defaults; everywhere else they must be
	// real secrets.
	jwtKey := getenv("JWT_SIGNING_KEY")
	encKey := getenv("TOKEN_ENCRYPTION_KEY")
	if dev {
		jwtKey = or(jwtKey, DevJWTSigningKey)
		encKey = or(encKey, DevTokenEncryptionKey)
		c.GitHubClientSecret = or(c.GitHubClientSecret, DevGitHubClientSecret)
		c.GitHubClientID = or(c.GitHubClientID, DevGitHubClientID)
	}
	checkSecret := func(name, value, devDefault string) {
		switch {
		case value == "":
			bad(name, "is required outside development")
		case dev:
		case value == devDefault:
			bad(name, "is the development default; set a real secret")
		case len(value) < 32:
			bad(name, "must be at least 32 bytes")
		}
	}
	checkSecret("JWT_SIGNING_KEY", jwtKey, DevJWTSigningKey)
	c.JWTSigningKey = []byte(jwtKey)
	checkSecret("GITHUB_CLIENT_SECRET", c.GitHubClientSecret, DevGitHubClientSecret)
	if encKey == "" {
		bad("TOKEN_ENCRYPTION_KEY", "is required outside development (32 bytes, standard base64)")
	} else if k, err := base64.StdEncoding.DecodeString(encKey); err != nil || len(k) != 32 {
		bad("TOKEN_ENCRYPTION_KEY", "must be 32 bytes in standard base64")
	} else if !dev && encKey == DevTokenEncryptionKey {
		bad("TOKEN_ENCRYPTION_KEY", "is the development default; set a real secret")
	} else {
		c.TokenEncryptionKey = k
	}
	if c.GitHubClientID == "" {
		bad("GITHUB_CLIENT_ID", "is required outside development")
	}

	// The previous keys of a rotation: optional, held to the same rules.
	if v := getenv("JWT_SIGNING_KEY_PREVIOUS"); v != "" {
		if len(v) < 32 {
			bad("JWT_SIGNING_KEY_PREVIOUS", "must be at least 32 bytes (or unset)")
		}
		c.JWTSigningKeyPrevious = []byte(v)
	}
	if v := getenv("TOKEN_ENCRYPTION_KEY_PREVIOUS"); v != "" {
		if k, err := base64.StdEncoding.DecodeString(v); err != nil || len(k) != 32 {
			bad("TOKEN_ENCRYPTION_KEY_PREVIOUS", "must be 32 bytes in standard base64 (or unset)")
		} else {
			c.TokenEncryptionKeyPrevious = k
		}
	}
	c.GitHubApp = loadGitHubApp(getenv, dev, bad)
	return c, errors.Join(errs...)
}

// loopbackURL reports whether u's host is this machine (localhost or a loopback IP).
func loopbackURL(u string) bool {
	parsed, err := url.Parse(u)
	if err != nil {
		return false
	}
	host := parsed.Hostname()
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
