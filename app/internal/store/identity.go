package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/miyabi/miyabi/app/internal/domain"
)

// User is a person, keyed by their numeric GitHub id.
type User struct {
	ID          uuid.UUID  `db:"id"`
	GitHubID    int64      `db:"github_id"`
	Login       string     `db:"login"`
	Name        *string    `db:"name"`
	Email       *string    `db:"email"`
	AvatarURL   *string    `db:"avatar_url"`
	LastLoginAt *time.Time `db:"last_login_at"`
	CreatedAt   time.Time  `db:"created_at"`
}

const userColumns = `u.id, u.github_id, u.login, u.name, u.email, u.avatar_url, u.last_login_at, u.created_at`

// SignIn is what a sign-in (GitHub callback or dev login) knows of the person.
type SignIn struct {
	GitHubID  int64
	Login     string
	Name      string
	Email     string
	AvatarURL string
	// SealToken encrypts the GitHub token for the user id (the id is the AEAD's
	// additional data, so a sealed token cannot be moved to another user).
	SealToken func(userID uuid.UUID) []byte
}

// UpsertUser records a sign-in: the user by GitHub id (never by email), their sealed
// GitHub token, and their personal organization on first sign-in. It returns the user
// and the personal organization's id.
func (s *Store) UpsertUser(ctx context.Context, in SignIn) (User, uuid.UUID, error) {
	var u User
	var personal uuid.UUID
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		rows, _ := tx.Query(ctx, `
			INSERT INTO users AS u (github_id, login, name, email, avatar_url, last_login_at)
			VALUES ($1, $2, nullif($3, ''), nullif($4, ''), nullif($5, ''), now())
			ON CONFLICT (github_id) DO UPDATE SET login = excluded.login,
				name = coalesce(excluded.name, u.name), email = coalesce(excluded.email, u.email),
				avatar_url = coalesce(excluded.avatar_url, u.avatar_url), last_login_at = now()
			RETURNING `+userColumns, in.GitHubID, in.Login, in.Name, in.Email, in.AvatarURL)
		var err error
		if u, err = pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[User]); err != nil {
			return fmt.Errorf("upsert user: %w", err)
		}
		if in.SealToken != nil {
			if _, err := tx.Exec(ctx, `UPDATE users SET github_token_enc = $2 WHERE id = $1`, u.ID, in.SealToken(u.ID)); err != nil {
				return fmt.Errorf("store github token: %w", err)
			}
		}
		if personal, err = ensurePersonalOrg(ctx, tx, u); err != nil {
			return err
		}
		// the sign-in goes in the trail of every organization the person is active in
		a := ActorFrom(ctx)
		_, err = tx.Exec(ctx, `
			INSERT INTO audit_events (organization_id, actor_user_id, actor_login, action, target_type, target_id, client_address)
			SELECT m.organization_id, $1::uuid, $2, $3, 'user', $1::uuid::text, $4
			FROM organization_members m WHERE m.user_id = $1::uuid AND m.status = 'active'`,
			u.ID, u.Login, AuditMemberSignedIn, a.ClientAddress)
		if err != nil {
			return fmt.Errorf("record the sign-in: %w", err)
		}
		return nil
	})
	return u, personal, err
}

func ensurePersonalOrg(ctx context.Context, tx pgx.Tx, u User) (uuid.UUID, error) {
	var id uuid.UUID
	err := tx.QueryRow(ctx, `SELECT id FROM organizations WHERE personal_user_id = $1`, u.ID).Scan(&id)
	if err == nil {
		return id, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return uuid.Nil, fmt.Errorf("find personal organization: %w", err)
	}
	base := domain.Slugify(u.Login, "org") // the same slug rule as created organizations
	slug := base
	for attempt := 0; ; attempt++ {
		err = pgx.BeginFunc(ctx, tx, func(sp pgx.Tx) error { // a savepoint: a slug clash must not abort the sign-in
			return sp.QueryRow(ctx, `
				INSERT INTO organizations (name, slug, is_personal, personal_user_id, plan, max_members, max_repositories, created_by)
				VALUES ($1, $2, true, $3, 'free', 5, 20, $3) RETURNING id`, u.Login, slug, u.ID).Scan(&id)
		})
		if c, ok := constraintName(err, pgUniqueViolation); ok && c == "organizations_slug_key" && attempt < 5 {
			slug = strings.TrimRight(base[:min(len(base), 57)], "-") + "-" + domain.SlugSuffix()
			continue
		}
		if err != nil {
			return uuid.Nil, fmt.Errorf("create personal organization: %w", err)
		}
		break
	}
	if _, err := tx.Exec(ctx, `
		INSERT INTO organization_members (organization_id, user_id, role, status, joined_at)
		VALUES ($1, $2, 'owner', 'active', now())`, id, u.ID); err != nil {
		return uuid.Nil, fmt.Errorf("add owner to personal organization: %w", err)
	}
	return id, nil
}

// UserByID loads one user.
func (s *Store) UserByID(ctx context.Context, id uuid.UUID) (User, error) {
	rows, _ := s.pool.Query(ctx, `SELECT `+userColumns+` FROM users u WHERE u.id = $1`, id)
	u, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[User])
	return u, notFound(err, "user")
}

// SealedGitHubToken returns the user's encrypted GitHub token (nil when none).
func (s *Store) SealedGitHubToken(ctx context.Context, userID uuid.UUID) ([]byte, error) {
	var sealed []byte
	err := s.pool.QueryRow(ctx, `SELECT github_token_enc FROM users WHERE id = $1`, userID).Scan(&sealed)
	return sealed, notFound(err, "user")
}

// Session is one refresh-token family.
type Session struct {
	ID        uuid.UUID
	UserID    uuid.UUID
	OrgID     uuid.UUID
	ExpiresAt time.Time
}

// CreateSession opens a session with its first refresh token (stored as a hash only).
func (s *Store) CreateSession(ctx context.Context, userID, orgID uuid.UUID, tokenHash []byte, userAgent string, ttl time.Duration) (Session, error) {
	sess := Session{UserID: userID, OrgID: orgID}
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `
			INSERT INTO sessions (user_id, active_organization_id, user_agent, expires_at)
			VALUES ($1, $2, left($3, 300), now() + $4::interval) RETURNING id, expires_at`,
			userID, orgID, userAgent, ttl.String()).Scan(&sess.ID, &sess.ExpiresAt); err != nil {
			return fmt.Errorf("create session: %w", err)
		}
		_, err := tx.Exec(ctx, `INSERT INTO refresh_tokens (token_hash, session_id) VALUES ($1, $2)`, tokenHash, sess.ID)
		return err
	})
	return sess, err
}

// ErrRefreshRefused covers every refresh that must answer 401.
var ErrRefreshRefused = domain.Errorf(domain.CodeUnauthorized, "Your session has ended; sign in again.")

// RotateRefresh exchanges a refresh token for a new one in the same family. Presenting a
// token that was already rotated means it leaked: the whole family is revoked, unless it
// was rotated less than grace ago into this same successor (newHash, derived from the
// old token) — two tabs refreshing at once — which answers the same session again.
func (s *Store) RotateRefresh(ctx context.Context, oldHash, newHash []byte, grace time.Duration) (Session, error) {
	var sess Session
	var reuse bool
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var rotated *time.Time
		var revoked *time.Time
		var successor []byte
		var now time.Time
		err := tx.QueryRow(ctx, `
			SELECT s.id, s.user_id, s.active_organization_id, s.expires_at, s.revoked_at, rt.rotated_at, rt.successor_hash, now()
			FROM refresh_tokens rt JOIN sessions s ON s.id = rt.session_id
			WHERE rt.token_hash = $1 FOR UPDATE OF rt, s`, oldHash).
			Scan(&sess.ID, &sess.UserID, &sess.OrgID, &sess.ExpiresAt, &revoked, &rotated, &successor, &now)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrRefreshRefused
		}
		if err != nil {
			return fmt.Errorf("find refresh token: %w", err)
		}
		if revoked != nil || time.Now().After(sess.ExpiresAt) {
			return ErrRefreshRefused
		}
		if rotated != nil && now.Sub(*rotated) < grace && bytes.Equal(successor, newHash) {
			// the legitimate race: answer with the successor the first refresh created,
			// as long as that successor was not itself used (then this is a replay)
			var successorRotated *time.Time
			err := tx.QueryRow(ctx, `SELECT rotated_at FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE`, successor).Scan(&successorRotated)
			if err != nil && !errors.Is(err, pgx.ErrNoRows) {
				return fmt.Errorf("find successor: %w", err)
			}
			if err == nil && successorRotated == nil {
				return nil
			}
		}
		if rotated != nil {
			reuse = true
			_, err := tx.Exec(ctx, `UPDATE sessions SET revoked_at = now(), revoked_reason = 'reuse' WHERE id = $1`, sess.ID)
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE refresh_tokens SET rotated_at = now(), successor_hash = $2 WHERE token_hash = $1`, oldHash, newHash); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO refresh_tokens (token_hash, session_id) VALUES ($1, $2)`, newHash, sess.ID); err != nil {
			return err
		}
		// the active organization may have gone (removed from it): fall back to personal
		return tx.QueryRow(ctx, `
			UPDATE sessions s SET last_used_at = now(), active_organization_id = coalesce(
				(SELECT m.organization_id FROM organization_members m
				 WHERE m.organization_id = s.active_organization_id AND m.user_id = s.user_id AND m.status = 'active'),
				(SELECT o.id FROM organizations o WHERE o.personal_user_id = s.user_id),
				s.active_organization_id)
			WHERE s.id = $1 RETURNING s.active_organization_id`, sess.ID).Scan(&sess.OrgID)
	})
	if err != nil {
		return Session{}, err
	}
	if reuse {
		return Session{}, ErrRefreshRefused
	}
	return sess, nil
}

// RevokeSession ends a session at once; its access tokens fail on their next use.
func (s *Store) RevokeSession(ctx context.Context, sessionID uuid.UUID, reason string) error {
	_, err := s.pool.Exec(ctx, `UPDATE sessions SET revoked_at = now(), revoked_reason = $2 WHERE id = $1 AND revoked_at IS NULL`, sessionID, reason)
	return err
}

// SwitchOrganization makes orgID the session's active organization, if the user is an
// active member of it (else 404: the organization is none of their business).
func (s *Store) SwitchOrganization(ctx context.Context, sessionID, userID, orgID uuid.UUID) error {
	tag, err := s.pool.Exec(ctx, `
		UPDATE sessions SET active_organization_id = $3
		WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL AND EXISTS (
			SELECT 1 FROM organization_members m WHERE m.organization_id = $3 AND m.user_id = $2 AND m.status = 'active')`,
		sessionID, userID, orgID)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return domain.NotFound("organization")
	}
	return nil
}

// Caller is what every authenticated request needs to know of the person, read in one
// query: the live session, the active membership, and the effective permissions (from
// the seeded role tables plus unexpired direct grants, plus team-role grants separately).
type Caller struct {
	Login           string
	Role            *string // nil: the session is live but the membership is not
	Permissions     []string
	TeamPermissions []string
}

// callerSelect reads a Caller (login, active role, effective permissions) of the user
// whose id is the placeholder user in the organization of the placeholder org; the
// statement supplies FROM (with users u and organization_members m) and WHERE.
func callerSelect(user, org string) string {
	return strings.NewReplacer("$USER", user, "$ORG", org).Replace(`
		SELECT u.login, m.role::text,
			CASE WHEN m.role IS NULL THEN '{}'::text[] ELSE ARRAY(
				SELECT rp.permission_name FROM role_permissions rp WHERE rp.role_name = 'org:' || m.role::text
				UNION
				SELECT up.permission_name FROM user_permissions up
				WHERE up.organization_id = $ORG AND up.user_id = $USER AND (up.expires_at IS NULL OR up.expires_at > now())) END,
			CASE WHEN m.role IS NULL THEN '{}'::text[] ELSE ARRAY(
				SELECT DISTINCT rp.permission_name FROM team_members tm
				JOIN teams t ON t.id = tm.team_id AND t.organization_id = $ORG
				JOIN role_permissions rp ON rp.role_name = 'team:' || tm.role
				WHERE tm.user_id = $USER) END`)
}

// LoadCaller checks the session and the membership for one request.
func (s *Store) LoadCaller(ctx context.Context, sessionID, userID, orgID uuid.UUID) (Caller, error) {
	var c Caller
	err := s.pool.QueryRow(ctx, callerSelect("$2", "$3")+`
		FROM sessions s
		JOIN users u ON u.id = s.user_id
		LEFT JOIN organization_members m ON m.organization_id = $3 AND m.user_id = s.user_id AND m.status = 'active'
		WHERE s.id = $1 AND s.user_id = $2 AND s.revoked_at IS NULL AND s.expires_at > now()`,
		sessionID, userID, orgID).Scan(&c.Login, &c.Role, &c.Permissions, &c.TeamPermissions)
	if errors.Is(err, pgx.ErrNoRows) {
		return Caller{}, ErrSessionEnded
	}
	return c, err
}

// LoadMember is LoadCaller for a person acting without a session (a GitHub webhook sent
// on their behalf): the same role and permissions, Role nil when they are not an active
// member. An unknown user is not found.
func (s *Store) LoadMember(ctx context.Context, userID, orgID uuid.UUID) (Caller, error) {
	var c Caller
	err := s.pool.QueryRow(ctx, callerSelect("$1", "$2")+`
		FROM users u
		LEFT JOIN organization_members m ON m.organization_id = $2 AND m.user_id = u.id AND m.status = 'active'
		WHERE u.id = $1`, userID, orgID).Scan(&c.Login, &c.Role, &c.Permissions, &c.TeamPermissions)
	return c, notFound(err, "user")
}

// UserByGitHubID finds the Miyabi user of a GitHub account (ok false when none).
func (s *Store) UserByGitHubID(ctx context.Context, githubID int64) (id uuid.UUID, ok bool, err error) {
	err = s.pool.QueryRow(ctx, `SELECT id FROM users WHERE github_id = $1`, githubID).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return id, false, nil
	}
	if err != nil {
		return id, false, fmt.Errorf("user by GitHub id: %w", err)
	}
	return id, true, nil
}
