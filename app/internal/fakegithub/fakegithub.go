// Package fakegithub is a small stand-in for GitHub that speaks the endpoints Miyabi
// uses, the same way GitHub does: the OAuth authorize redirect and code exchange (with
// PKCE S256 checked), /user, /user/emails and /repos/{owner}/{repo}; and the GitHub App
// (app.go): installation tokens, issues, comments, and signed webhooks it sends. Tests start it with
// httptest; `make dev` runs it as a process so sign-in works in a browser without GitHub.
package fakegithub

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"

	"github.com/miyabi/miyabi/app/internal/devid"
)

// The fake issues and accepts the development identities (package devid).
const TokenPrefix = devid.TokenPrefix

// TokenFor is the token the fake accepts for login.
func TokenFor(login string) string { return devid.TokenFor(login) }

// UserID is the numeric GitHub id the fake gives login (stable across runs).
func UserID(login string) int64 { return devid.UserID(login) }

// User is an account the fake knows.
type User struct {
	Login       string
	Name        string
	Email       string
	PublicEmail bool
	// ID overrides the id UserID gives the login (an account that took a login over).
	ID int64
}

func (u User) id() int64 {
	if u.ID != 0 {
		return u.ID
	}
	return UserID(u.Login)
}

// Repo is a repository the fake knows.
type Repo struct {
	ID            int64
	FullName      string
	DefaultBranch string
	Private       bool
}

// Server is the fake. Zero value is not usable; call New.
type Server struct {
	ClientID     string
	ClientSecret string
	// AutoLogin, when set, approves every authorize request as that user (tests); when
	// empty, the authorize page lets a person pick one of the known users.
	AutoLogin string
	// FailExchange makes the token endpoint answer like GitHub does for a bad code.
	FailExchange bool

	mu    sync.Mutex
	users map[string]User
	// missing are logins no account holds (GET /users/{login} answers 404); every other
	// login exists, as the fake makes up accounts on first use
	missing map[string]bool
	repos   map[string]Repo
	codes   map[string]grant
	app     appState
}

type grant struct {
	login, challenge, redirectURI, clientID string
}

// New returns a fake knowing the demo users and repositories.
func New(clientID, clientSecret string) *Server {
	s := &Server{ClientID: clientID, ClientSecret: clientSecret,
		users: map[string]User{}, repos: map[string]Repo{}, codes: map[string]grant{}, missing: map[string]bool{}}
	s.AddUser(User{Login: "alice", Name: "Alice Example", Email: "alice@example.com", PublicEmail: true})
	s.AddUser(User{Login: "bob", Name: "Bob Example", Email: "bob@example.com"})
	s.AddUser(User{Login: "carol", Name: "Carol Example", Email: "carol@example.com"})
	for i, name := range []string{"miyabi-demo/agent-playground", "miyabi-demo/webapp", "miyabi-demo/api-server", "octo-org/private-tool"} {
		s.AddRepo(Repo{ID: int64(700_000 + i), FullName: name, DefaultBranch: "main", Private: strings.HasPrefix(name, "octo-org/")})
	}
	s.initApp()
	return s
}

func (s *Server) AddUser(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[strings.ToLower(u.Login)] = u
}

// MarkMissing makes login one that no GitHub account holds.
func (s *Server) MarkMissing(login string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.missing[strings.ToLower(login)] = true
}

func (s *Server) AddRepo(r Repo) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.repos[strings.ToLower(r.FullName)] = r
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.serveApp(w, r) {
		return
	}
	switch {
	case r.URL.Path == "/login/oauth/authorize" && r.Method == http.MethodGet:
		s.authorize(w, r)
	case r.URL.Path == "/login/oauth/access_token" && r.Method == http.MethodPost:
		s.accessToken(w, r)
	case r.URL.Path == "/user" && r.Method == http.MethodGet:
		s.user(w, r)
	case r.URL.Path == "/user/emails" && r.Method == http.MethodGet:
		s.emails(w, r)
	case strings.HasPrefix(r.URL.Path, "/repos/") && r.Method == http.MethodGet:
		s.repo(w, r)
	case strings.HasPrefix(r.URL.Path, "/users/") && r.Method == http.MethodGet:
		s.userByLogin(w, r)
	default:
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
	}
}

var pickPage = template.Must(template.New("pick").Parse(`<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Fake GitHub — authorize Miyabi</title><style>body{font-family:system-ui;max-width:32rem;margin:3rem auto}
a{display:block;padding:.75rem 1rem;margin:.5rem 0;border:1px solid #ccc;border-radius:6px;text-decoration:none;color:#111}</style></head>
<body><h1>Fake GitHub</h1><p>Authorize <strong>Miyabi</strong> as:</p>
{{range .}}<a href="{{.URL}}">{{.Login}} <small>({{.Name}})</small></a>{{end}}
<p><small>This is the local stand-in for github.com used by <code>make dev</code>.</small></p></body></html>`))

func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("client_id") != s.ClientID {
		http.Error(w, "unknown client_id", http.StatusBadRequest)
		return
	}
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" {
		http.Error(w, "PKCE S256 required", http.StatusBadRequest)
		return
	}
	redirect, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || redirect.Scheme == "" {
		http.Error(w, "bad redirect_uri", http.StatusBadRequest)
		return
	}
	login := q.Get("login")
	if login == "" {
		login = s.AutoLogin
	}
	if login == "" {
		s.mu.Lock()
		type choice struct{ Login, Name, URL string }
		var choices []choice
		for _, u := range s.users {
			q2 := r.URL.Query()
			q2.Set("login", u.Login)
			choices = append(choices, choice{u.Login, u.Name, "/login/oauth/authorize?" + q2.Encode()})
		}
		s.mu.Unlock()
		sort.Slice(choices, func(i, j int) bool { return choices[i].Login < choices[j].Login })
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = pickPage.Execute(w, choices)
		return
	}
	rv := redirect.Query()
	if q.Get("deny") != "" {
		rv.Set("error", "access_denied")
		rv.Set("error_description", "The user has denied your application access.")
	} else {
		code := randomHex(10)
		s.mu.Lock()
		if _, ok := s.users[strings.ToLower(login)]; !ok {
			s.users[strings.ToLower(login)] = User{Login: login, Name: login}
		}
		s.codes[code] = grant{login: strings.ToLower(login), challenge: q.Get("code_challenge"), redirectURI: q.Get("redirect_uri"), clientID: s.ClientID}
		s.mu.Unlock()
		rv.Set("code", code)
	}
	rv.Set("state", q.Get("state"))
	redirect.RawQuery = rv.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

func (s *Server) accessToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	fail := func(code, desc string) {
		// GitHub answers token errors with 200 and an error field.
		writeJSON(w, http.StatusOK, map[string]string{"error": code, "error_description": desc})
	}
	if r.PostForm.Get("client_id") != s.ClientID || r.PostForm.Get("client_secret") != s.ClientSecret {
		fail("incorrect_client_credentials", "The client_id and/or client_secret passed are incorrect.")
		return
	}
	s.mu.Lock()
	g, ok := s.codes[r.PostForm.Get("code")]
	delete(s.codes, r.PostForm.Get("code")) // a code is good once
	s.mu.Unlock()
	if !ok || s.FailExchange {
		fail("bad_verification_code", "The code passed is incorrect or expired.")
		return
	}
	if r.PostForm.Get("redirect_uri") != "" && r.PostForm.Get("redirect_uri") != g.redirectURI {
		fail("redirect_uri_mismatch", "The redirect_uri MUST match the registered callback URL for this application.")
		return
	}
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	if base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge {
		fail("invalid_grant", "The code_verifier does not match the code_challenge.")
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"access_token": TokenFor(g.login), "token_type": "bearer", "scope": "read:user,user:email"})
}

func (s *Server) caller(w http.ResponseWriter, r *http.Request) (User, bool) {
	h := r.Header.Get("Authorization")
	token := strings.TrimPrefix(strings.TrimPrefix(h, "Bearer "), "token ")
	login, ok := strings.CutPrefix(token, TokenPrefix)
	if ok {
		s.mu.Lock()
		u, known := s.users[login]
		if !known && login != "" {
			u = User{Login: login, Name: login}
			s.users[login] = u
		}
		s.mu.Unlock()
		if login != "" {
			return u, true
		}
	}
	writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Bad credentials"})
	return User{}, false
}

func (s *Server) user(w http.ResponseWriter, r *http.Request) {
	u, ok := s.caller(w, r)
	if !ok {
		return
	}
	var email any
	if u.PublicEmail {
		email = u.Email
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"id": u.id(), "login": u.Login, "name": u.Name, "email": email,
		"avatar_url": fmt.Sprintf("https://avatars.githubusercontent.com/u/%d?v=4", u.id()),
	})
}

func (s *Server) userByLogin(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.caller(w, r); !ok {
		return
	}
	login := strings.TrimPrefix(r.URL.Path, "/users/")
	s.mu.Lock()
	u, known := s.users[strings.ToLower(login)]
	missing := s.missing[strings.ToLower(login)]
	s.mu.Unlock()
	if missing || login == "" || strings.Contains(login, "/") {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
		return
	}
	if !known {
		u = User{Login: login, Name: login}
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": u.id(), "login": u.Login, "name": u.Name})
}

func (s *Server) emails(w http.ResponseWriter, r *http.Request) {
	u, ok := s.caller(w, r)
	if !ok {
		return
	}
	list := []map[string]any{}
	if u.Email != "" {
		list = append(list,
			map[string]any{"email": strings.Replace(u.Email, "@", "+old@", 1), "primary": false, "verified": true, "visibility": nil},
			map[string]any{"email": u.Email, "primary": true, "verified": true, "visibility": "private"})
	}
	writeJSON(w, http.StatusOK, list)
}

func (s *Server) repo(w http.ResponseWriter, r *http.Request) {
	u, ok := s.caller(w, r)
	if !ok {
		return
	}
	full := strings.ToLower(strings.TrimPrefix(r.URL.Path, "/repos/"))
	s.mu.Lock()
	repo, known := s.repos[full]
	s.mu.Unlock()
	// every user also owns a "hello-world" repository of their own
	if !known && full == strings.ToLower(u.Login)+"/hello-world" {
		repo, known = Repo{ID: UserID(u.Login) + 1, FullName: u.Login + "/hello-world", DefaultBranch: "main"}, true
	}
	if !known {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found", "documentation_url": "https://docs.github.com/rest/repos/repos#get-a-repository"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": repo.ID, "full_name": repo.FullName, "name": repo.FullName[strings.Index(repo.FullName, "/")+1:],
		"default_branch": repo.DefaultBranch, "private": repo.Private})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
