package httpapi_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/miyabi/miyabi/app/internal/apitest"
	"github.com/miyabi/miyabi/app/internal/auth"
	"github.com/miyabi/miyabi/app/internal/fakegithub"
)

func countSessions(t *testing.T, env *apitest.Env) int {
	t.Helper()
	var n int
	if err := env.DB.QueryRow(context.Background(), `SELECT count(*) FROM sessions`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// startSignIn follows /auth/github to the fake GitHub and back, returning the callback URL
// GitHub sent the browser to (not yet visited).
func startSignIn(t *testing.T, env *apitest.Env, c *apitest.Client, redirect string) *url.URL {
	t.Helper()
	r := c.Do("GET", "/auth/github?redirect="+url.QueryEscape(redirect), nil).Expect(302)
	authorize, _ := url.Parse(r.Header.Get("Location"))
	if !strings.HasPrefix(authorize.String(), env.Config.GitHubOAuthURL+"/login/oauth/authorize") {
		t.Fatalf("not sent to GitHub: %s", authorize)
	}
	q := authorize.Query()
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || len(q.Get("state")) < 20 {
		t.Fatalf("authorize URL lacks PKCE or state: %s", authorize)
	}
	for _, ck := range r.Header.Values("Set-Cookie") {
		if strings.HasPrefix(ck, "miyabi_oauth=") && !strings.Contains(ck, "HttpOnly") {
			t.Fatalf("state cookie not HttpOnly: %s", ck)
		}
	}
	resp, err := c.HTTP.Get(authorize.String())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 302 {
		t.Fatalf("fake GitHub answered %d", resp.StatusCode)
	}
	cb, _ := url.Parse(resp.Header.Get("Location"))
	return cb
}

func TestGitHubSignIn(t *testing.T) {
	env := apitest.New(t)
	env.GitHub.AutoLogin = "bob" // bob's email is private: it must come from /user/emails
	c := env.Anonymous()
	cb := startSignIn(t, env, c, "/executions?status=running")
	r := c.Do("GET", cb.String(), nil).Expect(302)
	if got := r.Header.Get("Location"); got != "/executions?status=running" {
		t.Fatalf("landed on %q", got)
	}
	var refreshCookie string
	for _, ck := range r.Header.Values("Set-Cookie") {
		if strings.HasPrefix(ck, "miyabi_refresh=") {
			refreshCookie = ck
		}
		if strings.Contains(ck, "gho_") {
			t.Fatalf("GitHub token in a cookie: %s", ck)
		}
	}
	for _, want := range []string{"HttpOnly", "SameSite=Strict", "Path=/api/v1/auth"} {
		if !strings.Contains(refreshCookie, want) {
			t.Fatalf("refresh cookie %q lacks %s", refreshCookie, want)
		}
	}
	if strings.Contains(r.Header.Get("Location"), "token") {
		t.Fatal("a token in the redirect URL")
	}
	var s apitest.Session
	c.Do("POST", "/auth/refresh", nil).Expect(200).JSON(&s)
	if s.User.Login != "bob" || s.Organization.Role != "owner" {
		t.Fatalf("session: %+v", s)
	}
	var me struct {
		User struct {
			GitHubID int64  `json:"github_id"`
			Email    string `json:"email"`
		} `json:"user"`
		Organization struct {
			IsPersonal bool `json:"is_personal"`
		} `json:"organization"`
	}
	c.Token = s.AccessToken
	c.Do("GET", "/auth/me", nil).Expect(200).JSON(&me)
	if me.User.GitHubID != fakegithub.UserID("bob") || me.User.Email != "bob@example.com" || !me.Organization.IsPersonal {
		t.Fatalf("me: %+v", me)
	}
	// the GitHub token is stored encrypted, never in clear
	var sealed []byte
	_ = env.DB.QueryRow(context.Background(), `SELECT github_token_enc FROM users WHERE login = 'bob'`).Scan(&sealed)
	if len(sealed) == 0 || strings.Contains(string(sealed), "gho_") {
		t.Fatalf("github token not sealed: %q", sealed)
	}
	// a second sign-in is the same user and the same personal organization
	c2 := env.Anonymous()
	c2.Do("GET", startSignIn(t, env, c2, "/").String(), nil).Expect(302)
	var n int
	_ = env.DB.QueryRow(context.Background(), `SELECT count(*) FROM organizations WHERE is_personal`).Scan(&n)
	if n != 1 {
		t.Fatalf("%d personal organizations after two sign-ins", n)
	}
}

func TestGitHubSignInRedirectStaysLocal(t *testing.T) {
	env := apitest.New(t)
	env.GitHub.AutoLogin = "alice"
	for _, bad := range []string{"https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"} {
		c := env.Anonymous()
		r := c.Do("GET", startSignIn(t, env, c, bad).String(), nil).Expect(302)
		if r.Header.Get("Location") != "/" {
			t.Errorf("redirect %q led to %q", bad, r.Header.Get("Location"))
		}
	}
}

func TestGitHubSignInFailures(t *testing.T) {
	env := apitest.New(t)
	env.GitHub.AutoLogin = "alice"
	signer := auth.NewStateSigner(env.Config.JWTSigningKey)
	cases := []struct {
		name   string
		status int
		call   func(t *testing.T, c *apitest.Client) *apitest.Response
	}{
		{"state mismatch", 400, func(t *testing.T, c *apitest.Client) *apitest.Response {
			cb := startSignIn(t, env, c, "/")
			q := cb.Query()
			q.Set("state", "not-the-state")
			cb.RawQuery = q.Encode()
			return c.Do("GET", cb.String(), nil)
		}},
		{"missing cookie", 400, func(t *testing.T, c *apitest.Client) *apitest.Response {
			cb := startSignIn(t, env, c, "/")
			return env.Anonymous().Do("GET", cb.String(), nil)
		}},
		{"forged cookie", 400, func(t *testing.T, c *apitest.Client) *apitest.Response {
			cb := startSignIn(t, env, c, "/")
			other := auth.NewStateSigner([]byte("some-other-key-0123456789abcdef0123"))
			st := auth.OAuthState{State: cb.Query().Get("state"), Verifier: "v", Redirect: "/", Expires: time.Now().Add(time.Minute).Unix()}
			return env.Anonymous().Do("GET", cb.String(), nil, "Cookie", "miyabi_oauth="+other.Encode(st))
		}},
		{"expired cookie", 400, func(t *testing.T, c *apitest.Client) *apitest.Response {
			cb := startSignIn(t, env, c, "/")
			st := auth.OAuthState{State: cb.Query().Get("state"), Verifier: "v", Redirect: "/", Expires: time.Now().Add(-time.Second).Unix()}
			return env.Anonymous().Do("GET", cb.String(), nil, "Cookie", "miyabi_oauth="+signer.Encode(st))
		}},
		{"wrong verifier", 502, func(t *testing.T, c *apitest.Client) *apitest.Response {
			cb := startSignIn(t, env, c, "/")
			st := auth.OAuthState{State: cb.Query().Get("state"), Verifier: "a-verifier-github-never-saw-0123456789", Redirect: "/", Expires: time.Now().Add(time.Minute).Unix()}
			return env.Anonymous().Do("GET", cb.String(), nil, "Cookie", "miyabi_oauth="+signer.Encode(st))
		}},
		{"GitHub error", 400, func(t *testing.T, c *apitest.Client) *apitest.Response {
			cb := startSignIn(t, env, c, "/")
			q := cb.Query()
			q.Del("code")
			q.Set("error", "access_denied")
			cb.RawQuery = q.Encode()
			return c.Do("GET", cb.String(), nil)
		}},
		{"GitHub refuses the code", 502, func(t *testing.T, c *apitest.Client) *apitest.Response {
			cb := startSignIn(t, env, c, "/")
			env.GitHub.FailExchange = true
			defer func() { env.GitHub.FailExchange = false }()
			return c.Do("GET", cb.String(), nil)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.call(t, env.Anonymous())
			p := r.Problem(tc.status)
			if p.Detail == "" {
				t.Fatal("no detail")
			}
			for _, ck := range r.Header.Values("Set-Cookie") {
				if strings.HasPrefix(ck, "miyabi_refresh=") {
					t.Fatalf("a session cookie was set: %s", ck)
				}
			}
			if n := countSessions(t, env); n != 0 {
				t.Fatalf("%d sessions opened", n)
			}
		})
	}
}

func TestAccessTokensAreCheckedStrictly(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	var claims jwt.MapClaims
	if _, _, err := jwt.NewParser().ParseUnverified(alice.Token, &claims); err != nil {
		t.Fatal(err)
	}
	sign := func(method jwt.SigningMethod, key any, mutate func(jwt.MapClaims)) string {
		c := jwt.MapClaims{}
		for k, v := range claims {
			c[k] = v
		}
		mutate(c)
		s, err := jwt.NewWithClaims(method, c).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	key := env.Config.JWTSigningKey
	cases := map[string]string{
		"expired":          sign(jwt.SigningMethodHS256, key, func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-time.Minute).Unix() }),
		"no expiry":        sign(jwt.SigningMethodHS256, key, func(c jwt.MapClaims) { delete(c, "exp") }),
		"wrong audience":   sign(jwt.SigningMethodHS256, key, func(c jwt.MapClaims) { c["aud"] = []string{"someone-else"} }),
		"wrong issuer":     sign(jwt.SigningMethodHS256, key, func(c jwt.MapClaims) { c["iss"] = "evil" }),
		"bad signature":    sign(jwt.SigningMethodHS256, []byte("another-key-0123456789abcdef01234567"), func(jwt.MapClaims) {}),
		"HS384":            sign(jwt.SigningMethodHS384, key, func(jwt.MapClaims) {}),
		"alg none":         apitest.ForgeToken(map[string]any{"alg": "none", "typ": "JWT"}, claims, ""),
		"RS256 confusion":  apitest.ForgeToken(map[string]any{"alg": "RS256", "typ": "JWT"}, claims, strings.Split(alice.Token, ".")[2]),
		"garbage":          "not.a.jwt",
		"empty":            "",
		"other user's sid": sign(jwt.SigningMethodHS256, key, func(c jwt.MapClaims) { c["sid"] = uuid.NewString() }),
	}
	for name, token := range cases {
		t.Run(name, func(t *testing.T) {
			c := env.Anonymous()
			c.Token = token
			c.Do("GET", "/auth/me", nil).Problem(401)
		})
	}
	alice.Do("GET", "/auth/me", nil).Expect(200)
}

func TestRefreshRotationReuseAndLogout(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	cookieOf := func(r *apitest.Response) string {
		for _, ck := range r.Header.Values("Set-Cookie") {
			if v, ok := strings.CutPrefix(ck, "miyabi_refresh="); ok {
				return strings.SplitN(v, ";", 2)[0]
			}
		}
		t.Fatal("no refresh cookie")
		return ""
	}
	anon := env.Anonymous()
	first := alice.Do("POST", "/auth/refresh", nil).Expect(200) // jar sends the dev-login cookie
	one := cookieOf(first)
	second := alice.Do("POST", "/auth/refresh", nil).Expect(200)
	two := cookieOf(second)
	if one == two {
		t.Fatal("refresh token not rotated")
	}
	var s apitest.Session
	second.JSON(&s)
	alice.Token = s.AccessToken
	alice.Do("GET", "/auth/me", nil).Expect(200)

	// the rotated token comes back after the grace (auth.RefreshGrace, for two tabs
	// refreshing at once): the whole family dies, the newest token too
	if _, err := env.DB.Exec(context.Background(), `UPDATE refresh_tokens SET rotated_at = rotated_at - interval '1 minute' WHERE rotated_at IS NOT NULL`); err != nil {
		t.Fatal(err)
	}
	anon.Do("POST", "/auth/refresh", nil, "Cookie", "miyabi_refresh="+one).Problem(401)
	anon.Do("POST", "/auth/refresh", nil, "Cookie", "miyabi_refresh="+two).Problem(401)
	alice.Do("GET", "/auth/me", nil).Problem(401)

	// logout acts at once on a still-valid access token
	bob := env.Login("bob")
	bob.Do("GET", "/auth/me", nil).Expect(200)
	r := bob.Do("POST", "/auth/logout", nil).Expect(204)
	if !strings.Contains(strings.Join(r.Header.Values("Set-Cookie"), ";"), "miyabi_refresh=;") {
		t.Fatalf("logout did not clear the cookie: %v", r.Header.Values("Set-Cookie"))
	}
	bob.Do("GET", "/auth/me", nil).Problem(401)
	bob.Do("POST", "/auth/refresh", nil).Problem(401)
	anon.Do("POST", "/auth/refresh", nil).Problem(401)
}

func TestDevLoginOnlyInDevelopment(t *testing.T) {
	env := apitest.New(t, func(c *configT) { c.Env = "production" })
	env.Anonymous().Do("POST", "/auth/dev-login", map[string]any{"login": "alice"}).Problem(http.StatusNotFound)
}
