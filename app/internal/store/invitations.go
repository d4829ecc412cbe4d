package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/miyabi/miyabi/app/internal/domain"
)

// InvitationTTL is how long an invitation can be accepted.
const InvitationTTL = 7 * 24 * time.Hour

// Invitation asks a GitHub login to join an organization with a role.
type Invitation struct {
	ID          uuid.UUID  `db:"id"`
	OrgID       uuid.UUID  `db:"organization_id"`
	GitHubLogin string     `db:"github_login"`
	Role        string     `db:"role"`
	Status      string     `db:"status"`
	InvitedBy   *uuid.UUID `db:"invited_by"`
	// InvitedByLogin is the inviter's login, read with the invitation (nil when nobody is
	// named or the account is gone).
	InvitedByLogin *string   `db:"invited_by_login"`
	ExpiresAt      time.Time `db:"expires_at"`
	CreatedAt      time.Time `db:"created_at"`
	// Replaced says creating it revoked a pending invitation of the same account, whose
	// link no longer works.
	Replaced bool `db:"-"`
}

// invitationColumns read an invitation i with the user u who invited (invitationFrom).
const invitationColumns = `i.id, i.organization_id, i.github_login, i.role::text AS role, i.status, i.invited_by,
	u.login AS invited_by_login, i.expires_at, i.created_at`

// invitationFrom is the invitation i and the user u who invited (none when the account is gone).
const invitationFrom = ` invitations i LEFT JOIN users u ON u.id = i.invited_by `

// seatsTaken counts active members plus pending invitations, so invitations cannot
// promise more seats than max_members. It locks the organization first, in its own
// statement, and counts after: counted in the locking statement, the subqueries read the
// snapshot taken before the lock was granted, and concurrent invitations each counted
// the seats as they were before the others (12 at once into 5 seats made 8 to 11).
func seatsTaken(ctx context.Context, tx pgx.Tx, orgID uuid.UUID) (taken, max int, err error) {
	if err := tx.QueryRow(ctx, `SELECT max_members FROM organizations WHERE id = $1 FOR UPDATE`, orgID).Scan(&max); err != nil {
		return 0, 0, notFound(err, "organization")
	}
	err = tx.QueryRow(ctx, `
		SELECT (SELECT count(*) FROM organization_members WHERE organization_id = $1 AND status = 'active')
		     + (SELECT count(*) FROM invitations WHERE organization_id = $1 AND status = 'pending' AND expires_at > now())`,
		orgID).Scan(&taken)
	return taken, max, err
}

// NewInvitation is what inviting takes: the login as typed and the numeric id of the
// GitHub account that holds it now.
type NewInvitation struct {
	Login     string
	GitHubID  int64
	Role      string
	TokenHash []byte
	InvitedBy uuid.UUID
}

// CreateInvitation invites a GitHub account; the token (shown once) is stored as a hash.
func (s *Store) CreateInvitation(ctx context.Context, orgID uuid.UUID, ni NewInvitation) (Invitation, error) {
	var inv Invitation
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		taken, max, err := seatsTaken(ctx, tx, orgID)
		if err != nil {
			return err
		}
		var already bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM organization_members m JOIN users u ON u.id = m.user_id
			WHERE m.organization_id = $1 AND u.github_id = $2)`, orgID, ni.GitHubID).Scan(&already); err != nil {
			return err
		}
		if already {
			return domain.Errorf(domain.CodeConflict, "%s is already a member of this organization", ni.Login)
		}
		// a new invitation for the same account replaces the pending one
		replaced, err := tx.Exec(ctx, `UPDATE invitations SET status = 'revoked' WHERE organization_id = $1
			AND (github_user_id = $2 OR (github_user_id IS NULL AND lower(github_login) = lower($3))) AND status = 'pending'`,
			orgID, ni.GitHubID, ni.Login)
		if err != nil {
			return err
		}
		if taken-int(replaced.RowsAffected()) >= max {
			return domain.Errorf(domain.CodeConflict, "the organization has all its %d seats taken (members and pending invitations); remove someone or raise max_members", max)
		}
		open, err := setting(ctx, tx, SettingMaxOpenInvitationsPerOrg)
		if err != nil {
			return err
		}
		var pending int64
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM invitations WHERE organization_id = $1 AND status = 'pending' AND expires_at > now()`, orgID).Scan(&pending); err != nil {
			return err
		}
		if pending >= open {
			return domain.Errorf(domain.CodeConflict, "the organization has %d pending invitations, the most it may have (limit %s); withdraw some first", pending, SettingMaxOpenInvitationsPerOrg)
		}
		rows, _ := tx.Query(ctx, `WITH i AS (
				INSERT INTO invitations (organization_id, github_login, github_user_id, role, token_hash, invited_by, expires_at)
				VALUES ($1, $2, $3, $4, $5, $6, now() + $7::interval) RETURNING *)
			SELECT `+invitationColumns+` FROM i LEFT JOIN users u ON u.id = i.invited_by`,
			orgID, ni.Login, ni.GitHubID, ni.Role, ni.TokenHash, ni.InvitedBy, InvitationTTL.String())
		if inv, err = pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Invitation]); err != nil {
			return err
		}
		inv.Replaced = replaced.RowsAffected() > 0
		return audit(ctx, tx, orgID, AuditMemberInvited, "invitation", inv.ID.String(),
			map[string]any{"github_login": ni.Login, "github_id": ni.GitHubID, "role": ni.Role, "replaced_invitation": inv.Replaced})
	})
	return inv, err
}

// invitationWhere is ListInvitations' condition: the one organization ($1), pending and
// not expired, and with a login ($2, not empty) only that login's, ignoring case.
const invitationWhere = `i.organization_id = $1 AND i.status = 'pending' AND i.expires_at > now()
	AND ($2::text = '' OR lower(i.github_login) = lower($2::text))`

// ListInvitations pages through the organization's pending invitations, newest first,
// each with its inviter's login; login, when not empty, keeps that GitHub login's
// (ignoring case). The total counts every page.
func (s *Store) ListInvitations(ctx context.Context, orgID uuid.UUID, login string, limit, offset int) ([]Invitation, int, error) {
	type row struct {
		Invitation
		Total int `db:"total"`
	}
	rows, _ := s.pool.Query(ctx, `SELECT `+invitationColumns+`, count(*) OVER ()::int AS total FROM`+invitationFrom+`
		WHERE `+invitationWhere+` ORDER BY i.created_at DESC, i.id DESC LIMIT $3 OFFSET $4`, orgID, login, limit, offset)
	list, err := pgx.CollectRows(rows, pgx.RowToStructByName[row])
	if err != nil {
		return nil, 0, err
	}
	items := make([]Invitation, len(list))
	for n, r := range list {
		items[n] = r.Invitation
	}
	if len(list) > 0 {
		return items, list[0].Total, nil
	}
	if offset == 0 {
		return items, 0, nil
	}
	// a page past the end counts on its own
	var total int
	err = s.pool.QueryRow(ctx, `SELECT count(*) FROM invitations i WHERE `+invitationWhere, orgID, login).Scan(&total)
	return items, total, err
}

// RevokeInvitation withdraws a pending invitation.
func (s *Store) RevokeInvitation(ctx context.Context, orgID, id uuid.UUID) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		var login string
		err := tx.QueryRow(ctx, `UPDATE invitations SET status = 'revoked' WHERE organization_id = $1 AND id = $2 AND status = 'pending'
			RETURNING github_login`, orgID, id).Scan(&login)
		if err != nil {
			return notFound(err, "invitation")
		}
		return audit(ctx, tx, orgID, AuditInvitationRevoked, "invitation", id.String(), map[string]any{"github_login": login})
	})
}

// InvitationPreview is what a live invitation says to the person holding its token.
type InvitationPreview struct {
	OrgID          uuid.UUID `db:"organization_id"`
	OrgName        string    `db:"organization_name"`
	OrgSlug        string    `db:"organization_slug"`
	Role           string    `db:"role"`
	InvitedByLogin *string   `db:"invited_by_login"`
	GitHubLogin    string    `db:"github_login"`
	GitHubUserID   *int64    `db:"github_user_id"`
	ExpiresAt      time.Time `db:"expires_at"`
	AlreadyMember  bool      `db:"already_member"`
}

// LookupInvitation reads the pending, unexpired invitation with this token, for the
// person userID about to accept it; it changes nothing. Unknown, revoked, accepted and
// expired tokens are one and the same 404, so the answer tells nothing about a token
// that does not work.
func (s *Store) LookupInvitation(ctx context.Context, tokenHash []byte, userID uuid.UUID) (InvitationPreview, error) {
	rows, _ := s.pool.Query(ctx, `
		SELECT o.id AS organization_id, o.name AS organization_name, o.slug AS organization_slug, i.role::text AS role,
			u.login AS invited_by_login, i.github_login, i.github_user_id, i.expires_at,
			EXISTS (SELECT 1 FROM organization_members m WHERE m.organization_id = i.organization_id
				AND m.user_id = $2 AND m.status = 'active') AS already_member
		FROM invitations i
		JOIN organizations o ON o.id = i.organization_id
		LEFT JOIN users u ON u.id = i.invited_by
		WHERE i.token_hash = $1 AND i.status = 'pending' AND i.expires_at > now()`, tokenHash, userID)
	p, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[InvitationPreview])
	return p, notFound(err, "invitation")
}

// AcceptInvitation makes the invited GitHub account a member, matched by its numeric
// GitHub id (a login can belong to another account after a rename; invitations made
// before ids were recorded still match the login). Anyone else presenting the token gets
// 404, as if it did not exist.
func (s *Store) AcceptInvitation(ctx context.Context, tokenHash []byte, userID uuid.UUID, login string, githubID int64) (uuid.UUID, error) {
	var orgID uuid.UUID
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		// the organization first, then the invitation: the order CreateInvitation locks in
		if _, err := tx.Exec(ctx, `SELECT 1 FROM organizations WHERE id = (SELECT organization_id FROM invitations WHERE token_hash = $1) FOR UPDATE`, tokenHash); err != nil {
			return err
		}
		rows, _ := tx.Query(ctx, `SELECT `+invitationColumns+`, i.github_user_id FROM`+invitationFrom+`WHERE i.token_hash = $1 FOR UPDATE OF i`, tokenHash)
		type row struct {
			Invitation
			GitHubUserID *int64 `db:"github_user_id"`
		}
		r, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[row])
		inv := r.Invitation
		addressee := err == nil && ((r.GitHubUserID != nil && *r.GitHubUserID == githubID) ||
			(r.GitHubUserID == nil && strings.EqualFold(inv.GitHubLogin, login)))
		if errors.Is(err, pgx.ErrNoRows) || (err == nil && !addressee) {
			return domain.NotFound("invitation")
		}
		if err != nil {
			return err
		}
		if inv.Status != "pending" {
			return domain.Errorf(domain.CodeConflict, "this invitation is %s", inv.Status)
		}
		if time.Now().After(inv.ExpiresAt) {
			return domain.Errorf(domain.CodeConflict, "this invitation has expired; ask for a new one")
		}
		var active, max int
		if err := tx.QueryRow(ctx, `SELECT (SELECT count(*) FROM organization_members WHERE organization_id = o.id AND status = 'active'), o.max_members
			FROM organizations o WHERE o.id = $1 FOR UPDATE`, inv.OrgID).Scan(&active, &max); err != nil {
			return err
		}
		if active >= max {
			return domain.Errorf(domain.CodeConflict, "the organization is full (%d members); ask an owner to make room", max)
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO organization_members (organization_id, user_id, role, status, invited_by, joined_at)
			VALUES ($1, $2, $3, 'active', $4, now())
			ON CONFLICT (organization_id, user_id) DO UPDATE SET role = excluded.role, status = 'active', joined_at = now()`,
			inv.OrgID, userID, inv.Role, inv.InvitedBy); err != nil {
			return fmt.Errorf("add member: %w", err)
		}
		if _, err = tx.Exec(ctx, `UPDATE invitations SET status = 'accepted', accepted_by = $2, accepted_at = now() WHERE id = $1`, inv.ID, userID); err != nil {
			return err
		}
		orgID = inv.OrgID
		return audit(ctx, tx, inv.OrgID, AuditMemberJoined, "user", userID.String(), map[string]any{"role": inv.Role, "invitation_id": inv.ID.String()})
	})
	return orgID, err
}
