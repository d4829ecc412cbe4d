package store

import (
	"fmt"

	"context"
	"github.com/miyabi/miyabi/app/internal/domain"
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
	rows, _ := s.pool.Query(ctx, `SELECT `+orgColumns+`
		FROM organizations o JOIN organization_members m ON m.organization_id = o.id
		WHERE o.id = $1 AND m.user_id = $2 AND m.status = 'active'`, orgID, userID)
	o, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Organization])
	return o, notFound(err, "organization")
}

// OrganizationsForUser lists every organization the user is an active member of.
func (s *Store) OrganizationsForUser(ctx context.Context, userID uuid.UUID) ([]Organization, error) {
	rows, _ := s.pool.Query(ctx, `SELECT `+orgColumns+`
		FROM organizations o JOIN organization_members m ON m.organization_id = o.id
		WHERE m.user_id = $1 AND m.status = 'active'
		ORDER BY o.is_personal DESC, o.name, o.id`, userID)
	return pgx.CollectRows(rows, pgx.RowToStructByName[Organization])
}

// CreateOrganization creates a team organization with the creator as its owner.
func (s *Store) CreateOrganization(ctx context.Context, userID uuid.UUID, name, slug, description string) (Organization, error) {
	var id uuid.UUID
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		// lock the person, then count: two concurrent creations cannot both pass the cap
		if _, err := tx.Exec(ctx, `SELECT 1 FROM users WHERE id = $1 FOR UPDATE`, userID); err != nil {
			return fmt.Errorf("lock user: %w", err)
		}
		max, err := setting(ctx, tx, SettingMaxOrganizationsPerUser)
		if err != nil {
			return err
		}
		var created int64
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM organizations WHERE created_by = $1 AND NOT is_personal`, userID).Scan(&created); err != nil {
			return fmt.Errorf("count organizations: %w", err)
		}
		if created >= max {
			return domain.Errorf(domain.CodeConflict, "you have created %d organizations, the most one person may (limit %s); delete one first", created, SettingMaxOrganizationsPerUser)
		}
		err = tx.QueryRow(ctx, `
			INSERT INTO organizations (name, slug, description, plan, max_members, max_repositories, created_by)
			VALUES ($1, $2, $3, 'team', 25, 100, $4) RETURNING id`, name, slug, description, userID).Scan(&id)
		if c, ok := constraintName(err, pgUniqueViolation); ok && c == "organizations_slug_key" {
			return domain.Errorf(domain.CodeConflict, "the slug %q is taken; choose another", slug)
		}
		if err != nil {
			return fmt.Errorf("create organization: %w", err)
		}
		if _, err = tx.Exec(ctx, `INSERT INTO organization_members (organization_id, user_id, role, status, joined_at)
			VALUES ($1, $2, 'owner', 'active', now())`, id, userID); err != nil {
			return err
		}
		return audit(ctx, tx, id, AuditOrgCreated, "organization", id.String(), map[string]any{"name": name, "slug": slug})
	})
	if err != nil {
		return Organization{}, err
	}
	return s.OrganizationForMember(ctx, id, userID)
}

// OrganizationPatch holds the fields PATCH may change (nil: unchanged).
type OrganizationPatch struct {
	Name, Slug, Description *string
}

// UpdateOrganization changes the organization's settings.
func (s *Store) UpdateOrganization(ctx context.Context, orgID uuid.UUID, p OrganizationPatch) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		var oldName, oldSlug, oldDesc string
		err := tx.QueryRow(ctx, `SELECT name, slug, description FROM organizations WHERE id = $1 FOR UPDATE`, orgID).Scan(&oldName, &oldSlug, &oldDesc)
		if err != nil {
			return notFound(err, "organization")
		}
		_, err = tx.Exec(ctx, `UPDATE organizations SET name = coalesce($2, name), slug = coalesce($3, slug),
			description = coalesce($4, description) WHERE id = $1`, orgID, p.Name, p.Slug, p.Description)
		if c, ok := constraintName(err, pgUniqueViolation); ok && c == "organizations_slug_key" {
			return domain.Errorf(domain.CodeConflict, "the slug %q is taken; choose another", *p.Slug)
		}
		if err != nil {
			return fmt.Errorf("update organization: %w", err)
		}
		if p.Slug != nil && *p.Slug != oldSlug {
			if err := audit(ctx, tx, orgID, AuditOrgSlugChanged, "organization", orgID.String(), map[string]any{"from": oldSlug, "to": *p.Slug}); err != nil {
				return err
			}
		}
		changed := map[string]any{}
		if p.Name != nil && *p.Name != oldName {
			changed["name"] = map[string]any{"from": oldName, "to": *p.Name}
		}
		if p.Description != nil && *p.Description != oldDesc {
			changed["description"] = map[string]any{"from": oldDesc, "to": *p.Description}
		}
		if len(changed) > 0 {
			return audit(ctx, tx, orgID, AuditOrgSettingsChanged, "organization", orgID.String(), changed)
		}
		return nil
	})
}

// DeleteOrganization deletes a team organization and everything in it. A personal
// organization cannot be deleted.
func (s *Store) DeleteOrganization(ctx context.Context, orgID uuid.UUID) error {
	var personal bool
	if err := s.pool.QueryRow(ctx, `SELECT is_personal FROM organizations WHERE id = $1`, orgID).Scan(&personal); err != nil {
		return notFound(err, "organization")
	}
	if personal {
		return domain.Errorf(domain.CodeConflict, "a personal organization cannot be deleted")
	}
	// sessions whose active organization this was move to the user's personal one
	_, err := s.pool.Exec(ctx, `
		WITH moved AS (
			UPDATE sessions s SET active_organization_id = o.id FROM organizations o
			WHERE s.active_organization_id = $1 AND o.personal_user_id = s.user_id RETURNING s.id)
		DELETE FROM organizations WHERE id = $1 AND NOT is_personal`, orgID)
	if err != nil {
		return fmt.Errorf("delete organization: %w", err)
	}
	return nil
}

// Member is a person in an organization.
type Member struct {
	UserID    uuid.UUID  `db:"user_id"`
	Login     string     `db:"login"`
	Name      *string    `db:"name"`
	AvatarURL *string    `db:"avatar_url"`
	Role      string     `db:"role"`
	Status    string     `db:"status"`
	JoinedAt  *time.Time `db:"joined_at"`
}

// MemberFilter narrows ListMembers. Query matches the login or the name anywhere in it,
// ignoring case (logins starting with it come first); Status is one membership status.
// Empty fields do not filter.
type MemberFilter struct {
	Query  string
	Status string
}

// memberWhere is ListMembers' condition: always the one organization ($1), then the
// filter ($2 the query, $3 the status). strpos matches the text as it is: no LIKE
// wildcards to escape.
const memberWhere = `m.organization_id = $1
	AND ($2::text = '' OR strpos(lower(u.login), lower($2::text)) > 0 OR strpos(lower(coalesce(u.name, '')), lower($2::text)) > 0)
	AND ($3::text = '' OR m.status = $3::text)`

// ListMembers pages through the organization's members, owners first; with a query, the
// logins that start with it first.
func (s *Store) ListMembers(ctx context.Context, orgID uuid.UUID, f MemberFilter, limit, offset int) ([]Member, int, error) {
	rows, _ := s.pool.Query(ctx, `
		SELECT m.user_id, u.login, u.name, u.avatar_url, m.role::text AS role, m.status, m.joined_at
		FROM organization_members m JOIN users u ON u.id = m.user_id
		WHERE `+memberWhere+`
		ORDER BY ($2::text <> '' AND starts_with(lower(u.login), lower($2::text))) DESC, m.role, lower(u.login), m.user_id
		LIMIT $4 OFFSET $5`, orgID, f.Query, f.Status, limit, offset)
	items, err := pgx.CollectRows(rows, pgx.RowToStructByName[Member])
	if err != nil {
		return nil, 0, err
	}
	var total int
	err = s.pool.QueryRow(ctx, `SELECT count(*) FROM organization_members m JOIN users u ON u.id = m.user_id WHERE `+memberWhere,
		orgID, f.Query, f.Status).Scan(&total)
	return items, total, err
}

// MemberPatch holds what PATCH may change of a membership.
type MemberPatch struct {
	Role   *string
	Status *string
}

// UpdateMember changes a member's role or status. Only an owner grants or takes away
// owner, and the last active owner can never stop being one.
func (s *Store) UpdateMember(ctx context.Context, orgID uuid.UUID, actorRole string, userID uuid.UUID, p MemberPatch) (Member, error) {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		// the organization first, then the member: the order invitations lock in
		var personal bool
		if err := tx.QueryRow(ctx, `SELECT personal_user_id IS NOT DISTINCT FROM $2 FROM organizations WHERE id = $1 FOR UPDATE`, orgID, userID).Scan(&personal); err != nil {
			return notFound(err, "organization")
		}
		current, status, err := lockMember(ctx, tx, orgID, userID)
		if err != nil {
			return err
		}
		if personal && ((p.Role != nil && *p.Role != "owner") || (p.Status != nil && *p.Status != "active")) {
			return domain.Errorf(domain.CodeConflict, "the owner of a personal organization stays its active owner")
		}
		touchesOwner := current == "owner" || (p.Role != nil && *p.Role == "owner")
		if touchesOwner && actorRole != "owner" {
			return domain.Errorf(domain.CodeForbidden, "only an owner can grant or take away the owner role")
		}
		losesOwner := current == "owner" && ((p.Role != nil && *p.Role != "owner") || (p.Status != nil && *p.Status != "active"))
		if losesOwner {
			if err := ensureAnotherOwner(ctx, tx, orgID, userID); err != nil {
				return err
			}
		}
		if p.Status != nil && *p.Status == "active" && status != "active" {
			taken, max, err := seatsTaken(ctx, tx, orgID)
			if err != nil {
				return err
			}
			if taken >= max {
				return domain.Errorf(domain.CodeConflict, "the organization has all its %d seats taken (members and pending invitations); remove someone or raise max_members", max)
			}
		}
		if _, err = tx.Exec(ctx, `UPDATE organization_members SET role = coalesce($3::org_role, role), status = coalesce($4, status)
			WHERE organization_id = $1 AND user_id = $2`, orgID, userID, p.Role, p.Status); err != nil {
			return err
		}
		target := userID.String()
		if p.Role != nil && *p.Role != current {
			if err := audit(ctx, tx, orgID, AuditMemberRoleChanged, "user", target, map[string]any{"from": current, "to": *p.Role}); err != nil {
				return err
			}
		}
		if p.Status != nil && *p.Status != status {
			action := AuditMemberSuspended
			if *p.Status == "active" {
				action = AuditMemberReactivated
			}
			if err := audit(ctx, tx, orgID, action, "user", target, map[string]any{"from": status, "to": *p.Status}); err != nil {
				return err
			}
		}
		reason := "creator_demoted"
		if p.Status != nil && *p.Status != "active" {
			reason = "creator_suspended"
		}
		return revokeWorkersOfTx(ctx, tx, orgID, userID, reason)
	})
	if err != nil {
		return Member{}, err
	}
	return s.member(ctx, orgID, userID)
}

// RemoveMember takes a person out of the organization (same owner rules as UpdateMember).
func (s *Store) RemoveMember(ctx context.Context, orgID uuid.UUID, actorRole string, userID uuid.UUID) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT 1 FROM organizations WHERE id = $1 FOR UPDATE`, orgID); err != nil {
			return err
		}
		current, _, err := lockMember(ctx, tx, orgID, userID)
		if err != nil {
			return err
		}
		if current == "owner" {
			if actorRole != "owner" {
				return domain.Errorf(domain.CodeForbidden, "only an owner can remove an owner")
			}
			if err := ensureAnotherOwner(ctx, tx, orgID, userID); err != nil {
				return err
			}
		}
		var personal bool
		if err := tx.QueryRow(ctx, `SELECT personal_user_id IS NOT DISTINCT FROM $2 FROM organizations WHERE id = $1`, orgID, userID).Scan(&personal); err != nil {
			return err
		}
		if personal {
			return domain.Errorf(domain.CodeConflict, "nobody can leave their personal organization")
		}
		if _, err := tx.Exec(ctx, `DELETE FROM team_members WHERE user_id = $2 AND team_id IN (SELECT id FROM teams WHERE organization_id = $1)`, orgID, userID); err != nil {
			return err
		}
		if _, err = tx.Exec(ctx, `DELETE FROM organization_members WHERE organization_id = $1 AND user_id = $2`, orgID, userID); err != nil {
			return err
		}
		if err := audit(ctx, tx, orgID, AuditMemberRemoved, "user", userID.String(), map[string]any{"role": current}); err != nil {
			return err
		}
		return revokeWorkersOfTx(ctx, tx, orgID, userID, "creator_removed")
	})
}

func lockMember(ctx context.Context, tx pgx.Tx, orgID, userID uuid.UUID) (role, status string, err error) {
	err = tx.QueryRow(ctx, `SELECT role::text, status FROM organization_members WHERE organization_id = $1 AND user_id = $2 FOR UPDATE`, orgID, userID).Scan(&role, &status)
	return role, status, notFound(err, "member")
}

// ensureAnotherOwner refuses to leave the organization without an active owner. The
// owners' rows are locked so two owners cannot demote each other at once.
func ensureAnotherOwner(ctx context.Context, tx pgx.Tx, orgID, userID uuid.UUID) error {
	rows, err := tx.Query(ctx, `SELECT user_id FROM organization_members
		WHERE organization_id = $1 AND role = 'owner' AND status = 'active' AND user_id <> $2 FOR UPDATE`, orgID, userID)
	if err != nil {
		return err
	}
	others, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return err
	}
	if len(others) == 0 {
		return domain.Errorf(domain.CodeConflict, "the last owner cannot leave or be demoted; make someone else an owner first")
	}
	return nil
}

func (s *Store) member(ctx context.Context, orgID, userID uuid.UUID) (Member, error) {
	rows, _ := s.pool.Query(ctx, `
		SELECT m.user_id, u.login, u.name, u.avatar_url, m.role::text AS role, m.status, m.joined_at
		FROM organization_members m JOIN users u ON u.id = m.user_id
		WHERE m.organization_id = $1 AND m.user_id = $2`, orgID, userID)
	m, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Member])
	return m, notFound(err, "member")
}

// OrganizationIDBySlug finds an organization by its slug (404 when none).
func (s *Store) OrganizationIDBySlug(ctx context.Context, slug string) (uuid.UUID, error) {
	var id uuid.UUID
	err := s.pool.QueryRow(ctx, `SELECT id FROM organizations WHERE slug = $1`, slug).Scan(&id)
	return id, notFound(err, "organization")
}

// EnsureMember makes userID an active member of orgID with role, unless they already
// are a member (whatever their role): the demo seed's idempotent membership.
func (s *Store) EnsureMember(ctx context.Context, orgID, userID uuid.UUID, role string) error {
	_, err := s.pool.Exec(ctx, `
		INSERT INTO organization_members (organization_id, user_id, role, status, joined_at)
		VALUES ($1, $2, $3, 'active', now()) ON CONFLICT DO NOTHING`, orgID, userID, role)
	return err
}
