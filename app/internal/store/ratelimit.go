package store

import (
	"context"
	"fmt"
	"time"
)

// HitRateLimit counts one request against key and reports whether it is within limit
// per window, and how long until the count allows another. Counts live in PostgreSQL
// per fixed window, so every server and every Lambda environment share them; the
// previous window counts in proportion to how much of it the sliding window still
// covers, so a burst cannot pass twice around a window boundary.
func (s *Store) HitRateLimit(ctx context.Context, key string, limit int, window time.Duration) (allowed bool, retryIn time.Duration, err error) {
	var hits, prev int
	var start, now time.Time
	err = s.pool.QueryRow(ctx, `
		WITH w AS (SELECT to_timestamp(floor(extract(epoch FROM now()) / $2) * $2) AS start),
		ins AS (
			INSERT INTO rate_limit_windows AS r (key, window_start, hits)
			SELECT $1, w.start, 1 FROM w
			ON CONFLICT (key, window_start) DO UPDATE SET hits = r.hits + 1
			RETURNING r.hits, r.window_start)
		SELECT ins.hits, ins.window_start, now(),
			coalesce((SELECT p.hits FROM rate_limit_windows p WHERE p.key = $1 AND p.window_start = ins.window_start - make_interval(secs => $2)), 0)
		FROM ins`, key, window.Seconds()).Scan(&hits, &start, &now, &prev)
	if err != nil {
		return false, 0, fmt.Errorf("rate limit %s: %w", key, err)
	}
	elapsed := now.Sub(start)
	weight := 1 - elapsed.Seconds()/window.Seconds()
	if weight < 0 {
		weight = 0
	}
	estimate := float64(prev)*weight + float64(hits)
	if estimate <= float64(limit) {
		return true, 0, nil
	}
	retryIn = window - elapsed
	if hits > limit || prev == 0 {
		return false, retryIn, nil
	}
	// only the previous window's share is over: it fades before this window ends
	over := estimate - float64(limit)
	retryIn = time.Duration(over / float64(prev) * float64(window))
	if retryIn < time.Second {
		retryIn = time.Second
	}
	return false, retryIn, nil
}

// SpendOAuthState marks an OAuth state as used; false when it was used before.
func (s *Store) SpendOAuthState(ctx context.Context, stateHash []byte) (bool, error) {
	tag, err := s.pool.Exec(ctx, `INSERT INTO oauth_states_used (state_hash) VALUES ($1) ON CONFLICT DO NOTHING`, stateHash)
	if err != nil {
		return false, fmt.Errorf("spend oauth state: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}
