package store

import (
	"context"

	"github.com/google/uuid"
)

// TeamGrants reports whether the user's role in the team (of the organization) grants perm.
func (s *Store) TeamGrants(ctx context.Context, orgID, teamID, userID uuid.UUID, perm string) (bool, error) {
	var ok bool
	err := s.Pool.QueryRow(ctx, `
		SELECT EXISTS (
			SELECT 1 FROM team_members tm
			JOIN teams t ON t.id = tm.team_id AND t.organization_id = $1
			JOIN role_permissions rp ON rp.role_name = 'team:' || tm.role AND rp.permission_name = $4
			WHERE tm.team_id = $2 AND tm.user_id = $3)`, orgID, teamID, userID, perm).Scan(&ok)
	return ok, err
}
