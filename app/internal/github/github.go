// Package github is the client for the parts of GitHub Miyabi uses: the OAuth web flow
// with PKCE, the signed-in user and their emails, and repository lookups. Its base URLs
// are configuration, so tests and `make dev` point it at the local fake GitHub.
package github

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Client talks to github.com (or anything speaking its protocol).
type Client struct {
	OAuthURL     string // https://github.com
	APIURL       string // https://api.github.com
	ClientID     string
	ClientSecret string
	HTTP         *http.Client
}

// New returns a client with a bounded HTTP timeout.
func New(oauthURL, apiURL, clientID, clientSecret string) *Client {
	return &Client{OAuthURL: strings.TrimRight(oauthURL, "/"), APIURL: strings.TrimRight(apiURL, "/"),
		ClientID: clientID, ClientSecret: clientSecret, HTTP: &http.Client{Timeout: 10 * time.Second}}
}

// ErrNotFound is GitHub's 404: no such repository, or not visible with this token.
var ErrNotFound = errors.New("github: not found")

// ErrUnauthorized means the token was refused.
var ErrUnauthorized = errors.New("github: token refused")

// AuthorizeURL is where the browser goes to approve the sign-in (state + PKCE S256).
func (c *Client) AuthorizeURL(state, challenge, redirectURI string) string {
	q := url.Values{
		"client_id":             {c.ClientID},
		"redirect_uri":          {redirectURI},
		"scope":                 {"read:user user:email"}, // repositories are reached through the GitHub App
		"state":                 {state},
		"code_challenge":        {challenge},
		"code_challenge_method": {"S256"},
		"allow_signup":          {"false"},
	}
	return c.OAuthURL + "/login/oauth/authorize?" + q.Encode()
}

// ExchangeCode trades the callback's code (and the PKCE verifier) for an access token,
// server to server.
func (c *Client) ExchangeCode(ctx context.Context, code, verifier, redirectURI string) (string, error) {
	form := url.Values{
		"client_id": {c.ClientID}, "client_secret": {c.ClientSecret},
		"code": {code}, "code_verifier": {verifier}, "redirect_uri": {redirectURI},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.OAuthURL+"/login/oauth/access_token", strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	var out struct {
		AccessToken      string `json:"access_token"`
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
	}
	if err := c.do(req, &out); err != nil {
		return "", fmt.Errorf("github token exchange: %w", err)
	}
	if out.Error != "" || out.AccessToken == "" {
		return "", fmt.Errorf("github token exchange refused: %s %s", out.Error, out.ErrorDescription)
	}
	return out.AccessToken, nil
}

// User is the signed-in GitHub account.
type User struct {
	ID        int64  `json:"id"`
	Login     string `json:"login"`
	Name      string `json:"name"`
	Email     string `json:"email"`
	AvatarURL string `json:"avatar_url"`
}

// User reads /user.
func (c *Client) User(ctx context.Context, token string) (User, error) {
	var u User
	if err := c.get(ctx, token, "/user", &u); err != nil {
		return User{}, fmt.Errorf("github user: %w", err)
	}
	if u.ID <= 0 || u.Login == "" {
		return User{}, errors.New("github user: response without id or login")
	}
	return u, nil
}

// UserByLogin resolves a login to the account that holds it now (ErrNotFound when no
// account does). Logins change hands after renames; the numeric id never does.
func (c *Client) UserByLogin(ctx context.Context, token, login string) (User, error) {
	var u User
	if err := c.get(ctx, token, "/users/"+url.PathEscape(login), &u); err != nil {
		return User{}, err
	}
	if u.ID <= 0 || u.Login == "" {
		return User{}, errors.New("github user: response without id or login")
	}
	return u, nil
}

// PrimaryEmail reads /user/emails and returns the primary, verified address ("" if none).
func (c *Client) PrimaryEmail(ctx context.Context, token string) (string, error) {
	var emails []struct {
		Email    string `json:"email"`
		Primary  bool   `json:"primary"`
		Verified bool   `json:"verified"`
	}
	if err := c.get(ctx, token, "/user/emails", &emails); err != nil {
		return "", fmt.Errorf("github emails: %w", err)
	}
	for _, e := range emails {
		if e.Primary && e.Verified {
			return e.Email, nil
		}
	}
	return "", nil
}

// Repo is what Miyabi keeps of a GitHub repository.
type Repo struct {
	ID            int64  `json:"id"`
	FullName      string `json:"full_name"`
	DefaultBranch string `json:"default_branch"`
	Private       bool   `json:"private"`
}

// Repo looks up owner/name with the user's token.
func (c *Client) Repo(ctx context.Context, token, fullName string) (Repo, error) {
	owner, name, ok := strings.Cut(fullName, "/")
	if !ok {
		return Repo{}, ErrNotFound
	}
	var r Repo
	if err := c.get(ctx, token, "/repos/"+url.PathEscape(owner)+"/"+url.PathEscape(name), &r); err != nil {
		return Repo{}, err
	}
	return r, nil
}

func (c *Client) get(ctx context.Context, token, path string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.APIURL+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	return c.do(req, out)
}

func (c *Client) do(req *http.Request, out any) error {
	req.Header.Set("User-Agent", "miyabi")
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return ErrNotFound
	case resp.StatusCode == http.StatusUnauthorized:
		return ErrUnauthorized
	case resp.StatusCode >= 300:
		return fmt.Errorf("github answered %d", resp.StatusCode)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("github response: %w", err)
	}
	return nil
}
