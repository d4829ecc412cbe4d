package store

import (
	"context"

	"github.com/google/uuid"
)

// WorkerAuth is what the worker routes need to know of the calling worker.
type WorkerAuth struct {
	ID         uuid.UUID
	OrgID      uuid.UUID
	AgentTypes []string
}

// WorkerByTokenHash finds a live (unrevoked) worker by the SHA-256 of its token.
func (s *Store) WorkerByTokenHash(ctx context.Context, hash []byte) (WorkerAuth, error) {
	var w WorkerAuth
	err := s.Pool.QueryRow(ctx, `
		SELECT id, organization_id, agent_types FROM workers
		WHERE token_hash = $1 AND revoked_at IS NULL`, hash).Scan(&w.ID, &w.OrgID, &w.AgentTypes)
	return w, notFound(err, "worker")
}
