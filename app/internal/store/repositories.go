package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/miyabi/miyabi/app/internal/domain"
)

// Repository is a GitHub repository connected to an organization.
type Repository struct {
	ID            uuid.UUID  `db:"id"`
	OrgID         uuid.UUID  `db:"organization_id"`
	TeamID        *uuid.UUID `db:"team_id"`
	GitHubRepoID  int64      `db:"github_repo_id"`
	FullName      string     `db:"full_name"`
	DefaultBranch string     `db:"default_branch"`
	IsPrivate     bool       `db:"is_private"`
	IsActive      bool       `db:"is_active"`
	CreatedBy     *uuid.UUID `db:"created_by"`
	CreatedAt     time.Time  `db:"created_at"`
	UpdatedAt     time.Time  `db:"updated_at"`
	// The GitHub App installation reaching it, and why the App deactivated it.
	InstallationID *int64  `db:"github_installation_id"`
	InactiveReason *string `db:"inactive_reason"`
}

const repositoryColumns = `id, organization_id, team_id, github_repo_id, full_name, default_branch, is_private,
	is_active, created_by, created_at, updated_at, github_installation_id, inactive_reason`

// NewRepository is what GitHub told us of a repository being connected.
type NewRepository struct {
	GitHubRepoID  int64
	FullName      string
	DefaultBranch string
	IsPrivate     bool
	CreatedBy     uuid.UUID
	// InstallationID is the GitHub App installation that reaches it (nil: no App).
	InstallationID *int64
}

// CreateRepository connects a repository, within the organization's max_repositories.
// The organization row is locked so two concurrent connects cannot both take the last slot.
func (s *Store) CreateRepository(ctx context.Context, orgID uuid.UUID, r NewRepository) (Repository, error) {
	var out Repository
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var max, have int
		err := tx.QueryRow(ctx, `SELECT max_repositories FROM organizations WHERE id = $1 FOR UPDATE`, orgID).Scan(&max)
		if err != nil {
			return notFound(err, "organization")
		}
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM repositories WHERE organization_id = $1`, orgID).Scan(&have); err != nil {
			return fmt.Errorf("count repositories: %w", err)
		}
		if have >= max {
			return domain.Errorf(domain.CodeConflict,
				"this organization has reached its limit of %d repositories; disconnect one or raise max_repositories", max)
		}
		rows, _ := tx.Query(ctx, `
			INSERT INTO repositories (organization_id, github_repo_id, full_name, default_branch, is_private, created_by, github_installation_id)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING `+repositoryColumns,
			orgID, r.GitHubRepoID, r.FullName, r.DefaultBranch, r.IsPrivate, r.CreatedBy, r.InstallationID)
		out, err = pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Repository])
		if c, ok := constraintName(err, pgUniqueViolation); ok && c == "repositories_organization_id_github_repo_id_key" {
			return domain.Errorf(domain.CodeConflict, "%s is already connected to this organization", r.FullName)
		}
		if err != nil {
			return err
		}
		return audit(ctx, tx, orgID, AuditRepositoryConnected, "repository", out.ID.String(), map[string]any{"full_name": r.FullName, "github_repo_id": r.GitHubRepoID})
	})
	return out, err
}

// Repository loads one of the organization's repositories.
func (s *Store) Repository(ctx context.Context, orgID, id uuid.UUID) (Repository, error) {
	rows, _ := s.pool.Query(ctx, `SELECT `+repositoryColumns+` FROM repositories WHERE organization_id = $1 AND id = $2`, orgID, id)
	r, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Repository])
	return r, notFound(err, "repository")
}

// RepositoryFilter narrows a repository list.
type RepositoryFilter struct {
	TeamID   *uuid.UUID
	IsActive *bool
}

// ListRepositories pages through the organization's repositories, newest first.
func (s *Store) ListRepositories(ctx context.Context, orgID uuid.UUID, f RepositoryFilter, limit, offset int) ([]Repository, int, error) {
	const where = `WHERE organization_id = $1 AND ($2::uuid IS NULL OR team_id = $2) AND ($3::boolean IS NULL OR is_active = $3)`
	rows, _ := s.pool.Query(ctx, `SELECT `+repositoryColumns+` FROM repositories `+where+`
		ORDER BY created_at DESC, id LIMIT $4 OFFSET $5`, orgID, f.TeamID, f.IsActive, limit, offset)
	items, err := pgx.CollectRows(rows, pgx.RowToStructByName[Repository])
	if err != nil {
		return nil, 0, fmt.Errorf("list repositories: %w", err)
	}
	var total int
	err = s.pool.QueryRow(ctx, `SELECT count(*) FROM repositories `+where, orgID, f.TeamID, f.IsActive).Scan(&total)
	return items, total, err
}

// RepositoryPatch is what PATCH may change: the team (SetTeam with TeamID nil clears it)
// and whether agents may run on it.
type RepositoryPatch struct {
	SetTeam  bool
	TeamID   *uuid.UUID
	IsActive *bool
}

// UpdateRepository changes a repository; the team must be one of the organization's.
func (s *Store) UpdateRepository(ctx context.Context, orgID, id uuid.UUID, p RepositoryPatch) (Repository, error) {
	if p.SetTeam && p.TeamID != nil {
		var ok bool
		if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM teams WHERE organization_id = $1 AND id = $2)`, orgID, *p.TeamID).Scan(&ok); err != nil {
			return Repository{}, err
		}
		if !ok {
			return Repository{}, domain.Invalid("body.team_id", "no team with this id in the organization")
		}
	}
	var r Repository
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		rows, _ := tx.Query(ctx, `
			UPDATE repositories SET team_id = CASE WHEN $3 THEN $4::uuid ELSE team_id END, is_active = coalesce($5, is_active),
				inactive_reason = CASE WHEN $5 IS NOT NULL THEN NULL ELSE inactive_reason END
			WHERE organization_id = $1 AND id = $2 RETURNING `+repositoryColumns, orgID, id, p.SetTeam, p.TeamID, p.IsActive)
		var err error
		r, err = pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Repository])
		if _, ok := constraintName(err, pgForeignKeyViolation); ok {
			// the team was deleted between the check and the update
			return domain.Invalid("body.team_id", "no team with this id in the organization")
		}
		if err != nil {
			return notFound(err, "repository")
		}
		changed := map[string]any{}
		if p.SetTeam {
			changed["team_id"] = p.TeamID
		}
		if p.IsActive != nil {
			changed["is_active"] = *p.IsActive
		}
		return audit(ctx, tx, orgID, AuditRepositoryUpdated, "repository", id.String(), changed)
	})
	return r, err
}

// DeleteRepository disconnects a repository. Its executions and tasks stay, without it.
func (s *Store) DeleteRepository(ctx context.Context, orgID, id uuid.UUID) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		var name string
		err := tx.QueryRow(ctx, `DELETE FROM repositories WHERE organization_id = $1 AND id = $2 RETURNING full_name`, orgID, id).Scan(&name)
		if err != nil {
			return notFound(err, "repository")
		}
		return audit(ctx, tx, orgID, AuditRepositoryRemoved, "repository", id.String(), map[string]any{"full_name": name})
	})
}
