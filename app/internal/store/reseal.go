package store

import (
	"context"

	"github.com/google/uuid"
)

// ReplaceSealedGitHubToken stores a re-sealed GitHub token (same token, current key) in
// place of the value it was read as. It changes nothing when the stored value moved on
// meanwhile (a sign-in stored a new token): the newer one wins.
func (s *Store) ReplaceSealedGitHubToken(ctx context.Context, userID uuid.UUID, old, fresh []byte) error {
	_, err := s.pool.Exec(ctx, `UPDATE users SET github_token_enc = $3 WHERE id = $1 AND github_token_enc = $2`, userID, old, fresh)
	return err
}
