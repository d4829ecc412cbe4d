package demo_test

import (
	"context"
	"testing"

	"github.com/miyabi/miyabi/app/internal/auth"
	"github.com/miyabi/miyabi/app/internal/demo"
	"github.com/miyabi/miyabi/app/internal/store"
	"github.com/miyabi/miyabi/app/internal/testdb"
)

func TestSeedIsIdempotent(t *testing.T) {
	pool := testdb.Pool(t)
	st := store.New(pool)
	sealer, _ := auth.NewSealer([]byte("0123456789abcdef0123456789abcdef"))
	ctx := context.Background()
	first, err := demo.Seed(ctx, st, sealer)
	if err != nil {
		t.Fatal(err)
	}
	second, err := demo.Seed(ctx, st, sealer)
	if err != nil {
		t.Fatal(err)
	}
	if first != second {
		t.Fatal("a second seed made a second organization")
	}
	var members, teamMembers int
	_ = pool.QueryRow(ctx, `SELECT count(*) FROM organization_members WHERE organization_id = $1 AND status = 'active'`, first).Scan(&members)
	_ = pool.QueryRow(ctx, `SELECT count(*) FROM team_members tm JOIN teams t ON t.id = tm.team_id WHERE t.organization_id = $1`, first).Scan(&teamMembers)
	if members != 2 || teamMembers != 2 {
		t.Fatalf("members %d, team members %d", members, teamMembers)
	}
}
