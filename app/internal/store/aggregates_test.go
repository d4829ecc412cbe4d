package store_test

import (
	"context"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/miyabi/miyabi/app/internal/domain"
	"github.com/miyabi/miyabi/app/internal/store"
	"github.com/miyabi/miyabi/app/internal/testdb"
)

func person(t *testing.T, st *store.Store, login string, gid int64) (uuid.UUID, uuid.UUID) {
	t.Helper()
	u, org, err := st.UpsertUser(context.Background(), store.SignIn{GitHubID: gid, Login: login,
		SealToken: func(uuid.UUID) []byte { return []byte("sealed") }})
	if err != nil {
		t.Fatal(err)
	}
	return u.ID, org
}

func mustExec(t *testing.T, pool *pgxpool.Pool, sql string, args ...any) {
	t.Helper()
	if _, err := pool.Exec(context.Background(), sql, args...); err != nil {
		t.Fatal(err)
	}
}

// Workers: the worker list, the coordinators, the dashboard summary and the agent
// catalogue agree on who is online, on both sides of the 60-second boundary.
func TestWorkerOnlineIsOneRule(t *testing.T) {
	pool := testdb.Pool(t)
	st := store.New(pool)
	ctx := context.Background()
	user, org := person(t, st, "wanda", 101)
	c, err := st.CreateCoordinator(ctx, org, "host", "host.local")
	if err != nil {
		t.Fatal(err)
	}
	w, err := st.CreateWorker(ctx, org, store.NewWorker{Name: "w", CoordinatorID: &c.ID, AgentTypes: []string{"codegen"},
		MaxConcurrency: 1, TokenHash: make([]byte, 32), CreatedBy: user})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		silent string
		online bool
	}{{"59 seconds", true}, {"61 seconds", false}, {"5 minutes", false}, {"1 second", true}} {
		mustExec(t, pool, `UPDATE workers SET last_heartbeat_at = now() - $2::interval WHERE id = $1`, w.ID, tc.silent)
		got, err := st.Worker(ctx, org, w.ID)
		if err != nil {
			t.Fatal(err)
		}
		coords, _, err := st.ListCoordinators(ctx, org, 10, 0)
		if err != nil {
			t.Fatal(err)
		}
		sum, err := st.DashboardSummary(ctx, org)
		if err != nil {
			t.Fatal(err)
		}
		agents, err := st.AgentWorkers(ctx, org, domain.AgentTypes())
		if err != nil {
			t.Fatal(err)
		}
		views := map[string]bool{
			"worker status":     got.Status != store.WorkerOffline,
			"coordinator":       len(coords) == 1 && coords[0].OnlineWorkers == 1,
			"dashboard summary": sum.WorkersOnline == 1 && sum.WorkersOffline == 0,
			"agent catalogue":   agents["codegen"] == 1,
		}
		for view, online := range views {
			if online != tc.online {
				t.Errorf("silent for %s: %s says online=%v, want %v", tc.silent, view, online, tc.online)
			}
		}
	}
}

// Teams: a team of another organization can be neither listed nor joined through this
// one, and the refused insert adds nothing.
func TestTeamMembersAreScopedByOrganization(t *testing.T) {
	pool := testdb.Pool(t)
	st := store.New(pool)
	ctx := context.Background()
	alice, aliceOrg := person(t, st, "alice", 1)
	_, bobOrg := person(t, st, "bob", 2)
	team, err := st.CreateTeam(ctx, aliceOrg, "Core", "core", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.AddTeamMember(ctx, bobOrg, team.ID, alice, "lead"); domain.ErrorCode(err) != domain.CodeNotFound {
		t.Fatalf("adding to another organization's team: %v, want not found", err)
	}
	if _, _, err := st.ListTeamMembers(ctx, bobOrg, team.ID, 20, 0); domain.ErrorCode(err) != domain.CodeNotFound {
		t.Fatalf("listing another organization's team: %v, want not found", err)
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM team_members WHERE team_id = $1`, team.ID).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d team members after refused adds (%v)", n, err)
	}
	if _, err := st.AddTeamMember(ctx, aliceOrg, team.ID, alice, "lead"); err != nil {
		t.Fatal(err)
	}
	members, total, err := st.ListTeamMembers(ctx, aliceOrg, team.ID, 20, 0)
	if err != nil || total != 1 || len(members) != 1 || members[0].UserID != alice {
		t.Fatalf("members %+v, total %d (%v)", members, total, err)
	}
	// past the end: no one, the total still counted; still not found from bob's organization
	if members, total, err := st.ListTeamMembers(ctx, aliceOrg, team.ID, 20, 20); err != nil || total != 1 || len(members) != 0 {
		t.Fatalf("past the end: %+v, total %d (%v)", members, total, err)
	}
	if _, _, err := st.ListTeamMembers(ctx, bobOrg, team.ID, 20, 20); domain.ErrorCode(err) != domain.CodeNotFound {
		t.Fatalf("listing another organization's team past the end: %v, want not found", err)
	}
}

// Tasks: eight concurrent creates with one idempotency key make one task, and every
// caller gets that task back.
func TestCreateTaskOnceUnderConcurrency(t *testing.T) {
	pool := testdb.Pool(t)
	st := store.New(pool)
	ctx := context.Background()
	user, org := person(t, st, "carol", 3)
	key := &store.IdempotencyKey{OrgID: org, UserID: user, Route: "POST /tasks", Key: "k1", RequestHash: []byte("same")}
	ids := make([]uuid.UUID, 8)
	var wg sync.WaitGroup
	errs := make(chan error, len(ids))
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id, _, err := store.CreateTaskOnce(ctx, st, key, 201, org, store.NewTask{Name: "once", CreatedBy: user},
				func(t store.Task) uuid.UUID { return t.ID })
			ids[i] = id
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("callers got different tasks: %v", ids)
		}
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM tasks WHERE organization_id = $1`, org).Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d tasks (%v), want 1", n, err)
	}
	other := *key
	other.RequestHash = []byte("another body")
	if _, _, err := store.CreateTaskOnce(ctx, st, &other, 201, org, store.NewTask{Name: "other", CreatedBy: user},
		func(t store.Task) uuid.UUID { return t.ID }); domain.ErrorCode(err) != domain.CodeInvalid {
		t.Fatalf("same key, other request: %v, want invalid", err)
	}
}
