package httpapi

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"github.com/miyabi/miyabi/app/internal/domain"
	"github.com/miyabi/miyabi/app/internal/github"
	"github.com/miyabi/miyabi/app/internal/store"
)

// IssueOut is an open issue of a connected repository, as GitHub shows it.
type IssueOut struct {
	Number    int        `json:"number"`
	Title     string     `json:"title"`
	URL       string     `json:"url" format:"uri"`
	Author    string     `json:"author"`
	Labels    []LabelOut `json:"labels"`
	Comments  int        `json:"comments"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
}

// LabelOut is an issue label.
type LabelOut struct {
	Name  string `json:"name"`
	Color string `json:"color" doc:"hex, without #"`
}

var docListRepositoryIssues = huma.Operation{OperationID: "list-repository-issues", Tags: []string{"repositories"},
	Summary:     "List a repository's open issues on GitHub",
	Description: "Read through the GitHub App's installation (private repositories included), newest first, pull requests left out; cached for 30 s. 409 when the App does not reach the repository (with the install link).",
	Errors:      []int{404, 409, 502}}

type listIssuesInput struct {
	ID    uuid.UUID `path:"id"`
	Page  int       `query:"page" minimum:"1" maximum:"1000" default:"1"`
	Limit int       `query:"limit" minimum:"1" maximum:"100" default:"30"`
}

type issuesOutput struct {
	Body struct {
		Items   []IssueOut `json:"items"`
		Page    int        `json:"page"`
		Limit   int        `json:"limit"`
		HasNext bool       `json:"has_next" doc:"GitHub has a next page (GitHub does not give totals)"`
	}
}

func (s *Server) listRepositoryIssues(ctx context.Context, in *listIssuesInput) (*issuesOutput, error) {
	repo := repositoryFrom(ctx)
	if s.app == nil {
		return nil, domain.Errorf(domain.CodeConflict, "No GitHub App is configured on this server: issues cannot be read.")
	}
	if repo.InstallationID == nil {
		return nil, domain.Errorf(domain.CodeConflict, "The Miyabi GitHub App does not reach %s; install it: %s", repo.FullName,
			s.cfg.GitHubApp.InstallURL(s.cfg.GitHubOAuthURL))
	}
	key := fmt.Sprintf("%d/%s/%d/%d", *repo.InstallationID, repo.FullName, in.Page, in.Limit)
	page, ok := s.issues.get(key)
	if !ok {
		issues, hasNext, err := s.app.OpenIssues(ctx, *repo.InstallationID, repo.FullName, in.Page, in.Limit)
		switch {
		case errors.Is(err, github.ErrNotFound):
			return nil, domain.Errorf(domain.CodeConflict, "GitHub no longer shows %s to the Miyabi App; reinstall it: %s", repo.FullName,
				s.cfg.GitHubApp.InstallURL(s.cfg.GitHubOAuthURL))
		case err != nil:
			return nil, &domain.Error{Code: domain.CodeBadGateway, Message: "GitHub did not answer the issue list; try again.", Err: err}
		}
		page = issuePage{items: make([]IssueOut, len(issues)), hasNext: hasNext}
		for i, is := range issues {
			labels := make([]LabelOut, len(is.Labels))
			for j, l := range is.Labels {
				labels[j] = LabelOut{Name: l.Name, Color: l.Color}
			}
			page.items[i] = IssueOut{Number: is.Number, Title: is.Title, URL: is.HTMLURL, Author: is.User.Login, Labels: labels,
				Comments: is.Comments, CreatedAt: is.CreatedAt, UpdatedAt: is.UpdatedAt}
		}
		s.issues.put(key, page)
	}
	out := &issuesOutput{}
	out.Body.Items, out.Body.HasNext, out.Body.Page, out.Body.Limit = page.items, page.hasNext, in.Page, in.Limit
	return out, nil
}

// issueCache keeps GitHub's issue pages briefly: the dashboard re-reads them on every
// visit, and GitHub's rate limit is per installation.
type issueCache struct {
	ttl time.Duration
	now func() time.Time
	mu  sync.Mutex
	m   map[string]issueCacheEntry
}

type issuePage struct {
	items   []IssueOut
	hasNext bool
}

type issueCacheEntry struct {
	page    issuePage
	expires time.Time
}

func newIssueCache(ttl time.Duration, now func() time.Time) *issueCache {
	return &issueCache{ttl: ttl, now: now, m: map[string]issueCacheEntry{}}
}

func (c *issueCache) get(key string) (issuePage, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if !ok || !c.now().Before(e.expires) {
		return issuePage{}, false
	}
	return e.page, true
}

func (c *issueCache) put(key string, p issuePage) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if len(c.m) > 1000 { // bounded: drop what expired, or everything
		for k, e := range c.m {
			if !now.Before(e.expires) {
				delete(c.m, k)
			}
		}
		if len(c.m) > 1000 {
			c.m = map[string]issueCacheEntry{}
		}
	}
	c.m[key] = issueCacheEntry{page: p, expires: now.Add(c.ttl)}
}

// createRepositoryThroughApp connects a repository the App is installed on and the
// caller can see: the installation reads it (private ones too), and GitHub says whether
// the caller has any access to a private one.
func (s *Server) createRepositoryThroughApp(ctx context.Context, in *createRepositoryInput) (*repositoryOutput, error) {
	p := principalFrom(ctx)
	name := in.Body.FullName
	instID, err := s.app.RepoInstallation(ctx, name)
	switch {
	case errors.Is(err, github.ErrNotInstalled):
		return nil, domain.Invalid("body.full_name", "the Miyabi GitHub App is not installed on %s (or it does not exist); install it on the repository: %s",
			name, s.cfg.GitHubApp.InstallURL(s.cfg.GitHubOAuthURL))
	case err != nil:
		return nil, &domain.Error{Code: domain.CodeBadGateway, Message: "GitHub did not answer the installation lookup; try again.", Err: err}
	}
	gr, err := s.app.Repo(ctx, instID, name)
	switch {
	case errors.Is(err, github.ErrNotFound):
		return nil, domain.Invalid("body.full_name", "GitHub has no repository %s that the Miyabi App can see", name)
	case err != nil:
		return nil, &domain.Error{Code: domain.CodeBadGateway, Message: "GitHub did not answer the repository lookup; try again.", Err: err}
	}
	{
		// GitHub answers read for anyone on a public repository, none where they have no access
		perm, err := s.app.CollaboratorPermission(ctx, instID, name, p.Login)
		if err != nil {
			return nil, &domain.Error{Code: domain.CodeBadGateway, Message: "GitHub did not answer the access check; try again.", Err: err}
		}
		if perm == "" || perm == "none" {
			// the same answer as a repository that does not exist: nothing leaks
			return nil, domain.Invalid("body.full_name", "GitHub has no repository %s that you can see", name)
		}
	}
	if gr.DefaultBranch == "" {
		gr.DefaultBranch = "main"
	}
	if gr.FullName == "" {
		gr.FullName = name
	}
	r, err := s.store.CreateRepository(ctx, p.OrgID, store.NewRepository{GitHubRepoID: gr.ID, FullName: gr.FullName,
		DefaultBranch: gr.DefaultBranch, IsPrivate: gr.Private, CreatedBy: p.UserID, InstallationID: &instID})
	if err != nil {
		return nil, err
	}
	return &repositoryOutput{Body: repositoryOut(r)}, nil
}

// PullRequestOut is a pull request linked to an execution (null when none).
type PullRequestOut struct {
	_        struct{}   `nullable:"true"`
	Number   int        `json:"number"`
	URL      string     `json:"url"`
	State    string     `json:"state" enum:"open,closed"`
	Merged   bool       `json:"merged"`
	MergedAt *time.Time `json:"merged_at"`
}

func (s *Server) executionPullRequest(ctx context.Context, orgID, execID uuid.UUID) (*PullRequestOut, error) {
	pr, err := s.store.ExecutionPullRequest(ctx, orgID, execID)
	if err != nil || pr == nil {
		return nil, err
	}
	return &PullRequestOut{Number: pr.Number, URL: pr.URL, State: pr.State, Merged: pr.Merged, MergedAt: pr.MergedAt}, nil
}
