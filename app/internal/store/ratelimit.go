package store

import (
	"context"
	"fmt"
	"time"
)

// HitRateLimit counts one request against key in the current fixed window and reports
// whether it is within limit, and when the window ends. The count lives in PostgreSQL,
// so every server and every Lambda environment share it.
func (s *Store) HitRateLimit(ctx context.Context, key string, limit int, window time.Duration) (allowed bool, resetIn time.Duration, err error) {
	var hits int
	var start, now time.Time
	err = s.Pool.QueryRow(ctx, `
		WITH w AS (SELECT to_timestamp(floor(extract(epoch FROM now()) / $2) * $2) AS start)
		INSERT INTO rate_limit_windows AS r (key, window_start, hits)
		SELECT $1, w.start, 1 FROM w
		ON CONFLICT (key, window_start) DO UPDATE SET hits = r.hits + 1
		RETURNING r.hits, r.window_start, now()`, key, window.Seconds()).Scan(&hits, &start, &now)
	if err != nil {
		return false, 0, fmt.Errorf("rate limit %s: %w", key, err)
	}
	resetIn = start.Add(window).Sub(now)
	if resetIn < 0 {
		resetIn = 0
	}
	return hits <= limit, resetIn, nil
}

// SpendOAuthState marks an OAuth state as used; false when it was used before.
func (s *Store) SpendOAuthState(ctx context.Context, stateHash []byte) (bool, error) {
	tag, err := s.Pool.Exec(ctx, `INSERT INTO oauth_states_used (state_hash) VALUES ($1) ON CONFLICT DO NOTHING`, stateHash)
	if err != nil {
		return false, fmt.Errorf("spend oauth state: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}
