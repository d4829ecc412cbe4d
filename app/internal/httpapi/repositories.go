package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"github.com/miyabi/miyabi/app/internal/domain"
	"github.com/miyabi/miyabi/app/internal/github"
	"github.com/miyabi/miyabi/app/internal/perm"
	"github.com/miyabi/miyabi/app/internal/store"
)

// RepositoryOut is a connected GitHub repository.
type RepositoryOut struct {
	ID             uuid.UUID  `json:"id"`
	TeamID         *uuid.UUID `json:"team_id" nullable:"true" doc:"The team whose roles apply to it; null for none"`
	GitHubRepoID   int64      `json:"github_repo_id"`
	FullName       string     `json:"full_name" example:"miyabi-demo/webapp"`
	DefaultBranch  string     `json:"default_branch"`
	IsPrivate      bool       `json:"is_private"`
	IsActive       bool       `json:"is_active" doc:"Agents run only on active repositories"`
	CreatedBy      *uuid.UUID `json:"created_by" nullable:"true"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
	AppInstalled   bool       `json:"app_installed" doc:"The Miyabi GitHub App reaches it (issues, comments, webhooks)"`
	InactiveReason *string    `json:"inactive_reason" doc:"Why the GitHub App deactivated it (uninstalled, repository removed); null otherwise"`
}

func repositoryOut(r store.Repository) RepositoryOut {
	return RepositoryOut{ID: r.ID, TeamID: r.TeamID, GitHubRepoID: r.GitHubRepoID, FullName: r.FullName,
		DefaultBranch: r.DefaultBranch, IsPrivate: r.IsPrivate, IsActive: r.IsActive, CreatedBy: r.CreatedBy,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, AppInstalled: r.InstallationID != nil, InactiveReason: r.InactiveReason}
}

var (
	docListRepositories = huma.Operation{OperationID: "list-repositories", Tags: []string{"repositories"},
		Summary: "List the organization's repositories, newest first"}
	docCreateRepository = huma.Operation{OperationID: "create-repository", Tags: []string{"repositories"},
		Summary:       "Connect a GitHub repository",
		Description:   "Looks the repository up on GitHub through the Miyabi GitHub App (its numeric id, default branch, privacy) and checks that you can see it. A repository the App is not installed on is 422 with the install link; one GitHub does not show you is 422; one already connected is 409; so is one past the organization's max_repositories. Without a configured App, the lookup uses your sign-in token (public repositories).",
		DefaultStatus: http.StatusCreated, Errors: []int{409, 422, 502}}
	docGetRepository = huma.Operation{OperationID: "get-repository", Tags: []string{"repositories"},
		Summary: "Get a repository", Errors: []int{404}}
	docUpdateRepository = huma.Operation{OperationID: "update-repository", Tags: []string{"repositories"},
		Summary:     "Assign a repository to a team, or (de)activate it",
		Description: "team_id: a team of the organization, or null for none. A team lead may change their team's repositories.",
		Errors:      []int{403, 404, 422}}
	docDeleteRepository = huma.Operation{OperationID: "delete-repository", Tags: []string{"repositories"},
		Summary: "Disconnect a repository (its executions and tasks stay)", DefaultStatus: http.StatusNoContent,
		Errors: []int{404}}
)

type listRepositoriesInput struct {
	PageParams
	TeamID string `query:"team_id" format:"uuid" doc:"Only this team's repositories"`
}

type repositoryPageOutput struct{ Body Page[RepositoryOut] }

func (s *Server) listRepositories(ctx context.Context, in *listRepositoriesInput) (*repositoryPageOutput, error) {
	p := principalFrom(ctx)
	items, total, err := s.store.ListRepositories(ctx, p.OrgID, store.RepositoryFilter{TeamID: optUUID(in.TeamID)}, in.Limit, in.Offset())
	if err != nil {
		return nil, err
	}
	return &repositoryPageOutput{Body: pageOf(mapSlice(items, repositoryOut), total, in.PageParams)}, nil
}

type createRepositoryInput struct {
	Body struct {
		FullName string `json:"full_name" minLength:"3" maxLength:"140" pattern:"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$" doc:"owner/name on GitHub" example:"miyabi-demo/webapp"`
	}
}

type repositoryOutput struct{ Body RepositoryOut }

func (s *Server) createRepository(ctx context.Context, in *createRepositoryInput) (*repositoryOutput, error) {
	p := principalFrom(ctx)
	// "." and ".." are path segments, not names: /repos/../x would ask GitHub for another path
	for _, seg := range strings.Split(in.Body.FullName, "/") {
		if seg == "." || seg == ".." {
			return nil, domain.Invalid("body.full_name", "owner and name cannot be . or ..")
		}
	}
	if s.app != nil {
		return s.createRepositoryThroughApp(ctx, in)
	}
	sealed, err := s.store.SealedGitHubToken(ctx, p.UserID)
	if err != nil {
		return nil, err
	}
	if len(sealed) == 0 {
		return nil, domain.Errorf(domain.CodeConflict, "Miyabi holds no GitHub token for you; sign in with GitHub again.")
	}
	token, fresh, err := s.sealer.ResealIfStale(sealed, p.UserID[:])
	if err != nil {
		return nil, &domain.Error{Code: domain.CodeConflict, Message: "Your stored GitHub token cannot be read; sign in with GitHub again.", Err: err}
	}
	if fresh != nil {
		// sealed with a previous key: keep it readable after that key is retired
		if err := s.store.ReplaceSealedGitHubToken(ctx, p.UserID, sealed, fresh); err != nil {
			s.log.WarnContext(ctx, "re-seal github token", "user_id", p.UserID, "error", err)
		}
	}
	gr, err := s.github.Repo(ctx, string(token), in.Body.FullName)
	switch {
	case errors.Is(err, github.ErrNotFound):
		return nil, domain.Invalid("body.full_name", "GitHub has no repository %s that you can see", in.Body.FullName)
	case errors.Is(err, github.ErrUnauthorized):
		return nil, &domain.Error{Code: domain.CodeBadGateway, Message: "GitHub refused your token; sign in with GitHub again.", Err: err}
	case err != nil:
		return nil, &domain.Error{Code: domain.CodeBadGateway, Message: "GitHub did not answer the repository lookup; try again.", Err: err}
	}
	if gr.DefaultBranch == "" {
		gr.DefaultBranch = "main"
	}
	if gr.FullName == "" {
		gr.FullName = in.Body.FullName
	}
	r, err := s.store.CreateRepository(ctx, p.OrgID, store.NewRepository{GitHubRepoID: gr.ID, FullName: gr.FullName,
		DefaultBranch: gr.DefaultBranch, IsPrivate: gr.Private, CreatedBy: p.UserID})
	if err != nil {
		return nil, err
	}
	return &repositoryOutput{Body: repositoryOut(r)}, nil
}

type repositoryIDInput struct {
	ID uuid.UUID `path:"id"`
}

func (s *Server) getRepository(ctx context.Context, in *repositoryIDInput) (*repositoryOutput, error) {
	r, err := s.store.Repository(ctx, principalFrom(ctx).OrgID, in.ID)
	if err != nil {
		return nil, err
	}
	return &repositoryOutput{Body: repositoryOut(r)}, nil
}

// nullableUUID tells an absent field (leave as is) from null (clear) in a PATCH body.
type nullableUUID struct {
	Set   bool
	Value *uuid.UUID
}

func (n *nullableUUID) UnmarshalJSON(b []byte) error {
	n.Set = true
	if string(b) == "null" {
		n.Value = nil
		return nil
	}
	var id uuid.UUID
	if err := json.Unmarshal(b, &id); err != nil {
		return err
	}
	n.Value = &id
	return nil
}

func (nullableUUID) Schema(huma.Registry) *huma.Schema {
	return &huma.Schema{Type: huma.TypeString, Format: "uuid", Nullable: true}
}

type updateRepositoryInput struct {
	ID   uuid.UUID `path:"id"`
	Body struct {
		TeamID   nullableUUID `json:"team_id,omitempty" doc:"A team of the organization, or null for none"`
		IsActive *bool        `json:"is_active,omitempty"`
	}
}

func (s *Server) updateRepository(ctx context.Context, in *updateRepositoryInput) (*repositoryOutput, error) {
	p := principalFrom(ctx)
	// moving a repository to another team needs the right over that team too
	if in.Body.TeamID.Set && in.Body.TeamID.Value != nil {
		if err := s.mayOnTeam(ctx, perm.RepositoriesWrite, in.Body.TeamID.Value); err != nil {
			return nil, err
		}
	}
	r, err := s.store.UpdateRepository(ctx, p.OrgID, repositoryFrom(ctx).ID, store.RepositoryPatch{
		SetTeam: in.Body.TeamID.Set, TeamID: in.Body.TeamID.Value, IsActive: in.Body.IsActive})
	if err != nil {
		return nil, err
	}
	return &repositoryOutput{Body: repositoryOut(r)}, nil
}

func (s *Server) deleteRepository(ctx context.Context, in *repositoryIDInput) (*struct{}, error) {
	return nil, s.store.DeleteRepository(ctx, principalFrom(ctx).OrgID, in.ID)
}

// optUUID turns an optional query parameter (already checked as a uuid by huma) into a filter.
func optUUID(s string) *uuid.UUID {
	if s == "" {
		return nil
	}
	id, err := uuid.Parse(s)
	if err != nil {
		return nil
	}
	return &id
}

// optString turns an optional query parameter into a filter.
func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
