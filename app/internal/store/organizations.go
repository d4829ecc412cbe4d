package store

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Organization is a tenant, seen by one of its members (Role is theirs).
type Organization struct {
	ID              uuid.UUID `db:"id"`
	Name            string    `db:"name"`
	Slug            string    `db:"slug"`
	Description     string    `db:"description"`
	IsPersonal      bool      `db:"is_personal"`
	Plan            string    `db:"plan"`
	MaxMembers      int       `db:"max_members"`
	MaxRepositories int       `db:"max_repositories"`
	Role            string    `db:"role"`
	CreatedAt       time.Time `db:"created_at"`
	UpdatedAt       time.Time `db:"updated_at"`
}

const orgColumns = `o.id, o.name, o.slug, o.description, o.is_personal, o.plan, o.max_members,
	o.max_repositories, m.role::text AS role, o.created_at, o.updated_at`

// OrganizationForMember loads an organization the user is an active member of (404 otherwise).
func (s *Store) OrganizationForMember(ctx context.Context, orgID, userID uuid.UUID) (Organization, error) {
	rows, _ := s.Pool.Query(ctx, `SELECT `+orgColumns+`
		FROM organizations o JOIN organization_members m ON m.organization_id = o.id
		WHERE o.id = $1 AND m.user_id = $2 AND m.status = 'active'`, orgID, userID)
	o, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Organization])
	return o, notFound(err, "organization")
}

// OrganizationsForUser lists every organization the user is an active member of.
func (s *Store) OrganizationsForUser(ctx context.Context, userID uuid.UUID) ([]Organization, error) {
	rows, _ := s.Pool.Query(ctx, `SELECT `+orgColumns+`
		FROM organizations o JOIN organization_members m ON m.organization_id = o.id
		WHERE m.user_id = $1 AND m.status = 'active'
		ORDER BY o.is_personal DESC, o.name, o.id`, userID)
	return pgx.CollectRows(rows, pgx.RowToStructByName[Organization])
}
