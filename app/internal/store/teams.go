package store

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/miyabi/miyabi/app/internal/domain"
)

// Team groups members of an organization; team roles apply to the team's repositories.
type Team struct {
	ID          uuid.UUID `db:"id"`
	OrgID       uuid.UUID `db:"organization_id"`
	Name        string    `db:"name"`
	Slug        string    `db:"slug"`
	Description string    `db:"description"`
	MemberCount int       `db:"member_count"`
	CreatedAt   time.Time `db:"created_at"`
	UpdatedAt   time.Time `db:"updated_at"`
}

const teamColumns = `t.id, t.organization_id, t.name, t.slug, t.description,
	(SELECT count(*) FROM team_members tm WHERE tm.team_id = t.id)::int AS member_count, t.created_at, t.updated_at`

func slugTaken(err error, slug string) error {
	if c, ok := constraintName(err, pgUniqueViolation); ok && c == "teams_organization_id_slug_key" {
		return domain.Errorf(domain.CodeConflict, "a team with the slug %q already exists", slug)
	}
	return err
}

// CreateTeam adds a team to the organization.
func (s *Store) CreateTeam(ctx context.Context, orgID uuid.UUID, name, slug, description string) (Team, error) {
	var id uuid.UUID
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO teams (organization_id, name, slug, description) VALUES ($1, $2, $3, $4) RETURNING id`,
			orgID, name, slug, description).Scan(&id)
		if err != nil {
			return slugTaken(err, slug)
		}
		return audit(ctx, tx, orgID, AuditTeamCreated, "team", id.String(), map[string]any{"name": name, "slug": slug})
	})
	if err != nil {
		return Team{}, err
	}
	return s.Team(ctx, orgID, id)
}

// Team loads one of the organization's teams.
func (s *Store) Team(ctx context.Context, orgID, id uuid.UUID) (Team, error) {
	rows, _ := s.pool.Query(ctx, `SELECT `+teamColumns+` FROM teams t WHERE t.organization_id = $1 AND t.id = $2`, orgID, id)
	t, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Team])
	return t, notFound(err, "team")
}

// ListTeams pages through the organization's teams by name.
func (s *Store) ListTeams(ctx context.Context, orgID uuid.UUID, limit, offset int) ([]Team, int, error) {
	rows, _ := s.pool.Query(ctx, `SELECT `+teamColumns+` FROM teams t WHERE t.organization_id = $1
		ORDER BY lower(t.name), t.id LIMIT $2 OFFSET $3`, orgID, limit, offset)
	items, err := pgx.CollectRows(rows, pgx.RowToStructByName[Team])
	if err != nil {
		return nil, 0, err
	}
	var total int
	err = s.pool.QueryRow(ctx, `SELECT count(*) FROM teams WHERE organization_id = $1`, orgID).Scan(&total)
	return items, total, err
}

// TeamPatch holds what PATCH may change of a team.
type TeamPatch struct{ Name, Slug, Description *string }

// UpdateTeam changes a team.
func (s *Store) UpdateTeam(ctx context.Context, orgID, id uuid.UUID, p TeamPatch) (Team, error) {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE teams SET name = coalesce($3, name), slug = coalesce($4, slug), description = coalesce($5, description)
			WHERE organization_id = $1 AND id = $2`, orgID, id, p.Name, p.Slug, p.Description)
		if err != nil {
			slug := ""
			if p.Slug != nil {
				slug = *p.Slug
			}
			return slugTaken(err, slug)
		}
		if tag.RowsAffected() == 0 {
			return domain.NotFound("team")
		}
		changed := map[string]any{}
		for k, v := range map[string]*string{"name": p.Name, "slug": p.Slug, "description": p.Description} {
			if v != nil {
				changed[k] = *v
			}
		}
		return audit(ctx, tx, orgID, AuditTeamUpdated, "team", id.String(), changed)
	})
	if err != nil {
		return Team{}, err
	}
	return s.Team(ctx, orgID, id)
}

// DeleteTeam deletes a team; its repositories stay, without a team.
func (s *Store) DeleteTeam(ctx context.Context, orgID, id uuid.UUID) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		var name string
		err := tx.QueryRow(ctx, `DELETE FROM teams WHERE organization_id = $1 AND id = $2 RETURNING name`, orgID, id).Scan(&name)
		if err != nil {
			return notFound(err, "team")
		}
		return audit(ctx, tx, orgID, AuditTeamDeleted, "team", id.String(), map[string]any{"name": name})
	})
}

// TeamMember is a person in a team.
type TeamMember struct {
	UserID    uuid.UUID `db:"user_id"`
	Login     string    `db:"login"`
	Name      *string   `db:"name"`
	AvatarURL *string   `db:"avatar_url"`
	Role      string    `db:"role"`
	CreatedAt time.Time `db:"created_at"`
}

// ListTeamMembers pages through a team's members, leads first, then by login; the team
// must be the organization's (404 otherwise). The total counts every page.
func (s *Store) ListTeamMembers(ctx context.Context, orgID, teamID uuid.UUID, limit, offset int) ([]TeamMember, int, error) {
	type row struct {
		TeamMember
		Total int `db:"total"`
	}
	rows, _ := s.pool.Query(ctx, `SELECT tm.user_id, u.login, u.name, u.avatar_url, tm.role, tm.created_at, count(*) OVER ()::int AS total
		FROM teams t JOIN team_members tm ON tm.team_id = t.id JOIN users u ON u.id = tm.user_id
		WHERE t.organization_id = $1 AND t.id = $2
		ORDER BY tm.role, lower(u.login), tm.user_id LIMIT $3 OFFSET $4`, orgID, teamID, limit, offset)
	list, err := pgx.CollectRows(rows, pgx.RowToStructByName[row])
	if err != nil {
		return nil, 0, err
	}
	items := make([]TeamMember, len(list))
	for n, r := range list {
		items[n] = r.TeamMember
	}
	if len(list) > 0 {
		return items, list[0].Total, nil
	}
	// No row: an empty team, a page past the end, or no such team in this organization.
	var total int
	err = s.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM team_members tm WHERE tm.team_id = t.id)::int
		FROM teams t WHERE t.organization_id = $1 AND t.id = $2`, orgID, teamID).Scan(&total)
	if err != nil {
		return nil, 0, notFound(err, "team")
	}
	return items, total, nil
}

// AddTeamMember puts an active organization member in the team (or changes their team role).
func (s *Store) AddTeamMember(ctx context.Context, orgID, teamID, userID uuid.UUID, role string) (TeamMember, error) {
	if _, err := s.Team(ctx, orgID, teamID); err != nil {
		return TeamMember{}, err
	}
	var member bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM organization_members WHERE organization_id = $1 AND user_id = $2 AND status = 'active')`,
		orgID, userID).Scan(&member); err != nil {
		return TeamMember{}, err
	}
	if !member {
		return TeamMember{}, domain.Invalid("body.user_id", "is not an active member of this organization")
	}
	var tm TeamMember
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		rows, _ := tx.Query(ctx, `
			WITH up AS (
				INSERT INTO team_members (team_id, user_id, role)
				SELECT t.id, $3, $4 FROM teams t WHERE t.organization_id = $1 AND t.id = $2
				ON CONFLICT (team_id, user_id) DO UPDATE SET role = excluded.role RETURNING user_id, role, created_at)
			SELECT up.user_id, u.login, u.name, u.avatar_url, up.role, up.created_at FROM up JOIN users u ON u.id = up.user_id`,
			orgID, teamID, userID, role)
		var err error
		if tm, err = pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[TeamMember]); err != nil {
			return notFound(err, "team")
		}
		return audit(ctx, tx, orgID, AuditTeamMemberAdded, "team", teamID.String(), map[string]any{"user_id": userID.String(), "login": tm.Login, "role": role})
	})
	return tm, err
}

// RemoveTeamMember takes a person out of a team.
func (s *Store) RemoveTeamMember(ctx context.Context, orgID, teamID, userID uuid.UUID) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM team_members tm USING teams t
			WHERE tm.team_id = t.id AND t.organization_id = $1 AND t.id = $2 AND tm.user_id = $3`, orgID, teamID, userID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return domain.NotFound("team member")
		}
		return audit(ctx, tx, orgID, AuditTeamMemberRemoved, "team", teamID.String(), map[string]any{"user_id": userID.String()})
	})
}

// TeamGrants reports whether the user's role in the team (of the organization) grants perm.
func (s *Store) TeamGrants(ctx context.Context, orgID, teamID, userID uuid.UUID, perm string) (bool, error) {
	var ok bool
	err := s.pool.QueryRow(ctx, `
		SELECT EXISTS (
			SELECT 1 FROM team_members tm
			JOIN teams t ON t.id = tm.team_id AND t.organization_id = $1
			JOIN role_permissions rp ON rp.role_name = 'team:' || tm.role AND rp.permission_name = $4
			WHERE tm.team_id = $2 AND tm.user_id = $3)`, orgID, teamID, userID, perm).Scan(&ok)
	return ok, err
}

// TeamIDBySlug finds a team of the organization by its slug (404 when none).
func (s *Store) TeamIDBySlug(ctx context.Context, orgID uuid.UUID, slug string) (uuid.UUID, error) {
	var id uuid.UUID
	err := s.pool.QueryRow(ctx, `SELECT id FROM teams WHERE organization_id = $1 AND slug = $2`, orgID, slug).Scan(&id)
	return id, notFound(err, "team")
}
