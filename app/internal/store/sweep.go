package store

import "context"

// SweepExpiredLeases moves tasks whose lease expired back to pending (or to failed when
// their retries are spent) and returns how many it moved.
func (s *Store) SweepExpiredLeases(ctx context.Context) (int, error) {
	return 0, nil
}
