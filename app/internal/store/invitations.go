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
	ExpiresAt   time.Time  `db:"expires_at"`
	CreatedAt   time.Time  `db:"created_at"`
}

const invitationColumns = `id, organization_id, github_login, role::text AS role, status, invited_by, expires_at, created_at`

// seatsTaken counts active members plus pending invitations, so invitations cannot
// promise more seats than max_members.
func seatsTaken(ctx context.Context, tx pgx.Tx, orgID uuid.UUID) (taken, max int, err error) {
	err = tx.QueryRow(ctx, `
		SELECT (SELECT count(*) FROM organization_members WHERE organization_id = o.id AND status = 'active')
		     + (SELECT count(*) FROM invitations WHERE organization_id = o.id AND status = 'pending' AND expires_at > now()),
		       o.max_members
		FROM organizations o WHERE o.id = $1 FOR UPDATE`, orgID).Scan(&taken, &max)
	return taken, max, notFound(err, "organization")
}

// CreateInvitation invites a GitHub login; the token (shown once) is stored as a hash.
func (s *Store) CreateInvitation(ctx context.Context, orgID, invitedBy uuid.UUID, login, role string, tokenHash []byte) (Invitation, error) {
	var inv Invitation
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		taken, max, err := seatsTaken(ctx, tx, orgID)
		if err != nil {
			return err
		}
		var already bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM organization_members m JOIN users u ON u.id = m.user_id
			WHERE m.organization_id = $1 AND lower(u.login) = lower($2))`, orgID, login).Scan(&already); err != nil {
			return err
		}
		if already {
			return domain.Errorf(domain.CodeConflict, "%s is already a member of this organization", login)
		}
		if taken >= max {
			return domain.Errorf(domain.CodeConflict, "the organization has all its %d seats taken (members and pending invitations); remove someone or raise max_members", max)
		}
		// a new invitation for the same login replaces the pending one
		if _, err := tx.Exec(ctx, `UPDATE invitations SET status = 'revoked' WHERE organization_id = $1 AND lower(github_login) = lower($2) AND status = 'pending'`, orgID, login); err != nil {
			return err
		}
		rows, _ := tx.Query(ctx, `INSERT INTO invitations (organization_id, github_login, role, token_hash, invited_by, expires_at)
			VALUES ($1, $2, $3, $4, $5, now() + $6::interval) RETURNING `+invitationColumns,
			orgID, login, role, tokenHash, invitedBy, InvitationTTL.String())
		inv, err = pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Invitation])
		return err
	})
	return inv, err
}

// ListInvitations lists the organization's pending invitations.
func (s *Store) ListInvitations(ctx context.Context, orgID uuid.UUID) ([]Invitation, error) {
	rows, _ := s.pool.Query(ctx, `SELECT `+invitationColumns+` FROM invitations
		WHERE organization_id = $1 AND status = 'pending' AND expires_at > now() ORDER BY created_at DESC`, orgID)
	return pgx.CollectRows(rows, pgx.RowToStructByName[Invitation])
}

// RevokeInvitation withdraws a pending invitation.
func (s *Store) RevokeInvitation(ctx context.Context, orgID, id uuid.UUID) error {
	tag, err := s.pool.Exec(ctx, `UPDATE invitations SET status = 'revoked' WHERE organization_id = $1 AND id = $2 AND status = 'pending'`, orgID, id)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return domain.NotFound("invitation")
	}
	return nil
}

// AcceptInvitation makes the invited GitHub user a member. Anyone else presenting the
// token gets 404, as if it did not exist.
func (s *Store) AcceptInvitation(ctx context.Context, tokenHash []byte, userID uuid.UUID, login string) (uuid.UUID, error) {
	var orgID uuid.UUID
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		// the organization first, then the invitation: the order CreateInvitation locks in
		if _, err := tx.Exec(ctx, `SELECT 1 FROM organizations WHERE id = (SELECT organization_id FROM invitations WHERE token_hash = $1) FOR UPDATE`, tokenHash); err != nil {
			return err
		}
		rows, _ := tx.Query(ctx, `SELECT `+invitationColumns+` FROM invitations WHERE token_hash = $1 FOR UPDATE`, tokenHash)
		inv, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Invitation])
		if errors.Is(err, pgx.ErrNoRows) || (err == nil && !strings.EqualFold(inv.GitHubLogin, login)) {
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
		_, err = tx.Exec(ctx, `UPDATE invitations SET status = 'accepted', accepted_by = $2, accepted_at = now() WHERE id = $1`, inv.ID, userID)
		orgID = inv.OrgID
		return err
	})
	return orgID, err
}
