package github

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// App is the Miyabi GitHub App: it signs a short JWT (RS256) with the App's private key,
// trades it for per-installation tokens (cached until shortly before they expire) and
// calls the repository APIs with those. Written over net/http like the rest of this
// package: the handful of endpoints Miyabi needs did not justify go-github's surface, and
// the fake GitHub speaks exactly these.
type App struct {
	APIURL string
	ID     int64
	HTTP   *http.Client
	Now    func() time.Time

	key *rsa.PrivateKey

	mu     sync.Mutex
	tokens map[int64]installationToken
}

type installationToken struct {
	token   string
	expires time.Time
}

// tokenMargin is how long before its expiry a cached installation token is replaced.
const tokenMargin = 5 * time.Minute

// ErrNotInstalled means the App is not installed on the repository (or cannot see it).
var ErrNotInstalled = errors.New("github: the App is not installed on this repository")

// NewApp parses the App's private key (PKCS#1 or PKCS#8 PEM).
func NewApp(apiURL string, appID int64, privateKeyPEM []byte) (*App, error) {
	key, err := jwt.ParseRSAPrivateKeyFromPEM(privateKeyPEM)
	if err != nil {
		return nil, fmt.Errorf("github app private key: %w", err)
	}
	return &App{APIURL: strings.TrimRight(apiURL, "/"), ID: appID, HTTP: &http.Client{Timeout: 10 * time.Second},
		Now: time.Now, key: key, tokens: map[int64]installationToken{}}, nil
}

// JWT is the App's own token: valid 9 minutes, issued a minute in the past to absorb
// clock drift, as GitHub recommends.
func (a *App) JWT() (string, error) {
	now := a.Now()
	claims := jwt.RegisteredClaims{
		Issuer:    strconv.FormatInt(a.ID, 10),
		IssuedAt:  jwt.NewNumericDate(now.Add(-60 * time.Second)),
		ExpiresAt: jwt.NewNumericDate(now.Add(9 * time.Minute)),
	}
	return jwt.NewWithClaims(jwt.SigningMethodRS256, claims).SignedString(a.key)
}

// InstallationToken returns a token for the installation, minting one when the cached
// one is missing or expires within tokenMargin.
func (a *App) InstallationToken(ctx context.Context, installationID int64) (string, error) {
	a.mu.Lock()
	cached, ok := a.tokens[installationID]
	a.mu.Unlock()
	if ok && a.Now().Add(tokenMargin).Before(cached.expires) {
		return cached.token, nil
	}
	appJWT, err := a.JWT()
	if err != nil {
		return "", err
	}
	var out struct {
		Token     string    `json:"token"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	path := fmt.Sprintf("/app/installations/%d/access_tokens", installationID)
	if _, err := a.call(ctx, http.MethodPost, path, appJWT, nil, &out); err != nil {
		return "", fmt.Errorf("installation token: %w", err)
	}
	if out.Token == "" {
		return "", errors.New("installation token: empty answer")
	}
	if out.ExpiresAt.IsZero() {
		out.ExpiresAt = a.Now().Add(time.Hour)
	}
	a.mu.Lock()
	a.tokens[installationID] = installationToken{token: out.Token, expires: out.ExpiresAt}
	a.mu.Unlock()
	return out.Token, nil
}

// forget drops a cached token GitHub refused (revoked, or the App was reinstalled).
func (a *App) forget(installationID int64) {
	a.mu.Lock()
	delete(a.tokens, installationID)
	a.mu.Unlock()
}

// RepoInstallation is the id of the App's installation that reaches owner/name.
func (a *App) RepoInstallation(ctx context.Context, fullName string) (int64, error) {
	path, err := repoPath(fullName)
	if err != nil {
		return 0, ErrNotInstalled
	}
	appJWT, err := a.JWT()
	if err != nil {
		return 0, err
	}
	var out struct {
		ID int64 `json:"id"`
	}
	_, err = a.call(ctx, http.MethodGet, path+"/installation", appJWT, nil, &out)
	if errors.Is(err, ErrNotFound) {
		return 0, ErrNotInstalled
	}
	if err != nil {
		return 0, fmt.Errorf("repository installation: %w", err)
	}
	return out.ID, nil
}

// asInstallation calls the API with the installation's token, retrying once with a
// fresh token when GitHub refuses the cached one.
func (a *App) asInstallation(ctx context.Context, installationID int64, method, path string, body, out any) (http.Header, error) {
	for attempt := 0; ; attempt++ {
		token, err := a.InstallationToken(ctx, installationID)
		if err != nil {
			return nil, err
		}
		h, err := a.call(ctx, method, path, token, body, out)
		if errors.Is(err, ErrUnauthorized) && attempt == 0 {
			a.forget(installationID)
			continue
		}
		return h, err
	}
}

// Repo reads owner/name through the installation (private repositories included).
func (a *App) Repo(ctx context.Context, installationID int64, fullName string) (Repo, error) {
	path, err := repoPath(fullName)
	if err != nil {
		return Repo{}, ErrNotFound
	}
	var r Repo
	_, err = a.asInstallation(ctx, installationID, http.MethodGet, path, nil, &r)
	return r, err
}

// CollaboratorPermission is login's permission on owner/name: admin, maintain, write,
// triage, read or none.
func (a *App) CollaboratorPermission(ctx context.Context, installationID int64, fullName, login string) (string, error) {
	path, err := repoPath(fullName)
	if err != nil {
		return "none", nil
	}
	var out struct {
		Permission string `json:"permission"`
		RoleName   string `json:"role_name"`
	}
	_, err = a.asInstallation(ctx, installationID, http.MethodGet, path+"/collaborators/"+url.PathEscape(login)+"/permission", nil, &out)
	if errors.Is(err, ErrNotFound) {
		return "none", nil
	}
	if err != nil {
		return "", err
	}
	return out.Permission, nil
}

// Label is an issue label.
type Label struct {
	Name  string `json:"name"`
	Color string `json:"color"`
}

// Issue is an open issue of a repository.
type Issue struct {
	Number    int       `json:"number"`
	Title     string    `json:"title"`
	HTMLURL   string    `json:"html_url"`
	State     string    `json:"state"`
	Labels    []Label   `json:"labels"`
	User      IssueUser `json:"user"`
	Comments  int       `json:"comments"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// PullRequest is set when the "issue" is a pull request (GitHub lists both).
	PullRequest *struct{} `json:"pull_request,omitempty"`
}

// IssueUser is who opened an issue.
type IssueUser struct {
	Login string `json:"login"`
}

// OpenIssues lists one page of owner/name's open issues (pull requests left out), and
// whether GitHub has a next page.
func (a *App) OpenIssues(ctx context.Context, installationID int64, fullName string, page, perPage int) ([]Issue, bool, error) {
	path, err := repoPath(fullName)
	if err != nil {
		return nil, false, ErrNotFound
	}
	q := url.Values{"state": {"open"}, "page": {strconv.Itoa(page)}, "per_page": {strconv.Itoa(perPage)}}
	var all []Issue
	h, err := a.asInstallation(ctx, installationID, http.MethodGet, path+"/issues?"+q.Encode(), nil, &all)
	if err != nil {
		return nil, false, err
	}
	issues := make([]Issue, 0, len(all))
	for _, i := range all {
		if i.PullRequest == nil {
			if i.Labels == nil {
				i.Labels = []Label{}
			}
			issues = append(issues, i)
		}
	}
	return issues, strings.Contains(h.Get("Link"), `rel="next"`), nil
}

// CreateComment comments on an issue and returns the comment's id.
func (a *App) CreateComment(ctx context.Context, installationID int64, fullName string, issue int, body string) (int64, error) {
	path, err := repoPath(fullName)
	if err != nil {
		return 0, ErrNotFound
	}
	var out struct {
		ID int64 `json:"id"`
	}
	_, err = a.asInstallation(ctx, installationID, http.MethodPost, fmt.Sprintf("%s/issues/%d/comments", path, issue), map[string]string{"body": body}, &out)
	if err != nil {
		return 0, fmt.Errorf("create comment: %w", err)
	}
	return out.ID, nil
}

// EditComment replaces an issue comment's body.
func (a *App) EditComment(ctx context.Context, installationID int64, fullName string, commentID int64, body string) error {
	path, err := repoPath(fullName)
	if err != nil {
		return ErrNotFound
	}
	_, err = a.asInstallation(ctx, installationID, http.MethodPatch, fmt.Sprintf("%s/issues/comments/%d", path, commentID), map[string]string{"body": body}, nil)
	if err != nil {
		return fmt.Errorf("edit comment: %w", err)
	}
	return nil
}

func repoPath(fullName string) (string, error) {
	owner, name, ok := strings.Cut(fullName, "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		return "", fmt.Errorf("not owner/name: %q", fullName)
	}
	return "/repos/" + url.PathEscape(owner) + "/" + url.PathEscape(name), nil
}

// StatusError is an answer GitHub gave that is neither success, 401 nor 404.
type StatusError struct{ Status int }

func (e *StatusError) Error() string { return fmt.Sprintf("github answered %d", e.Status) }

func (a *App) call(ctx context.Context, method, path, token string, body, out any) (http.Header, error) {
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.APIURL+path, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	req.Header.Set("User-Agent", "miyabi")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, err
	}
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return resp.Header, ErrNotFound
	case resp.StatusCode == http.StatusUnauthorized:
		return resp.Header, ErrUnauthorized
	case resp.StatusCode >= 300:
		return resp.Header, &StatusError{Status: resp.StatusCode}
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			return resp.Header, fmt.Errorf("github response: %w", err)
		}
	}
	return resp.Header, nil
}
