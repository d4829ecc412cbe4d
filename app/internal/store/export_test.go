package store

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
)

// SetMembershipRevoke replaces how EnsureProxyRole runs each REVOKE of a membership of
// ProxyRole, until the test ends: a test on PostgreSQL 15 stands in for 16's REVOKE.
func SetMembershipRevoke(t testing.TB, f func(ctx context.Context, tx pgx.Tx, stmt string) error) {
	t.Helper()
	saved := membershipRevoke
	membershipRevoke = f
	t.Cleanup(func() { membershipRevoke = saved })
}
