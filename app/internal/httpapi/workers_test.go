package httpapi_test

import (
	"context"
	"crypto/sha256"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/miyabi/miyabi/app/internal/apitest"
)

// memberOf signs login in and makes them an active member of org with role, acting in it.
func memberOf(t *testing.T, env *apitest.Env, org uuid.UUID, login, role string) *apitest.Client {
	t.Helper()
	c := env.Login(login)
	if _, err := env.DB.Exec(context.Background(), `
		INSERT INTO organization_members (organization_id, user_id, role, status, joined_at) VALUES ($1, $2, $3, 'active', now())`,
		org, c.UserID, role); err != nil {
		t.Fatal(err)
	}
	var s apitest.Session
	c.Do("POST", "/auth/switch-organization", map[string]any{"organization_id": org}).Expect(200).JSON(&s)
	c.Token, c.OrgID = s.AccessToken, org
	return c
}

type workerJSON struct {
	ID             uuid.UUID  `json:"id"`
	Name           string     `json:"name"`
	CoordinatorID  *uuid.UUID `json:"coordinator_id"`
	AgentTypes     []string   `json:"agent_types"`
	MaxConcurrency int        `json:"max_concurrency"`
	Version        string     `json:"version"`
	Status         string     `json:"status"`
	RunningTasks   int        `json:"running_tasks"`
	Token          string     `json:"token"`
}

// registerWorker creates a worker through the API and returns it with its token.
func registerWorker(t *testing.T, c *apitest.Client, body map[string]any) workerJSON {
	t.Helper()
	var w workerJSON
	c.Do("POST", "/workers", body).Expect(201).JSON(&w)
	return w
}

// asWorker is a client that presents a worker token.
func asWorker(env *apitest.Env, token string) *apitest.Client {
	c := env.Anonymous()
	c.Token = token
	return c
}

func TestRegisterWorker(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	w := registerWorker(t, alice, map[string]any{"name": "build-box-1", "agent_types": []string{"review", "codegen", "review"}, "max_concurrency": 4})
	if !strings.HasPrefix(w.Token, "mw_") || len(w.Token) < 40 {
		t.Fatalf("token %q, want mw_ and 32 random bytes", w.Token)
	}
	if w.Status != "offline" || w.MaxConcurrency != 4 || strings.Join(w.AgentTypes, ",") != "codegen,review" {
		t.Fatalf("worker %+v: want offline, concurrency 4, types codegen,review", w)
	}
	var stored []byte
	if err := env.DB.QueryRow(context.Background(), `SELECT token_hash FROM workers WHERE id = $1`, w.ID).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256([]byte(w.Token)); string(stored) != string(sum[:]) {
		t.Fatal("the database keeps something other than the token's SHA-256")
	}

	// the token is shown once: never again on reads
	got := alice.Do("GET", "/workers/"+w.ID.String(), nil).Expect(200)
	if strings.Contains(string(got.Body), w.Token) || strings.Contains(string(got.Body), `"token"`) {
		t.Fatalf("GET shows the token: %s", got.Body)
	}
	var page struct {
		Items []workerJSON `json:"items"`
		Total int          `json:"total"`
		Page  int          `json:"page"`
		Limit int          `json:"limit"`
	}
	alice.Do("GET", "/workers", nil).Expect(200).JSON(&page)
	if page.Total != 1 || len(page.Items) != 1 || page.Items[0].ID != w.ID || page.Limit != 20 || page.Page != 1 {
		t.Fatalf("list %+v", page)
	}

	// defaults: every agent type, concurrency 1
	d := registerWorker(t, alice, map[string]any{"name": "laptop"})
	if d.MaxConcurrency != 1 || len(d.AgentTypes) != 8 {
		t.Fatalf("defaults %+v", d)
	}
}

func TestRegisterWorkerValidation(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	cases := []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"missing name", map[string]any{}, "name"},
		{"empty name", map[string]any{"name": ""}, "name"},
		{"unknown agent type", map[string]any{"name": "w", "agent_types": []string{"review", "astrologer"}}, "agent_types"},
		{"concurrency too high", map[string]any{"name": "w", "max_concurrency": 65}, "max_concurrency"},
		{"concurrency zero", map[string]any{"name": "w", "max_concurrency": -1}, "max_concurrency"},
		{"unknown coordinator", map[string]any{"name": "w", "coordinator_id": uuid.New()}, "coordinator_id"},
		{"unknown field", map[string]any{"name": "w", "token": "mw_mine"}, "token"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := alice.Do("POST", "/workers", tc.body).Problem(422)
			if !p.Mentions(tc.field) {
				t.Fatalf("problem does not name %s: %+v", tc.field, p)
			}
		})
	}
}

func TestWorkerRoutesPermissions(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	w := registerWorker(t, alice, map[string]any{"name": "w1"})
	cases := []struct {
		role              string
		read, manage      int
		revokeWantsStatus int
	}{
		{"viewer", 200, 403, 403},
		{"member", 200, 403, 403},
		{"admin", 200, 201, 204},
	}
	for i, tc := range cases {
		t.Run(tc.role, func(t *testing.T) {
			c := memberOf(t, env, alice.OrgID, []string{"bob", "carol", "dave"}[i], tc.role)
			c.Do("GET", "/workers", nil).Expect(tc.read)
			c.Do("GET", "/workers/"+w.ID.String(), nil).Expect(tc.read)
			c.Do("GET", "/coordinators", nil).Expect(tc.read)
			c.Do("POST", "/workers", map[string]any{"name": "by-" + tc.role}).Expect(tc.manage)
			c.Do("POST", "/coordinators", map[string]any{"name": "c-" + tc.role, "host": "h"}).Expect(tc.manage)
			victim := registerWorker(t, alice, map[string]any{"name": "victim-" + tc.role})
			c.Do("DELETE", "/workers/"+victim.ID.String(), nil).Expect(tc.revokeWantsStatus)
			if tc.revokeWantsStatus == 403 {
				asWorker(env, victim.Token).Do("POST", "/worker/heartbeat", map[string]any{}).Expect(200)
			}
		})
	}
}

func TestWorkersOfAnotherOrganizationAreNotFound(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	bob := env.Login("bob") // owner of his own organization
	w := registerWorker(t, alice, map[string]any{"name": "alices"})
	co := alice.Do("POST", "/coordinators", map[string]any{"name": "host-a", "host": "a.local"}).Expect(201).Map()
	coID := co["id"].(string)

	bob.Do("GET", "/workers/"+w.ID.String(), nil).Problem(404)
	bob.Do("DELETE", "/workers/"+w.ID.String(), nil).Problem(404)
	bob.Do("GET", "/coordinators/"+coID, nil).Problem(404)
	bob.Do("PATCH", "/coordinators/"+coID, map[string]any{"name": "mine"}).Problem(404)
	bob.Do("DELETE", "/coordinators/"+coID, nil).Problem(404)
	bob.Do("POST", "/workers", map[string]any{"name": "sneaky", "coordinator_id": coID}).Problem(422)
	var page struct{ Total int }
	bob.Do("GET", "/workers", nil).Expect(200).JSON(&page)
	if page.Total != 0 {
		t.Fatalf("bob sees %d workers", page.Total)
	}
	// nothing changed for alice
	asWorker(env, w.Token).Do("POST", "/worker/heartbeat", map[string]any{}).Expect(200)
	if got := alice.Do("GET", "/coordinators/"+coID, nil).Expect(200).Map(); got["name"] != "host-a" {
		t.Fatalf("coordinator changed: %v", got)
	}
}

func TestWorkerStatusFollowsHeartbeats(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	w := registerWorker(t, alice, map[string]any{"name": "w", "agent_types": []string{"review"}, "max_concurrency": 2})
	status := func() workerJSON {
		var got workerJSON
		alice.Do("GET", "/workers/"+w.ID.String(), nil).Expect(200).JSON(&got)
		return got
	}
	if s := status(); s.Status != "offline" {
		t.Fatalf("never heard from: %s, want offline", s.Status)
	}
	wc := asWorker(env, w.Token)
	wc.Do("POST", "/worker/heartbeat", map[string]any{"version": "1.2.3"}).Expect(200)
	if s := status(); s.Status != "online" || s.Version != "1.2.3" {
		t.Fatalf("after heartbeat: %+v, want online 1.2.3", s)
	}
	seedTasks(t, env, alice.OrgID, 1, "review")
	claimed := claim(t, wc, map[string]any{"max": 1})
	if len(claimed) != 1 {
		t.Fatalf("claimed %d", len(claimed))
	}
	if s := status(); s.Status != "busy" || s.RunningTasks != 1 {
		t.Fatalf("while running: %+v, want busy with 1 task", s)
	}
	var page struct{ Items []workerJSON }
	alice.Do("GET", "/workers?status=busy", nil).Expect(200).JSON(&page)
	if len(page.Items) != 1 {
		t.Fatalf("status filter busy: %d items", len(page.Items))
	}
	// 61 s of silence
	if _, err := env.DB.Exec(context.Background(), `UPDATE workers SET last_heartbeat_at = now() - interval '61 seconds' WHERE id = $1`, w.ID); err != nil {
		t.Fatal(err)
	}
	if s := status(); s.Status != "offline" {
		t.Fatalf("after 61 s of silence: %s, want offline", s.Status)
	}
	alice.Do("GET", "/workers?status=sleepy", nil).Problem(422)
}

func TestRevokedWorkerIsLockedOutAndItsTasksRequeued(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	w := registerWorker(t, alice, map[string]any{"name": "w", "agent_types": []string{"review"}})
	wc := asWorker(env, w.Token)
	ids := seedTasks(t, env, alice.OrgID, 1, "review")
	if got := claim(t, wc, map[string]any{}); len(got) != 1 {
		t.Fatalf("claimed %d", len(got))
	}
	alice.Do("DELETE", "/workers/"+w.ID.String(), nil).Expect(204)

	wc.Do("POST", "/worker/heartbeat", map[string]any{}).Problem(401)
	wc.Do("POST", "/worker/tasks/"+ids[0].String()+"/complete", map[string]any{}).Problem(401)
	alice.Do("GET", "/workers/"+w.ID.String(), nil).Problem(404)
	alice.Do("DELETE", "/workers/"+w.ID.String(), nil).Problem(404)

	st := taskState(t, env, ids[0])
	if st.Status != "pending" || st.LeaseOwner != nil || st.RetryCount != 1 || st.ExecStatus != "pending" {
		t.Fatalf("revoked worker's task: %+v, want pending again with retry 1", st)
	}
	// another worker picks it up
	w2 := registerWorker(t, alice, map[string]any{"name": "w2", "agent_types": []string{"review"}})
	if got := claim(t, asWorker(env, w2.Token), map[string]any{}); len(got) != 1 || got[0].ID != ids[0] {
		t.Fatalf("w2 claimed %+v", got)
	}
}

func TestCoordinators(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	var co struct {
		ID            uuid.UUID    `json:"id"`
		Name          string       `json:"name"`
		Host          string       `json:"host"`
		Status        string       `json:"status"`
		WorkerCount   int          `json:"worker_count"`
		OnlineWorkers int          `json:"online_workers"`
		Capacity      int          `json:"capacity"`
		RunningTasks  int          `json:"running_tasks"`
		Workers       []workerJSON `json:"workers"`
	}
	alice.Do("POST", "/coordinators", map[string]any{"name": "rack-1", "host": "rack-1.internal"}).Expect(201).JSON(&co)
	if co.Status != "offline" || co.Capacity != 0 || co.WorkerCount != 0 {
		t.Fatalf("new coordinator %+v", co)
	}
	alice.Do("POST", "/coordinators", map[string]any{"name": "rack-1", "host": "other"}).Problem(409)

	w1 := registerWorker(t, alice, map[string]any{"name": "w1", "coordinator_id": co.ID, "max_concurrency": 1, "agent_types": []string{"review"}})
	registerWorker(t, alice, map[string]any{"name": "w2", "coordinator_id": co.ID, "max_concurrency": 3})
	get := func() {
		alice.Do("GET", "/coordinators/"+co.ID.String(), nil).Expect(200).JSON(&co)
	}
	get()
	if co.Capacity != 4 || co.WorkerCount != 2 || len(co.Workers) != 2 || co.Status != "offline" {
		t.Fatalf("with two silent workers: %+v", co)
	}
	w1c := asWorker(env, w1.Token)
	w1c.Do("POST", "/worker/heartbeat", map[string]any{}).Expect(200)
	get()
	if co.Status != "online" || co.OnlineWorkers != 1 {
		t.Fatalf("one worker heartbeating: %+v, want online", co)
	}
	seedTasks(t, env, alice.OrgID, 1, "review")
	claim(t, w1c, map[string]any{})
	get()
	if co.Status != "busy" || co.RunningTasks != 1 {
		t.Fatalf("its only live worker at capacity: %+v, want busy", co)
	}

	var page struct {
		Items []map[string]any `json:"items"`
		Total int              `json:"total"`
	}
	alice.Do("GET", "/coordinators", nil).Expect(200).JSON(&page)
	if page.Total != 1 || page.Items[0]["capacity"].(float64) != 4 {
		t.Fatalf("list %+v", page)
	}

	alice.Do("PATCH", "/coordinators/"+co.ID.String(), map[string]any{"host": "rack-1.new"}).Expect(200).JSON(&co)
	if co.Host != "rack-1.new" || co.Name != "rack-1" {
		t.Fatalf("patched %+v", co)
	}
	for name, body := range map[string]map[string]any{
		"empty patch": {}, "empty name": {"name": ""}, "long host": {"host": strings.Repeat("h", 256)},
	} {
		t.Run(name, func(t *testing.T) { alice.Do("PATCH", "/coordinators/"+co.ID.String(), body).Problem(422) })
	}
	alice.Do("POST", "/coordinators", map[string]any{"name": "no-host"}).Problem(422)

	alice.Do("DELETE", "/coordinators/"+co.ID.String(), nil).Expect(204)
	alice.Do("GET", "/coordinators/"+co.ID.String(), nil).Problem(404)
	var w workerJSON
	alice.Do("GET", "/workers/"+w1.ID.String(), nil).Expect(200).JSON(&w)
	if w.CoordinatorID != nil {
		t.Fatalf("worker still points at the deleted coordinator")
	}
}
