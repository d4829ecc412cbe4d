package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/google/uuid"

	"github.com/miyabi/miyabi/app/internal/apitest"
	"github.com/miyabi/miyabi/app/internal/events"
	"github.com/miyabi/miyabi/app/internal/httpapi"
	"github.com/miyabi/miyabi/app/internal/poll"
)

// liveEvent is a message of the events WebSocket as a client reads it.
type liveEvent struct {
	Type           string          `json:"type"`
	OrganizationID uuid.UUID       `json:"organization_id"`
	ID             uuid.UUID       `json:"id"`
	At             string          `json:"at"`
	Data           json.RawMessage `json:"data"`
}

func (e liveEvent) field(k string) any {
	var m map[string]any
	_ = json.Unmarshal(e.Data, &m)
	return m[k]
}

// liveClient is one WebSocket client that reads everything into a channel.
type liveClient struct {
	t      *testing.T
	ws     *websocket.Conn
	events chan liveEvent
	done   chan struct{}
	err    error // why reading stopped, once done is closed
}

func ticketFor(t *testing.T, c *apitest.Client) string {
	t.Helper()
	var out struct {
		Ticket    string    `json:"ticket"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	c.Do("POST", "/events/ticket", nil).Expect(201).JSON(&out)
	if out.Ticket == "" || time.Until(out.ExpiresAt) > 61*time.Second || time.Until(out.ExpiresAt) < 50*time.Second {
		t.Fatalf("ticket %+v: want a ticket valid ~60 s", out)
	}
	return out.Ticket
}

func wsURL(baseURL, ticket string) string {
	return strings.Replace(baseURL, "http", "ws", 1) + httpapi.APIPrefix + "/events?ticket=" + ticket
}

// dialLive connects with a fresh ticket and waits for "connected"; read=false leaves the
// client not reading (a slow client).
func dialLive(t *testing.T, baseURL string, c *apitest.Client, read bool) *liveClient {
	t.Helper()
	ws, resp, err := websocket.Dial(context.Background(), wsURL(baseURL, ticketFor(t, c)), nil)
	if err != nil {
		t.Fatalf("dial: %v (%v)", err, resp)
	}
	ws.SetReadLimit(1 << 20)
	lc := &liveClient{t: t, ws: ws, events: make(chan liveEvent, 10000), done: make(chan struct{})}
	t.Cleanup(func() { _ = ws.CloseNow() })
	if read {
		lc.startReading()
		lc.expect("connected", func(liveEvent) bool { return true })
	}
	return lc
}

func (lc *liveClient) startReading() {
	go func() {
		defer close(lc.done)
		for {
			_, data, err := lc.ws.Read(context.Background())
			if err != nil {
				lc.err = err
				return
			}
			var ev liveEvent
			if err := json.Unmarshal(data, &ev); err != nil {
				lc.err = err
				return
			}
			lc.events <- ev
		}
	}()
}

// expect waits (5 s at most) for an event of the type that satisfies match, and fails
// on any event before it for which unexpected says so.
func (lc *liveClient) expect(typ string, match func(liveEvent) bool) liveEvent {
	lc.t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case ev := <-lc.events:
			if ev.Type == typ && match(ev) {
				return ev
			}
		case <-lc.done:
			lc.t.Fatalf("connection ended waiting for %s: %v", typ, lc.err)
		case <-deadline:
			lc.t.Fatalf("no %s within 5 s", typ)
		}
	}
}

// until collects every event up to the first that satisfies stop (5 s at most).
func (lc *liveClient) until(stop func(liveEvent) bool) []liveEvent {
	lc.t.Helper()
	var seen []liveEvent
	deadline := time.After(5 * time.Second)
	for {
		select {
		case ev := <-lc.events:
			seen = append(seen, ev)
			if stop(ev) {
				return seen
			}
		case <-lc.done:
			lc.t.Fatalf("connection ended: %v (seen %v)", lc.err, seen)
		case <-deadline:
			lc.t.Fatalf("sentinel not seen within 5 s (seen %v)", seen)
		}
	}
}

// closedWith waits for the server to close the connection and returns its close status.
func (lc *liveClient) closedWith() (websocket.StatusCode, string) {
	lc.t.Helper()
	select {
	case <-lc.done:
	case <-time.After(10 * time.Second):
		lc.t.Fatalf("the connection is still open after 10 s")
	}
	var ce websocket.CloseError
	if errors.As(lc.err, &ce) {
		return ce.Code, ce.Reason
	}
	return websocket.CloseStatus(lc.err), fmt.Sprint(lc.err)
}

func TestEventsTicketIsRequiredSingleUseAndShortLived(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")

	env.Anonymous().Do("POST", "/events/ticket", nil).Problem(401)
	// the refusals as the document states them (apitest checks them against it)
	env.Anonymous().Do("GET", "/events", nil).Problem(401)
	env.Anonymous().Do("GET", "/events?ticket=mt_unknown", nil).Problem(401)
	alice.Do("GET", "/events", nil).Problem(401) // a token is not a ticket
	// the upgrade is documented: 101, and the ticket (in the query) as its only credential
	if op := env.Server.OpenAPI().Paths["/events"].Get; op.Responses["101"] == nil || len(op.Security) != 1 || op.Security[0]["ticket"] == nil {
		t.Errorf("GET /events: want a documented 101 and the ticket scheme, got responses %v, security %v", op.Responses, op.Security)
	}
	for name, url := range map[string]string{
		"no ticket":      strings.Replace(env.URL, "http", "ws", 1) + httpapi.APIPrefix + "/events",
		"unknown ticket": wsURL(env.URL, "mt_unknown"),
		"a token":        wsURL(env.URL, alice.Token),
	} {
		_, resp, err := websocket.Dial(context.Background(), url, nil)
		if err == nil || resp == nil || resp.StatusCode != 401 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/problem+json") {
			t.Errorf("%s: want 401 problem+json before the upgrade, got %v %v", name, resp, err)
		}
	}

	ticket := ticketFor(t, alice)
	ws, _, err := websocket.Dial(context.Background(), wsURL(env.URL, ticket), nil)
	if err != nil {
		t.Fatalf("first use: %v", err)
	}
	defer ws.CloseNow()
	if _, resp, err := websocket.Dial(context.Background(), wsURL(env.URL, ticket), nil); err == nil || resp.StatusCode != 401 {
		t.Errorf("reused ticket: want 401, got %v %v", resp, err)
	}

	expired := ticketFor(t, alice)
	exec(t, env, `UPDATE event_tickets SET expires_at = now() - interval '1 second'`)
	if _, resp, err := websocket.Dial(context.Background(), wsURL(env.URL, expired), nil); err == nil || resp.StatusCode != 401 {
		t.Errorf("expired ticket: want 401, got %v %v", resp, err)
	}

	// a ticket of a session that ended no longer opens anything
	late := ticketFor(t, alice)
	alice.Do("POST", "/auth/logout", nil).Expect(204)
	if _, resp, err := websocket.Dial(context.Background(), wsURL(env.URL, late), nil); err == nil || resp.StatusCode != 401 {
		t.Errorf("ticket of a signed-out session: want 401, got %v %v", resp, err)
	}
}

// Every role gets a ticket (what it then sees follows its permissions).
func TestEventsTicketForEveryRoleAndWorkers(t *testing.T) {
	env := apitest.New(t)
	owner := env.Login("alice")
	for _, role := range []string{"admin", "member", "viewer"} {
		org := newTeamOrg(t, owner.For(t), "Events "+role)
		c := env.Login("user-" + role)
		joinAs(t, env, c, org.ID, role)
		ticketFor(t, c)
		if role == "viewer" {
			// removed from the organization they are in: no ticket for it
			owner.Do("DELETE", fmt.Sprintf("/organizations/%s/members/%s", org.ID, c.UserID), nil).Expect(204)
			c.Do("POST", "/events/ticket", nil).Problem(403)
		}
	}
	w := registerWorker(t, owner, map[string]any{"name": "w", "agent_types": []string{"codegen"}})
	ticketFor(t, asWorker(env, w.Token))
}

// A launch reaches the launcher's open connection as execution.updated, task.updated and
// summary.changed; a member of another organization sees none of it.
func TestEventsReachTheOrganizationAndNobodyElse(t *testing.T) {
	env := apitest.New(t)
	alice, bob := env.Login("alice"), env.Login("bob")
	repo := connectRepo(t, alice, "miyabi-demo/webapp")
	la := dialLive(t, env.URL, alice, true)
	lb := dialLive(t, env.URL, bob, true)

	l := launchAgent(t, alice, repo.ID, "codegen")
	ev := la.expect("execution.updated", func(e liveEvent) bool { return e.ID == l.Execution.ID })
	if ev.OrganizationID != alice.OrgID || ev.field("status") != "pending" || ev.field("created") != true {
		t.Errorf("execution.updated = %+v %s", ev, ev.Data)
	}
	la.expect("task.updated", func(e liveEvent) bool { return e.ID == l.Task.ID })
	la.expect("summary.changed", func(e liveEvent) bool { return e.OrganizationID == alice.OrgID })

	// bob's own change is his sentinel: alice's events, committed before it, would have
	// reached him before it
	var task taskJSON
	bob.Do("POST", "/tasks", map[string]any{"name": "bob's"}).Expect(201).JSON(&task)
	seen := lb.until(func(e liveEvent) bool { return e.Type == "task.updated" && e.ID == task.ID })
	for _, e := range seen {
		if e.OrganizationID != bob.OrgID {
			t.Errorf("bob saw an event of another organization: %+v", e)
		}
	}
}

// Logs go to the connections that follow the execution, with their cursor; following
// another organization's execution is refused.
func TestEventsLogsReachFollowersOnly(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	repo := connectRepo(t, alice, "miyabi-demo/webapp")
	l := launchAgent(t, alice, repo.ID, "codegen")
	w := registerWorker(t, alice, map[string]any{"name": "w", "agent_types": []string{"codegen"}})
	wc := asWorker(env, w.Token)

	follower := dialLive(t, env.URL, alice, true)
	other := dialLive(t, env.URL, alice, true)
	follow(t, follower, "follow", l.Execution.ID)
	follower.expect("following", func(e liveEvent) bool { return e.ID == l.Execution.ID && e.field("following") == true })
	claim(t, wc, map[string]any{"max": 1})
	follower.expect("execution.updated", func(e liveEvent) bool { return e.field("status") == "running" })

	wc.Do("POST", "/worker/tasks/"+l.Task.ID.String()+"/logs", map[string]any{"lines": []map[string]any{
		{"stream": "stdout", "message": "one"}, {"stream": "stderr", "message": "two"}}}).Expect(200, 202, 204)
	ev := follower.expect("execution.log", func(e liveEvent) bool { return e.ID == l.Execution.ID })
	var d struct {
		Cursor int64 `json:"cursor"`
		Lines  []struct {
			ID      int64  `json:"id"`
			Stream  string `json:"stream"`
			Message string `json:"message"`
		} `json:"lines"`
	}
	_ = json.Unmarshal(ev.Data, &d)
	if len(d.Lines) != 2 || d.Lines[0].Message != "one" || d.Lines[1].Stream != "stderr" || d.Cursor != d.Lines[1].ID {
		t.Errorf("execution.log data = %s", ev.Data)
	}
	// the same logs fetched by cursor: nothing after the event's cursor
	var page struct {
		Items []json.RawMessage `json:"items"`
	}
	alice.Do("GET", fmt.Sprintf("/agents/executions/%s/logs?after=%d", l.Execution.ID, d.Cursor), nil).Expect(200).JSON(&page)
	if len(page.Items) != 0 {
		t.Errorf("logs after the event's cursor: %d, want 0", len(page.Items))
	}

	// the other connection did not get the lines: its sentinel is the completion
	wc.Do("POST", "/worker/tasks/"+l.Task.ID.String()+"/complete", map[string]any{"pr_number": 7}).Expect(200)
	seen := other.until(func(e liveEvent) bool { return e.Type == "execution.updated" && e.field("status") == "completed" })
	for _, e := range seen {
		if e.Type == "execution.log" {
			t.Errorf("a connection that does not follow the execution got its logs")
		}
	}
	if last := seen[len(seen)-1]; last.field("pr_number") != float64(7) {
		t.Errorf("completed execution.updated carries pr_number %v, want 7", last.field("pr_number"))
	}
}

func follow(t *testing.T, lc *liveClient, action string, id uuid.UUID) {
	t.Helper()
	msg, _ := json.Marshal(map[string]any{"action": action, "execution_id": id})
	if err := lc.ws.Write(context.Background(), websocket.MessageText, msg); err != nil {
		t.Fatal(err)
	}
}

func TestEventsFollowingAnotherOrganizationsExecutionIsRefused(t *testing.T) {
	env := apitest.New(t)
	alice, bob := env.Login("alice"), env.Login("bob")
	repo := connectRepo(t, alice, "miyabi-demo/webapp")
	l := launchAgent(t, alice, repo.ID, "codegen")
	lb := dialLive(t, env.URL, bob, true)
	follow(t, lb, "follow", l.Execution.ID)
	ev := lb.expect("error", func(e liveEvent) bool { return e.ID == l.Execution.ID })
	if ev.field("detail") != "execution not found" {
		t.Errorf("error = %s", ev.Data)
	}
}

func TestEventsMalformedMessageClosesWithAReason(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	for _, msg := range []string{`{"action":"subscribe"}`, `not json`, `{"action":"follow","execution_id":"nope"}`} {
		lc := dialLive(t, env.URL, alice, true)
		if err := lc.ws.Write(context.Background(), websocket.MessageText, []byte(msg)); err != nil {
			t.Fatal(err)
		}
		code, reason := lc.closedWith()
		if code != websocket.StatusPolicyViolation || reason != events.MalformedReason {
			t.Errorf("%s: closed with %d %q, want 1008 %q", msg, code, reason, events.MalformedReason)
		}
	}
}

// Signing out, removal and revocation close the connection within seconds.
func TestEventsConnectionsOfSignedOutRemovedOrRevokedCallersClose(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")

	lc := dialLive(t, env.URL, alice, true)
	alice.Do("POST", "/auth/logout", nil).Expect(204)
	if code, reason := lc.closedWith(); code != events.StatusGone || reason != events.CloseReasonGone {
		t.Errorf("after logout: closed with %d %q", code, reason)
	}

	owner := env.Login("alice")
	org := newTeamOrg(t, owner, "Removal").ID
	carol := env.Login("carol")
	joinAs(t, env, carol, org, "member")
	lc = dialLive(t, env.URL, carol, true)
	owner.Do("DELETE", fmt.Sprintf("/organizations/%s/members/%s", org, carol.UserID), nil).Expect(204)
	if code, _ := lc.closedWith(); code != events.StatusGone {
		t.Errorf("after removal: closed with %d", code)
	}

	w := registerWorker(t, owner, map[string]any{"name": "w", "agent_types": []string{"codegen"}})
	lw := dialLive(t, env.URL, asWorker(env, w.Token), true)
	owner.Do("DELETE", "/workers/"+w.ID.String(), nil).Expect(204)
	if code, _ := lw.closedWith(); code != events.StatusGone {
		t.Errorf("after revocation: closed with %d", code)
	}
}

// Workers hear of claimable work of their agent types, and nothing else.
func TestEventsWorkAvailableReachesWorkersOfThatType(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	repo := connectRepo(t, alice, "miyabi-demo/webapp")
	codegen := registerWorker(t, alice, map[string]any{"name": "c", "agent_types": []string{"codegen"}})
	review := registerWorker(t, alice, map[string]any{"name": "r", "agent_types": []string{"review"}})
	lc := dialLive(t, env.URL, asWorker(env, codegen.Token), true)
	lr := dialLive(t, env.URL, asWorker(env, review.Token), true)

	launchAgent(t, alice, repo.ID, "codegen")
	ev := lc.expect("work.available", func(liveEvent) bool { return true })
	if types, _ := ev.field("agent_types").([]any); len(types) != 1 || types[0] != "codegen" {
		t.Errorf("work.available data = %s", ev.Data)
	}
	launchAgent(t, alice, repo.ID, "review")
	seen := lr.until(func(e liveEvent) bool { return e.Type == "work.available" })
	for _, e := range seen {
		if e.Type != "work.available" {
			t.Errorf("a worker got %s", e.Type)
		}
		if types, _ := e.field("agent_types").([]any); len(types) != 1 || types[0] != "review" {
			t.Errorf("the review worker was told of %v", types)
		}
	}
}

// A client that stops reading is dropped once its bounded buffer fills; the others
// keep receiving every event.
func TestEventsSlowClientDropped(t *testing.T) {
	env := apitest.New(t)
	env.Server.Hub().Tune(events.HubOptions{SendBuffer: 64, WriteTimeout: time.Second})
	alice := env.Login("alice")
	repo := connectRepo(t, alice, "miyabi-demo/webapp")
	l := launchAgent(t, alice, repo.ID, "codegen")

	fast := dialLive(t, env.URL, alice, true)
	slow := dialLive(t, env.URL, alice, false)
	follow(t, fast, "follow", l.Execution.ID)
	follow(t, slow, "follow", l.Execution.ID)
	fast.expect("following", func(e liveEvent) bool { return e.ID == l.Execution.ID })
	// enough bytes (~9 MB) to fill the slow client's socket buffers whatever their size
	const n = 1500
	big := strings.Repeat("x", 6000)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < n; i++ {
			if _, err := env.DB.Exec(context.Background(),
				`INSERT INTO execution_logs (organization_id, execution_id, message) VALUES ($1, $2, $3)`,
				alice.OrgID, l.Execution.ID, fmt.Sprintf("%d %s", i, big)); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	got := 0
	deadline := time.After(30 * time.Second)
	for got < n {
		select {
		case ev := <-fast.events:
			if ev.Type == "execution.log" {
				got++
			}
		case <-fast.done:
			t.Fatalf("the fast client was dropped: %v", fast.err)
		case <-deadline:
			t.Fatalf("the fast client got %d of %d log events", got, n)
		}
	}
	wg.Wait()
	slow.startReading()
	for {
		select {
		case <-slow.events:
			continue
		case <-slow.done:
		case <-time.After(10 * time.Second):
			t.Fatal("the slow client is still connected")
		}
		break
	}
	// a close frame cannot pass a full socket buffer: the connection is cut instead; if
	// the frame did get through it says why
	var ce websocket.CloseError
	if errors.As(slow.err, &ce) && (ce.Code != websocket.StatusPolicyViolation || !strings.Contains(ce.Reason, "too slow")) {
		t.Errorf("slow client closed with %v", slow.err)
	}
	poll.Until(t, 5*time.Second, "the hub to serve the fast connection only", func() bool { return env.Server.Hub().Connections() == 1 })
}

// joinAs makes c an active member of org with the role and switches c to it.
func joinAs(t *testing.T, env *apitest.Env, c *apitest.Client, org uuid.UUID, role string) {
	t.Helper()
	exec(t, env, `INSERT INTO organization_members (organization_id, user_id, role, status, joined_at)
		VALUES ($1, $2, $3, 'active', now())`, org, c.UserID, role)
	switchTo(t, c, org)
}

// When the server's LISTEN connection dies, its clients are told to reconnect (1012)
// rather than left connected to a feed that no longer comes; reconnecting works.
func TestEventsListenerLossClosesClientsWhoReconnect(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	lc := dialLive(t, env.URL, alice, true)
	exec(t, env, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND query LIKE 'LISTEN%' AND pid <> pg_backend_pid()`)
	if code, _ := lc.closedWith(); code != websocket.StatusServiceRestart {
		t.Fatalf("after the listener died: closed with %d, want 1012", code)
	}
	again := dialLive(t, env.URL, alice, true)
	var task taskJSON
	alice.Do("POST", "/tasks", map[string]any{"name": "after the restart"}).Expect(201).JSON(&task)
	again.expect("task.updated", func(e liveEvent) bool { return e.ID == task.ID })
}
