package httpapi_test

// The findings of issue 14 (security and abuse, round two), one test each, named after
// the finding; docs/reliability.md lists them with their results.

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/miyabi/miyabi/app/internal/apitest"
	"github.com/miyabi/miyabi/app/internal/config"
	"github.com/miyabi/miyabi/app/internal/fakegithub"
	"github.com/miyabi/miyabi/app/internal/store"
)

type taskBody struct {
	ID        uuid.UUID   `json:"id"`
	DependsOn []uuid.UUID `json:"depends_on"`
}

func createTask(t *testing.T, c *apitest.Client, name string, deps ...uuid.UUID) *apitest.Response {
	t.Helper()
	body := map[string]any{"name": name}
	if len(deps) > 0 {
		body["depends_on"] = deps
	}
	return c.Do("POST", "/tasks", body)
}

func setSetting(t *testing.T, env *apitest.Env, name string, v int64) {
	t.Helper()
	if err := env.Store.SetSetting(context.Background(), name, v); err != nil {
		t.Fatal(err)
	}
}

// Finding 1: one organization building dependency chains held the one global lock of the
// cycle check; every other organization's dependent tasks waited behind it.
func TestOneTenantDoesNotSlowAnotherDependencyLockPerOrganization(t *testing.T) {
	env := apitest.New(t)
	alice, bob := env.Login("alice"), env.Login("bob")
	var a, b, b1 taskBody
	createTask(t, alice, "a0").Expect(201).JSON(&a)
	createTask(t, bob, "b0").Expect(201).JSON(&b)
	createTask(t, bob, "b1").Expect(201).JSON(&b1)

	// bob's organization is in the middle of adding a dependency: its transaction holds
	// whatever lock the cycle check takes, until we let it go
	ctx := context.Background()
	holding, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		errRollback := fmt.Errorf("rolled back")
		err := pgx.BeginFunc(ctx, env.DB, func(tx pgx.Tx) error {
			// an edge in bob's organization: the cycle trigger takes its lock, held until
			// the transaction ends (rolled back: bob's tasks stay as they were)
			if _, err := tx.Exec(ctx, `INSERT INTO task_dependencies (task_id, depends_on_task_id) VALUES ($1, $2)`, b1.ID, b.ID); err != nil {
				return err
			}
			close(holding)
			<-release
			return errRollback
		})
		if err == errRollback {
			err = nil
		}
		done <- err
	}()
	select {
	case <-holding:
	case err := <-done:
		t.Fatalf("bob's edge: %v", err)
	}
	// alice's organization adds a dependency meanwhile: it must not wait for bob's
	quick := &http.Client{Timeout: 5 * time.Second}
	c := *alice
	c.HTTP = quick
	r := createTask(t, &c, "a1", a.ID)
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if r.Status != 201 {
		t.Fatalf("alice's dependent task while bob's organization held its dependency lock: %d %s", r.Status, r.Body)
	}

	// the caps answer 422 naming the limit
	setSetting(t, env, store.SettingMaxDependenciesPerTask, 2)
	var ids []uuid.UUID
	for i := range 3 {
		var x taskBody
		createTask(t, alice, fmt.Sprintf("p%d", i)).Expect(201).JSON(&x)
		ids = append(ids, x.ID)
	}
	if p := createTask(t, alice, "too many", ids...).Problem(422); !p.Mentions("max_dependencies_per_task") || !p.Mentions("body.depends_on") {
		t.Fatalf("per-task cap: %+v", p)
	}
	setSetting(t, env, store.SettingMaxDependencyDepth, 3)
	prev := a.ID // depth 0: the chain below puts 1, 2, 3 tasks above a task, then 4
	for i := range 4 {
		r := createTask(t, alice, fmt.Sprintf("chain%d", i), prev)
		if i < 3 {
			var x taskBody
			r.Expect(201).JSON(&x)
			prev = x.ID
			continue
		}
		if p := r.Problem(422); !p.Mentions("max_dependency_depth") {
			t.Fatalf("depth cap: %+v", p)
		}
	}
	setSetting(t, env, store.SettingMaxDependenciesPerOrg, 4)
	if p := createTask(t, alice, "org cap", ids[0], ids[1]).Problem(422); !p.Mentions("max_dependencies_per_organization") {
		t.Fatalf("organization cap: %+v", p)
	}
	// bob's organization has its own budget
	createTask(t, bob, "b2", b.ID).Expect(201)
}

type workerBody struct {
	ID            uuid.UUID `json:"id"`
	Token         string    `json:"token"`
	Status        string    `json:"status"`
	RevokedReason *string   `json:"revoked_reason"`
}

// Finding 2: a worker token outlived the admin who created it.
func TestWorkerTokensDieWithTheirCreator(t *testing.T) {
	env := apitest.New(t)
	alice, bob, carol, dave := env.Login("alice"), env.Login("bob"), env.Login("carol"), env.Login("dave")
	org := newTeamOrg(t, alice, "Workers")
	for _, c := range []*apitest.Client{bob, carol, dave} {
		invite(t, alice, c, org.ID, "admin")
		switchTo(t, c, org.ID)
	}
	switchTo(t, alice, org.ID)
	register := func(c *apitest.Client, name string) workerBody {
		var w workerBody
		c.Do("POST", "/workers", map[string]any{"name": name, "agent_types": []string{"codegen"}}).Expect(201).JSON(&w)
		return w
	}
	wb, wc, wd, wa := register(bob, "bobs"), register(carol, "carols"), register(dave, "daves"), register(alice, "alices")
	claim := func(w workerBody) int {
		c := env.Anonymous()
		c.Token = w.Token
		return c.Do("POST", "/worker/claim", map[string]any{"max": 1}).Status
	}
	for _, w := range []workerBody{wb, wc, wd, wa} {
		if s := claim(w); s != 200 {
			t.Fatalf("a fresh worker claims: %d", s)
		}
	}
	members := "/organizations/" + org.ID.String() + "/members/"
	alice.Do("PATCH", members+bob.UserID.String(), map[string]any{"role": "member"}).Expect(200)        // demoted
	alice.Do("PATCH", members+carol.UserID.String(), map[string]any{"status": "suspended"}).Expect(200) // suspended
	alice.Do("DELETE", members+dave.UserID.String(), nil).Expect(204)                                   // removed
	for w, reason := range map[workerBody]string{wb: "creator_demoted", wc: "creator_suspended", wd: "creator_removed"} {
		if s := claim(w); s != 401 {
			t.Errorf("worker of a %s admin still claims: %d", reason, s)
		}
		var got workerBody
		alice.Do("GET", "/workers/"+w.ID.String(), nil).Expect(200).JSON(&got)
		if got.Status != "revoked" || got.RevokedReason == nil || *got.RevokedReason != reason {
			t.Errorf("workers list shows %+v, want revoked (%s)", got, reason)
		}
	}
	if s := claim(wa); s != 200 {
		t.Fatalf("the owner's own worker stopped: %d", s)
	}
	var list struct {
		Items []workerBody `json:"items"`
	}
	alice.Do("GET", "/workers?status=revoked", nil).Expect(200).JSON(&list)
	if len(list.Items) != 3 {
		t.Fatalf("revoked workers listed: %d, want 3", len(list.Items))
	}
	// deleting a revoked worker hides it, as for any deleted worker
	alice.Do("DELETE", "/workers/"+wb.ID.String(), nil).Expect(204)
	alice.Do("GET", "/workers/"+wb.ID.String(), nil).Problem(404)
}

// Finding 3: a NUL byte in any JSON string reached PostgreSQL and answered 500.
func TestNULBytesAreRefusedForPeopleAndReplacedForWorkers(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	for _, c := range []struct {
		path  string
		body  string
		field string
	}{
		{"/tasks", `{"name":"a\u0000b"}`, "body.name"},
		{"/tasks", `{"name":"ok","metadata":{"k":["x","y\u0000"]}}`, "body.metadata.k[1]"},
		{"/tasks", `{"name":"ok","description":"\u0000"}`, "body.description"},
		{"/organizations", `{"name":"n\u0000"}`, "body.name"},
		{"/workflows", `{"name":"w\u0000","definition":{"nodes":[{"id":"a","agent_type":"codegen","name":"a"}],"edges":[]}}`, "body.name"},
	} {
		p := alice.Do("POST", c.path, c.body).Problem(422)
		if !p.Mentions(c.field) {
			t.Errorf("POST %s %s: %+v, want the field %s named", c.path, c.body, p, c.field)
		}
	}
	if p := alice.Do("GET", "/tasks?status=pending%00", nil); p.Status >= 500 {
		t.Fatalf("NUL in a query: %d", p.Status)
	}
	// a literal backslash-u is text, not a NUL
	alice.Do("POST", "/tasks", `{"name":"a\\u0000b"}`).Expect(201)
	// other control characters are stored as they are
	for _, ch := range []string{`\u0001`, `\u0007`, `\u001f`, `\u007f`, `\t`} {
		alice.Do("POST", "/tasks", `{"name":"c`+ch+`d","metadata":{"k":"`+ch+`"}}`).Expect(201)
	}

	// a worker's log line and result with NUL are stored, the NUL replaced
	var w workerBody
	alice.Do("POST", "/workers", map[string]any{"name": "w", "agent_types": []string{"codegen"}}).Expect(201).JSON(&w)
	task := queueAgentTask(t, env, alice.OrgID)
	worker := env.Anonymous()
	worker.Token = w.Token
	worker.Do("POST", "/worker/claim", map[string]any{"max": 1}).Expect(200)
	worker.Do("POST", "/worker/tasks/"+task.String()+"/logs", `{"lines":[{"stream":"stdout","message":"before\u0000after"}]}`).Expect(200)
	worker.Do("POST", "/worker/tasks/"+task.String()+"/complete", `{"summary":"done\u0000 ok"}`).Expect(200)
	var msg, summary string
	if err := env.DB.QueryRow(context.Background(), `SELECT l.message, e.summary FROM execution_logs l
		JOIN agent_executions e ON e.id = l.execution_id JOIN tasks t ON t.execution_id = e.id WHERE t.id = $1`, task).Scan(&msg, &summary); err != nil {
		t.Fatal(err)
	}
	if msg != "before\uFFFDafter" || summary != "done\uFFFD ok" {
		t.Fatalf("stored %q and %q, want the NUL replaced and nothing else changed", msg, summary)
	}
}

// queueAgentTask queues one codegen task with its execution in org.
func queueAgentTask(t *testing.T, env *apitest.Env, org uuid.UUID) uuid.UUID {
	t.Helper()
	var task uuid.UUID
	err := env.DB.QueryRow(context.Background(), `
		WITH e AS (INSERT INTO agent_executions (organization_id, agent_type) VALUES ($1, 'codegen') RETURNING id)
		INSERT INTO tasks (organization_id, name, agent_type, execution_id) SELECT $1, 'codegen', 'codegen', e.id FROM e RETURNING id`, org).Scan(&task)
	if err != nil {
		t.Fatal(err)
	}
	return task
}

func withRateLimits(l config.RateLimits) apitest.Option {
	return func(c *config.Config) { c.RateLimits = l }
}

// Finding 4: no rate limiting anywhere.
func TestRateLimitsPerPrincipalAnswer429WithRetryAfter(t *testing.T) {
	limits := config.RateLimits{SignIn: config.Rate{N: 3, Per: time.Minute}, AuthFailures: config.Rate{N: 5, Per: time.Minute},
		Person: config.Rate{N: 10, Per: time.Minute}}
	env := apitest.New(t, withRateLimits(limits))
	// a second server on the same database: another Lambda environment
	other := apitest.NewOn(t, env.DB, withRateLimits(limits))

	login := func(e *apitest.Env, who string) *apitest.Response {
		return e.Anonymous().Do("POST", "/auth/dev-login", map[string]any{"login": who})
	}
	login(env, "u1").Expect(200)
	login(other, "u2").Expect(200)
	login(env, "u3").Expect(200)
	r := login(other, "u4")
	r.Problem(429)
	if ra := r.Header.Get("Retry-After"); ra == "" || ra == "0" {
		t.Fatalf("429 without Retry-After: %v", r.Header)
	}

	// bad tokens from one address: 401s, then 429 for everything from it
	bad := env.Anonymous()
	bad.Token = "mw_guessed-worker-token-000000000000000000000"
	for range 5 {
		bad.Do("POST", "/worker/claim", map[string]any{"max": 1}).Expect(401)
	}
	bad.Do("POST", "/worker/claim", map[string]any{"max": 1}).Problem(429)
	bad.Token = "not.a.jwt"
	bad.Do("GET", "/tasks", nil).Problem(429)

	// a person has a budget of their own, whoever else is limited
	people := apitest.New(t, withRateLimits(config.RateLimits{Person: config.Rate{N: 10, Per: time.Minute}}))
	alice, bob := people.Login("alice"), people.Login("bob")
	limited := 0
	for range 12 {
		if alice.Do("GET", "/tasks", nil).Status == 429 {
			limited++
		}
	}
	if limited == 0 {
		t.Fatal("alice was never limited")
	}
	bob.Do("GET", "/tasks", nil).Expect(200)
}

// Finding 5: invitations matched the login, which another account can hold after a rename.
func TestInvitationsMatchTheGitHubAccountNotTheLogin(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	org := newTeamOrg(t, alice, "Renames")
	path := "/organizations/" + org.ID.String() + "/invitations"

	env.GitHub.MarkMissing("nobody-here")
	if p := alice.Do("POST", path, map[string]any{"github_login": "nobody-here", "role": "member"}).Problem(422); !p.Mentions("github_login") {
		t.Fatalf("unknown login: %+v", p)
	}

	// "dave" was invited while another account (id 4242) held the login
	env.GitHub.AddUser(fakegithub.User{Login: "dave", Name: "Old Dave", ID: 4242})
	var inv struct {
		Token string `json:"token"`
	}
	alice.Do("POST", path, map[string]any{"github_login": "dave", "role": "member"}).Expect(201).JSON(&inv)
	newDave := env.Login("dave") // today's "dave" is another GitHub account
	newDave.Do("POST", "/invitations/accept", map[string]any{"token": inv.Token}).Problem(404)

	// the account the invitation names accepts
	erin := env.Login("erin")
	alice.Do("POST", path, map[string]any{"github_login": "erin", "role": "member"}).Expect(201).JSON(&inv)
	erin.Do("POST", "/invitations/accept", map[string]any{"token": inv.Token}).Expect(200)
}

// Finding 6: invitation tokens were written to access logs with the path.
func TestInvitationTokensNeverReachTheAccessLog(t *testing.T) {
	env := apitest.New(t)
	alice, bob, carol := env.Login("alice"), env.Login("bob"), env.Login("carol")
	org := newTeamOrg(t, alice, "Logs")
	path := "/organizations/" + org.ID.String() + "/invitations"
	var a, b struct {
		Token      string `json:"token"`
		AcceptPath string `json:"accept_path"`
	}
	alice.Do("POST", path, map[string]any{"github_login": "bob", "role": "member"}).Expect(201).JSON(&a)
	if strings.Contains(a.AcceptPath, a.Token) {
		t.Fatalf("the accept path carries the token: %s", a.AcceptPath)
	}
	bob.Do("POST", a.AcceptPath, map[string]any{"token": a.Token}).Expect(200)
	// the old form, token in the path, still works for links already sent
	alice.Do("POST", path, map[string]any{"github_login": "carol", "role": "member"}).Expect(201).JSON(&b)
	carol.Do("POST", "/invitations/"+b.Token+"/accept", nil).Expect(200)
	logs := env.Logs()
	if !strings.Contains(logs, "/invitations/[redacted]/accept") {
		t.Fatalf("the access log has no accept line:\n%s", logs)
	}
	for _, tok := range []string{a.Token, b.Token} {
		if strings.Contains(logs, tok) {
			t.Fatalf("an invitation token is in the log:\n%s", logs)
		}
	}
}

// Finding 7: 12 concurrent invitations into 5 seats created 8 to 11.
func TestSeatLimitHoldsUnderConcurrentInvitations(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	org := newTeamOrg(t, alice, "Seats")
	if _, err := env.DB.Exec(context.Background(), `UPDATE organizations SET max_members = 5 WHERE id = $1`, org.ID); err != nil {
		t.Fatal(err)
	}
	path := "/organizations/" + org.ID.String() + "/invitations"
	var wg sync.WaitGroup
	statuses := make([]int, 12)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = alice.Do("POST", path, map[string]any{"github_login": fmt.Sprintf("seat-%d", i), "role": "member"}).Status
		}()
	}
	wg.Wait()
	created := 0
	for _, s := range statuses {
		switch s {
		case 201:
			created++
		case 409:
		default:
			t.Fatalf("statuses %v", statuses)
		}
	}
	var pending int
	_ = env.DB.QueryRow(context.Background(), `SELECT count(*) FROM invitations WHERE organization_id = $1 AND status = 'pending'`, org.ID).Scan(&pending)
	if created != 4 || pending != 4 {
		t.Fatalf("%d invitations answered 201, %d pending; 4 seats were free (statuses %v)", created, pending, statuses)
	}
}

// Finding 8: idempotency keys, organizations, workers, logs and invitations grew without
// bound.
func TestQuotasNameTheirLimitAndKeysExpire(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	ctx := context.Background()

	setSetting(t, env, store.SettingMaxOrganizationsPerUser, 1)
	newTeamOrg(t, alice, "First")
	if p := alice.Do("POST", "/organizations", map[string]any{"name": "Second"}).Problem(409); !p.Mentions("max_organizations_per_user") {
		t.Fatalf("organizations quota: %+v", p)
	}

	setSetting(t, env, store.SettingMaxWorkersPerOrg, 1)
	alice.Do("POST", "/workers", map[string]any{"name": "w1", "agent_types": []string{"codegen"}}).Expect(201)
	if p := alice.Do("POST", "/workers", map[string]any{"name": "w2", "agent_types": []string{"codegen"}}).Problem(409); !p.Mentions("max_workers_per_organization") {
		t.Fatalf("workers quota: %+v", p)
	}

	setSetting(t, env, store.SettingMaxOpenInvitationsPerOrg, 1)
	org := newTeamOrgAs(t, env, "Invites")
	owner := org.owner
	path := "/organizations/" + org.id.String() + "/invitations"
	owner.Do("POST", path, map[string]any{"github_login": "bob", "role": "member"}).Expect(201)
	if p := owner.Do("POST", path, map[string]any{"github_login": "carol", "role": "member"}).Problem(409); !p.Mentions("max_open_invitations_per_organization") {
		t.Fatalf("invitations quota: %+v", p)
	}

	// log lines past the cap: one marker line, later lines dropped, the worker never failed
	setSetting(t, env, store.SettingMaxWorkersPerOrg, 10)
	setSetting(t, env, store.SettingMaxLogLinesPerExecution, 3)
	var w workerBody
	alice.Do("POST", "/workers", map[string]any{"name": "logger", "agent_types": []string{"codegen"}}).Expect(201).JSON(&w)
	task := queueAgentTask(t, env, alice.OrgID)
	worker := env.Anonymous()
	worker.Token = w.Token
	worker.Do("POST", "/worker/claim", map[string]any{"max": 1}).Expect(200)
	lines := func(n int) map[string]any {
		var l []map[string]any
		for i := range n {
			l = append(l, map[string]any{"stream": "stdout", "message": fmt.Sprintf("line %d", i)})
		}
		return map[string]any{"lines": l}
	}
	worker.Do("POST", "/worker/tasks/"+task.String()+"/logs", lines(5)).Expect(200)
	worker.Do("POST", "/worker/tasks/"+task.String()+"/logs", lines(2)).Expect(200)
	var stored []string
	if err := env.DB.QueryRow(ctx, `SELECT array_agg(l.message ORDER BY l.id) FROM execution_logs l JOIN tasks t ON t.execution_id = l.execution_id WHERE t.id = $1`, task).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if len(stored) != 4 || stored[2] != "line 2" || !strings.Contains(stored[3], "log truncated") || !strings.Contains(stored[3], "max_log_lines_per_execution") {
		t.Fatalf("stored %q, want 3 lines and the truncation marker", stored)
	}
	worker.Do("POST", "/worker/tasks/"+task.String()+"/complete", map[string]any{}).Expect(200)

	// idempotency keys older than 24 h go with the sweeper's purge
	key := func(k string) {
		alice.Do("POST", "/tasks", map[string]any{"name": "idem " + k}, "Idempotency-Key", k).Expect(201)
	}
	key("old")
	key("new")
	if _, err := env.DB.Exec(ctx, `UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = 'old'`); err != nil {
		t.Fatal(err)
	}
	p, err := env.Store.PurgeExpired(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	_ = env.DB.QueryRow(ctx, `SELECT array_agg(key ORDER BY key) FROM idempotency_keys`).Scan(&left)
	if p.IdempotencyKeys != 1 || len(left) != 1 || left[0] != "new" {
		t.Fatalf("purged %+v, left %v", p, left)
	}
}

type orgAs struct {
	id    uuid.UUID
	owner *apitest.Client
}

// newTeamOrgAs creates a team organization owned by a fresh person.
func newTeamOrgAs(t *testing.T, env *apitest.Env, name string) orgAs {
	t.Helper()
	owner := env.Login("owner-" + strings.ToLower(strings.ReplaceAll(name, " ", "-")))
	o := newTeamOrg(t, owner, name)
	return orgAs{id: o.ID, owner: owner}
}

// Finding 9: a callback URL with its state cookie could be replayed for 10 minutes.
func TestOAuthStateIsSingleUse(t *testing.T) {
	env := apitest.New(t)
	env.GitHub.AutoLogin = "alice"
	c := env.Anonymous()
	cb := startSignIn(t, env, c, "/")
	var state string
	for _, ck := range c.HTTP.Jar.Cookies(cb) {
		if ck.Name == "miyabi_oauth" {
			state = ck.Value
		}
	}
	if state == "" {
		t.Fatal("no state cookie for the callback")
	}
	c.Do("GET", cb.String(), nil).Expect(302)
	// the same callback again, with the same cookie: refused
	replay := env.Anonymous()
	replay.Do("GET", cb.String(), nil, "Cookie", "miyabi_oauth="+state).Problem(400)
	var sessions int
	_ = env.DB.QueryRow(context.Background(), `SELECT count(*) FROM sessions`).Scan(&sessions)
	if sessions != 1 {
		t.Fatalf("%d sessions after a replayed callback, want 1", sessions)
	}
}

// Finding 10: two tabs refreshing at once signed the user out everywhere.
func TestTwoTabsRefreshingAtOnceStaySignedInButRealReuseRevokes(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	var cookie string
	for _, ck := range alice.HTTP.Jar.Cookies(mustURL(t, env.URL+"/api/v1/auth/refresh")) {
		if ck.Name == "miyabi_refresh" {
			cookie = ck.Value
		}
	}
	refresh := func(value string) *apitest.Response {
		return env.Anonymous().Do("POST", "/auth/refresh", nil, "Cookie", "miyabi_refresh="+value)
	}
	successor := func(r *apitest.Response) string {
		for _, ck := range r.Header.Values("Set-Cookie") {
			if v, ok := strings.CutPrefix(ck, "miyabi_refresh="); ok {
				return strings.Split(v, ";")[0]
			}
		}
		return ""
	}
	// two tabs, the same cookie, the same moment
	var wg sync.WaitGroup
	got := make([]*apitest.Response, 2)
	for i := range got {
		wg.Add(1)
		go func() { defer wg.Done(); got[i] = refresh(cookie) }()
	}
	wg.Wait()
	for _, r := range got {
		if r.Status != 200 {
			t.Fatalf("a tab was signed out: %d %s", r.Status, r.Body)
		}
	}
	next := successor(got[0])
	if next == "" || next != successor(got[1]) {
		t.Fatalf("the tabs got different successors: %q %q", next, successor(got[1]))
	}
	refresh(next).Expect(200)

	// the old token presented after the grace is theft: the whole session ends
	if _, err := env.DB.Exec(context.Background(), `UPDATE refresh_tokens SET rotated_at = rotated_at - interval '1 minute' WHERE rotated_at IS NOT NULL`); err != nil {
		t.Fatal(err)
	}
	refresh(cookie).Problem(401)
	alice.Do("GET", "/auth/me", nil).Expect(401)
}

// Finding 11: the edges.
func TestHardenedEdgesDotSegmentsAndAnonymousHealth(t *testing.T) {
	env := apitest.New(t, func(c *config.Config) { c.OperatorToken = "operator-token-0123456789abcdef0123456789" })
	alice := env.Login("alice")
	for _, name := range []string{"../x", "x/..", "./x", "a/."} {
		if p := alice.Do("POST", "/repositories", map[string]any{"full_name": name}).Problem(422); !p.Mentions("full_name") {
			t.Errorf("%s: %+v", name, p)
		}
	}
	anon := env.Anonymous().Do("GET", "/health", nil).Expect(200).Map()
	if _, ok := anon["version"]; ok {
		t.Fatalf("anonymous health shows the version: %v", anon)
	}
	if db, _ := anon["database"].(map[string]any); db["pool"] != nil || db["status"] != "up" {
		t.Fatalf("anonymous health: %v", anon)
	}
	op := env.Anonymous().Do("GET", "/health", nil, "Authorization", "Bearer operator-token-0123456789abcdef0123456789").Expect(200).Map()
	if op["version"] != "test" || op["database"].(map[string]any)["pool"] == nil {
		t.Fatalf("operator health: %v", op)
	}
}

func mustURL(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
